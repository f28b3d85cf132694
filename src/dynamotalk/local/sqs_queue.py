"""An SQS queue and its Lambda event source mapping, in process: the local stand-in for the
queues of issue 18's workers (push jobs, exports, erasures). Each message invokes its function
with a one-record SQS event; a failed record (ReportBatchItemFailures, or the invocation
failing) is received again after a pause (SQS: the visibility timeout) and dead after
`max_receives` receives (the redrive policy's maxReceiveCount:
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html). The fan-out's
page queue (delivery.py) keeps its own: its retries back off and it is armed with faults."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import attrs
import structlog

if TYPE_CHECKING:  # the gateway imports this module: its own modules come lazily
    from dynamotalk.local.gateway.invoke import Functions

_log = structlog.get_logger("dynamotalk.local.sqs")
RETRY_AFTER_S = 0.2
"""A failed message's wait before it is received again (SQS: the visibility timeout)."""


@attrs.define
class LocalSqsQueue:
    functions: Functions
    loop: asyncio.AbstractEventLoop
    module: str
    """The function the queue's mapping invokes (routes.FUNCTIONS)."""
    max_receives: int
    dead: list[str] = attrs.Factory(list)
    """Bodies of the messages that went to the dead-letter queue."""
    done: list[str] = attrs.Factory(list)
    """Bodies of the messages the function finished (a test may wait for one)."""

    def send(self, body: str) -> None:
        """SendMessage: callable from any thread (the handlers run on worker threads)."""
        asyncio.run_coroutine_threadsafe(self._deliver(body), self.loop)

    async def _deliver(self, body: str) -> None:
        from dynamotalk.local.gateway.invoke import InvocationError

        message_id = str(uuid.uuid4())
        for receive in range(1, self.max_receives + 1):
            record = {
                "messageId": message_id,
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(receive)},
                "eventSource": "aws:sqs",
            }
            try:
                reply = await self.functions.call(
                    self.module, {"Records": [record]}, behind_api=False
                )
                if not reply.get("batchItemFailures"):
                    self.done.append(body)
                    return
            except InvocationError:
                pass
            await asyncio.sleep(RETRY_AFTER_S)
        self.dead.append(body)
        _log.error("job_dead_lettered", function=self.module, message_id=message_id)
