"""What each Lambda may do, and the IAM policy document its role gets: one pure builder that the
Pulumi program (infra/policies.py) and the local stack's IAM check (local/iam/) both use. Nothing
here imports pulumi: ARNs are plain strings, the document a plain dict.

Least privilege from real ARNs: DynamoDB actions only on the table (and its GSI1 only where a
Query uses it), `execute-api:ManageConnections` only on this API's @connections, S3 only on
the key prefixes the handler touches. The actions follow the adapters' calls:

- GetItem, Query, PutItem, UpdateItem, DeleteItem, BatchGetItem, BatchWriteItem as named;
- TransactWriteItems is authorised per item (IAM has no such action): a room change needs Put on
  its change item and Put, Update or Delete (leave/remove) on the message or membership;
- fan-out = Query on the room's connections + ManageConnections + BatchWriteItem to forget the
  gone ones; stream and queue mappings act with the function's role (iam_actions.Needs);
- S3 HeadObject (size checks) needs s3:GetObject; a presigned POST upload, the signer's
  s3:PutObject and s3:PutObjectTagging (its `tagging` field, upload_expiry.py; so does the
  retagging of an upload a message or profile references).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from dynamotalk.domain import files
from dynamotalk.erasure_permissions import ERASURE_NEEDS, erasure_statements
from dynamotalk.iam_actions import (
    BEDROCK_INVOKE,
    EVENTS_PUT,
    SQS_CONSUME,
    SQS_SEND,
    STREAM_READ,
    Needs,
)
from dynamotalk.permissions_export import EXPORT_NEEDS, export_statements
from dynamotalk.permissions_push import PUSH_NEEDS, push_statements
from dynamotalk.search_permissions import SEARCH_NEEDS
from dynamotalk.tables import GSI1

__all__ = ["BEDROCK_INVOKE", "EVENTS_PUT", "SQS_CONSUME", "SQS_SEND", "STREAM_READ", "Needs"]

GSI = GSI1.name
PolicyDocument = dict[str, Any]
"""An IAM policy document as JSON: {"Version": ..., "Statement": [...]}."""

ROOM_FILES = f"{files.ROOMS_PREFIX}*"
AVATARS = f"{files.AVATARS_PREFIX}*"

PERMISSIONS: dict[str, Needs] = {
    # Verifies the token against the pool's public JWKS: no AWS call at all.
    "ws_authorizer": Needs(),
    # Profile on first sight (Get + Puts), register (Put), the user's other connections
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
    # attachment size check and "referenced" untagging on rooms/ only. subscribe reads its
    # rooms and the caller's memberships of them with BatchGetItem.
    "ws_default": Needs(
        dynamodb=(
            "dynamodb:BatchGetItem",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:DeleteItem",  # deleting a pinned message unpins it (issue 17)
        ),
        manage_connections=True,
        # A frame on a socket whose session ended closes it (reauth: transactional Update + Put).
        close_connections=True,
        s3=("s3:GetObject", "s3:PutObjectTagging"),
        s3_prefixes=(ROOM_FILES,),
        queues_bot_jobs=True,
    ),
    # Rooms, members (Delete on leave/remove), my rooms (GSI1 + BatchGet), presence, profile;
    # presigned upload (Put, tagged: PutObjectTagging) and download (Get) URLs for attachments
    # and avatars; an avatar set on the profile loses its unreferenced tag (PutObjectTagging).
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
        close_connections=True,  # a ban closes sockets that followed only its room (issue 17)
        s3=("s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"),
        s3_prefixes=(ROOM_FILES, AVATARS),
    ),
    # Checks the username and answers Cognito: no AWS call.
    "cognito_pre_signup": Needs(),
    # Creates the profile and the username claim (Get, then a conditional Put of the claim and
    # a Put of the profile), and reads the claim back to log a name held by someone else.
    "cognito_post_confirmation": Needs(dynamodb=("dynamodb:GetItem", "dynamodb:PutItem")),
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
    # A stored room change: its item if the record is not enough (Get), the room's subscriptions
    # and mentioned members' connections (Query, GSI1), gone ones forgotten (BatchWrite); pages.
    "fanout": Needs(
        dynamodb=("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchWriteItem"),
        uses_gsi=True,
        manage_connections=True,
        reads_change_stream=True,
        sends_fanout_pages=True,
        fails_to_fanout_dlq=True,
        publishes_events=True,
        sends_push_jobs=True,
    ),
    # One page job: the change item (Get), the room's connections if needed (Query), gone
    # connections forgotten (BatchWrite); posts to the page; what stayed throttled is re-queued.
    "fanout_pages": Needs(
        dynamodb=("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchWriteItem"),
        manage_connections=True,
        sends_fanout_pages=True,
        consumes_fanout_pages=True,
    ),
    # Sessions due (Query on their buckets), each connection's record (Get), forget the entry
    # (Delete); closing = last words (POST) + DeleteConnection, then what $disconnect does:
    # the connection's rows (Query, BatchWrite), lastSeen (Update), the user's other
    # connections and rooms (GSI1) for the "offline" fan-out.
    "session_sweeper": Needs(
        dynamodb=(
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:DeleteItem",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
        ),
        uses_gsi=True,
        manage_connections=True,
        close_connections=True,
    ),
    # The user by username if the event names no sub (Get), their connections (GSI1); closes each.
    "session_revoked": Needs(
        dynamodb=(
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
        ),
        uses_gsi=True,
        manage_connections=True,
        close_connections=True,
    ),
    **PUSH_NEEDS,  # push_sender (permissions_push.py)
    **SEARCH_NEEDS,  # the search indexer (search_permissions.py)
    **EXPORT_NEEDS,  # data_export (permissions_export.py)
    **ERASURE_NEEDS,  # account_erasure (erasure_permissions.py)
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


@attrs.frozen
class StageArns:
    """The plain ARNs of one stage that the functions' policies name (cloud or local)."""

    region: str
    table_arn: str
    bucket_arn: str
    connections_arn: str | None = None
    """arn:aws:execute-api:{region}:{account}:{api}/{stage}/POST/@connections/*"""
    bot_queue_arn: str | None = None
    bot_model_id: str | None = None
    """The Bedrock model the bot worker may invoke (a model id or a model ARN)."""
    stream_arn: str | None = None
    """The table's stream (arn:aws:dynamodb:...:table/{name}/stream/{label})."""
    fanout_pages_queue_arn: str | None = None
    fanout_dlq_arn: str | None = None
    event_bus_arn: str | None = None
    """The stage's bus; None where the stage does not publish events (no PutEvents at all)."""
    xray: bool = False
    push_queue_arn: str | None = None
    """The push queue; None where the stage has push off."""
    vapid_parameter_arn: str | None = None
    export_queue_arn: str | None = None
    """The export queue ("export my data"); None: no export grants (permissions_export.py)."""

    erasure_queue_arn: str | None = None
    """The erasure queue (DELETE /me); None: not wired (no erasure statements)."""
    user_pool_arn: str | None = None
    """The stage's user pool (account_erasure's AdminDeleteUser)."""


def bedrock_model_arn(region: str, model_id: str) -> str:
    """The ARN IAM checks bedrock:InvokeModel against for a Converse/InvokeModel `modelId`."""
    if model_id.startswith("arn:"):
        return model_id
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


def delete_connections_arn(connections_arn: str) -> str:
    """DeleteConnection's resource: the POST @connections ARN with the DELETE method."""
    return connections_arn.replace("/POST/@connections/", "/DELETE/@connections/")


def policy_document(module: str, arns: StageArns, log_group_arn: str) -> PolicyDocument:
    """The inline policy of one function's role, from the PERMISSIONS table and the ARNs."""
    needs = PERMISSIONS[module]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": list(LOG_ACTIONS),
            "Resource": [f"{log_group_arn}:*"],
        }
    ]
    if needs.dynamodb:
        resources = [arns.table_arn]
        if needs.uses_gsi:
            resources.append(f"{arns.table_arn}/index/{GSI}")
        statements.append(
            {
                "Sid": "Table",
                "Effect": "Allow",
                "Action": sorted(needs.dynamodb),
                "Resource": resources,
            }
        )
    if needs.manage_connections or needs.close_connections:
        if arns.connections_arn is None:
            raise ValueError(f"{module} posts to connections but no @connections ARN is wired")
        resources = [arns.connections_arn] if needs.manage_connections else []
        if needs.close_connections:
            resources.append(delete_connections_arn(arns.connections_arn))
        statements.append(
            {
                "Sid": "Connections",
                "Effect": "Allow",
                "Action": ["execute-api:ManageConnections"],
                "Resource": resources,
            }
        )
    if needs.s3:
        statements.append(
            {
                "Sid": "Attachments",
                "Effect": "Allow",
                "Action": sorted(needs.s3),
                "Resource": [f"{arns.bucket_arn}/{prefix}" for prefix in needs.s3_prefixes],
            }
        )
    if needs.queues_bot_jobs or needs.answers_bot_jobs:
        if arns.bot_queue_arn is None:
            raise ValueError(f"{module} uses the bot queue but no queue is wired")
        actions = [SQS_SEND] if needs.queues_bot_jobs else sorted(SQS_CONSUME)
        statements.append(
            {
                "Sid": "BotQueue",
                "Effect": "Allow",
                "Action": actions,
                "Resource": [arns.bot_queue_arn],
            }
        )
    if needs.answers_bot_jobs:
        if arns.bot_model_id is None:
            raise ValueError(f"{module} calls the bot model but no model is configured")
        statements.append(
            {
                "Sid": "BotModel",
                "Effect": "Allow",
                "Action": [BEDROCK_INVOKE],
                "Resource": [bedrock_model_arn(arns.region, arns.bot_model_id)],
            }
        )
    statements.extend(_delivery_statements(module, needs, arns))
    statements.extend(push_statements(module, needs, arns.push_queue_arn, arns.vapid_parameter_arn))
    statements.extend(export_statements(module, arns.bucket_arn, arns.export_queue_arn))

    avatars = f"{arns.bucket_arn}/{AVATARS}"
    statements += erasure_statements(module, arns.erasure_queue_arn, arns.user_pool_arn, avatars)
    if arns.xray:
        statements.append(
            {"Sid": "Tracing", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": ["*"]}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _required(module: str, what: str, arn: str | None) -> str:
    if arn is None:
        raise ValueError(f"{module} needs the {what} but none is wired")
    return arn


def _allow(sid: str, actions: Iterable[str], resource: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": [resource]}


def _delivery_statements(module: str, needs: Needs, arns: StageArns) -> list[dict[str, Any]]:
    """The delivery path's grants: the stream, the page queue, the dead letters, the bus."""
    statements: list[dict[str, Any]] = []
    if needs.reads_change_stream:
        stream = _required(module, "table's stream", arns.stream_arn)
        statements.append(_allow("ChangeStream", STREAM_READ, stream))
    if needs.sends_fanout_pages or needs.consumes_fanout_pages:
        queue = _required(module, "fan-out page queue", arns.fanout_pages_queue_arn)
        actions = {SQS_SEND} if needs.sends_fanout_pages else set()
        if needs.consumes_fanout_pages:
            actions |= set(SQS_CONSUME)
        statements.append(_allow("PageQueue", actions, queue))
    if needs.fails_to_fanout_dlq:
        dead_letters = _required(module, "fan-out dead-letter queue", arns.fanout_dlq_arn)
        statements.append(_allow("DeadLetters", [SQS_SEND], dead_letters))
    if needs.publishes_events and arns.event_bus_arn is not None:
        statements.append(_allow("Events", [EVENTS_PUT], arns.event_bus_arn))
    return statements
