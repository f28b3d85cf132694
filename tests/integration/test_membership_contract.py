"""The RoomStore's consent and bounded-membership promises (ports.py), one suite for the
in-memory fake and the DynamoDB adapter on DynamoDB Local and moto: pending invites, their
expiry, the atomic accept, blocks, the capped count and the room list's pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dynamotalk.adapters import memory
from dynamotalk.adapters.dynamodb import DynamoRoomStore
from dynamotalk.domain.models import Invite, Membership, Role, Room, RoomKind
from tests.integration.test_store_contract import BACKENDS, _client

NOW_S = 1_700_000_000


@pytest.fixture(params=BACKENDS)
def rooms(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield memory.MemoryRoomStore()
        return
    fixture = "dynamodb_local" if request.param == "dynamodb-local" else "moto_server"
    client, table = _client(request.getfixturevalue(fixture))
    yield DynamoRoomStore(client, table)
    client.delete_table(TableName=table)


def invite(room_id: str, user: str = "bob", by: str = "alice", expires: int = NOW_S + 60) -> Invite:
    return Invite(room_id, user, by, by, f"name {room_id}", RoomKind.PRIVATE, NOW_S * 1000, expires)


def make_room(rooms: Any, room_id: str, *members: str) -> None:
    room = Room(room_id, room_id, RoomKind.PRIVATE, "alice", 0)
    rooms.create(room, [Membership(room_id, m, Role.MEMBER, n) for n, m in enumerate(members)])


def test_invites_are_pending_listed_and_expire(rooms: Any) -> None:
    make_room(rooms, "r1", "alice")
    make_room(rooms, "r2", "alice")
    assert rooms.add_invite(invite("r1"))
    assert not rooms.add_invite(invite("r1")), "one pending invite per room and user"
    assert rooms.add_invite(invite("r2", expires=NOW_S - 1))
    assert rooms.invite("r1", "bob", NOW_S) == invite("r1")
    assert rooms.invite("r2", "bob", NOW_S) is None, "an expired invite is gone"
    assert [i.room_id for i in rooms.invites_of("bob", NOW_S)] == ["r1"]
    assert [i.user_id for i in rooms.invites_to("r1", NOW_S)] == ["bob"]
    assert rooms.members("r1") == [Membership("r1", "alice", Role.MEMBER, 0)]
    assert rooms.rooms_of("bob") == [], "an invite is not a membership"
    assert rooms.remove_invite("r1", "bob")
    assert not rooms.remove_invite("r1", "bob")


def test_accept_is_atomic_and_once(rooms: Any) -> None:
    make_room(rooms, "r1", "alice")
    rooms.add_invite(invite("r1"))
    joined = Membership("r1", "bob", Role.MEMBER, 5)
    assert rooms.accept_invite(invite("r1"), joined)
    assert rooms.member("r1", "bob") == joined
    assert rooms.invite("r1", "bob", NOW_S) is None
    assert not rooms.accept_invite(invite("r1"), joined), "a used invite cannot be accepted"


def test_counts_of_rooms_and_of_invites_are_apart_and_stop_at_the_cap(rooms: Any) -> None:
    for n in range(4):
        make_room(rooms, f"m{n}", "bob")
    for n in range(3):
        make_room(rooms, f"i{n}", "alice")
        rooms.add_invite(invite(f"i{n}"))
    rooms.add_invite(invite("i-expired", expires=NOW_S - 1))
    assert rooms.count_rooms("bob", 100) == 4
    assert rooms.count_rooms("bob", 3) == 3
    assert rooms.count_invites("bob", NOW_S, 100) == 3  # the expired one is not counted
    assert rooms.count_invites("bob", NOW_S, 2) == 2


def test_rooms_page_walks_every_membership_once_in_room_id_order(rooms: Any) -> None:
    ids = [f"r{n:02d}" for n in range(7)]
    for room_id in ids:
        make_room(rooms, room_id, "bob")
    rooms.add_invite(invite("zz"))
    seen: list[str] = []
    after = None
    while True:
        page = rooms.rooms_page("bob", after, 3)
        seen += [m.room_id for m in page]
        if len(page) < 3:
            break
        after = page[-1].room_id
    assert seen == ids


def test_roles_and_blocks(rooms: Any) -> None:
    make_room(rooms, "r1", "alice", "bob")
    make_room(rooms, "r2", "alice")
    assert [m.room_id for m in rooms.memberships_in("bob", ["r1", "r2", "missing"])] == ["r1"]
    rooms.set_role("r1", "bob", Role.OWNER)
    assert rooms.member("r1", "bob").role is Role.OWNER
    rooms.set_role("r1", "nobody", Role.OWNER)
    assert rooms.member("r1", "nobody") is None
    assert not rooms.is_blocked("mallory", by_user_id="bob")
    rooms.block("bob", "mallory", 1)
    assert rooms.is_blocked("mallory", by_user_id="bob")
    assert not rooms.is_blocked("bob", by_user_id="mallory")
    rooms.unblock("bob", "mallory")
    assert not rooms.is_blocked("mallory", by_user_id="bob")
