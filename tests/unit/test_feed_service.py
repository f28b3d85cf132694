"""The change feed through the service (sync v2, history's seq) and read receipts, on the
in-memory stores."""

from __future__ import annotations

import attrs
import pytest

from dynamotalk.adapters.memory import MemoryChangeFeed
from dynamotalk.domain import events as ev
from dynamotalk.domain.errors import FeedExpired, InvalidInput
from dynamotalk.domain.limits import RECEIPT_AUDIENCE
from dynamotalk.domain.models import RoomKind
from tests.unit.world import ALICE, BOB, CAROL, MALLORY, World


def test_changes_page_through_the_feed_in_order(world: World, public_room: str) -> None:
    first = world.service.post_message(ALICE, public_room, "one", "k1")
    world.service.edit_message(ALICE, public_room, first.message_id, "one!")
    world.service.react(BOB, public_room, first.message_id, "👍")
    world.service.post_message(BOB, public_room, "two", "k2")
    head = world.feed.head(public_room)
    seen: list[ev.RoomChange] = []
    after = 0
    while True:
        page = world.service.changes(BOB, public_room, after, 2)
        seen += page.changes
        assert page.seq == (page.changes[-1].seq if page.changes else after)
        after = page.seq
        if not page.has_more:
            break
    assert [c.seq for c in seen] == list(range(1, head + 1))
    assert [type(c) for c in seen[-4:]] == [
        ev.MessagePosted,
        ev.MessageEdited,
        ev.ReactionChanged,
        ev.MessagePosted,
    ]
    # Up to date: nothing after the head, and the same seq back.
    assert world.service.changes(BOB, public_room, head, None) == ev.ChangePage(
        public_room, (), head, has_more=False
    )


def test_history_names_the_feed_position_it_was_read_at(world: World, public_room: str) -> None:
    world.service.post_message(ALICE, public_room, "one", "k1")
    page = world.service.history(BOB, public_room, None, 10)
    assert page.seq == world.feed.head(public_room)
    assert page.messages[0].seq == page.seq  # the newest change is that post


def test_a_seq_past_the_head_or_below_zero_is_refused(world: World, public_room: str) -> None:
    head = world.feed.head(public_room)
    with pytest.raises(InvalidInput):
        world.service.changes(BOB, public_room, head + 1, None)
    with pytest.raises(InvalidInput):
        world.service.changes(BOB, public_room, -1, None)


def test_a_seq_the_feed_no_longer_holds_is_feed_expired(world: World, public_room: str) -> None:
    for n in range(3):
        world.service.post_message(ALICE, public_room, f"m{n}", f"k{n}")
    head = world.feed.head(public_room)
    trimmed = attrs.evolve(world.service, feed=_Trimmed(world.feed, oldest=head - 1))
    with pytest.raises(FeedExpired):
        trimmed.changes(BOB, public_room, head - 3, None)
    assert trimmed.changes(BOB, public_room, head - 2, None).changes[0].seq == head - 1


@attrs.define
class _Trimmed:
    """A feed whose changes before `oldest` DynamoDB's TTL has removed."""

    feed: MemoryChangeFeed
    oldest: int

    def head(self, room_id: str) -> int:
        return self.feed.head(room_id)

    def after(self, room_id: str, seq: int, limit: int) -> list[ev.RoomChange]:
        return self.feed.after(room_id, max(seq, self.oldest - 1), limit)

    def get(self, room_id: str, seq: int) -> ev.RoomChange | None:
        return self.feed.get(room_id, seq) if seq >= self.oldest else None


def test_non_members_cannot_read_a_private_rooms_feed(world: World, private_room: str) -> None:
    from dynamotalk.domain.errors import NotFound

    with pytest.raises(NotFound):
        world.service.changes(MALLORY, private_room, 0, None)


def _receipts(world: World, connection_id: str) -> list[ev.ReadMoved]:
    return [e for e in world.events(connection_id) if isinstance(e, ev.ReadMoved)]


def test_a_read_receipt_goes_to_members_only_when_the_marker_moves(
    world: World, public_room: str
) -> None:
    world.online(ALICE, "c-alice", public_room)
    world.online(MALLORY, "c-mallory", public_room)  # follows the public room, not a member
    first = world.service.post_message(ALICE, public_room, "one", "k1")
    second = world.service.post_message(ALICE, public_room, "two", "k2")
    assert _receipts(world, "c-alice") == []  # posting marks one's own message: no receipt
    world.service.mark_read(BOB, public_room, second.message_id)
    assert _receipts(world, "c-alice") == [
        ev.ReadMoved(public_room, BOB.user_id, second.message_id, second.seq)
    ]
    world.service.mark_read(BOB, public_room, first.message_id)  # backwards: nothing
    assert len(_receipts(world, "c-alice")) == 1
    assert _receipts(world, "c-mallory") == []


def test_no_receipts_in_a_room_with_more_live_connections_than_the_audience(
    world: World, public_room: str
) -> None:
    for n in range(RECEIPT_AUDIENCE + 1):
        world.service.connect(f"c-{n}", ALICE)
        world.service.subscribe(ALICE, f"c-{n}", [public_room])
    posted = world.service.post_message(ALICE, public_room, "hi", "k1")
    world.service.mark_read(BOB, public_room, posted.message_id)
    assert _receipts(world, "c-0") == []


def test_receipts_in_a_private_room_reach_its_members(world: World, private_room: str) -> None:
    world.online(ALICE, "c-alice", private_room)
    posted = world.service.post_message(ALICE, private_room, "psst", "k1")
    world.service.mark_read(BOB, private_room, posted.message_id)
    assert [r.user_id for r in _receipts(world, "c-alice")] == [BOB.user_id]
    assert world.service.rooms.get(private_room).kind is RoomKind.PRIVATE  # type: ignore[union-attr]
    assert CAROL  # (a third user exists; she is no member and follows nothing)
