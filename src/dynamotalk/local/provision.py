"""Create the AWS side of a stage on the local emulators: table, user pool, app client, bucket.

The table comes from tables/ and the pool from userpool.py, the definitions the Pulumi
program reads too, so local and cloud cannot drift. Every step is idempotent: on state kept
from an earlier run (LocalAws with a data directory) the same pool and client ids come back,
and their changeable settings are brought up to the spec, as `pulumi up` would.
"""

from __future__ import annotations

from typing import Any

import attrs
import boto3
from botocore.exceptions import ClientError

from dynamotalk.local import events
from dynamotalk.local.emulators import DUMMY_CREDENTIALS
from dynamotalk.routes import resource_name
from dynamotalk.settings import environment
from dynamotalk.tables import CHAT_TABLE, create_table_request
from dynamotalk.userpool import UserPoolSpec, user_pool_spec

REGION = events.REGION
"""The local stage's region (the emulators' default)."""
LOCAL_POOL = user_pool_spec(protected=False)
"""The local stage is not protected (like dev)."""


class ProvisionError(Exception):
    """Kept state cannot be brought up to the spec; the message says what to do."""


@attrs.frozen
class LocalResources:
    stage: str
    table_name: str
    bucket_name: str
    user_pool_id: str
    user_pool_client_id: str
    dynamodb_endpoint: str
    aws_endpoint: str
    """moto's server: Cognito and S3."""

    def environment(self, management_endpoint: str, auto_confirm: bool = True) -> dict[str, str]:
        """The environment variables the Lambda handlers read (settings.py)."""
        return {
            # The handlers sign S3 forms and URLs with the keys LocalAws knows, never a
            # developer's real ones.
            **DUMMY_CREDENTIALS,
            **environment(
                stage=self.stage,
                region=REGION,
                table_name=self.table_name,
                bucket_name=self.bucket_name,
                user_pool_id=self.user_pool_id,
                user_pool_client_id=self.user_pool_client_id,
                management_endpoint=management_endpoint,
                auto_confirm=auto_confirm,
                dynamodb_endpoint=self.dynamodb_endpoint,
                s3_endpoint=self.aws_endpoint,
                cognito_endpoint=self.aws_endpoint,
            ),
        }


def client(service: str, endpoint: str) -> Any:
    from botocore.config import Config

    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - loopback emulator
        # S3 buckets created since June 2020 refuse SigV2, which botocore still uses for
        # presigned POSTs unless told otherwise; LocalAws refuses it too.
        config=Config(signature_version="s3v4") if service == "s3" else None,
    )


def ensure_table(dynamodb: Any, name: str) -> None:
    try:
        dynamodb.create_table(**create_table_request(name))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    dynamodb.get_waiter("table_exists").wait(TableName=name)
    try:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": CHAT_TABLE.ttl_attribute},
        )
    except ClientError as error:  # already enabled on a kept table
        if error.response["Error"]["Code"] != "ValidationException":
            raise


def ensure_user_pool(cognito: Any, stage: str, spec: UserPoolSpec = LOCAL_POOL) -> tuple[str, str]:
    name = spec.pool_name(stage)
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((p["Id"] for p in pools if p["Name"] == name), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(**spec.request(stage))["UserPool"]["Id"]
    else:
        kept = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        for setting, wanted in spec.immutable().items():
            if kept.get(setting) != wanted:
                raise ProvisionError(
                    f"the kept user pool {pool_id} has {setting}={kept.get(setting)!r}, the "
                    f"spec says {wanted!r}; Cognito cannot change that on a pool: start "
                    f"with --fresh (a new pool, without the kept users)"
                )
        cognito.update_user_pool(UserPoolId=pool_id, **spec.mutable())
    if spec.mfa_configuration != "OFF":
        cognito.set_user_pool_mfa_config(**spec.mfa_request(pool_id))
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
    client_id = next(
        (c["ClientId"] for c in clients["UserPoolClients"] if c["ClientName"] == spec.client.name),
        None,
    )
    if client_id is None:
        client_id = cognito.create_user_pool_client(**spec.client.request(pool_id))[
            "UserPoolClient"
        ]["ClientId"]
    else:
        cognito.update_user_pool_client(
            ClientId=client_id, ClientName=spec.client.name, **spec.client.update_request(pool_id)
        )
    return pool_id, client_id


def ensure_bucket(s3: Any, name: str, origins: list[str]) -> None:
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as error:
        if error.response["Error"]["Code"] not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise
    if not origins:
        return  # no browser origin to allow: no CORS rule at all, never a wildcard
    s3.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["GET", "POST", "HEAD"],
                    "AllowedOrigins": origins,
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )


def provision(
    stage: str, dynamodb_endpoint: str, aws_endpoint: str, origins: list[str] | None = None
) -> LocalResources:
    table = CHAT_TABLE.physical_name(stage)
    bucket = resource_name(stage, "attachments")
    ensure_table(client("dynamodb", dynamodb_endpoint), table)
    pool_id, client_id = ensure_user_pool(client("cognito-idp", aws_endpoint), stage)
    ensure_bucket(client("s3", aws_endpoint), bucket, origins or [])
    return LocalResources(
        stage=stage,
        table_name=table,
        bucket_name=bucket,
        user_pool_id=pool_id,
        user_pool_client_id=client_id,
        dynamodb_endpoint=dynamodb_endpoint,
        aws_endpoint=aws_endpoint,
    )
