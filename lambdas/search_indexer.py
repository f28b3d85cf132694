"""The search indexer: the table stream's second reader (AWS advises at most two per shard:
the fan-out and this). Its mapping's filter (tables.keys.SEARCH_STREAM_FILTER) lets through
message changes only; each post or edit (re)indexes the message's words, each delete drops them
(service/search.py's SearchIndexer, idempotent: a replayed record writes the same items).

Records are handled in stream order; on the first that fails the batch reports it
(ReportBatchItemFailures), Lambda retries from it (bisecting) and at last sends it to the
dead-letter queue, as for the fan-out.
"""

from __future__ import annotations

from typing import Any

from dynamotalk import search_root
from dynamotalk.edge.records import stream_records
from dynamotalk.logging import invocation
from lambdas import initialized


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    indexer = search_root.indexer()
    for record in stream_records(event):
        with invocation(route="search_indexer:change", request_id=record.record_id) as log:
            if record.unreadable:  # a poison record: retried, bisected, then dead-lettered
                log["outcome"] = "invalid_input"
                return {"batchItemFailures": [{"itemIdentifier": record.record_id}]}
            try:
                if record.change is not None:
                    indexer.apply(record.change)
            except Exception:  # noqa: BLE001 - retried from this record on
                log["outcome"] = "retry"
                return {"batchItemFailures": [{"itemIdentifier": record.record_id}]}
    return {"batchItemFailures": []}


initialized()
