"""Roles and moderation in the core, on the in-memory adapters: the hand-over by rank, a ban
closing exactly the sockets that followed only its room, slow mode's clock, a mute's end, and
the audit log that other areas write through `write_audit`."""

from __future__ import annotations

import attrs
import pytest

from dynamotalk.domain.authz import Act
from dynamotalk.domain.errors import Forbidden, Muted, NotFound, SlowMode
from dynamotalk.domain.models import Role, RoomKind
from dynamotalk.service.moderation import write_audit
from tests.unit.world import ALICE, BOB, CAROL, MALLORY, World, make_world


@attrs.define
class RecordingCloser:
    closed: list[str] = attrs.Factory(list)

    def close(self, connection_id: str, last_words: bytes | None = None) -> bool:
        self.closed.append(connection_id)
        return True


@pytest.fixture
def room(world: World) -> str:
    room_id = world.service.create_room(ALICE, "General", RoomKind.PUBLIC).room_id
    for who in (BOB, CAROL, MALLORY):
        world.service.join_room(who, room_id)
    return room_id


def test_an_owner_leaving_hands_over_to_the_highest_role_then_the_longest_standing(
    world: World, room: str
) -> None:
    world.service.change_role(ALICE, room, MALLORY.user_id, Role.ADMIN)
    world.service.leave_room(ALICE, room)
    assert world.service.rooms.member(room, MALLORY.user_id).role is Role.OWNER
    assert world.service.rooms.member(room, BOB.user_id).role is Role.MEMBER


def test_a_ban_closes_only_the_sockets_that_followed_only_its_room() -> None:
    closer = RecordingCloser()
    world = make_world(closer=closer)
    room = world.service.create_room(ALICE, "General", RoomKind.PUBLIC).room_id
    other = world.service.create_room(ALICE, "Other", RoomKind.PUBLIC).room_id
    for room_id in (room, other):
        world.service.join_room(MALLORY, room_id)
    world.online(MALLORY, "only-here", room)
    world.online(MALLORY, "both", room, other)
    world.online(MALLORY, "elsewhere", other)
    world.service.ban(ALICE, room, MALLORY.user_id, "spam")
    assert closer.closed == ["only-here"]
    assert world.service.rooms.member(room, MALLORY.user_id) is None
    assert world.service.connections.rooms_of_connection("both", 0) == [other]
    with pytest.raises(Forbidden):
        world.service.join_room(MALLORY, room)


def test_nobody_bans_an_equal_or_a_higher_role(world: World, room: str) -> None:
    world.service.change_role(ALICE, room, BOB.user_id, Role.MODERATOR)
    world.service.change_role(ALICE, room, CAROL.user_id, Role.MODERATOR)
    with pytest.raises(Forbidden):
        world.service.ban(BOB, room, CAROL.user_id)
    with pytest.raises(Forbidden):
        world.service.ban(BOB, room, ALICE.user_id)
    with pytest.raises(NotFound):
        world.service.ban(BOB, room, "u-nobody")


def test_a_ban_is_lifted_only_by_the_banners_rank_or_above(world: World, room: str) -> None:
    world.service.change_role(ALICE, room, BOB.user_id, Role.ADMIN)
    world.service.change_role(ALICE, room, CAROL.user_id, Role.MODERATOR)
    world.service.ban(BOB, room, MALLORY.user_id, "spam")
    with pytest.raises(Forbidden):
        world.service.unban(CAROL, room, MALLORY.user_id)
    assert [b.user_id for b in world.service.bans(CAROL, room)] == [MALLORY.user_id]
    world.service.unban(BOB, room, MALLORY.user_id)
    world.service.ban(CAROL, room, MALLORY.user_id)
    world.service.unban(CAROL, room, MALLORY.user_id)  # their own ban
    world.service.ban(CAROL, room, MALLORY.user_id)
    world.service.leave_room(CAROL, room)  # a banner who left holds no rank over the ban
    world.service.change_role(ALICE, room, BOB.user_id, Role.MODERATOR)
    world.service.unban(BOB, room, MALLORY.user_id)
    assert world.service.bans(ALICE, room) == []


def test_slow_mode_and_a_mute_end_with_time(world: World, room: str) -> None:
    world.service.update_room(ALICE, room, slow_mode_seconds=10)
    world.service.post_message(BOB, room, "one", "c1")
    with pytest.raises(SlowMode) as refused:
        world.service.post_message(BOB, room, "two", "c2")
    assert refused.value.retry_after_ms == 10_000
    world.clock.advance(10_000)
    world.service.post_message(BOB, room, "two", "c2")
    world.service.mute(ALICE, room, BOB.user_id, 60)
    world.clock.advance(59_000)
    with pytest.raises(Muted) as muted:
        world.service.react(
            BOB, room, world.service.history(BOB, room, None, 1).messages[0].message_id, "👍"
        )
    assert muted.value.retry_after_ms == 1000
    world.clock.advance(1000)
    world.service.post_message(BOB, room, "three", "c3")


def test_other_areas_write_the_audit_log_through_write_audit(world: World, room: str) -> None:
    entry = write_audit(world.service, room, BOB.user_id, Act.REPORT, detail="resolved")
    page = world.service.audit_log(ALICE, room, None, None)
    assert page.entries == (entry,)
    with pytest.raises(Forbidden):
        world.service.audit_log(BOB, room, None, None)
