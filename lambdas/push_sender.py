"""The push sender: consumes push jobs from SQS (queued by the fan-out) and sends Web Push
to the message's offline recipients (service/push_sender.py).

Partial batch responses: a job whose push service asked to come back later (429, 5xx, no
answer) is reported and retried by SQS, then lands in the dead-letter queue (with an alarm).
"""

from __future__ import annotations

from typing import Any

from dynamotalk import push_root
from dynamotalk.adapters.sqs_push import parse_push_job
from dynamotalk.logging import invocation
from dynamotalk.metrics import Metric, record
from dynamotalk.service.push_sender import Outcome, PushRetry
from lambdas import initialized


def _count(outcome: Outcome, log: dict[str, Any]) -> None:
    record(Metric.PUSH_SENT, outcome.sent)
    record(Metric.PUSH_FAILED, outcome.failed + outcome.gone)
    log.update(sent=outcome.sent, failed=outcome.failed, gone=outcome.gone)


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    # Built on the first job, once per container: the VAPID key is read from SSM then (not at
    # import, so a SnapStart snapshot never holds it).
    sender = push_root.push_sender()
    failures = []
    for record_ in event.get("Records") or []:
        with invocation(route="push:send", request_id=record_.get("messageId")) as log:
            job = parse_push_job(str(record_.get("body", "")))
            if job is None:
                log["outcome"] = "invalid_input"  # malformed: nothing to retry
                continue
            room_id, message_id, _seq = job
            try:
                _count(sender.handle(room_id, message_id), log)
            except PushRetry as retry:
                _count(retry.outcome, log)
                log["outcome"] = "retry"
                failures.append({"itemIdentifier": record_.get("messageId")})
            except Exception:  # noqa: BLE001 - SQS retries it, then the dead-letter queue
                log["outcome"] = "retry"
                failures.append({"itemIdentifier": record_.get("messageId")})
    return {"batchItemFailures": failures}


initialized()
