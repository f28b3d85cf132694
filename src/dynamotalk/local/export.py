"""Export my data on loopback: the export queue (SQS and its event source mapping) in
process, like the push queue (push.py): each job invokes data_export, retried after a failure
(SQS: the visibility timeout), dead after EXPORT_MAX_RECEIVES receives. The archive lands in
the local S3 (moto), which serves the presigned GET the status route hands out."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import attrs
import structlog

from dynamotalk.adapters.sqs_export import export_body
from dynamotalk.workers import DATA_EXPORT, EXPORT_MAX_RECEIVES

if TYPE_CHECKING:  # the gateway imports this module: its own modules come lazily
    from dynamotalk.local.gateway.invoke import Functions

_log = structlog.get_logger("dynamotalk.export")
RETRY_AFTER_S = 0.2
"""A failed job's wait before it is received again (SQS: the visibility timeout)."""


@attrs.define
class LocalExportQueue:
    """The export queue: each job invokes data_export, as its event source mapping."""

    functions: Functions
    loop: asyncio.AbstractEventLoop
    dead: list[str] = attrs.Factory(list)

    def enqueue(self, user_id: str, export_id: str) -> None:
        body = export_body(user_id, export_id)
        asyncio.run_coroutine_threadsafe(self._deliver(body), self.loop)

    async def _deliver(self, body: str) -> None:
        from dynamotalk.local.gateway.invoke import InvocationError

        message_id = str(uuid.uuid4())
        for receive in range(1, EXPORT_MAX_RECEIVES + 1):
            record = {
                "messageId": message_id,
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(receive)},
                "eventSource": "aws:sqs",
            }
            try:
                reply = await self.functions.call(
                    DATA_EXPORT, {"Records": [record]}, behind_api=False
                )
                if not reply.get("batchItemFailures"):
                    return
            except InvocationError:
                pass
            await asyncio.sleep(RETRY_AFTER_S)
        self.dead.append(body)
        _log.error("export_job_dead_lettered", message_id=message_id)


def start(functions: Functions) -> LocalExportQueue:
    """Install the local export queue where POST /me/exports looks for it (on the running loop)."""
    from dynamotalk import export_root

    queue = LocalExportQueue(functions, asyncio.get_running_loop())
    export_root.use_local_queue(queue)
    return queue
