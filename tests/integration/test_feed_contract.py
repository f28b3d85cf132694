"""The change feed's contract on the in-memory fakes, DynamoDB Local and moto: every room change
gets the room's next number, atomically with the change, with no gap and no repeat, whoever
races for it; and the feed holds each change exactly as it left the room."""

from __future__ import annotations

import threading
import time
from typing import Any

import attrs
import pytest

from dynamotalk.adapters.dynamodb import DynamoMessageStore
from dynamotalk.domain import events as ev
from dynamotalk.domain.errors import RateLimited
from dynamotalk.domain.limits import MAX_SEQ
from dynamotalk.domain.models import Membership, Message, Role, Room, RoomKind
from dynamotalk.tables import keys as k
from dynamotalk.tables.changes import CHANGE_TTL_S
from tests.integration.test_store_contract import LIMITS, _client_for, dynamo, mid, msg, stores

__all__ = ["dynamo", "stores"]  # fixtures


def _room(stores: dict[str, Any], room_id: str = "room-1") -> None:
    room = Room(room_id, "General", RoomKind.PUBLIC, "alice", 1)
    stores["rooms"].create(room, [Membership(room_id, "alice", Role.OWNER, 1)])


def _feed(stores: dict[str, Any]) -> Any:
    return stores["messages"].feed


def test_every_kind_of_change_is_numbered_in_order(stores: dict[str, Any]) -> None:
    messages, rooms = stores["messages"], stores["rooms"]
    _room(stores)
    posted, _ = messages.append(msg(1))
    edited = messages.edit("room-1", mid(1), "edited", 20)
    reacted = messages.set_reaction("room-1", mid(1), "👍", "bob", True, LIMITS)
    assert rooms.add_member(Membership("room-1", "bob", Role.MEMBER, 30))
    rooms.set_role("room-1", "bob", Role.OWNER)
    left = rooms.remove_member("room-1", "bob")
    deleted = messages.soft_delete("room-1", mid(1), 40)
    feed = _feed(stores)
    changes = feed.after("room-1", 0, 100)
    assert [c.seq for c in changes] == [1, 2, 3, 4, 5, 6, 7]
    assert feed.head("room-1") == 7
    assert changes[0] == ev.MessagePosted(posted, 1)
    assert posted.seq == 1
    assert changes[1] == ev.MessageEdited(edited, 2)
    assert changes[2] == ev.ReactionChanged(reacted, "👍", "bob", True, 3)
    assert isinstance(changes[3], ev.MemberJoined)
    assert changes[3].membership.role is Role.MEMBER
    assert isinstance(changes[4], ev.MemberJoined)
    assert changes[4].membership.role is Role.OWNER
    assert changes[5] == left == ev.MemberLeft("room-1", "bob", 6)
    assert changes[6] == ev.MessageDeleted(deleted, 7)
    assert feed.get("room-1", 3) == changes[2]
    assert feed.get("room-1", 8) is None
    assert feed.after("room-1", 5, 1) == [changes[5]]
    assert feed.after("room-2", 0, 10) == []
    assert feed.head("room-2") == 0


def test_what_changes_nothing_is_not_numbered(stores: dict[str, Any]) -> None:
    messages, rooms = stores["messages"], stores["rooms"]
    _room(stores)
    messages.append(msg(1))
    assert messages.append(msg(1))[1] is False  # a retry of the same client id
    messages.set_reaction("room-1", mid(1), "👍", "bob", False, LIMITS)  # not reacted yet
    messages.soft_delete("room-1", mid(1), 5)
    messages.soft_delete("room-1", mid(1), 6)  # deleted already
    assert not rooms.add_member(Membership("room-1", "alice", Role.MEMBER, 2))  # a member
    assert rooms.remove_member("room-1", "nobody") is None
    rooms.set_role("room-1", "alice", Role.OWNER)  # already the owner
    assert [c.seq for c in _feed(stores).after("room-1", 0, 10)] == [1, 2]


def test_racing_writers_get_every_number_once(stores: dict[str, Any]) -> None:
    """Six writers (each its own store, as separate Lambda containers are) posting at once into
    one room: 1..N, each message its own number."""
    messages = stores["messages"]
    _room(stores)
    writers, each = 6, 5
    errors: list[BaseException] = []

    def write(w: int) -> None:
        own = _another(messages)
        try:
            for i in range(each):
                n = 1 + w * each + i
                for _ in range(20):  # as a client does: `rate_limited` -> retry, same client id
                    try:
                        own.append(msg(n, author=f"user-{w}"))
                        break
                    except RateLimited:
                        time.sleep(0.05)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    changes = _feed(stores).after("room-1", 0, 100)
    assert [c.seq for c in changes] == list(range(1, writers * each + 1))
    posted = {c.message.message_id: c.seq for c in changes if isinstance(c, ev.MessagePosted)}
    assert len(posted) == writers * each
    for message_id, seq in posted.items():
        assert messages.get("room-1", message_id).seq == seq


def _another(messages: Any) -> Any:
    """The same store as another container would build it (its own client and feed); the
    in-memory store is one process's, shared."""
    if isinstance(messages, DynamoMessageStore):
        return DynamoMessageStore(_client_for(messages.client), messages.table_name)
    return messages


def test_the_feed_replays_to_the_stored_state_under_racing_changes(
    stores: dict[str, Any],
) -> None:
    """Reactions and an edit race on one message: applying the feed's snapshots in order
    gives exactly the stored message (no change's snapshot misses another's effect)."""
    messages = stores["messages"]
    _room(stores)
    messages.append(msg(1))

    def react(user: str) -> None:
        own = _another(messages)
        own.set_reaction("room-1", mid(1), "👍", user, True, LIMITS)
        own.set_reaction("room-1", mid(1), "🎉", user, True, LIMITS)

    threads = [threading.Thread(target=react, args=(f"u{i}",)) for i in range(5)]
    editor = _another(messages)
    threads.append(threading.Thread(target=editor.edit, args=("room-1", mid(1), "new", 9)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state: dict[str, Message] = {}
    for change in _feed(stores).after("room-1", 0, 100):
        assert isinstance(change, ev.MessagePosted | ev.MessageEdited | ev.ReactionChanged)
        state[change.message.message_id] = change.message
    stored = messages.get("room-1", mid(1))
    assert attrs.evolve(state[mid(1)], seq=stored.seq) == stored
    assert stored.text == "new"
    assert stored.reactions == {
        "👍": {f"u{i}" for i in range(5)},
        "🎉": {f"u{i}" for i in range(5)},
    }


def test_a_change_item_expires_after_the_feeds_retention(dynamo: tuple[Any, str]) -> None:
    from dynamotalk.adapters.dynamodb import DynamoMessageStore
    from dynamotalk.tables.codecs import key

    client, table = dynamo
    DynamoMessageStore(client, table).append(msg(1))
    item = client.get_item(TableName=table, Key=key(k.room_pk("room-1"), k.seq_sk(1)))["Item"]
    expires_at = int(item["expires_at"]["N"])
    assert abs(expires_at - (time.time() + CHANGE_TTL_S)) < 120


@pytest.mark.parametrize("seq", [0, 1, MAX_SEQ - 1])
def test_feed_keys_sort_in_sequence_order(seq: int) -> None:
    assert k.seq_of(k.seq_sk(seq)) == seq
    assert k.seq_sk(seq) < k.seq_sk(seq + 1) < k.SEQ_END
