"""The fan-out's page workers: each SQS message is one page of a big room's connections and the
seq of the change to deliver to them (service/delivery.py). A page that fails is reported back
and retried by SQS, then lands in the dead-letter queue."""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap
from dynamotalk.adapters.sqs import parse_page
from dynamotalk.edge.records import queue_records
from dynamotalk.logging import invocation
from lambdas import initialized


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    delivery = bootstrap.delivery()
    failures = []
    for record in queue_records(event):
        with invocation(route="fanout:page", request_id=record.message_id) as log:
            try:
                room_id, seq, connection_ids, attempt = parse_page(record.body)
            except ValueError:
                log["outcome"] = "invalid_input"  # malformed: retrying cannot help
                continue
            try:
                log["delivered"] = delivery.deliver_page(room_id, seq, connection_ids, attempt)
            except Exception:  # noqa: BLE001 - SQS retries it, then the dead-letter queue
                log["outcome"] = "retry"
                failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}


initialized()
