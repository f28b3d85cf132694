"""Account erasure's part of the composition root: the job store, the queue DELETE /me puts
jobs on, and the Eraser both the route and `account_erasure` use, built once per container."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, cast

from dynamotalk import bootstrap

if TYPE_CHECKING:
    from dynamotalk.erasure_ports import ErasureJobs, ErasureStore
    from dynamotalk.service.erasure import Eraser

_LOCAL_JOBS: list[ErasureJobs] = []
"""Set by the local stack (use_local_erasure_jobs): its in-process erasure queue."""


def use_local_erasure_jobs(jobs: ErasureJobs) -> None:
    _LOCAL_JOBS[:] = [jobs]


@functools.cache
def store() -> ErasureStore:
    chat = bootstrap.service()
    if bootstrap._in_memory():
        from dynamotalk import push_root
        from dynamotalk.adapters.memory import (
            MemoryMessageStore,
            MemoryRoomStore,
            MemoryUserStore,
        )
        from dynamotalk.adapters.memory.erasure import MemoryErasureStore
        from dynamotalk.adapters.memory.push import MemoryPushStore

        return MemoryErasureStore(
            cast("MemoryUserStore", chat.users),
            cast("MemoryMessageStore", chat.messages),
            cast("MemoryRoomStore", chat.rooms),
            cast("MemoryPushStore", push_root.store()),
        )
    from dynamotalk.adapters.dynamodb.erasure import DynamoErasureStore

    s = bootstrap.settings()
    return DynamoErasureStore(bootstrap._client("dynamodb", s.dynamodb_endpoint), s.table_name)


class _Jobs:
    """The local queue when the local stack set one, else SQS (looked up on each enqueue)."""

    def enqueue(self, user_id: str) -> None:
        if _LOCAL_JOBS:
            _LOCAL_JOBS[0].enqueue(user_id)
            return
        from dynamotalk.adapters.erasure_aws import SqsErasureJobs
        from dynamotalk.settings import ENV, SettingsError

        url = bootstrap.settings().erasure_queue_url
        if not url:
            raise SettingsError(f"{ENV['erasure_queue_url']} is required to erase accounts")
        SqsErasureJobs(bootstrap._client("sqs", None), url).enqueue(user_id)


@functools.cache
def eraser() -> Eraser:
    from dynamotalk.adapters.erasure_aws import CognitoAccounts, S3Objects
    from dynamotalk.domain.erasure import ErasePolicy
    from dynamotalk.service.erasure import Eraser

    s = bootstrap.settings()
    return Eraser(
        chat=bootstrap.service(),
        store=store(),
        jobs=_Jobs(),
        accounts=CognitoAccounts(
            bootstrap._client("cognito-idp", s.cognito_endpoint), s.user_pool_id
        ),
        objects=S3Objects(bootstrap._client("s3", s.s3_endpoint), s.bucket_name),
        policy=ErasePolicy(s.erase_policy),
    )


def erased(user_id: str) -> bool:
    """Whether the user's account was erased (or is being erased): its job item exists."""
    return store().get(user_id) is not None
