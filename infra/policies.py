"""What each Lambda may do: the handler -> IAM permissions table its role is built from.

Least privilege from real ARNs: DynamoDB actions only on the table (and its GSI1 only where a
Query uses it), `execute-api:ManageConnections` only on this API's @connections, S3 only on
the key prefixes the handler touches. The actions follow the adapters' calls:

- GetItem, Query, PutItem, UpdateItem, DeleteItem, BatchGetItem, BatchWriteItem as named;
- TransactWriteItems (message append, room creation) is authorised per item, so it needs the
  item actions it carries (here only Put -> PutItem); IAM has no "TransactWriteItems" action;
- fan-out (any handler that broadcasts) = Query on the room's connections +
  ManageConnections + BatchWriteItem to forget the connections found gone;
- S3 HeadObject (attachment/avatar size check) is authorised by s3:GetObject, and a presigned
  POST upload by the signer's s3:PutObject.
"""

from __future__ import annotations

import attrs

from dynamotalk.tables import GSI1

GSI = GSI1.name


@attrs.frozen
class Needs:
    """One handler's permissions beyond writing its own logs."""

    dynamodb: tuple[str, ...] = ()
    uses_gsi: bool = False
    """Queries GSI1 (rooms of a user, a user's connections, public rooms)."""
    manage_connections: bool = False
    """Posts to WebSocket connections (fan-out)."""
    s3: tuple[str, ...] = ()
    s3_prefixes: tuple[str, ...] = ()
    """Key prefixes of the attachments bucket the S3 actions apply to."""
    queues_bot_jobs: bool = False
    """Sends @bot jobs to the bot queue."""
    answers_bot_jobs: bool = False
    """Consumes the bot queue and calls the configured Bedrock model."""

    @property
    def actions(self) -> frozenset[str]:
        """Every IAM action this handler is granted (logs and tracing aside)."""
        extra: tuple[str, ...] = (
            ("execute-api:ManageConnections",) if self.manage_connections else ()
        )
        if self.queues_bot_jobs:
            extra += (SQS_SEND,)
        if self.answers_bot_jobs:
            extra += (*SQS_CONSUME, BEDROCK_INVOKE)
        return frozenset((*self.dynamodb, *self.s3, *extra))


SQS_SEND = "sqs:SendMessage"
SQS_CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
"""What the Lambda event source mapping needs on the queue, with the function's role."""
BEDROCK_INVOKE = "bedrock:InvokeModel"
"""Converse is authorised by InvokeModel, on the one configured model's ARN."""


ROOM_FILES = "rooms/*"
AVATARS = "avatars/*"

PERMISSIONS: dict[str, Needs] = {
    # Verifies the token against the pool's public JWKS: no AWS call at all.
    "ws_authorizer": Needs(),
    # Profile on first sight (Get + BatchWrite), register (Put), the user's other connections
    # (GSI1), the user's rooms (GSI1) for the "online" fan-out.
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
    # Rows of the connection (Query) deleted in one batch, lastSeen (Update), "offline" fan-out.
    "ws_disconnect": Needs(
        dynamodb=("dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"),
        uses_gsi=True,
        manage_connections=True,
    ),
    # Every frame: room/member/message reads, append (transactional Put), edit/react/read
    # markers (Update), subscriptions (BatchWrite), history/sync (Query on the table only);
    # attachment size check on rooms/ only.
    "ws_default": Needs(
        dynamodb=(
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
        ),
        manage_connections=True,
        s3=("s3:GetObject",),
        s3_prefixes=(ROOM_FILES,),
        queues_bot_jobs=True,
    ),
    # Rooms, members (Delete on leave/remove), my rooms (GSI1 + BatchGet), presence, profile;
    # presigned upload (Put) and download (Get) URLs for attachments and avatars.
    "http_api": Needs(
        dynamodb=(
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ),
        uses_gsi=True,
        manage_connections=True,
        s3=("s3:GetObject", "s3:PutObject"),
        s3_prefixes=(ROOM_FILES, AVATARS),
    ),
    # Checks the username and answers Cognito: no AWS call.
    "cognito_pre_signup": Needs(),
    # Creates the profile and the username claim (Get, then BatchWrite of both items).
    "cognito_post_confirmation": Needs(dynamodb=("dynamodb:GetItem", "dynamodb:BatchWriteItem")),
    # Reads the request and its context (Get, Query), the authors' names (BatchGet), posts
    # the reply (transactional Put, read marker Update) and fans it out (Query, BatchWrite).
    "bot_worker": Needs(
        dynamodb=(
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ),
        manage_connections=True,
        answers_bot_jobs=True,
    ),
}

XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
"""X-Ray has no resource-level permissions: the one place a `*` resource is allowed."""
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
"""On the function's own log group only (not AWSLambdaBasicExecutionRole's `*`)."""
API_GATEWAY_LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
)
"""The region's API Gateway logging role: it writes execution and access logs of every API."""
