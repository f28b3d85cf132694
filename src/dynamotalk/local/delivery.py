"""The fan-out's other AWS parts on loopback: the page queue (SQS and its event source mapping),
the event bus (EventBridge), and fault points for the crash-injection tests.

`start(functions)` runs them on the gateway's loop with the stream (stream.py) and hands them to
the composition root (bootstrap.use_local_delivery), so lambdas/fanout.py and
lambdas/fanout_pages.py run unchanged: pages go through this queue to the page function, under
its IAM policy and timeout, with SQS's retries and dead-letter queue; published changes can be
read back at /_local/events.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import structlog

from dynamotalk import bootstrap
from dynamotalk.adapters.eventbridge import entry
from dynamotalk.adapters.sqs import page_body
from dynamotalk.domain.events import Event, RoomChange
from dynamotalk.domain.limits import FANOUT_PAGE_WORKERS
from dynamotalk.domain.models import SendReport
from dynamotalk.local.gateway.invoke import Functions, InvocationError
from dynamotalk.local.stream import DynamoSource, LocalStream, MemorySource
from dynamotalk.ports import Notifier
from dynamotalk.routes import resource_name
from dynamotalk.service.delivery import Delivery
from dynamotalk.settings import LOCAL_FANOUT_PAGE_SIZE_ENV
from dynamotalk.workers import EVENT_BUS, FANOUT_PAGES

_log = structlog.get_logger("dynamotalk.delivery")
MAX_RECEIVES = 5
"""Receives of a page job before it goes to the dead-letter queue (the queue's redrive)."""
RETRY_AFTER_S = 0.2
"""A failed page job's wait before it is received again (SQS: the visibility timeout; shorter
here so tests do not wait minutes)."""


class InjectedCrash(Exception):
    """A fault point armed by a test: the invocation dies here."""


@attrs.define
class Faults:
    """Armed fault points: `step` fails its next `times` passes after skipping `after`."""

    armed: dict[str, list[int]] = attrs.Factory(dict)
    fired: collections.Counter[str] = attrs.Factory(collections.Counter)
    """How many times each step's fault fired."""
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def arm(self, step: str, after: int = 0, times: int = 1) -> None:
        with self._lock:
            self.armed[step] = [after, times]

    def is_armed(self, step: str) -> bool:
        with self._lock:
            return step in self.armed

    def clear(self) -> None:
        with self._lock:
            self.armed.clear()

    def point(self, step: str) -> None:
        with self._lock:
            state = self.armed.get(step)
            if state is None:
                return
            if state[0] > 0:
                state[0] -= 1
                return
            state[1] -= 1
            if state[1] <= 0:
                del self.armed[step]
            self.fired[step] += 1
        _log.warning("fault_injected", step=step)
        raise InjectedCrash(step)


@attrs.define
class FaultyNotifier:
    """The fan-out's notifier with the `post` fault point before each post: a crash after some
    connections got the change and before others did."""

    inner: Notifier
    faults: Faults

    def send(self, connection_ids: Sequence[str], event: Event) -> SendReport:
        if not self.faults.is_armed("post"):
            return self.inner.send(connection_ids, event)  # all at once, as unarmed
        delivered = 0
        gone: set[str] = set()
        failed: set[str] = set()
        retryable: set[str] = set()
        for connection_id in connection_ids:
            self.faults.point("post")
            report = self.inner.send([connection_id], event)
            delivered += report.delivered
            gone |= report.gone
            failed |= report.failed
            retryable |= report.retryable
        return SendReport(delivered, frozenset(gone), frozenset(failed), frozenset(retryable))


@attrs.define
class LocalEventsOut:
    """The stage's event bus: what was published, readable at /_local/events."""

    bus_name: str
    encode: Callable[[RoomChange], Any]
    events: collections.deque[dict[str, Any]] = attrs.Factory(
        lambda: collections.deque(maxlen=10_000)
    )
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def publish(self, changes: Sequence[RoomChange]) -> None:
        entries = [entry(self.bus_name, self.encode(change)) for change in changes]
        with self._lock:
            self.events.extend(entries)

    def since(self, index: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)[index:]


@attrs.define
class LocalPageQueue:
    """The page queue: each job invokes the page function (FANOUT_PAGE_WORKERS at once), is
    retried after a failure, and goes to `dead` after MAX_RECEIVES receives."""

    functions: Functions
    loop: asyncio.AbstractEventLoop
    dead: list[str] = attrs.Factory(list)
    _slots: asyncio.Semaphore = attrs.Factory(lambda: asyncio.Semaphore(FANOUT_PAGE_WORKERS))

    def enqueue(
        self,
        room_id: str,
        seq: int,
        connection_ids: Sequence[str],
        delay_s: int = 0,
        attempt: int = 0,
    ) -> None:
        body = page_body(room_id, seq, connection_ids, attempt)
        asyncio.run_coroutine_threadsafe(self._deliver(body, float(delay_s)), self.loop)

    async def _deliver(self, body: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        message_id = str(uuid.uuid4())
        for receive in range(1, MAX_RECEIVES + 1):
            record = {
                "messageId": message_id,
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(receive)},
                "eventSource": "aws:sqs",
            }
            async with self._slots:
                try:
                    reply = await self.functions.call(
                        FANOUT_PAGES, {"Records": [record]}, behind_api=False
                    )
                    if not reply.get("batchItemFailures"):
                        return
                except InvocationError:
                    pass
            await asyncio.sleep(RETRY_AFTER_S)
        self.dead.append(body)
        _log.error("fanout_page_dead_lettered", message_id=message_id)


@attrs.define
class LocalDelivery:
    stream: LocalStream
    pages: LocalPageQueue
    events: LocalEventsOut
    faults: Faults
    task: asyncio.Task[None]

    def stop(self) -> None:
        self.task.cancel()


def start(functions: Functions) -> LocalDelivery:
    """Install the local fan-out parts and start reading the table's stream (on the running
    loop, before the gateway serves requests)."""
    from dynamotalk.adapters.memory import MemoryChangeFeed
    from dynamotalk.wire import event_json

    loop = asyncio.get_running_loop()
    settings = bootstrap.settings()
    chat = bootstrap.service()
    faults = Faults()
    pages = LocalPageQueue(functions, loop)
    events = LocalEventsOut(
        settings.event_bus_name or resource_name(settings.stage, EVENT_BUS), event_json
    )
    page_size = int(os.environ.get(LOCAL_FANOUT_PAGE_SIZE_ENV, "0"))

    def local(worker: Delivery) -> Delivery:
        return attrs.evolve(
            worker,
            pages=pages,
            events_out=events,
            fault=faults.point,
            notifier=FaultyNotifier(worker.notifier, faults),
            page_size=page_size or worker.page_size,
        )

    bootstrap.use_local_delivery(local)
    source: DynamoSource | MemorySource
    if isinstance(chat.feed, MemoryChangeFeed):
        source = MemorySource(chat.feed, position=len(chat.feed.stream(0)))
    else:
        from dynamotalk.local.provision import client

        endpoint = settings.dynamodb_endpoint or ""
        source = DynamoSource(
            client("dynamodb", endpoint), client("dynamodbstreams", endpoint), settings.table_name
        )
        source.start()
    stream = LocalStream(functions, source)
    task = loop.create_task(stream.run())
    task.add_done_callback(_report)
    return LocalDelivery(stream, pages, events, faults, task)


def _report(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        if task.exception() is not None:
            _log.error("local_stream_stopped", error=repr(task.exception()))
