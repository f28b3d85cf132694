"""A ChatService over the in-memory adapters, with a few users, for domain unit tests."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from dynamotalk.adapters import memory
from dynamotalk.domain.events import RoomChange
from dynamotalk.domain.models import Principal, RoomKind
from dynamotalk.service import ChatService
from dynamotalk.service.delivery import Delivery

ALICE = Principal("u-alice", "alice")
BOB = Principal("u-bob", "bob")
CAROL = Principal("u-carol", "carol")
MALLORY = Principal("u-mallory", "mallory")


@attrs.define
class World:
    service: ChatService
    notifier: memory.RecordingNotifier
    clock: memory.ManualClock
    files: memory.MemoryAttachmentStore
    feed: memory.MemoryChangeFeed
    delivery: Delivery

    def events(self, connection_id: str) -> list[object]:
        return self.notifier.events_for(connection_id)

    def unnumbered(self, connection_id: str) -> list[object]:
        """The connection's events with room changes' `seq` cleared, for tests about what was
        delivered rather than its number (test_feed.py checks the numbers)."""
        return [
            attrs.evolve(e, seq=0) if isinstance(e, RoomChange) else e
            for e in self.events(connection_id)
        ]

    def online(self, principal: Principal, connection_id: str, *room_ids: str) -> None:
        self.service.connect(connection_id, principal)
        if room_ids:
            self.service.subscribe(principal, connection_id, list(room_ids))


def make_world(**given: Any) -> World:
    """`given`: more of ChatService's arguments (bot_jobs, limiter, user_limits)."""
    notifier = memory.RecordingNotifier()
    clock = memory.ManualClock()
    files = memory.MemoryAttachmentStore()
    feed = memory.MemoryChangeFeed()
    rooms = memory.MemoryRoomStore(feed=feed)
    service = ChatService(
        messages=memory.MemoryMessageStore(feed=feed),
        rooms=rooms,
        users=memory.MemoryUserStore(),
        connections=memory.MemoryConnectionRegistry(),
        notifier=notifier,
        attachments=files,
        clock=clock,
        ids=memory.SequentialIds(),
        feed=feed,
        **{"reports": memory.MemoryReportStore(), "block_list": rooms, **given},
    )
    for principal in (ALICE, BOB, CAROL, MALLORY):
        service.ensure_user(principal)
    delivery = Delivery(service.connections, notifier, feed, clock, block_list=rooms)
    # What the table's stream does a moment later, done as each change is stored: a test reads
    # the deliveries of a call as it returns.
    feed.listeners.append(delivery.deliver)
    return World(service, notifier, clock, files, feed, delivery)


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def public_room(world: World) -> str:
    room = world.service.create_room(ALICE, "General", RoomKind.PUBLIC)
    world.service.join_room(BOB, room.room_id)
    return room.room_id


@pytest.fixture
def private_room(world: World) -> str:
    room = world.service.create_room(ALICE, "Secret", RoomKind.PRIVATE, [BOB.user_id])
    world.service.accept_invite(BOB, room.room_id)  # an invite is pending until accepted
    return room.room_id
