"""The fan-out: consumes the table's stream (new room changes only, tables.keys'
CHANGE_STREAM_FILTER) and delivers each change (service/delivery.py).

Records are handled in stream order. On the first that fails, the batch reports it
(ReportBatchItemFailures): Lambda checkpoints the ones before it and retries from it, so a room's
changes are never delivered out of order and a failure costs a repeat, never a loss.
"""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap
from dynamotalk.edge.records import StreamRecord, stream_records
from dynamotalk.logging import invocation
from dynamotalk.push_root import queue_pushes
from lambdas import initialized


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    records = stream_records(event)
    reply = _deliver(records)
    # Web Push for offline users: the records delivered (those before a failed one) queue
    # their push jobs; a push failure never fails the batch (push_root.queue_pushes).
    queue_pushes(records, reply["batchItemFailures"])
    return reply


def _deliver(records: list[StreamRecord]) -> dict[str, Any]:
    delivery = bootstrap.delivery()
    changes = [r.change for r in records if r.change is not None]
    blockers: dict[str, frozenset[str]] = {}  # who blocked each author, once per batch
    for index, record in enumerate(records):
        with invocation(route="fanout:change", request_id=record.record_id) as log:
            if record.unreadable:  # a poison record: retried, bisected, then dead-lettered
                log["outcome"] = "invalid_input"
                return {"batchItemFailures": [{"itemIdentifier": record.record_id}]}
            try:
                if index == 0:
                    delivery.publish(changes)  # the batch's changes in one call
                if record.change is not None:
                    log["delivered"] = delivery.deliver(record.change, blockers)
            except Exception:  # noqa: BLE001 - retried from this record on
                log["outcome"] = "retry"
                return {"batchItemFailures": [{"itemIdentifier": record.record_id}]}
    return {"batchItemFailures": []}


initialized()
