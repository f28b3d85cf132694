"""What each Lambda may do: the handler -> IAM actions table the roles are built from.

Least privilege from real ARNs: DynamoDB actions only on the table (and its GSI where a Query
uses it), `execute-api:ManageConnections` only on this API's @connections, S3 only on the
attachment and avatar prefixes. Transactions need the item actions (PutItem, ...), not a
"TransactWriteItems" action, which IAM does not have.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Needs:
    dynamodb: tuple[str, ...] = ()
    uses_gsi: bool = False
    manage_connections: bool = False
    s3: tuple[str, ...] = ()


_READ_WRITE = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem")

PERMISSIONS: dict[str, Needs] = {
    "ws_authorizer": Needs(),
    "ws_connect": Needs(
        dynamodb=(
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:BatchWriteItem",
        ),
        uses_gsi=True,
        manage_connections=True,
    ),
    "ws_disconnect": Needs(
        dynamodb=("dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"),
        uses_gsi=True,
        manage_connections=True,
    ),
    "ws_default": Needs(
        dynamodb=(*_READ_WRITE, "dynamodb:BatchWriteItem"),
        manage_connections=True,
        s3=("s3:GetObject",),
    ),
    "http_api": Needs(
        dynamodb=(
            *_READ_WRITE,
            "dynamodb:DeleteItem",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ),
        uses_gsi=True,
        manage_connections=True,
        s3=("s3:GetObject", "s3:PutObject"),
    ),
    "cognito_pre_signup": Needs(),
    "cognito_post_confirmation": Needs(dynamodb=("dynamodb:GetItem", "dynamodb:BatchWriteItem")),
}

S3_PREFIXES = ("rooms/*", "avatars/*")
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
"""X-Ray has no resource-level permissions: the one place a `*` resource is allowed."""
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
