"""A room's member count (Room.member_count, `memberCount` on the wire), one suite for the
in-memory fake and the DynamoDB adapter on DynamoDB Local and moto: the count moves in the same
write as the membership it counts (create, join, accept, leave), a refused write moves nothing,
and reading it is reading the room (the public list shows it with no query per room)."""

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


def member(room_id: str, user_id: str) -> Membership:
    return Membership(room_id, user_id, Role.MEMBER, 1)


def count(rooms: Any, room_id: str) -> int:
    room = rooms.get(room_id)
    assert room is not None
    return int(room.member_count)


def test_the_count_starts_with_the_members_created_with(rooms: Any) -> None:
    room = Room("r1", "r1", RoomKind.PUBLIC, "alice", 1)
    repeated = [member("r1", "alice"), member("r1", "bot"), member("r1", "alice")]
    assert rooms.create(room, repeated)
    assert count(rooms, "r1") == 2
    assert rooms.get("r1") == room, "the count is not part of the room's identity"
    assert not rooms.create(room, [member("r1", "mallory")])
    assert count(rooms, "r1") == 2, "a refused create counts nobody"


def test_join_and_leave_move_the_count_once_each(rooms: Any) -> None:
    rooms.create(Room("r1", "r1", RoomKind.PUBLIC, "alice", 1), [member("r1", "alice")])
    assert rooms.add_member(member("r1", "bob"))
    assert rooms.add_member(member("r1", "carol"))
    assert not rooms.add_member(member("r1", "bob"))
    assert count(rooms, "r1") == 3, "a second join of one user does not count"
    assert rooms.remove_member("r1", "bob") is not None
    assert rooms.remove_member("r1", "bob") is None
    assert count(rooms, "r1") == 2, "a second leave does not count"
    rooms.set_role("r1", "carol", Role.MODERATOR)
    assert count(rooms, "r1") == 2, "a role change is no join"
    assert count(rooms, "r1") == len(rooms.members("r1"))


def test_an_accepted_invite_counts_once(rooms: Any) -> None:
    rooms.create(Room("r1", "r1", RoomKind.PRIVATE, "alice", 1), [member("r1", "alice")])
    invite = Invite("r1", "bob", "alice", "alice", "r1", RoomKind.PRIVATE, NOW_S * 1000, NOW_S + 60)
    assert rooms.add_invite(invite)
    assert count(rooms, "r1") == 1, "an invite is not a member"
    assert rooms.accept_invite(invite, member("r1", "bob"))
    assert not rooms.accept_invite(invite, member("r1", "bob"))
    assert count(rooms, "r1") == 2


def test_the_public_list_carries_each_rooms_count(rooms: Any) -> None:
    rooms.create(Room("r1", "one", RoomKind.PUBLIC, "alice", 1), [member("r1", "alice")])
    rooms.create(Room("r2", "two", RoomKind.PUBLIC, "alice", 2), [member("r2", "alice")])
    for user in ("bob", "carol", "dan"):
        rooms.add_member(member("r2", user))
    assert {r.room_id: r.member_count for r in rooms.public_rooms(10)} == {"r1": 1, "r2": 4}
    assert {r.room_id: r.member_count for r in rooms.get_many(["r1", "r2"])} == {"r1": 1, "r2": 4}


def test_joining_a_room_that_does_not_exist_counts_nothing(rooms: Any) -> None:
    rooms.add_member(member("ghost", "bob"))
    assert rooms.get("ghost") is None, "no room item is made up by the count"
