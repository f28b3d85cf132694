"""PushJobs on Amazon SQS: the fan-out leaves one small job per message that might push
(room id, message id, seq), ten to a SendMessageBatch call; push_sender consumes the queue."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

SQS_BATCH = 10
"""SendMessageBatch's most entries per call."""


class NotQueued(Exception):
    """Some entries of a batch were refused (the fan-out logs it and counts them)."""


def push_body(room_id: str, message_id: str, seq: int) -> str:
    return json.dumps(
        {"roomId": room_id, "messageId": message_id, "seq": seq}, separators=(",", ":")
    )


def parse_push_job(body: str) -> tuple[str, str, int] | None:
    """(room id, message id, seq) of a push job; None for anything else."""
    try:
        data = json.loads(body)
        room_id, message_id, seq = data["roomId"], data["messageId"], data["seq"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(room_id, str) and isinstance(message_id, str) and isinstance(seq, int)):
        return None
    return room_id, message_id, seq


@attrs.define
class SqsPushJobs:
    client: Any
    """A boto3 `sqs` client."""
    queue_url: str

    def enqueue_many(self, jobs: Sequence[tuple[str, str, int]]) -> None:
        refused = 0
        for start in range(0, len(jobs), SQS_BATCH):
            entries = [
                {"Id": str(index), "MessageBody": push_body(*job)}
                for index, job in enumerate(jobs[start : start + SQS_BATCH])
            ]
            reply = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            refused += len(reply.get("Failed") or [])
        if refused:
            raise NotQueued(f"{refused} push jobs refused by SQS")
