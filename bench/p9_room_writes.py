"""P9: the room write ceiling. Every change of a room takes the room's next seq (the feed's
head, feed.py): writers of one room race for one key, and on AWS that key's partition (1,000
WCU/s) bounds the room.

On DynamoDB Local, K writers (threads, each with its own ChatService and DynamoDB client, as
separate Lambda containers) post back to back into ONE room for a few seconds, K in 1, 4, 16;
then the same K writers each into a room of their own (the naive sharded comparison: no shared
head). Reported: posts stored per second, commit retries (TransactionCanceled answers, counted
by a botocore hook: a lost race for the next seq or a transaction conflict), posts refused as
busy after COMMIT_ATTEMPTS, and post latency p50/p99. DynamoDB Local is not DynamoDB: one
process on this machine's two cores, no partitions, its own locking, so its ceiling is the
engine's and its conflicts are not AWS's; the AWS figure is computed, not measured.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import attrs

from bench import engines
from bench.p7_membership import WallClock
from bench.table import Table, met
from dynamotalk.adapters.dynamodb import (
    DynamoConnectionRegistry,
    DynamoMessageStore,
    DynamoRoomStore,
    DynamoUserStore,
)
from dynamotalk.adapters.memory import MemoryAttachmentStore, RecordingNotifier
from dynamotalk.domain.errors import RateLimited
from dynamotalk.domain.ids import UlidGenerator
from dynamotalk.domain.models import Membership, Principal, Role, Room, RoomKind
from dynamotalk.local.provision import client, ensure_table
from dynamotalk.service import ChatService

TABLE = "p9-rooms"
PARTITION_WCU = 1_000
"""DynamoDB's per-partition write throughput (WCU/s), the ceiling of one key's writes."""
POST_WRU = 6
"""A post's transaction: claim + message + change item, 2 WRU each (measured: write_units)."""


@attrs.define
class Retries:
    """TransactionCanceled answers of TransactWriteItems, by cause (a botocore after-call hook)."""

    lost_race: int = 0
    conflict: int = 0
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def watch(self, dynamodb: Any) -> None:
        dynamodb.meta.events.register("after-call.dynamodb.TransactWriteItems", self._count)

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("Error", {}).get("Code") != "TransactionCanceledException":
            return
        codes = [r.get("Code") for r in parsed.get("CancellationReasons") or []]
        with self._lock:
            if "TransactionConflict" in codes:
                self.conflict += 1
            else:
                self.lost_race += 1


def service(dynamodb: Any) -> ChatService:
    """A ChatService on the bench's table through this DynamoDB client (no limiter)."""
    messages = DynamoMessageStore(dynamodb, TABLE)
    return ChatService(
        messages=messages,
        rooms=DynamoRoomStore(dynamodb, TABLE),
        users=DynamoUserStore(dynamodb, TABLE),
        connections=DynamoConnectionRegistry(dynamodb, TABLE),
        notifier=RecordingNotifier(),
        attachments=MemoryAttachmentStore(),
        clock=WallClock(),
        ids=UlidGenerator(),
        feed=messages.feed,
    )


def make_room(chat: ChatService, room_id: str, members: list[Principal]) -> None:
    now = chat.clock.now_ms()
    room = Room(room_id, room_id, RoomKind.PUBLIC, members[0].user_id, now)
    roles = [Role.OWNER] + [Role.MEMBER] * (len(members) - 1)
    chat.rooms.create(
        room, [Membership(room_id, m.user_id, r, now) for m, r in zip(members, roles, strict=True)]
    )


def write_for(
    chat: ChatService, who: Principal, room_id: str, until: float, latencies: list[float]
) -> int:
    """Post back to back until `until`; the number refused as busy."""
    busy = n = 0
    while time.perf_counter() < until:
        n += 1
        started = time.perf_counter()
        try:
            chat.post_message(who, room_id, f"p9 {n}", client_id=f"{who.user_id}-{room_id}-{n}")
        except RateLimited:
            busy += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    return busy


def measure(
    chats: list[ChatService], writers: list[Principal], rooms: list[str], seconds: float
) -> tuple[int, int, list[float]]:
    latencies: list[list[float]] = [[] for _ in writers]
    busy = [0] * len(writers)
    until = time.perf_counter() + seconds

    def one(i: int) -> None:
        busy[i] = write_for(chats[i], writers[i], rooms[i], until, latencies[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(writers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flat = sorted(x for each in latencies for x in each)
    return len(flat), sum(busy), flat


def run(quick: bool) -> Table:
    ks = (1, 4) if quick else (1, 4, 16)
    seconds = 1.0 if quick else 5.0
    table = Table(
        f"P9 room write ceiling on DynamoDB Local: K writers posting for {seconds:g} s",
        ["K", "rooms", "posts/s", "lost races", "conflicts", "busy", "p50 ms", "p99 ms",
         "gap-free", "met (gap-free, every post stored or told busy)"],
    )  # fmt: skip
    ddb = engines.start(quick)
    try:
        ensure_table(client("dynamodb", ddb.endpoint), TABLE)
        for k in ks:
            writers = [Principal(f"u-p9-{k}-{i}", f"writer{i}") for i in range(k)]
            retries = Retries()
            clients = [client("dynamodb", ddb.endpoint) for _ in writers]
            for dynamodb in clients:
                retries.watch(dynamodb)
            chats = [service(dynamodb) for dynamodb in clients]
            shared = f"p9-one-{k}"
            make_room(chats[0], shared, writers)
            own = [f"p9-own-{k}-{i}" for i in range(k)]
            for room_id, who in zip(own, writers, strict=True):
                make_room(chats[0], room_id, [who])
            for layout, rooms in (("one", [shared] * k), (f"{k} (one each)", own)):
                before = (retries.lost_race, retries.conflict)
                heads = {r: chats[0].feed.head(r) for r in set(rooms)}
                stored, busy, flat = measure(chats, writers, rooms, seconds)
                # Gap-free: each room's head moved by exactly the number of posts it stored.
                moved = sum(chats[0].feed.head(r) - h for r, h in heads.items())
                gap_free = moved == stored
                table.add(
                    k,
                    layout,
                    stored / seconds,
                    retries.lost_race - before[0],
                    retries.conflict - before[1],
                    busy,
                    statistics.median(flat) if flat else 0.0,
                    flat[int(len(flat) * 0.99) - 1] if flat else 0.0,
                    "yes" if gap_free else "NO",
                    met(gap_free),
                )
                table.ok = table.ok and gap_free and stored > 0
        table.notes.append(
            f"AWS: the head's partition takes {PARTITION_WCU:,} WCU/s and a post's transaction "
            f"is {POST_WRU} WRU, so one room tops out near {PARTITION_WCU // POST_WRU} posts/s "
            "(more writers only add lost races); rooms are independent, so the table's "
            "throughput grows with the number of rooms"
        )
        table.notes.append(
            "DynamoDB Local is not DynamoDB: one Java process on this machine's cores, no "
            "partitions; its numbers show the retry behaviour, not AWS's ceiling"
        )
    finally:
        engines.release(ddb)
    return table
