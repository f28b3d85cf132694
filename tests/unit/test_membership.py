"""Consent and bounded membership (issue 13, M1) on the in-memory fakes: pending invites,
decline, block, the per-user room cap, owner hand-over, paging of the room list, presence and
lastSeen only between people who share a room."""

from __future__ import annotations

import attrs
import pytest

from dynamotalk.domain import events as ev
from dynamotalk.domain.bot import BOT
from dynamotalk.domain.errors import Conflict, InvalidInput, NotFound
from dynamotalk.domain.models import Invite, Membership, Role, RoomKind
from dynamotalk.domain.rules import NO_SUCH_ROOM
from tests.unit.world import ALICE, BOB, CAROL, MALLORY, World


def test_an_invite_is_pending_until_accepted(world: World) -> None:
    world.online(BOB, "c-bob")
    room = world.service.create_room(MALLORY, "Trap", RoomKind.PRIVATE).room_id
    pending = world.service.invite(MALLORY, room, BOB.user_id)
    assert isinstance(pending, Invite)
    assert [e for e in world.events("c-bob") if isinstance(e, ev.InviteReceived)] == [
        ev.InviteReceived(pending)
    ]
    assert world.service.my_rooms(BOB) == []
    with pytest.raises(NotFound, match=NO_SUCH_ROOM):
        world.service.history(BOB, room, None, 10)
    assert [i.room_id for i in world.service.invites(BOB)] == [room]
    assert world.service.accept_invite(BOB, room).role is Role.MEMBER
    assert world.service.invites(BOB) == []
    assert [s.room.room_id for s in world.service.my_rooms(BOB)] == [room]


def test_decline_and_block_drop_invites_silently(world: World) -> None:
    rooms = [
        world.service.create_room(MALLORY, f"r{n}", RoomKind.PRIVATE).room_id for n in range(3)
    ]
    world.service.invite(MALLORY, rooms[0], BOB.user_id)
    world.service.decline_invite(BOB, rooms[0])
    with pytest.raises(NotFound):
        world.service.accept_invite(BOB, rooms[0])
    world.service.invite(MALLORY, rooms[1], BOB.user_id)
    world.service.invite(MALLORY, rooms[2], BOB.user_id)
    assert world.service.block_inviter(BOB, rooms[1]) == MALLORY.user_id
    assert world.service.invites(BOB) == [], "every pending invite of the blocked user is gone"
    world.online(BOB, "c-bob")
    answer = world.service.invite(MALLORY, rooms[0], BOB.user_id)
    assert isinstance(answer, Invite), "the inviter gets the usual answer"
    assert world.service.invites(BOB) == []
    assert not world.events("c-bob")
    world.service.unblock(BOB, MALLORY.user_id)
    world.service.invite(MALLORY, rooms[0], BOB.user_id)
    assert [i.room_id for i in world.service.invites(BOB)] == [rooms[0]]


def test_the_bot_joins_at_once_and_people_are_invited_at_creation(world: World) -> None:
    world.service.ensure_user(BOT)
    room = world.service.create_room(ALICE, "r", RoomKind.PRIVATE, [BOT.user_id, BOB.user_id])
    members = {m.user_id for m in world.service.members(ALICE, room.room_id)}
    assert members == {ALICE.user_id, BOT.user_id}
    assert [i.room_id for i in world.service.invites(BOB)] == [room.room_id]


def test_the_room_cap_counts_memberships_and_never_pending_invites(world: World) -> None:
    world.service.limits = attrs.evolve(world.service.limits, max_rooms_per_user=3)
    own = world.service.create_room(BOB, "mine", RoomKind.PUBLIC).room_id
    world.service.invite(BOB, own, ALICE.user_id)
    world.service.create_room(ALICE, "a", RoomKind.PUBLIC)
    world.service.create_room(ALICE, "b", RoomKind.PUBLIC)  # 2 rooms + 1 invite: still room
    world.service.accept_invite(ALICE, own)  # 3 rooms: full
    with pytest.raises(Conflict):
        world.service.create_room(ALICE, "c", RoomKind.PUBLIC)
    with pytest.raises(Conflict):
        world.service.open_direct(ALICE, CAROL.user_id)
    carol_room = world.service.create_room(CAROL, "carol's", RoomKind.PUBLIC).room_id
    with pytest.raises(Conflict):
        world.service.join_room(ALICE, carol_room)
    world.service.invite(CAROL, carol_room, ALICE.user_id)  # an invite still arrives
    with pytest.raises(Conflict):
        world.service.accept_invite(ALICE, carol_room)  # but accepting needs a free slot
    world.service.leave_room(ALICE, own)
    world.service.accept_invite(ALICE, carol_room)


def test_pending_invites_are_capped_per_invitee_and_the_rest_dropped_unseen(
    world: World,
) -> None:
    world.service.limits = attrs.evolve(world.service.limits, max_pending_invites=2)
    rooms = [world.service.create_room(BOB, f"r{i}", RoomKind.PRIVATE).room_id for i in range(3)]
    answers = [world.service.invite(BOB, r, ALICE.user_id) for r in rooms]
    assert all(isinstance(a, Invite) for a in answers)  # the inviter cannot tell
    assert [i.room_id for i in world.service.invites(ALICE)] == sorted(rooms[:2])
    assert world.service.decline_all_invites(ALICE) == 2
    assert world.service.invites(ALICE) == []
    world.service.invite(BOB, rooms[2], ALICE.user_id)
    assert [i.room_id for i in world.service.invites(ALICE)] == [rooms[2]]


def test_an_owner_leaving_hands_the_room_to_the_longest_standing_member(world: World) -> None:
    room = world.service.create_room(ALICE, "r", RoomKind.PRIVATE, [BOB.user_id, CAROL.user_id])
    world.service.accept_invite(BOB, room.room_id)
    world.clock.advance(1000)
    world.service.accept_invite(CAROL, room.room_id)
    world.service.leave_room(ALICE, room.room_id)
    roles = {m.user_id: m.role for m in world.service.members(BOB, room.room_id)}
    assert roles == {BOB.user_id: Role.OWNER, CAROL.user_id: Role.MEMBER}
    world.service.invite(BOB, room.room_id, MALLORY.user_id)  # the heir can manage the room
    world.service.leave_room(CAROL, room.room_id)
    world.service.leave_room(BOB, room.room_id)
    assert world.service.invites(MALLORY) == [], "an empty room's invites are withdrawn"


def test_removal_ends_the_removed_members_subscriptions_at_once(
    world: World, public_room: str
) -> None:
    world.online(BOB, "c-bob", public_room)
    world.online(CAROL, "c-carol", public_room)
    world.service.join_room(CAROL, public_room)
    world.service.remove_member(ALICE, public_room, CAROL.user_id)
    world.service.post_message(ALICE, public_room, "after", "k1")
    assert not any(isinstance(e, ev.MessagePosted) for e in world.events("c-carol"))
    assert ev.MemberLeft(public_room, CAROL.user_id) in world.unnumbered("c-carol")


def test_presence_reaches_members_only(world: World, public_room: str) -> None:
    world.online(CAROL, "c-carol", public_room)  # follows the public room, not a member
    world.online(BOB, "c-bob", public_room)
    assert not any(isinstance(e, ev.PresenceChanged) for e in world.events("c-carol"))
    with pytest.raises(Exception, match="not a member"):
        world.service.presence(CAROL, public_room)


def test_last_seen_only_for_people_who_share_a_room(world: World, public_room: str) -> None:
    world.online(BOB, "c-bob", public_room)
    world.service.disconnect("c-bob")
    assert world.service.get_profile(ALICE, BOB.user_id).last_seen == world.clock.now
    assert world.service.get_profile(CAROL, BOB.user_id).last_seen is None


def test_the_room_list_pages_with_a_cursor_bound_to_its_user(world: World) -> None:
    ids = sorted(
        world.service.create_room(ALICE, f"r{n}", RoomKind.PUBLIC).room_id for n in range(5)
    )
    first = world.service.rooms_page(ALICE, None, 2)
    assert [s.room.room_id for s in first.rooms] == ids[:2]
    assert first.next_cursor is not None
    second = world.service.rooms_page(ALICE, first.next_cursor, 3)
    assert [s.room.room_id for s in second.rooms] == ids[2:]
    assert second.next_cursor is None
    with pytest.raises(InvalidInput):
        world.service.rooms_page(BOB, first.next_cursor, 2)


def test_a_membership_is_not_an_invite() -> None:
    assert not isinstance(Membership("r", "u", Role.MEMBER, 0), Invite)
