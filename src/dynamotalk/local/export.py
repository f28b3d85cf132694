"""Export my data on loopback: the export queue (SQS and its event source mapping) in
process, like the push queue (push.py): each job invokes data_export, retried after a failure
(SQS: the visibility timeout), dead after EXPORT_MAX_RECEIVES receives. The archive lands in
the local S3 (moto), which serves the presigned GET the status route hands out."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from dynamotalk.adapters.sqs_export import export_body
from dynamotalk.local.sqs_queue import LocalSqsQueue
from dynamotalk.workers import DATA_EXPORT, EXPORT_MAX_RECEIVES

if TYPE_CHECKING:  # the gateway imports this module: its own modules come lazily
    from dynamotalk.local.gateway.invoke import Functions

_log = structlog.get_logger("dynamotalk.export")


class LocalExportQueue(LocalSqsQueue):
    """The export queue: each job invokes data_export, as its event source mapping."""

    def enqueue(self, user_id: str, export_id: str) -> None:
        self.send(export_body(user_id, export_id))


def start(functions: Functions) -> LocalExportQueue:
    """Install the local export queue where POST /me/exports looks for it (on the running loop)."""
    from dynamotalk import export_root

    queue = LocalExportQueue(
        functions, asyncio.get_running_loop(), DATA_EXPORT, EXPORT_MAX_RECEIVES
    )
    export_root.use_local_queue(queue)
    return queue
