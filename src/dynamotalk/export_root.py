"""Data export's part of the composition root (bootstrap.py is the rest): the job store,
the queue, the archives' bucket, built once per container. Its own module so these pieces stay
out of the other functions' cold start."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, cast

from dynamotalk import bootstrap

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from dynamotalk.export_ports import ArchiveStore, ExportJobs, ExportQueue
    from dynamotalk.service.exports import Exports, ExportWorker

_LOCAL_QUEUE: list[ExportQueue] = []
"""Set by the local stack (use_local_queue): its in-process export queue."""


def use_local_queue(queue: ExportQueue) -> None:
    _LOCAL_QUEUE[:] = [queue]


@functools.cache
def jobs() -> ExportJobs:
    if bootstrap._in_memory():
        from dynamotalk.adapters.memory.exports import MemoryExportJobs

        return MemoryExportJobs()
    from dynamotalk.adapters.dynamodb.exports import DynamoExportJobs

    s = bootstrap.settings()
    return DynamoExportJobs(bootstrap._client("dynamodb", s.dynamodb_endpoint), s.table_name)


@functools.cache
def archives() -> ArchiveStore:
    from dynamotalk.adapters.s3_exports import S3Archives

    s = bootstrap.settings()
    return S3Archives(cast("S3Client", bootstrap._client("s3", s.s3_endpoint)), s.bucket_name)


def queue() -> ExportQueue | None:
    """Where requests go: the local queue, SQS, or None (exports off: refused before any write)."""
    if _LOCAL_QUEUE:
        return _LOCAL_QUEUE[0]
    return _sqs_queue()


@functools.cache
def _sqs_queue() -> ExportQueue | None:
    url = bootstrap.settings().export_queue_url
    if not url:
        return None
    from dynamotalk.adapters.sqs_export import SqsExportQueue

    return SqsExportQueue(bootstrap._client("sqs", None), url)


def exports() -> Exports:
    from dynamotalk.service.exports import Exports

    chat = bootstrap.service()
    return Exports(jobs(), queue(), archives(), chat.clock, chat.ids)


@functools.cache
def worker() -> ExportWorker:
    from dynamotalk.service.exports import ExportWorker

    chat = bootstrap.service()
    return ExportWorker(jobs(), archives(), chat.messages, chat.rooms, chat.users, chat.clock)
