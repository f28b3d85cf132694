"""ExportQueue on Amazon SQS: one small job per request (user id, export id); data_export
consumes the queue (lambdas/data_export.py)."""

from __future__ import annotations

import json
from typing import Any

import attrs


def export_body(user_id: str, export_id: str) -> str:
    return json.dumps({"userId": user_id, "exportId": export_id}, separators=(",", ":"))


def parse_export_job(body: str) -> tuple[str, str] | None:
    """(user id, export id) of an export job; None for anything else."""
    try:
        data = json.loads(body)
        user_id, export_id = data["userId"], data["exportId"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(user_id, str) and isinstance(export_id, str)):
        return None
    return user_id, export_id


@attrs.define
class SqsExportQueue:
    client: Any
    """A boto3 `sqs` client."""
    queue_url: str

    def enqueue(self, user_id: str, export_id: str) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url, MessageBody=export_body(user_id, export_id)
        )
