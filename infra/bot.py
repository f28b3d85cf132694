"""Bot: the queue of @bot jobs with its dead-letter queue, the worker's event source, and the
bot's chat profile written at deploy (so people can mention it and open a direct room)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from dynamotalk.domain.identities import bot_user
from dynamotalk.routes import BOT_QUEUE, FUNCTION_BY_MODULE
from dynamotalk.tables import CHAT_TABLE
from dynamotalk.tables.codecs import dump
from dynamotalk.tables.items import user_item, username_claim_item
from infra import queues
from infra.functions import LambdaFunction
from infra.settings import StageSettings

WORKER = FUNCTION_BY_MODULE["bot_worker"]
MAX_RECEIVES = 3
"""Deliveries of a job before it goes to the dead-letter queue."""


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
        self.dead_letters = queues.dead_letter_queue(
            f"{name}-dead-letters", settings.stage, "bot-dlq", child
        )
        self.queue = queues.work_queue(
            f"{name}-jobs",
            settings.stage,
            BOT_QUEUE,
            WORKER,
            self.dead_letters,
            MAX_RECEIVES,
            child,
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
        """Wire the queue to the worker: at most WORKER.max_concurrency bot batches (Bedrock
        calls) at once, however long the queue."""
        queues.consume(
            f"{self._name}-worker",
            self.queue,
            worker.mapping_target,
            WORKER,
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"botQueueUrl": self.queue.url})
