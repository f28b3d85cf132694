"""Threads, quotes and mentions in the service, on the in-memory stores (issue 17): what a post
resolves, who hears of a mention, and the thread view's pages."""

from __future__ import annotations

import pytest

from dynamotalk.domain import events as ev
from dynamotalk.domain.errors import Forbidden, InvalidInput, NotFound
from dynamotalk.domain.limits import MAX_MENTIONS
from dynamotalk.domain.mentions import called_in
from dynamotalk.domain.models import MentionAll, Role
from tests.unit.world import ALICE, BOB, CAROL, World


@pytest.mark.parametrize(
    ("text", "names", "everyone"),
    [
        ("hi @Bob.", ("bob",), None),
        ("mail bob@example.com or @@bob", (), None),
        ("@bob @BOB @carol", ("bob", "carol"), None),
        ("@here and @room", (), MentionAll.ROOM),
        ("@here-and-there", ("here-and-there",), None),
        ("no mention", (), None),
    ],
)
def test_mention_tokens(text: str, names: tuple[str, ...], everyone: MentionAll | None) -> None:
    called = called_in(text)
    assert (called.usernames, called.everyone) == (names, everyone)


def test_too_many_names_are_refused_from_the_text_alone() -> None:
    called_in(" ".join(f"@u{n:03d}" for n in range(MAX_MENTIONS)))
    with pytest.raises(InvalidInput, match=str(MAX_MENTIONS)):
        called_in(" ".join(f"@u{n:03d}" for n in range(MAX_MENTIONS + 1)))


def test_names_resolve_to_members_only_and_mentioned_members_hear_of_it(
    world: World, public_room: str
) -> None:
    s = world.service
    world.online(BOB, "bob-1")  # follows no room: hears of the mention all the same
    world.online(CAROL, "carol-1")
    posted = s.post_message(ALICE, public_room, "@bob @carol @alice @nobody look", "c1")
    assert posted.mentions == (BOB.user_id,)  # carol is no member, alice is the author
    mentions = [e for e in world.events("bob-1") if isinstance(e, ev.Mentioned)]
    assert mentions == [
        ev.Mentioned(public_room, posted.message_id, posted.seq or 0, ALICE.user_id, BOB.user_id)
    ]
    assert not [e for e in world.events("carol-1") if isinstance(e, ev.Mentioned)]


def test_unread_mentions_follow_the_read_marker(world: World, public_room: str) -> None:
    s = world.service
    first = s.post_message(ALICE, public_room, "@bob one", "c1")
    s.post_message(ALICE, public_room, "@room all", "c2")
    last = s.post_message(ALICE, public_room, "@bob two", "c3")

    def unread_mentions() -> int:
        return next(r.unread_mentions for r in s.my_rooms(BOB) if r.room.room_id == public_room)

    assert unread_mentions() == 2
    s.mark_read(BOB, public_room, first.message_id)
    assert unread_mentions() == 1
    s.mark_read(BOB, public_room, last.message_id)
    assert unread_mentions() == 0


def test_room_and_here_follow_the_permission_table(
    world: World, public_room: str, private_room: str
) -> None:
    s = world.service
    with pytest.raises(Forbidden):
        s.post_message(BOB, public_room, "@room hello", "c1")
    s.rooms.set_role(public_room, BOB.user_id, Role.MODERATOR)
    assert s.post_message(BOB, public_room, "@here hi", "c2").mentions_all is MentionAll.HERE
    assert s.post_message(BOB, private_room, "@room hi", "c3").mentions_all is MentionAll.ROOM


def test_replies_and_the_thread_view(world: World, public_room: str) -> None:
    s = world.service
    parent = s.post_message(ALICE, public_room, "topic", "p")
    replies = [
        s.post_message(BOB, public_room, f"reply {n}", f"r{n}", parent_id=parent.message_id)
        for n in range(3)
    ]
    also = s.post_message(
        BOB, public_room, "loud", "r3", parent_id=parent.message_id, also_in_room=True
    )
    history = s.history(BOB, public_room, None, None).messages
    assert [m.message_id for m in history] == [also.message_id, parent.message_id]
    assert history[1].reply_count == 4
    first = s.thread(BOB, public_room, parent.message_id, None, 3)
    assert [m.message_id for m in first.replies] == [r.message_id for r in replies]
    assert first.next_cursor is not None
    rest = s.thread(BOB, public_room, parent.message_id, first.next_cursor, 3)
    assert [m.message_id for m in rest.replies] == [also.message_id]
    assert rest.next_cursor is None
    other = s.post_message(ALICE, public_room, "other", "o")
    with pytest.raises(InvalidInput):
        s.thread(BOB, public_room, other.message_id, first.next_cursor, 3)
    with pytest.raises(InvalidInput):
        s.thread(BOB, public_room, replies[0].message_id, None, 3)
    with pytest.raises(InvalidInput):
        s.post_message(BOB, public_room, "deeper", "d", parent_id=replies[0].message_id)
    with pytest.raises(InvalidInput):
        s.post_message(BOB, public_room, "alone", "a", also_in_room=True)
    with pytest.raises(NotFound):
        s.post_message(BOB, public_room, "void", "v", parent_id="01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_a_quote_is_a_snapshot(world: World, public_room: str) -> None:
    s = world.service
    quoted = s.post_message(ALICE, public_room, "x" * 500, "q")
    quoting = s.post_message(BOB, public_room, "indeed", "i", quote_id=quoted.message_id)
    assert quoting.quote is not None
    assert (quoting.quote.author_name, len(quoting.quote.text)) == ("alice", 280)
    s.edit_message(ALICE, public_room, quoted.message_id, "changed")
    s.delete_message(ALICE, public_room, quoted.message_id)
    kept = s.messages.get(public_room, quoting.message_id)
    assert kept is not None
    assert kept.quote == quoting.quote
    with pytest.raises(NotFound):
        s.post_message(BOB, public_room, "gone", "g", quote_id=quoted.message_id)
