"""Every use case and rule of ChatService, through the service with the in-memory adapters."""

from __future__ import annotations

import pytest

from dynamotalk.domain import events as ev
from dynamotalk.domain.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
)
from dynamotalk.domain.files import safe_filename
from dynamotalk.domain.limits import UNREAD_CAP, Limits
from dynamotalk.domain.models import Attachment, Principal, Role, RoomKind
from tests.unit.world import ALICE, BOB, CAROL, MALLORY, World

# --- messages -------------------------------------------------------------------------------


def test_post_trims_text_stores_and_fans_out(world: World, public_room: str) -> None:
    world.online(BOB, "c-bob", public_room)
    world.online(ALICE, "c-alice", public_room)
    message = world.service.post_message(ALICE, public_room, "  hello  ", "k1")
    assert message.text == "hello"
    assert world.service.history(BOB, public_room, None, 10).messages == (message,)
    assert ev.MessagePosted(message) in world.unnumbered("c-bob")
    assert ev.MessagePosted(message) in world.unnumbered("c-alice")


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_is_refused(world: World, public_room: str, text: str) -> None:
    with pytest.raises(InvalidInput):
        world.service.post_message(ALICE, public_room, text, "k1")


def test_text_limit_counts_characters_after_trimming(world: World, public_room: str) -> None:
    exact = "é" * 4000
    assert world.service.post_message(ALICE, public_room, f"  {exact}  ", "k1").text == exact
    with pytest.raises(TooLarge) as error:
        world.service.post_message(ALICE, public_room, exact + "x", "k2")
    assert error.value.code is ErrorCode.TOO_LARGE


def test_text_limit_is_configurable(world: World, public_room: str) -> None:
    world.service.limits = Limits(max_text=10)
    world.service.post_message(ALICE, public_room, "0123456789", "k1")
    with pytest.raises(TooLarge):
        world.service.post_message(ALICE, public_room, "0123456789!", "k2")


def test_retry_with_same_client_id_returns_the_stored_message(
    world: World, public_room: str
) -> None:
    world.online(BOB, "c-bob", public_room)
    first = world.service.post_message(ALICE, public_room, "once", "same-id")
    again = world.service.post_message(ALICE, public_room, "once (retry)", "same-id")
    assert again == first
    assert len(world.service.history(ALICE, public_room, None, 100).messages) == 1
    posted = [e for e in world.events("c-bob") if isinstance(e, ev.MessagePosted)]
    assert len(posted) == 1, "a retry must not be delivered twice"


@pytest.mark.parametrize("client_id", ["", "x" * 65, "tab\there"])
def test_client_id_must_be_sane(world: World, public_room: str, client_id: str) -> None:
    with pytest.raises(InvalidInput):
        world.service.post_message(ALICE, public_room, "hi", client_id)


def test_only_the_author_edits(world: World, public_room: str) -> None:
    world.online(BOB, "c-bob", public_room)
    message = world.service.post_message(ALICE, public_room, "draft", "k1")
    world.clock.advance(1000)
    edited = world.service.edit_message(ALICE, public_room, message.message_id, " final ")
    assert edited.text == "final"
    assert edited.edited_at == world.clock.now
    assert ev.MessageEdited(edited) in world.unnumbered("c-bob")
    with pytest.raises(Forbidden):
        world.service.edit_message(BOB, public_room, message.message_id, "hijack")


def test_author_or_owner_deletes_and_the_slot_stays(world: World, public_room: str) -> None:
    world.service.join_room(CAROL, public_room)
    world.online(CAROL, "c-carol", public_room)
    by_bob = world.service.post_message(BOB, public_room, "bob's", "k1")
    by_carol = world.service.post_message(CAROL, public_room, "carol's", "k2")
    with pytest.raises(Forbidden):
        world.service.delete_message(BOB, public_room, by_carol.message_id)
    deleted = world.service.delete_message(ALICE, public_room, by_bob.message_id)  # owner
    assert deleted.deleted
    assert deleted.text == ""
    own = world.service.delete_message(CAROL, public_room, by_carol.message_id)  # author
    assert own.deleted
    history = world.service.history(ALICE, public_room, None, 10).messages
    assert [m.message_id for m in history] == [by_carol.message_id, by_bob.message_id]
    assert all(m.deleted for m in history)
    assert ev.MessageDeleted(deleted) in world.unnumbered("c-carol")
    # Deleting twice is harmless; editing or reacting to a deleted message is not found.
    assert world.service.delete_message(ALICE, public_room, by_bob.message_id).deleted
    with pytest.raises(NotFound):
        world.service.edit_message(BOB, public_room, by_bob.message_id, "back")
    with pytest.raises(NotFound):
        world.service.react(ALICE, public_room, by_bob.message_id, "👍")


def test_reactions_toggle_per_user_per_emoji(world: World, public_room: str) -> None:
    world.online(ALICE, "c-alice", public_room)
    message = world.service.post_message(ALICE, public_room, "vote", "k1")
    on = world.service.react(BOB, public_room, message.message_id, "👍")
    assert on.reactions == {"👍": frozenset({BOB.user_id})}
    both = world.service.react(ALICE, public_room, message.message_id, "👍")
    assert both.reactions["👍"] == {ALICE.user_id, BOB.user_id}
    party = world.service.react(BOB, public_room, message.message_id, "🎉")
    assert set(party.reactions) == {"👍", "🎉"}
    off = world.service.react(BOB, public_room, message.message_id, "👍")
    assert off.reactions["👍"] == {ALICE.user_id}
    changes = [e for e in world.events("c-alice") if isinstance(e, ev.ReactionChanged)]
    assert [(e.emoji, e.user_id, e.added) for e in changes] == [
        ("👍", BOB.user_id, True),
        ("👍", ALICE.user_id, True),
        ("🎉", BOB.user_id, True),
        ("👍", BOB.user_id, False),
    ]


@pytest.mark.parametrize("emoji", ["", "two words", "x" * 17, "\x00"])
def test_bad_emoji_is_refused(world: World, public_room: str, emoji: str) -> None:
    message = world.service.post_message(ALICE, public_room, "hi", "k1")
    with pytest.raises(InvalidInput):
        world.service.react(BOB, public_room, message.message_id, emoji)


def test_unknown_room_and_message(world: World, public_room: str) -> None:
    with pytest.raises(NotFound):
        world.service.post_message(ALICE, "no-such-room", "hi", "k1")
    with pytest.raises(InvalidInput):
        world.service.edit_message(ALICE, public_room, "not-a-ulid", "x")
    with pytest.raises(NotFound):
        world.service.edit_message(ALICE, public_room, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "x")


# --- history, sync, unread ------------------------------------------------------------------


def test_history_pages_back_with_an_opaque_cursor(world: World, public_room: str) -> None:
    posted = [world.service.post_message(ALICE, public_room, f"m{n}", f"k{n}") for n in range(7)]
    first = world.service.history(BOB, public_room, None, 3)
    assert [m.text for m in first.messages] == ["m6", "m5", "m4"]
    assert first.next_cursor is not None
    assert posted[4].message_id not in first.next_cursor  # opaque, not a raw key
    second = world.service.history(BOB, public_room, first.next_cursor, 3)
    third = world.service.history(BOB, public_room, second.next_cursor, 3)
    assert [m.text for m in second.messages + third.messages] == ["m3", "m2", "m1", "m0"]
    assert third.next_cursor is None


def test_cursor_from_another_room_is_refused(world: World, public_room: str) -> None:
    other = world.service.create_room(ALICE, "Other", RoomKind.PUBLIC).room_id
    for n in range(3):
        world.service.post_message(ALICE, public_room, f"m{n}", f"k{n}")
    cursor = world.service.history(ALICE, public_room, None, 1).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidInput, match="another room"):
        world.service.history(ALICE, other, cursor, 1)
    with pytest.raises(InvalidInput):
        world.service.history(ALICE, public_room, "garbage!!", 1)


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_page_size_is_1_to_100(world: World, public_room: str, limit: int) -> None:
    with pytest.raises(InvalidInput):
        world.service.history(ALICE, public_room, None, limit)


def test_sync_returns_exactly_the_later_messages(world: World, public_room: str) -> None:
    posted = [world.service.post_message(ALICE, public_room, f"m{n}", f"k{n}") for n in range(5)]
    result = world.service.sync(BOB, public_room, posted[1].message_id, 10)
    assert result.messages == tuple(posted[2:])
    assert not result.has_more
    partial = world.service.sync(BOB, public_room, None, 2)
    assert partial.messages == tuple(posted[:2])
    assert partial.has_more


def test_unread_counts_follow_read_markers(world: World, public_room: str) -> None:
    posted = [world.service.post_message(ALICE, public_room, f"m{n}", f"k{n}") for n in range(4)]
    (bob_view,) = world.service.my_rooms(BOB)
    (alice_view,) = world.service.my_rooms(ALICE)
    assert bob_view.unread == 4
    assert alice_view.unread == 0, "your own messages are never unread"
    world.service.mark_read(BOB, public_room, posted[1].message_id)
    assert world.service.my_rooms(BOB)[0].unread == 2
    world.service.mark_read(BOB, public_room, posted[0].message_id)  # never backwards
    assert world.service.my_rooms(BOB)[0].unread == 2
    with pytest.raises(Forbidden):
        world.service.mark_read(CAROL, public_room, posted[0].message_id)


def test_only_a_message_of_the_room_can_be_marked_read(world: World, public_room: str) -> None:
    posted = world.service.post_message(ALICE, public_room, "hello", "k1")
    future = "7" + "Z" * 25  # a well-formed id from the far future
    for message_id in (future, "01" + "0" * 24):
        with pytest.raises(NotFound):
            world.service.mark_read(BOB, public_room, message_id)
    assert world.service.my_rooms(BOB)[0].unread == 1, "a refused marker changes nothing"
    world.service.mark_read(BOB, public_room, posted.message_id)
    assert world.service.my_rooms(BOB)[0].unread == 0


def test_unread_count_is_capped(world: World, public_room: str) -> None:
    for n in range(UNREAD_CAP + 5):
        world.service.post_message(ALICE, public_room, f"m{n}", f"k{n}")
    assert world.service.my_rooms(BOB)[0].unread == UNREAD_CAP


# --- rooms ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "bad\x07bell", "zero\u200bwidth"])
def test_room_names_are_1_to_80_printable(world: World, name: str) -> None:
    with pytest.raises(InvalidInput):
        world.service.create_room(ALICE, name, RoomKind.PUBLIC)


def test_room_name_limits_accept_80_unicode_characters(world: World) -> None:
    room = world.service.create_room(ALICE, "  " + "ü" * 80 + "  ", RoomKind.PUBLIC)
    assert room.name == "ü" * 80


def test_creator_owns_the_room_and_invited_members_join(world: World) -> None:
    room = world.service.create_room(ALICE, "Team", RoomKind.PRIVATE, [BOB.user_id])
    roles = {m.user_id: m.role for m in world.service.members(ALICE, room.room_id)}
    assert roles == {ALICE.user_id: Role.OWNER}, "bob is invited, not a member yet"
    world.service.accept_invite(BOB, room.room_id)
    roles = {m.user_id: m.role for m in world.service.members(ALICE, room.room_id)}
    assert roles == {ALICE.user_id: Role.OWNER, BOB.user_id: Role.MEMBER}
    with pytest.raises(NotFound):
        world.service.create_room(ALICE, "Team", RoomKind.PRIVATE, ["u-ghost"])
    with pytest.raises(InvalidInput):
        world.service.create_room(ALICE, "Direct", RoomKind.DIRECT)


def test_anyone_joins_a_public_room_once(world: World, public_room: str) -> None:
    world.online(ALICE, "c-alice", public_room)
    first = world.service.join_room(CAROL, public_room)
    again = world.service.join_room(CAROL, public_room)
    assert first == again
    joined = [e for e in world.events("c-alice") if isinstance(e, ev.MemberJoined)]
    assert [e.membership.user_id for e in joined] == [CAROL.user_id]


def test_private_rooms_are_joined_by_invitation_only(world: World, private_room: str) -> None:
    with pytest.raises(NotFound):
        world.service.join_room(CAROL, private_room)  # hidden: answered like a missing room
    with pytest.raises(Forbidden):
        world.service.invite(BOB, private_room, CAROL.user_id)  # members can't invite
    world.service.invite(ALICE, private_room, CAROL.user_id)  # the owner can
    assert world.service.join_room(CAROL, private_room).role is Role.MEMBER


def test_any_member_adds_people_to_a_public_room(world: World, public_room: str) -> None:
    assert world.service.invite(BOB, public_room, CAROL.user_id).user_id == CAROL.user_id
    with pytest.raises(Forbidden):
        world.service.invite(MALLORY, public_room, MALLORY.user_id)
    with pytest.raises(NotFound):
        world.service.invite(BOB, public_room, "u-ghost")


def test_leaving_a_private_room_stops_live_events(world: World, private_room: str) -> None:
    world.online(BOB, "c-bob", private_room)
    world.online(ALICE, "c-alice", private_room)
    world.service.leave_room(BOB, private_room)
    world.service.post_message(ALICE, private_room, "after bob left", "k1")
    assert not any(isinstance(e, ev.MessagePosted) for e in world.events("c-bob"))
    assert ev.MemberLeft(private_room, BOB.user_id) in world.unnumbered("c-alice")
    with pytest.raises(NotFound):
        world.service.history(BOB, private_room, None, 10)


def test_owner_removes_members_others_cannot(world: World, private_room: str) -> None:
    world.service.invite(ALICE, private_room, CAROL.user_id)
    with pytest.raises(Forbidden):
        world.service.remove_member(BOB, private_room, CAROL.user_id)
    world.service.remove_member(ALICE, private_room, CAROL.user_id)
    assert CAROL.user_id not in {m.user_id for m in world.service.members(ALICE, private_room)}
    with pytest.raises(NotFound):
        world.service.remove_member(ALICE, private_room, CAROL.user_id)
    world.service.remove_member(BOB, private_room, BOB.user_id)  # removing yourself is leaving
    assert world.service.my_rooms(BOB) == []


def test_public_room_discovery_lists_public_rooms_only(
    world: World, public_room: str, private_room: str
) -> None:
    assert [r.room_id for r in world.service.public_rooms(CAROL)] == [public_room]


def test_my_rooms_lists_memberships_sorted_by_name(world: World) -> None:
    world.service.create_room(ALICE, "beta", RoomKind.PUBLIC)
    world.service.create_room(ALICE, "Alpha", RoomKind.PRIVATE)
    assert [s.room.name for s in world.service.my_rooms(ALICE)] == ["Alpha", "beta"]


# --- direct rooms ---------------------------------------------------------------------------


def test_direct_room_has_one_deterministic_id(world: World) -> None:
    first = world.service.open_direct(ALICE, BOB.user_id)
    again = world.service.open_direct(ALICE, BOB.user_id)
    reverse = world.service.open_direct(BOB, ALICE.user_id)
    assert first == again == reverse
    assert first.kind is RoomKind.DIRECT
    assert first.direct_pair == tuple(sorted((ALICE.user_id, BOB.user_id)))
    assert world.service.open_direct_by_username(BOB, "ALICE") == first
    members = {m.user_id for m in world.service.members(ALICE, first.room_id)}
    assert members == {ALICE.user_id, BOB.user_id}


def test_direct_room_refuses_outsiders_and_self(world: World) -> None:
    room = world.service.open_direct(ALICE, BOB.user_id)
    with pytest.raises(InvalidInput):
        world.service.open_direct(ALICE, ALICE.user_id)
    with pytest.raises(NotFound):
        world.service.open_direct(ALICE, "u-ghost")
    with pytest.raises(NotFound):
        world.service.join_room(CAROL, room.room_id)
    with pytest.raises(Forbidden):
        world.service.invite(ALICE, room.room_id, CAROL.user_id)
    with pytest.raises(Forbidden):
        world.service.leave_room(ALICE, room.room_id)


# --- connections, subscriptions, typing, presence -------------------------------------------


def test_one_connection_follows_many_rooms(world: World, public_room: str) -> None:
    second = world.service.create_room(ALICE, "Second", RoomKind.PUBLIC).room_id
    world.service.join_room(BOB, second)
    world.online(BOB, "c-bob", public_room, second)
    a = world.service.post_message(ALICE, public_room, "in first", "k1")
    b = world.service.post_message(ALICE, second, "in second", "k2")
    posted = [e.message for e in world.events("c-bob") if isinstance(e, ev.MessagePosted)]
    assert posted == [a, b]
    world.service.unsubscribe(BOB, "c-bob", [second])
    world.service.post_message(ALICE, second, "not followed", "k3")
    assert len([e for e in world.events("c-bob") if isinstance(e, ev.MessagePosted)]) == 2


def test_subscribe_is_all_or_nothing(world: World, public_room: str, private_room: str) -> None:
    world.online(CAROL, "c-carol")
    with pytest.raises(NotFound):
        world.service.subscribe(CAROL, "c-carol", [public_room, private_room])
    assert world.service.connections.rooms_of_connection("c-carol", 2_000_000_000) == []
    with pytest.raises(InvalidInput):
        world.service.subscribe(CAROL, "c-carol", [])


def test_typing_reaches_others_and_is_never_stored(world: World, public_room: str) -> None:
    world.online(ALICE, "c-alice", public_room)
    world.online(BOB, "c-bob", public_room)
    world.service.typing(ALICE, public_room, connection_id="c-alice")
    assert ev.Typing(public_room, ALICE.user_id, "alice") in world.events("c-bob")
    assert not any(isinstance(e, ev.Typing) for e in world.events("c-alice"))
    assert world.service.history(ALICE, public_room, None, 10).messages == ()
    with pytest.raises(Forbidden):
        world.service.typing(CAROL, public_room)


def test_presence_online_while_any_connection_then_last_seen(
    world: World, public_room: str
) -> None:
    world.online(ALICE, "c-alice", public_room)
    world.online(BOB, "c-bob-1", public_room)
    world.online(BOB, "c-bob-2", public_room)
    online = {p.username: p.online for p in world.service.presence(ALICE, public_room)}
    assert online == {"alice": True, "bob": True}
    world.service.disconnect("c-bob-1")
    assert {p.username: p.online for p in world.service.presence(ALICE, public_room)}["bob"]
    world.clock.advance(5_000)
    world.service.disconnect("c-bob-2")
    bob = next(p for p in world.service.presence(ALICE, public_room) if p.username == "bob")
    assert not bob.online
    assert bob.last_seen == world.clock.now
    changes = [e for e in world.events("c-alice") if isinstance(e, ev.PresenceChanged)]
    # Each connection announces the user in the rooms it follows; offline comes once, last.
    assert [(e.username, e.online) for e in changes] == [
        ("bob", True),
        ("bob", True),
        ("bob", False),
    ]
    world.service.disconnect("c-bob-2")  # a repeated $disconnect is harmless


def test_gone_connections_are_unregistered_on_fan_out(world: World, public_room: str) -> None:
    world.online(BOB, "c-live", public_room)
    world.online(BOB, "c-dead", public_room)
    world.notifier.gone.add("c-dead")
    world.service.post_message(ALICE, public_room, "hello", "k1")
    now_s = world.clock.now // 1000
    subscribed = world.service.connections.connections_in_room(public_room, now_s)
    assert [s.connection_id for s in subscribed] == ["c-live"]
    assert world.service.connections.get("c-dead", now_s) is None


def test_connection_expires_after_its_ttl(world: World, public_room: str) -> None:
    world.online(BOB, "c-bob", public_room)
    ttl = world.service.limits.connection_ttl_seconds
    assert ttl > 2 * 3600, "must outlive API Gateway's 2-hour connection limit"
    world.clock.advance((ttl + 1) * 1000)
    world.service.post_message(ALICE, public_room, "anyone?", "k1")
    assert not any(isinstance(e, ev.MessagePosted) for e in world.events("c-bob"))


# --- profiles and files ---------------------------------------------------------------------


def test_profiles_are_created_on_first_sight_and_updated(world: World) -> None:
    newcomer = Principal("u-new", "newcomer")
    assert world.service.get_profile(newcomer).display_name == "newcomer"
    updated = world.service.update_profile(newcomer, display_name="  New Comer ")
    assert updated.display_name == "New Comer"
    assert world.service.get_profile(ALICE, "u-new") == updated
    with pytest.raises(NotFound):
        world.service.get_profile(ALICE, "u-ghost")
    with pytest.raises(InvalidInput):
        world.service.update_profile(newcomer, display_name="   ")
    with pytest.raises(InvalidInput):
        world.service.update_profile(newcomer)


def test_avatar_must_be_your_own_upload(world: World) -> None:
    form = world.service.request_upload(ALICE, "avatar", "me.png", "image/png", 1000)
    assert form.key.startswith(f"avatars/{ALICE.user_id}/")
    with pytest.raises(InvalidInput):
        world.service.update_profile(ALICE, avatar_key=form.key)  # not uploaded yet
    world.files.put(form.key, 1000)
    assert world.service.update_profile(ALICE, avatar_key=form.key).avatar_key == form.key
    with pytest.raises(Forbidden):
        world.service.update_profile(BOB, avatar_key=form.key)


def test_uploads_check_type_size_and_membership(world: World, private_room: str) -> None:
    form = world.service.request_upload(
        BOB, "attachment", "../../etc/cat pic.png", "image/png", 2048, private_room
    )
    assert form.key.startswith(f"rooms/{private_room}/{BOB.user_id}/")
    assert form.key.endswith("/cat_pic.png")
    assert form.max_bytes == 2048
    with pytest.raises(InvalidInput):
        world.service.request_upload(
            BOB, "attachment", "x.exe", "application/x-msdos", 10, private_room
        )
    with pytest.raises(TooLarge):
        world.service.request_upload(BOB, "attachment", "big.png", "image/png", 10**9, private_room)
    with pytest.raises(InvalidInput):
        world.service.request_upload(BOB, "attachment", "empty.png", "image/png", 0, private_room)
    with pytest.raises(NotFound):
        world.service.request_upload(CAROL, "attachment", "x.png", "image/png", 10, private_room)
    with pytest.raises(InvalidInput):
        world.service.request_upload(BOB, "attachment", "x.png", "image/png", 10)


def test_message_attachments_must_be_uploaded_to_that_room_by_the_sender(
    world: World, public_room: str
) -> None:
    form = world.service.request_upload(BOB, "attachment", "cat.png", "image/png", 50, public_room)
    ref = Attachment(form.key, "cat.png", "image/png", 50)
    with pytest.raises(InvalidInput):
        world.service.post_message(BOB, public_room, "look", "k1", [ref])
    world.files.put(form.key, 42)
    message = world.service.post_message(BOB, public_room, "", "k2", [ref])
    assert message.attachments == (Attachment(form.key, "cat.png", "image/png", 42),)
    with pytest.raises(Forbidden):
        world.service.post_message(ALICE, public_room, "stolen", "k3", [ref])


def test_text_beside_attachments_follows_the_one_rule_for_message_text(
    world: World, public_room: str
) -> None:
    """Attachments may go without words (blank text is stored empty), but any text they carry
    is refused exactly as without them: a NUL, other controls, and text over the limit."""
    form = world.service.request_upload(BOB, "attachment", "cat.png", "image/png", 50, public_room)
    world.files.put(form.key, 42)
    ref = Attachment(form.key, "cat.png", "image/png", 50)
    for text in ("bad\x00byte", "\x00", "ring\x07bell"):
        with pytest.raises(InvalidInput) as alone:
            world.service.post_message(BOB, public_room, text, "alone")
        with pytest.raises(InvalidInput) as beside:
            world.service.post_message(BOB, public_room, text, "beside", [ref])
        assert str(beside.value) == str(alone.value)
    too_long = "x" * (world.service.limits.max_text + 1)
    with pytest.raises(TooLarge):
        world.service.post_message(BOB, public_room, too_long, "long", [ref])
    blank = world.service.post_message(BOB, public_room, "  \n ", "blank", [ref])
    assert blank.text == ""
    worded = world.service.post_message(BOB, public_room, "  a cat \n", "worded", [ref])
    assert worded.text == "a cat"


def test_download_urls_follow_read_rights(world: World, private_room: str) -> None:
    key = f"rooms/{private_room}/{BOB.user_id}/01ARZ3NDEKTSV4RRFFQ69G5FAV/cat.png"
    assert world.service.download_url(ALICE, key).endswith(key)
    with pytest.raises(NotFound):
        world.service.download_url(CAROL, key)
    avatar = f"avatars/{BOB.user_id}/01ARZ3NDEKTSV4RRFFQ69G5FAV/me.png"
    assert world.service.download_url(CAROL, avatar).endswith(avatar)
    with pytest.raises(InvalidInput):
        world.service.download_url(CAROL, "secrets/../../x")


def test_safe_filename() -> None:
    assert safe_filename("C:\\Users\\me\\photo 1.JPG") == "photo_1.JPG"
    assert safe_filename("../../") == "file"
    assert len(safe_filename("a" * 500 + ".png")) == 100


def test_conflict_code_exists_for_clients() -> None:
    assert Conflict("x").code is ErrorCode.CONFLICT
