"""The ModerationStore's promises (ports_moderation.py), one suite for the in-memory fake and
the DynamoDB adapter on DynamoDB Local and moto: room settings as a numbered change, mutes that
outlive the membership, bans, slow mode's atomic turn, pins capped atomically, the audit log
newest first, and a moderator's delete recorded on the message and its change."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from dynamotalk.adapters import memory
from dynamotalk.adapters.dynamodb import DynamoMessageStore, DynamoRoomStore
from dynamotalk.domain.errors import NotFound, TooLarge
from dynamotalk.domain.events import (
    MemberJoined,
    MessageDeleted,
    MessagePinned,
    MessageUnpinned,
    RoomUpdated,
)
from dynamotalk.domain.models import AuditEntry, Ban, Invite, Membership, Pin, Role, Room, RoomKind
from tests.integration.test_store_contract import BACKENDS, _client, mid, msg


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Any]]:
    if request.param == "memory":
        feed = memory.MemoryChangeFeed()
        yield memory.MemoryRoomStore(feed=feed), memory.MemoryMessageStore(feed=feed)
        return
    fixture = "dynamodb_local" if request.param == "dynamodb-local" else "moto_server"
    client, table = _client(request.getfixturevalue(fixture))
    rooms = DynamoRoomStore(client, table)
    yield rooms, DynamoMessageStore(client, table, feed=rooms.feed)
    client.delete_table(TableName=table)


def audit(n: int, room_id: str = "r1", action: str = "ban") -> AuditEntry:
    return AuditEntry(room_id, mid(n), "alice", action, 1000 + n, target_user_id="bob")


def make_room(rooms: Any, room_id: str = "r1") -> Room:
    room = Room(room_id, "general", RoomKind.PUBLIC, "alice", 1)
    rooms.create(room, [Membership(room_id, "alice", Role.OWNER, 1)])
    rooms.add_member(Membership(room_id, "bob", Role.MEMBER, 2))
    return room


def test_room_settings_are_a_numbered_change_with_their_audit_entry(stores: Any) -> None:
    rooms, _ = stores
    room = make_room(rooms)
    changed = attrs.evolve(room, name="renamed", slow_mode_seconds=30, archived=True)
    update = rooms.update_room(changed, audit(1, action="rename"))
    assert isinstance(update, RoomUpdated)
    assert update.room == changed
    assert update.seq == rooms.feed.head("r1")
    assert rooms.get("r1") == changed
    assert rooms.feed.get("r1", update.seq) == update
    assert rooms.audit_page("r1", None, 10) == [audit(1, action="rename")]
    back = rooms.update_room(attrs.evolve(changed, archived=False, slow_mode_seconds=0), audit(2))
    assert rooms.get("r1") == back.room
    assert not back.room.archived
    with pytest.raises(NotFound):
        rooms.update_room(Room("nope", "x", RoomKind.PUBLIC, "a", 1), audit(3, "nope"))
    assert rooms.audit_page("nope", None, 10) == []


def test_a_mute_is_on_the_membership_and_outlives_it(stores: Any) -> None:
    rooms, _ = stores
    make_room(rooms)
    muted = rooms.set_mute("r1", "bob", 5000, audit(1))
    assert isinstance(muted, MemberJoined)
    assert muted.membership.muted_until == 5000
    assert rooms.member("r1", "bob").muted_until == 5000
    assert rooms.feed.get("r1", muted.seq) == muted
    assert rooms.set_mute("r1", "nobody", 5000, audit(2)) is None
    rooms.remove_member("r1", "bob")
    assert rooms.sanctions("r1", "bob") == (None, 5000)
    rooms.add_member(Membership("r1", "bob", Role.MEMBER, 3))
    lifted = rooms.set_mute("r1", "bob", None, audit(3))
    assert lifted is not None
    assert lifted.membership.muted_until is None
    assert rooms.member("r1", "bob").muted_until is None
    assert rooms.sanctions("r1", "bob") == (None, None)
    assert [e.entry_id for e in rooms.audit_page("r1", None, 10)] == [mid(3), mid(1)]


def test_bans_are_stored_once_withdraw_the_invite_and_lift(stores: Any) -> None:
    rooms, _ = stores
    make_room(rooms)
    rooms.add_invite(Invite("r1", "carol", "alice", "alice", "general", RoomKind.PUBLIC, 0, 10**10))
    ban = Ban("r1", "carol", "alice", 7, "spam")
    assert rooms.add_ban(ban, audit(1))
    assert not rooms.add_ban(attrs.evolve(ban, reason="again"), audit(2))
    assert rooms.invite("r1", "carol", 0) is None
    assert rooms.sanctions("r1", "carol") == (ban, None)
    assert rooms.sanctions("r1", "bob") == (None, None)
    rooms.add_ban(Ban("r1", "bob", "alice", 8), audit(3))
    assert rooms.bans("r1", 10) == [Ban("r1", "bob", "alice", 8), ban]
    assert rooms.bans("r1", 1) == [Ban("r1", "bob", "alice", 8)]
    assert rooms.remove_ban("r1", "carol", audit(4))
    assert not rooms.remove_ban("r1", "carol", audit(5))
    assert rooms.sanctions("r1", "carol") == (None, None)
    assert [e.entry_id for e in rooms.audit_page("r1", None, 10)] == [mid(4), mid(3), mid(1)]


def test_slow_mode_gives_one_turn_per_interval_even_to_racers(stores: Any) -> None:
    rooms, _ = stores
    make_room(rooms)
    assert rooms.take_slow_turn("r1", "bob", 10_000, 5000) == 0
    assert rooms.take_slow_turn("r1", "bob", 12_000, 5000) == 3000
    assert rooms.take_slow_turn("r1", "alice", 12_000, 5000) == 0, "per member"
    assert rooms.take_slow_turn("r1", "bob", 15_000, 5000) == 0
    results: list[int] = []
    racers = [
        threading.Thread(
            target=lambda: results.append(rooms.take_slow_turn("r1", "bob", 30_000, 5000))
        )
        for _ in range(5)
    ]
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    assert sorted(results)[0] == 0
    assert results.count(0) == 1


def pin(n: int, room_id: str = "r1") -> Pin:
    return Pin(room_id, mid(n), "alice", 100 + n, "bob", f"message {n}", n)


def test_pins_are_changes_capped_atomically_and_listed_newest_first(stores: Any) -> None:
    rooms, _ = stores
    make_room(rooms)
    first = rooms.pin(pin(1), audit(1, action="pin"), 2)
    assert isinstance(first, MessagePinned)
    assert first.pin == pin(1)
    assert rooms.feed.get("r1", first.seq) == first
    assert rooms.pin(pin(1), audit(2), 2) is None, "pinned already"
    assert rooms.pin(pin(2), audit(3), 2) is not None
    with pytest.raises(TooLarge):
        rooms.pin(pin(3), audit(4), 2)
    assert rooms.pins("r1") == [pin(2), pin(1)]
    gone = rooms.unpin("r1", mid(1), audit(5))
    assert isinstance(gone, MessageUnpinned)
    assert gone.message_id == mid(1)
    assert rooms.feed.get("r1", gone.seq) == gone
    assert rooms.unpin("r1", mid(1), None) is None
    assert rooms.pin(pin(3), audit(6), 2) is not None, "a slot freed"
    assert rooms.pins("r1") == [pin(3), pin(2)]
    actions = [e.entry_id for e in rooms.audit_page("r1", None, 10)]
    assert actions == [mid(6), mid(5), mid(3), mid(1)], "refused pins wrote nothing"


def test_the_audit_log_pages_newest_first(stores: Any) -> None:
    rooms, _ = stores
    for n in range(1, 8):
        rooms.add_audit(audit(n))
    rooms.add_audit(audit(9, room_id="r2"))
    first = rooms.audit_page("r1", None, 3)
    assert [e.entry_id for e in first] == [mid(7), mid(6), mid(5)]
    assert first[0] == audit(7)
    rest = rooms.audit_page("r1", first[-1].entry_id, 10)
    assert [e.entry_id for e in rest] == [mid(4), mid(3), mid(2), mid(1)]


def test_a_moderators_delete_is_recorded_on_the_message_and_its_change(stores: Any) -> None:
    rooms, messages = stores
    make_room(rooms)
    posted, _ = messages.append(msg(1, room="r1", author="bob"))
    deleted = messages.soft_delete_by("r1", posted.message_id, 999, "alice")
    assert deleted.deleted
    assert deleted.deleted_by == "alice"
    assert messages.get("r1", posted.message_id).deleted_by == "alice"
    change = rooms.feed.get("r1", rooms.feed.head("r1"))
    assert isinstance(change, MessageDeleted)
    assert change.message.deleted_by == "alice"
    own, _ = messages.append(msg(2, room="r1", author="bob"))
    assert messages.soft_delete("r1", own.message_id, 999).deleted_by is None
