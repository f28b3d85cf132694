"""A refused call, failing as AWS fails it.

botocore raises ClientError (DynamoDB AccessDeniedException 400, S3 AccessDenied 403,
execute-api/Bedrock AccessDeniedException 403, SQS AccessDenied 403) with the message "User:
arn:aws:sts::<account>:assumed-role/<role>/<fn> is not authorized to perform: <action> on
resource: <arn> because no identity-based policy allows the <action> action".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from dynamotalk.local.iam.evaluation import Decision


@attrs.frozen
class Denial:
    """One refused call: who, what, on which resource, and why."""

    function: str
    principal: str
    action: str
    resource: str
    decision: Decision
    service: str

    @property
    def message(self) -> str:
        reason = (
            "with an explicit deny in an identity-based policy"
            if self.decision == "explicit_deny"
            else f"because no identity-based policy allows the {self.action} action"
        )
        return (
            f"User: {self.principal} is not authorized to perform: {self.action} "
            f"on resource: {self.resource} {reason}"
        )

    @property
    def code(self) -> str:
        return "AccessDenied" if self.service in ("s3", "sqs") else "AccessDeniedException"

    @property
    def status(self) -> int:
        return 400 if self.service == "dynamodb" else 403

    def body(self) -> bytes:
        if self.service == "s3":
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                f"<Message>{_xml_escape(self.message)}</Message></Error>"
            ).encode()
        return json.dumps({"__type": self.code, "message": self.message}).encode()

    def parsed(self) -> dict[str, Any]:
        return {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {
                "HTTPStatusCode": self.status,
                "HTTPHeaders": {"x-amzn-errortype": self.code},
                "RetryAttempts": 0,
            },
        }

    def response(self, url: str) -> AWSResponse:
        headers: Any = {"x-amzn-ErrorType": self.code}
        return AWSResponse(url, self.status, headers, _Raw(self.body()))

    def error(self, operation: str) -> ClientError:
        return ClientError(self.parsed(), operation)  # type: ignore[arg-type]


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Raw:
    """The raw body of a response that never went on the wire."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body
