"""The erasure queue on loopback: in process like the push queue (local/push.py) and the page
queue (delivery.py). Each job invokes account_erasure as its SQS event source mapping would
(one record per batch), is received again after a failure, and is dead after ERASURE_MAX_RECEIVES.
SQS redelivers a message whose visibility timeout passed without a delete, and moves it to
the dead-letter queue after the redrive policy's maxReceiveCount
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html);
Lambda reports failed records with ReportBatchItemFailures
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from dynamotalk.adapters.erasure_aws import job_body
from dynamotalk.local.sqs_queue import LocalSqsQueue
from dynamotalk.workers import ACCOUNT_ERASURE, ERASURE_MAX_RECEIVES

if TYPE_CHECKING:  # the gateway imports this module: its own modules come lazily
    from dynamotalk.local.gateway.invoke import Functions

_log = structlog.get_logger("dynamotalk.erasure")


class LocalErasureQueue(LocalSqsQueue):
    def enqueue(self, user_id: str) -> None:
        self.send(job_body(user_id))


QUEUE: list[LocalErasureQueue] = []


def start(functions: Functions) -> LocalErasureQueue:
    """Install the local erasure queue where DELETE /me looks for it (on the running loop)."""
    from dynamotalk import erasure_root

    queue = LocalErasureQueue(
        functions, asyncio.get_running_loop(), ACCOUNT_ERASURE, ERASURE_MAX_RECEIVES
    )
    QUEUE[:] = [queue]
    erasure_root.use_local_erasure_jobs(queue)
    return queue
