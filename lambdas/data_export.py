"""The export worker: consumes "export my data" jobs from SQS (queued by POST /me/exports) and
writes each user's archive to S3 (service/exports.py).

Partial batch responses: a job that failed (throttling, S3) is reported and retried by SQS,
then lands in the dead-letter queue (with an alarm); on its last receive it is marked failed,
so the user sees `failed` rather than `pending` forever.
"""

from __future__ import annotations

from typing import Any

from dynamotalk import export_root
from dynamotalk.adapters.sqs_export import parse_export_job
from dynamotalk.domain.export import ExportStatus
from dynamotalk.logging import invocation
from dynamotalk.workers import EXPORT_MAX_RECEIVES
from lambdas import initialized


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    worker = export_root.worker()
    failures = []
    for record in event.get("Records") or []:
        with invocation(route="export:run", request_id=record.get("messageId")) as log:
            job = parse_export_job(str(record.get("body", "")))
            if job is None:
                log["outcome"] = "invalid_input"  # malformed: nothing to retry
                continue
            user_id, export_id = job
            log["user_id"] = user_id
            try:
                log["status"] = str(worker.run(user_id, export_id))
            except Exception as error:  # noqa: BLE001 - SQS retries it, then the DLQ
                log["outcome"] = "retry"
                log["error"] = type(error).__name__
                receives = int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1))
                if receives >= EXPORT_MAX_RECEIVES:
                    worker.jobs.finish(
                        user_id, export_id, ExportStatus.FAILED, worker.clock.now_ms()
                    )
                failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}


initialized()
