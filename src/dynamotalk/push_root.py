"""Web Push's part of the composition root (bootstrap.py is the rest): the push store, the
fan-out's push jobs, the routes' PushSettings and push_sender's worker, built once per
container. Its own module so the push pieces (and the VAPID key's read) stay out of every
other function's cold start.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dynamotalk import bootstrap
from dynamotalk.logging import invocation
from dynamotalk.metrics import Metric, record
from dynamotalk.settings import ENV, SettingsError

if TYPE_CHECKING:
    from dynamotalk.edge.records import StreamRecord
    from dynamotalk.ports_push import PushJobs, PushStore
    from dynamotalk.service.push import PushSettings
    from dynamotalk.service.push_sender import PushSender

_LOCAL_JOBS: list[PushJobs] = []
"""Set by the local stack (use_local_push_jobs): its in-process push queue."""


def use_local_push_jobs(jobs: PushJobs) -> None:
    _LOCAL_JOBS[:] = [jobs]


@functools.cache
def store() -> PushStore:
    if bootstrap._in_memory():
        from dynamotalk.adapters.memory.push import MemoryPushStore

        return MemoryPushStore()
    from dynamotalk.adapters.dynamodb.push import DynamoPushStore

    s = bootstrap.settings()
    return DynamoPushStore(bootstrap._client("dynamodb", s.dynamodb_endpoint), s.table_name)


def push_jobs() -> PushJobs | None:
    """Where the fan-out queues push jobs: SQS, the local queue, or None (push is off)."""
    if _LOCAL_JOBS:
        return _LOCAL_JOBS[0]
    return _sqs_jobs()


@functools.cache
def _sqs_jobs() -> PushJobs | None:
    s = bootstrap.settings()
    if not s.push_queue_url:
        return None
    from dynamotalk.adapters.sqs_push import SqsPushJobs

    return SqsPushJobs(bootstrap._client("sqs", None), s.push_queue_url)


@functools.cache
def push_settings() -> PushSettings:
    from dynamotalk.service.push import PushSettings

    s, chat = bootstrap.settings(), bootstrap.service()
    return PushSettings(store(), chat.rooms, chat.clock, s.push_public_key, s.push_local_origin)


def vapid_pem() -> str:
    """The VAPID private key from its SSM parameter (SecureString, decrypted by SSM): read once,
    at push_sender's cold start; never in the environment, never in the code."""
    s = bootstrap.settings()
    if not s.vapid_parameter or not s.vapid_subject:
        raise SettingsError(
            f"{ENV['vapid_parameter']} and {ENV['vapid_subject']} are required by push_sender"
        )
    ssm = bootstrap._client("ssm", s.ssm_endpoint)
    reply = ssm.get_parameter(Name=s.vapid_parameter, WithDecryption=True)
    return str(reply["Parameter"]["Value"])


@functools.cache
def push_sender() -> PushSender:
    from dynamotalk.adapters.webpush import Vapid, VapidWebPush
    from dynamotalk.service.push_sender import PushSender

    chat = bootstrap.service()
    webpush = VapidWebPush(Vapid.from_pem(vapid_pem()), bootstrap.settings().vapid_subject or "")
    return PushSender(
        chat.messages, chat.rooms, chat.users, chat.connections, store(), webpush, chat.clock
    )


def queue_pushes(records: Sequence[StreamRecord], failures: Sequence[Mapping[str, str]]) -> None:
    """The fan-out's push step: each new message of the records delivered (those before the
    batch's failed one, which the stream retries from) that might push someone
    (domain/push.could_notify) becomes a job on the push queue, ten per SendMessageBatch.
    Off the sender's path (the fan-out runs from the stream), and never fails the batch: a
    refused job is logged and counted (PushFailed); those users miss one push."""
    jobs_to = push_jobs()
    if jobs_to is None:
        return
    from dynamotalk.domain.events import MessagePosted
    from dynamotalk.domain.push import could_notify

    failed = {f.get("itemIdentifier") for f in failures}
    jobs: list[tuple[str, str, int]] = []
    for record_ in records:
        if record_.record_id in failed:
            break
        change = record_.change
        if isinstance(change, MessagePosted) and could_notify(change.message):
            jobs.append((change.message.room_id, change.message.message_id, change.seq))
    if not jobs:
        return
    with invocation(route="fanout:push") as log:
        log["jobs"] = len(jobs)
        try:
            jobs_to.enqueue_many(jobs)
        except Exception as error:  # noqa: BLE001 - delivery went through; only pushes are lost
            log["outcome"] = "push_not_queued"
            log["error"] = type(error).__name__
            record(Metric.PUSH_FAILED, len(jobs))
