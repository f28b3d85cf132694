"""The bot worker: consumes bot jobs from SQS and answers them with Bedrock.

Partial batch responses: a job that fails is reported back and retried by SQS, then lands in
the dead-letter queue; a job answered twice still yields one reply (idempotent client id).
"""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap
from dynamotalk.adapters.sqs import parse_job
from dynamotalk.logging import invocation
from lambdas import initialized

WORKER = bootstrap.bot_worker()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    failures = []
    for record in event.get("Records") or []:
        with invocation(route="bot:answer", request_id=record.get("messageId")) as log:
            job = parse_job(str(record.get("body", "")))
            if job is None:
                log["outcome"] = "invalid_input"  # malformed: nothing to retry
                continue
            try:
                WORKER.answer(*job)
            except Exception:  # noqa: BLE001 - SQS retries it, then the dead-letter queue
                log["outcome"] = "retry"
                failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}


initialized()
