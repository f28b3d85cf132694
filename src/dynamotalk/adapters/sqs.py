"""BotJobs on Amazon SQS: the sender's Lambda drops a small job and returns at once; the
bot_worker Lambda consumes the queue (a dead-letter queue keeps jobs that keep failing)."""

from __future__ import annotations

import json
from collections.abc import Sequence
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


@attrs.define
class SqsPageQueue:
    """PageQueue on Amazon SQS: each page of a big room's connections is one message, which the
    fanout_pages Lambda consumes (at most FANOUT_PAGE_WORKERS at once)."""

    client: Any
    queue_url: str

    def enqueue(
        self,
        room_id: str,
        seq: int,
        connection_ids: Sequence[str],
        delay_s: int = 0,
        attempt: int = 0,
    ) -> None:
        # An error propagates: the stream (or the queue) retries the whole record or page.
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=page_body(room_id, seq, connection_ids, attempt),
            DelaySeconds=min(delay_s, MAX_DELAY_S),
        )


MAX_DELAY_S = 900
"""SQS's longest message delay."""


def page_body(room_id: str, seq: int, connection_ids: Sequence[str], attempt: int = 0) -> str:
    """A page job: 1,000 connection ids of ~20 characters fit SQS's 256 KB easily."""
    job = {"roomId": room_id, "seq": seq, "connections": list(connection_ids), "attempt": attempt}
    return json.dumps(job, separators=(",", ":"))


def parse_page(body: str) -> tuple[str, int, list[str], int]:
    """(room id, seq, connection ids, attempt) of a page job; ValueError for anything else."""
    try:
        data = json.loads(body)
        room_id, seq, ids = data["roomId"], data["seq"], data["connections"]
        attempt = data.get("attempt", 0)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a page job: {error}") from None
    if not (
        isinstance(room_id, str)
        and isinstance(seq, int)
        and isinstance(attempt, int)
        and isinstance(ids, list)
        and all(isinstance(i, str) for i in ids)
    ):
        raise ValueError("not a page job")
    return room_id, seq, ids, attempt
