"""BotJobs on Amazon SQS: the sender's Lambda drops a small job and returns at once; the
bot_worker Lambda consumes the queue (a dead-letter queue keeps jobs that keep failing)."""

from __future__ import annotations

import json
from typing import Any

import attrs
import structlog

_log = structlog.get_logger("dynamotalk.bot")


@attrs.define
class SqsBotJobs:
    client: Any
    """A boto3 `sqs` client (created on first use by the wiring)."""
    queue_url: str

    def enqueue(self, room_id: str, message_id: str) -> None:
        body = json.dumps({"roomId": room_id, "messageId": message_id}, separators=(",", ":"))
        try:
            self.client.send_message(QueueUrl=self.queue_url, MessageBody=body)
        except Exception as error:  # noqa: BLE001 - the message is stored; the bot just misses it
            _log.warning("bot_job_not_queued", room_id=room_id, error=type(error).__name__)


def parse_job(body: str) -> tuple[str, str] | None:
    """(room id, message id) of a queued job, None for anything else."""
    try:
        data = json.loads(body)
        room_id, message_id = data["roomId"], data["messageId"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(room_id, str) or not isinstance(message_id, str):
        return None
    return room_id, message_id
