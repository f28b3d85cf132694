"""The erasure worker: each SQS job (queued by DELETE /me, or re-queued by itself to continue)
advances one user's erasure job (service/erasure.py) within its per-invocation bounds.

Partial batch responses: a job that fails is reported and retried by SQS (the job item says
what is done, so the retry resumes), then lands in the dead-letter queue (with an alarm).
"""

from __future__ import annotations

from typing import Any

from dynamotalk import erasure_root
from dynamotalk.adapters.erasure_aws import parse_job
from dynamotalk.logging import invocation
from lambdas import initialized


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    eraser = erasure_root.eraser()
    failures = []
    for record in event.get("Records") or []:
        with invocation(route="erasure:run", request_id=record.get("messageId")) as log:
            user_id = parse_job(str(record.get("body", "")))
            if user_id is None:
                log["outcome"] = "invalid_input"  # malformed: nothing to retry
                continue
            try:
                log["finished"] = eraser.run(user_id)
            except Exception:  # noqa: BLE001 - SQS retries it, then the dead-letter queue
                log["outcome"] = "retry"
                failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}


initialized()
