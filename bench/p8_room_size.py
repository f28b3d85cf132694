"""P8 (issue 15's P5): delivery at any room size, v2 (the fan-out behind the store) against
today's in-invocation fan-out, in one run.

Rooms of N live connections: their subscriptions in a DynamoDB Local table written by the real
DynamoConnectionRegistry; posts through the real ChatService.post_message; delivery through the
real Delivery and ApiGatewayNotifier/boto3 against bench.fake_management_api (20 ms per post,
10% of ids 410 Gone). For each N:

- v2 ack: post_message alone (the store; the sender waits for nothing else), p50 of ACKS posts.
- v2 fan-out of one change: the stream worker's Delivery (its own notifier) hands pages of
  FANOUT_PAGE_SIZE to FANOUT_PAGE_WORKERS page workers (threads, each with its own Delivery,
  notifier, boto3 clients and pool of FANOUT_POOL, as separate Lambda containers would have).
  Timed from the store's return to the return of the last page's sends (the last delivery).
- v1 ack: post_message, then the old in-invocation broadcast to all N (the service's notifier,
  the default pool), what the sender waited for before v2.
- ideal: max(latency bound ceil(N / (workers x pool)) x 20 ms, CPU bound N x CPU per post). The
  CPU per post (botocore builds, signs and parses each post; one process, one GIL) is measured in
  the same run with time.process_time around a calibration send.
"""

from __future__ import annotations

import math
import queue
import statistics
import threading
import time
from collections.abc import Sequence

import attrs
import boto3
import httpx

from bench import engines, fake_management_api
from bench.p7_membership import WallClock
from bench.table import Table, met
from dynamotalk.adapters.apigateway import (
    DEFAULT_POOL,
    ApiGatewayNotifier,
    build_management_client,
    management_poster,
)
from dynamotalk.adapters.dynamodb import (
    DynamoConnectionRegistry,
    DynamoMessageStore,
    DynamoRoomStore,
    DynamoUserStore,
)
from dynamotalk.adapters.dynamodb.feed import DynamoChangeFeed
from dynamotalk.adapters.memory import MemoryAttachmentStore
from dynamotalk.domain.events import Event, MessagePosted
from dynamotalk.domain.ids import UlidGenerator
from dynamotalk.domain.limits import FANOUT_PAGE_SIZE, FANOUT_PAGE_WORKERS, FANOUT_POOL
from dynamotalk.domain.models import (
    Membership,
    Principal,
    Role,
    Room,
    RoomKind,
    SendReport,
    Subscription,
)
from dynamotalk.local.provision import REGION, client, ensure_table
from dynamotalk.service import ChatService
from dynamotalk.service.delivery import Delivery
from dynamotalk.wire import encode_event

DELAY = 0.020
ACKS = 10
TABLE = "p8-rooms"
TARGET_ACK = 1.5
"""The sender's ack at the biggest room within this factor of its value at the smallest."""
TARGET_IDEAL = 2.0
"""The fan-out of one change within this factor of ideal (ceil(N / pages x pool) x 20 ms)."""
SENDER = Principal("u-p8-sender", "sender")
FAR_FUTURE = 4_000_000_000
CALIBRATION_POSTS = 1_000


@attrs.define
class TimedNotifier:
    """The real notifier, noting when its last send returned (every post of it answered)."""

    inner: ApiGatewayNotifier
    last: float = 0.0

    def send(self, connection_ids: Sequence[str], event: Event) -> SendReport:
        report = self.inner.send(connection_ids, event)
        self.last = max(self.last, time.perf_counter())
        return report


@attrs.define
class PageWorkers:
    """The page queue and its consumers: each page job goes to the next free worker (the
    fanout_pages function at FANOUT_PAGE_WORKERS concurrency), in this process."""

    workers: list[Delivery] = attrs.Factory(list)
    jobs: queue.Queue[tuple[str, int, list[str], int] | None] = attrs.Factory(queue.Queue)
    used: set[int] = attrs.Factory(set)
    _threads: list[threading.Thread] = attrs.Factory(list)

    def enqueue(
        self,
        room_id: str,
        seq: int,
        connection_ids: Sequence[str],
        delay_s: int = 0,
        attempt: int = 0,
    ) -> None:
        job = (room_id, seq, list(connection_ids), attempt)
        if delay_s:
            threading.Timer(delay_s, self.jobs.put, (job,)).start()
        else:
            self.jobs.put(job)

    def start(self) -> None:
        for n, worker in enumerate(self.workers):
            thread = threading.Thread(target=self._work, args=(n, worker), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self, n: int, worker: Delivery) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                self.used.add(n)
                worker.deliver_page(job[0], job[1], job[2], job[3])
            finally:
                self.jobs.task_done()

    def stop(self) -> None:
        for _ in self._threads:
            self.jobs.put(None)


def _notifier(endpoint: str, pool: int) -> TimedNotifier:
    """A fan-out container's notifier as deployed: the lean PostToConnection path."""
    session = boto3.session.Session()
    management = build_management_client(endpoint, REGION, pool, session)
    poster = management_poster(management, session.get_credentials(), "lean")
    return TimedNotifier(ApiGatewayNotifier(poster, encode_event, pool_size=pool))


def _delivery(
    ddb_endpoint: str, notifier: TimedNotifier, pages: PageWorkers, page: int
) -> Delivery:
    """One fan-out container: its own DynamoDB and management clients and its own pool."""
    dynamodb = client("dynamodb", ddb_endpoint)
    return Delivery(
        DynamoConnectionRegistry(dynamodb, TABLE),
        notifier,
        DynamoChangeFeed(dynamodb, TABLE),
        WallClock(),
        pages,
        page_size=page,
    )


def _service(ddb_endpoint: str, endpoint: str) -> ChatService:
    dynamodb = client("dynamodb", ddb_endpoint)
    messages = DynamoMessageStore(dynamodb, TABLE)
    management = build_management_client(endpoint, REGION, pool_size=DEFAULT_POOL)
    return ChatService(
        messages=messages,
        rooms=DynamoRoomStore(dynamodb, TABLE),
        users=DynamoUserStore(dynamodb, TABLE),
        connections=DynamoConnectionRegistry(dynamodb, TABLE),
        # What the v1 sender used: the botocore client.
        notifier=ApiGatewayNotifier(management_poster(management, None, "botocore"), encode_event),
        attachments=MemoryAttachmentStore(),
        clock=WallClock(),
        ids=UlidGenerator(),
        feed=messages.feed,
    )


def _room(service: ChatService, n: int) -> tuple[str, list[str]]:
    """A room of n live connections (ids conn-0..conn-{n-1}; every tenth answers Gone)."""
    now = service.clock.now_ms()
    room = Room(f"p8-{n}", f"room of {n}", RoomKind.PUBLIC, SENDER.user_id, now)
    service.rooms.create(room, [Membership(room.room_id, SENDER.user_id, Role.OWNER, now)])
    ids = [f"conn-{i}" for i in range(n)]
    _subscribe(service, room.room_id, ids)
    return room.room_id, ids


def _subscribe(service: ChatService, room_id: str, ids: Sequence[str]) -> None:
    subscriptions = [Subscription(c, room_id, f"u-{c}", FAR_FUTURE) for c in ids]
    service.connections.subscribe_many(subscriptions)


def _exactly_once(endpoint: str, ids: Sequence[str]) -> bool:
    received = httpx.get(f"{endpoint}/_reset").json()
    live = [c for c in ids if not fake_management_api.is_gone(c)]
    return len(received) == len(live) and all(received.get(c) == 1 for c in live)


def _post(service: ChatService, room_id: str, text: str) -> tuple[MessagePosted, float]:
    started = time.perf_counter()
    stored = service.post_message(SENDER, room_id, text, client_id=text)
    elapsed = time.perf_counter() - started
    assert stored.seq is not None
    return MessagePosted(stored, stored.seq), elapsed


def _warm(notifiers: Sequence[TimedNotifier], pool: int, change: Event) -> None:
    """Open every pool's connections, as warm Lambda containers hold them."""
    threads = [
        threading.Thread(target=n.send, args=([f"warm-{i}" for i in range(1, pool)], change))
        for n in notifiers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _cpu_per_post(notifier: TimedNotifier, change: Event) -> float:
    ids = [f"cal-{i}" for i in range(CALIBRATION_POSTS)]  # 10% gone, as in the rooms
    cpu = time.process_time()
    notifier.send(ids, change)
    return (time.process_time() - cpu) / CALIBRATION_POSTS


def run(quick: bool) -> Table:
    sizes = (10, 100) if quick else (10, 1_000, 10_000)
    # The quick run checks the sharded path too: pages of 25 make 100 connections four jobs.
    page = 25 if quick else FANOUT_PAGE_SIZE
    workers_n = FANOUT_PAGE_WORKERS
    table = Table(
        f"P8 (issue 15's P5): delivery at any room size (20 ms per post, 10% gone; "
        f"page {page}, up to {workers_n} page workers x pool {FANOUT_POOL})",
        ["N", "workers x pool", "ack v2 p50 ms", "ack vs N=10", "ack v1 ms", "fan-out ms",
         "ideal ms", "binds", "vs ideal", "deliveries/s", "done ms", "exactly once",
         f"met (ack <= {TARGET_ACK}x N={sizes[0]}'s, fan-out <= {TARGET_IDEAL}x ideal)"],
    )  # fmt: skip
    server, endpoint = fake_management_api.start(DELAY)
    ddb = engines.start(quick)
    pages = PageWorkers()
    try:
        ensure_table(client("dynamodb", ddb.endpoint), TABLE)
        service = _service(ddb.endpoint, endpoint)
        # The stream's worker first, then the page workers: each its own container.
        notifiers = [_notifier(endpoint, FANOUT_POOL) for _ in range(1 + workers_n)]
        stream = _delivery(ddb.endpoint, notifiers[0], pages, page)
        pages.workers = [_delivery(ddb.endpoint, n, pages, page) for n in notifiers[1:]]
        pages.start()
        rooms = {n: _room(service, n) for n in sizes}
        probe, _ = _post(service, rooms[sizes[0]][0], "p8-probe")
        cpu_per_post = 0.0
        if not quick:
            _warm(notifiers, FANOUT_POOL, probe)
            cpu_per_post = _cpu_per_post(notifiers[0], probe)
            service.notifier.send([f"warm-{i}" for i in range(1, DEFAULT_POOL)], probe)
        httpx.get(f"{endpoint}/_reset")
        acks: dict[int, float] = {}
        for n in sizes:
            room_id, ids = rooms[n]
            acks[n] = statistics.median(
                _post(service, room_id, f"p8-ack-{n}-{i}")[1] * 1000
                for i in range(3 if quick else ACKS)
            )
            for notifier in notifiers:
                notifier.last = 0.0
            pages.used.clear()
            change, _ = _post(service, room_id, f"p8-fanout-{n}")
            started = time.perf_counter()
            stream.deliver(change)
            pages.jobs.join()
            done_ms = (time.perf_counter() - started) * 1000  # with the Gone clean-up
            fanout_s = max(x.last for x in notifiers) - started
            live = sum(1 for c in ids if not fake_management_api.is_gone(c))
            # Exactly once, and every Gone connection unregistered by the page workers.
            v2_ok = _exactly_once(endpoint, ids) and (
                len(service.connections.connections_in_room(room_id, 0)) == live
            )
            _subscribe(service, room_id, [c for c in ids if fake_management_api.is_gone(c)])
            started = time.perf_counter()
            old, _ = _post(service, room_id, f"p8-v1-{n}")
            service._broadcast(room_id, old)  # the pre-v2 path, in the sender's invocation
            v1_ms = (time.perf_counter() - started) * 1000
            v1_ok = _exactly_once(endpoint, ids)
            used = max(1, len(pages.used))
            latency_ms = math.ceil(n / (used * FANOUT_POOL)) * DELAY * 1000
            cpu_ms = n * cpu_per_post * 1000
            ideal_ms = max(latency_ms, cpu_ms)
            table.add(
                n,
                f"{used} x {FANOUT_POOL}",
                acks[n],
                f"{acks[n] / acks[sizes[0]]:.2f}x",
                v1_ms,
                fanout_s * 1000,
                ideal_ms,
                "CPU" if cpu_ms > latency_ms else "latency",
                f"{fanout_s * 1000 / ideal_ms:.2f}x",
                f"{live / fanout_s:,.0f}",
                done_ms,
                "yes" if v2_ok and v1_ok else "NO",
                met(
                    acks[n] <= TARGET_ACK * acks[sizes[0]]
                    and fanout_s * 1000 <= TARGET_IDEAL * ideal_ms
                    and v2_ok
                ),
            )
            table.ok = table.ok and v2_ok and v1_ok
        _notes(table, quick, cpu_per_post, acks, sizes)
    finally:
        pages.stop()
        server.terminate()
        server.wait(5)
        engines.release(ddb)
    return table


def _notes(
    table: Table, quick: bool, cpu_per_post: float, acks: dict[int, float], sizes: Sequence[int]
) -> None:
    if quick:
        table.notes.append("quick: correctness only (pages of 25; no warm pools, no CPU bound)")
    else:
        table.notes.append(
            f"CPU per post measured this run: {cpu_per_post * 1000:.2f} ms (the lean path: "
            "sign, send, read; one Python process shares one GIL across every worker here, while "
            "each Lambda container has its own)"
        )
    table.notes.append(
        f"ack v2 at N={sizes[-1]:,} is {acks[sizes[-1]] / acks[sizes[0]]:.2f}x its value at "
        f"N={sizes[0]} (target <= {TARGET_ACK}x); fan-out target: within {TARGET_IDEAL}x of ideal. 'exactly once': "
        "every live connection got the change once, on both paths (the fake server's counts); "
        "'done': every page job finished, Gone connections unregistered"
    )
