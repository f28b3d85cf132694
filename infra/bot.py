"""Bot: the queue of @bot jobs with its dead-letter queue, the worker's event source, and the
bot's chat profile written at deploy (so people can mention it and open a direct room)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from dynamotalk.domain.identities import bot_user
from dynamotalk.routes import BOT_QUEUE, FUNCTION_BY_MODULE, resource_name
from dynamotalk.tables import CHAT_TABLE
from dynamotalk.tables.codecs import dump
from dynamotalk.tables.items import user_item, username_claim_item
from infra.functions import LambdaFunction
from infra.settings import StageSettings

WORKER = FUNCTION_BY_MODULE["bot_worker"]
VISIBILITY_TIMEOUT_S = 6 * WORKER.timeout_s
"""Lambda's advice for SQS sources: at least six times the function timeout, so a batch
retried after throttling is not redelivered while still running."""
MAX_RECEIVES = 3
"""Deliveries of a job before it goes to the dead-letter queue."""
JOB_RETENTION_S = 2 * MAX_RECEIVES * VISIBILITY_TIMEOUT_S
"""Long enough for every delivery (each may wait out a visibility timeout) with room to spare,
so a job reaches the dead-letter queue instead of expiring unseen."""


def bot_items() -> list[dict[str, Any]]:
    """The bot's profile and username claim in DynamoDB JSON, written through the user store's
    codecs (tables/items.py, tables/codecs.py) from the one definition of the bot
    (domain/identities.py)."""
    bot = bot_user()
    return [dump(user_item(bot)), dump(username_claim_item(bot.username, bot.user_id))]


class Bot(pulumi.ComponentResource):
    queue: aws.sqs.Queue
    dead_letters: aws.sqs.Queue

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        table_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:bot:Bot", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.dead_letters = aws.sqs.Queue(
            f"{name}-dead-letters",
            name=resource_name(settings.stage, "bot-dlq"),
            message_retention_seconds=14 * 24 * 3600,
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            f"{name}-jobs",
            name=resource_name(settings.stage, BOT_QUEUE),
            visibility_timeout_seconds=VISIBILITY_TIMEOUT_S,
            message_retention_seconds=JOB_RETENTION_S,
            sqs_managed_sse_enabled=True,
            redrive_policy=self.dead_letters.arn.apply(
                lambda arn: json.dumps(
                    {"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES}
                )
            ),
            opts=child,
        )
        for n, item in enumerate(bot_items()):
            aws.dynamodb.TableItem(
                f"{name}-user-{n}",
                table_name=table_name,
                hash_key=CHAT_TABLE.hash_key,
                range_key=CHAT_TABLE.range_key,
                item=json.dumps(item),
                opts=child,
            )

    def consume(self, worker: LambdaFunction) -> None:
        """Wire the queue to the worker, reporting failed jobs one by one."""
        aws.lambda_.EventSourceMapping(
            f"{self._name}-worker",
            event_source_arn=self.queue.arn,
            function_name=worker.function.name,
            batch_size=WORKER.batch_size,
            function_response_types=["ReportBatchItemFailures"],
            # However long the queue, at most this many bot batches (Bedrock calls) at once.
            scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
                maximum_concurrency=WORKER.max_concurrency
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"botQueueUrl": self.queue.url})
