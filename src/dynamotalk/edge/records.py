"""The records of the fan-out's event sources: a DynamoDB stream batch (room changes), and an
SQS batch (page jobs). Each record keeps the identifier its partial-batch response names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from dynamotalk.domain.events import RoomChange
from dynamotalk.tables import keys as k
from dynamotalk.tables.changes import change_from_item
from dynamotalk.tables.codecs import load


@attrs.frozen
class StreamRecord:
    record_id: str
    """The stream record's SequenceNumber: what ReportBatchItemFailures names."""
    change: RoomChange | None
    """None for a record that is not a new change (the mapping's filter lets none through)."""
    unreadable: bool = False
    """A change item this code cannot read (a poison record): the batch fails at it."""


def is_change(record: Mapping[str, Any]) -> bool:
    """What tables.keys.CHANGE_STREAM_FILTER lets through: a new item under a SEQ# key."""
    sort_key = record.get("dynamodb", {}).get("Keys", {}).get("SK", {}).get("S", "")
    return record.get("eventName") == "INSERT" and str(sort_key).startswith(k.SEQ_PREFIX)


def stream_records(event: Mapping[str, Any]) -> list[StreamRecord]:
    """The batch's records in stream order. One that cannot be read is marked: the batch fails
    at it and, after the mapping's retries, it goes to the dead-letter queue."""
    found = []
    for record in event.get("Records") or []:
        data = record.get("dynamodb") or {}
        record_id = str(data.get("SequenceNumber", ""))
        if not is_change(record):
            found.append(StreamRecord(record_id, None))
            continue
        try:
            change = change_from_item(load(data["NewImage"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            found.append(StreamRecord(record_id, None, unreadable=True))
            continue
        found.append(StreamRecord(record_id, change))
    return found


@attrs.frozen
class QueueRecord:
    message_id: str
    body: str


def queue_records(event: Mapping[str, Any]) -> list[QueueRecord]:
    return [
        QueueRecord(str(r.get("messageId", "")), str(r.get("body", "")))
        for r in event.get("Records") or []
    ]
