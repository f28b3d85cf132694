"""Erasure's AWS adapters: the job queue (SQS), the sign-in (Cognito AdminDeleteUser) and the
avatar (S3 DeleteObject). Each treats "already gone" as done, so a re-run repeats safely."""

from __future__ import annotations

import json
from typing import Any

import attrs
from botocore.exceptions import ClientError

JOB_FIELD = "userId"


def job_body(user_id: str) -> str:
    return json.dumps({JOB_FIELD: user_id})


def parse_job(body: str) -> str | None:
    """The user id of an erasure job's body, or None when malformed."""
    try:
        value = json.loads(body).get(JOB_FIELD)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


@attrs.define
class SqsErasureJobs:
    sqs: Any
    queue_url: str

    def enqueue(self, user_id: str) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=job_body(user_id))


@attrs.define
class CognitoAccounts:
    cognito: Any
    user_pool_id: str

    def delete_account(self, username: str) -> None:
        try:
            self.cognito.admin_delete_user(UserPoolId=self.user_pool_id, Username=username)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "UserNotFoundException":
                raise


@attrs.define
class S3Objects:
    s3: Any
    bucket: str

    def delete_object(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)  # absent: S3 answers 204 too
