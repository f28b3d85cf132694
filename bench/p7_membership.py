"""P7 cost of `$connect` and `GET /rooms` for a user in many rooms (issue 13, M1).

The finding: a user pulled into 400 rooms had a 0.84 s `$connect` (presence announced to every
room) and a 0.87 s `GET /rooms` (one COUNT per room), both growing with the number of rooms.
On DynamoDB Local, with the real DynamoDB adapters and ChatService, this measures:

- before: the previous design re-run on the same adapters (presence fan-out to every room at
  connect; `my_rooms`, every room with its unread COUNT);
- after: `ChatService.connect` (no fan-out) and `ChatService.rooms_page` (one page of 50);
- the cost that moved: a `subscribe` of 100 rooms (the most one frame may name) now announces
  presence to those rooms' members, bounded by the frame, whatever the user's room count.

Every room has one other member with a live connection following it, so a presence fan-out
really sends. Times are medians of a few runs, in milliseconds.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Sequence
from functools import partial

from bench import engines
from bench.table import Table, met
from dynamotalk.adapters.dynamodb import (
    DynamoConnectionRegistry,
    DynamoMessageStore,
    DynamoRoomStore,
    DynamoUserStore,
)
from dynamotalk.adapters.memory import MemoryAttachmentStore, RecordingNotifier
from dynamotalk.domain.events import PresenceChanged
from dynamotalk.domain.ids import UlidGenerator
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import (
    Membership,
    Principal,
    Role,
    Room,
    RoomKind,
    Subscription,
)
from dynamotalk.local.provision import client, ensure_table
from dynamotalk.service import ChatService

VICTIM = Principal("u-victim", "victim")
NEIGHBOUR = Principal("u-neighbour", "neighbour")
FAR_FUTURE = 4_000_000_000
TARGET_GROWTH = 2.0
"""Flat in the number of rooms: "after" within this factor of its value at the smallest N (noise)."""
_tables = itertools.count()


class WallClock:
    def now_ms(self) -> int:
        return int(time.time() * 1000)


def fill(service: ChatService, start: int, stop: int) -> None:
    """Rooms start..stop with the victim and a neighbour whose connection follows each."""
    now = service.clock.now_ms()
    for n in range(start, stop):
        room = Room(f"bench-{n:05d}", f"room {n}", RoomKind.PUBLIC, NEIGHBOUR.user_id, now)
        service.rooms.create(
            room,
            [
                Membership(room.room_id, NEIGHBOUR.user_id, Role.OWNER, now),
                Membership(room.room_id, VICTIM.user_id, Role.MEMBER, now),
            ],
        )
        service.connections.subscribe(
            Subscription("c-neighbour", room.room_id, NEIGHBOUR.user_id, FAR_FUTURE)
        )


def old_connect(service: ChatService, connection_id: str) -> None:
    """The design the finding measured: register, then presence to every room of the user."""
    service.connect(connection_id, VICTIM)
    for membership in service.rooms.rooms_of(VICTIM.user_id):
        event = PresenceChanged(membership.room_id, VICTIM.user_id, VICTIM.username, True, None)
        service._broadcast(membership.room_id, event)


def old_connect_n(service: ChatService, prefix: str, run: int) -> None:
    old_connect(service, f"{prefix}-{run}")


def new_connect_n(service: ChatService, prefix: str, run: int) -> None:
    service.connect(f"{prefix}-{run}", VICTIM)


def subscribe_n(service: ChatService, connection_id: str, rooms: list[str], run: int) -> None:
    service.subscribe(VICTIM, connection_id, rooms)


def median_ms(action: Callable[[int], object], runs: int) -> float:
    times = []
    for run in range(runs):
        started = time.perf_counter()
        action(run)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(quick: bool) -> Table:
    sizes: Sequence[int] = (5, 10) if quick else (100, 400)
    runs = 1 if quick else 3
    table = Table(
        "P7 a user in N rooms on DynamoDB Local: $connect and GET /rooms, before and after",
        [
            "rooms",
            "connect before ms",
            "connect after ms",
            "GET /rooms before ms",
            "GET /rooms after ms",
            "subscribe 100 ms",
            "sends at connect",
            f"met (after <= {TARGET_GROWTH}x the smallest N's, 0 sends)",
        ],
    )
    ddb = engines.start(quick)
    try:
        dynamodb = client("dynamodb", ddb.endpoint)
        name = f"p6-{next(_tables)}"
        ensure_table(dynamodb, name)
        notifier = RecordingNotifier()
        messages = DynamoMessageStore(dynamodb, name)
        service = ChatService(
            messages=messages,
            rooms=DynamoRoomStore(dynamodb, name),
            users=DynamoUserStore(dynamodb, name),
            connections=DynamoConnectionRegistry(dynamodb, name),
            notifier=notifier,
            attachments=MemoryAttachmentStore(),
            clock=WallClock(),
            ids=UlidGenerator(),
            feed=messages.feed,
            limits=Limits(),
        )
        service.connect("c-neighbour", NEIGHBOUR)
        filled = 0
        results = {}
        for size in sizes:
            fill(service, filled, size)
            filled = size
            before_connect = median_ms(partial(old_connect_n, service, f"c-old-{size}"), runs)
            sent_before = len(notifier.sent)
            after_connect = median_ms(partial(new_connect_n, service, f"c-new-{size}"), runs)
            sends_at_connect = len(notifier.sent) - sent_before
            before_rooms = median_ms(lambda r: service.my_rooms(VICTIM), runs)
            after_rooms = median_ms(lambda r: service.rooms_page(VICTIM), runs)
            first = [f"bench-{n:05d}" for n in range(min(size, 100))]
            subscribe = median_ms(partial(subscribe_n, service, f"c-new-{size}-0", first), runs)
            page = service.rooms_page(VICTIM)
            table.ok = table.ok and sends_at_connect == 0 and len(page.rooms) == min(size, 50)
            results[size] = (before_connect, after_connect, before_rooms, after_rooms)
            table.add(
                size,
                before_connect,
                after_connect,
                before_rooms,
                after_rooms,
                subscribe,
                sends_at_connect,
                met(
                    sends_at_connect == 0
                    and after_connect <= TARGET_GROWTH * results[sizes[0]][1]
                    and after_rooms <= TARGET_GROWTH * results[sizes[0]][3]
                ),
            )
        small, big = results[sizes[0]], results[sizes[-1]]
        growth = sizes[-1] / sizes[0]
        table.notes.append(
            f"rooms x{growth:.0f}: connect before x{big[0] / small[0]:.1f}, after "
            f"x{big[1] / small[1]:.1f}; GET /rooms before x{big[2] / small[2]:.1f}, after "
            f"x{big[3] / small[3]:.1f} (after: one page of 50, flat once N >= 50)"
        )
        table.notes.append(
            "subscribe of 100 rooms carries the presence fan-out now: bounded by the frame's "
            "100 rooms, not by the user's room count"
        )
    finally:
        engines.release(ddb)
    return table
