"""The IAM actions a Lambda may be granted, by need: `Needs` (one handler's row of the
PERMISSIONS table in permissions.py) and the action names every grant spells.

Split from permissions.py so that table and the document builder stay readable; import these
names from either module.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Needs:
    """One handler's permissions beyond writing its own logs."""

    dynamodb: tuple[str, ...] = ()
    uses_gsi: bool = False
    """Queries GSI1 (rooms of a user, a user's connections, public rooms)."""
    manage_connections: bool = False
    """Posts to WebSocket connections (fan-out)."""
    close_connections: bool = False
    """Closes WebSocket connections (DeleteConnection: a session that ended,
    service/sessions.py)."""
    s3: tuple[str, ...] = ()
    s3_prefixes: tuple[str, ...] = ()
    """Key prefixes of the attachments bucket the S3 actions apply to."""
    queues_bot_jobs: bool = False
    """Sends @bot jobs to the bot queue."""
    answers_bot_jobs: bool = False
    """Consumes the bot queue and calls the configured Bedrock model."""
    reads_change_stream: bool = False
    """Invoked by the table's stream: its event source mapping reads the stream as this role."""
    sends_fanout_pages: bool = False
    """Sends page jobs (a big room's connections, or a throttled remainder) to the page queue."""
    consumes_fanout_pages: bool = False
    """Consumes the page queue (its event source mapping receives and deletes as this role)."""
    fails_to_fanout_dlq: bool = False
    """Its stream mapping's on-failure destination is the fan-out dead-letter queue: Lambda
    sends the failed batch's record there with this role."""
    publishes_events: bool = False
    """Puts each room change on the stage's event bus, where the stage publishes events."""
    sends_push_jobs: bool = False
    """Sends push jobs to the push queue (SendMessageBatch), where the stage has push on."""
    sends_push: bool = False
    """Consumes the push queue and reads the VAPID private key (its one SSM parameter)."""
    erases_accounts: bool = False
    """account_erasure: its queue, avatars and sign-ins (erasure_permissions.py)."""

    @property
    def actions(self) -> frozenset[str]:
        """Every IAM action this handler is granted (logs and tracing aside)."""
        extra: tuple[str, ...] = (
            ("execute-api:ManageConnections",)
            if self.manage_connections or self.close_connections
            else ()
        )
        if self.queues_bot_jobs:
            extra += (SQS_SEND,)
        if self.answers_bot_jobs:
            extra += (*SQS_CONSUME, BEDROCK_INVOKE)
        if self.reads_change_stream:
            extra += STREAM_READ
        if self.sends_fanout_pages or self.fails_to_fanout_dlq:
            extra += (SQS_SEND,)
        if self.consumes_fanout_pages:
            extra += SQS_CONSUME
        if self.publishes_events:
            extra += (EVENTS_PUT,)
        if self.sends_push_jobs:
            extra += (SQS_SEND,)
        if self.sends_push:
            extra += (*SQS_CONSUME, SSM_GET_PARAMETER)
        if self.erases_accounts:  # erasure_permissions.erasure_actions (its own statements)
            extra += (SQS_SEND, *SQS_CONSUME, "cognito-idp:AdminDeleteUser", "s3:DeleteObject")
        return frozenset((*self.dynamodb, *self.s3, *extra))


SQS_SEND = "sqs:SendMessage"
SQS_CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
"""What the Lambda event source mapping needs on the queue, with the function's role."""
BEDROCK_INVOKE = "bedrock:InvokeModel"
"""Converse is authorised by InvokeModel, on the one configured model's ARN."""
STREAM_READ = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
"""What a Lambda event source mapping on a DynamoDB stream needs, on the stream's ARN (AWS's
"IAM policy to allow an AWS Lambda function to access DynamoDB stream records")."""
SSM_GET_PARAMETER = "ssm:GetParameter"
"""The VAPID key's one parameter; SecureString under the AWS managed key aws/ssm, whose key
policy lets the account's principals decrypt through SSM (no kms:Decrypt grant needed)."""
EVENTS_PUT = "events:PutEvents"
"""On the stage's own bus only, and only where the stage publishes events."""
RUM_PUT_EVENTS = "rum:PutRumEvents"
"""The one action of the web client's RUM guest role, on the stage's app monitor only
(infra/web_rum.py); no Lambda is granted it."""
