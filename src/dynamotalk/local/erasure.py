"""The erasure queue on loopback: in process like the push queue (local/push.py) and the page
queue (delivery.py). Each job invokes account_erasure as its SQS event source mapping would
(one record per batch), is received again after a failure, and is dead after MAX_RECEIVES.
SQS redelivers a message whose visibility timeout passed without a delete, and moves it to
the dead-letter queue after the redrive policy's maxReceiveCount
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html);
Lambda reports failed records with ReportBatchItemFailures
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import attrs
import structlog

from dynamotalk.adapters.erasure_aws import job_body
from dynamotalk.workers import ACCOUNT_ERASURE

if TYPE_CHECKING:  # the gateway imports this module: its own modules come lazily
    from dynamotalk.local.gateway.invoke import Functions

_log = structlog.get_logger("dynamotalk.erasure")
MAX_RECEIVES = 5
"""As infra/erasure.MAX_RECEIVES: receives of an erasure job before the dead-letter queue."""
RETRY_AFTER_S = 0.2
"""A failed job's wait before it is received again (SQS: the visibility timeout)."""


@attrs.define
class LocalErasureQueue:
    functions: Functions
    loop: asyncio.AbstractEventLoop
    dead: list[str] = attrs.Factory(list)
    done: list[str] = attrs.Factory(list)
    """Bodies of the invocations that succeeded (a test waits on the job item instead)."""

    def enqueue(self, user_id: str) -> None:
        asyncio.run_coroutine_threadsafe(self._deliver(job_body(user_id)), self.loop)

    async def _deliver(self, body: str) -> None:
        from dynamotalk.local.gateway.invoke import InvocationError

        message_id = str(uuid.uuid4())
        for receive in range(1, MAX_RECEIVES + 1):
            record = {
                "messageId": message_id,
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(receive)},
                "eventSource": "aws:sqs",
            }
            try:
                reply = await self.functions.call(
                    ACCOUNT_ERASURE, {"Records": [record]}, behind_api=False
                )
                if not reply.get("batchItemFailures"):
                    self.done.append(body)
                    return
            except InvocationError:
                pass
            await asyncio.sleep(RETRY_AFTER_S)
        self.dead.append(body)
        _log.error("erasure_job_dead_lettered", message_id=message_id)


QUEUE: list[LocalErasureQueue] = []


def start(functions: Functions) -> LocalErasureQueue:
    """Install the local erasure queue where DELETE /me looks for it (on the running loop)."""
    from dynamotalk import erasure_root

    queue = LocalErasureQueue(functions, asyncio.get_running_loop())
    QUEUE[:] = [queue]
    erasure_root.use_local_erasure_jobs(queue)
    return queue
