"""The message store's thread and mention contract (issue 17), on the same three backends as
test_store_contract.py: the in-memory fakes, DynamoDB Local and moto."""

from __future__ import annotations

import threading
from typing import Any

import attrs
import pytest

from dynamotalk.adapters.dynamodb import DynamoMessageStore
from dynamotalk.domain.errors import NotFound, RateLimited
from dynamotalk.domain.events import MessagePosted
from dynamotalk.domain.models import MentionAll, Message, Quote
from tests.integration.test_store_contract import mid, msg, stores

__all__ = ["stores"]  # fixtures

ROOM = "room-1"


def reply(n: int, parent: int, in_room: bool = False, author: str = "bob") -> Message:
    return attrs.evolve(msg(n, author=author), parent_id=mid(parent), also_in_room=in_room)


def test_a_reply_counts_on_its_parent_and_pages_in_its_thread(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    messages.append(msg(1))
    messages.append(reply(2, 1))
    messages.append(reply(3, 1, in_room=True))
    messages.append(msg(4))
    messages.append(reply(5, 1))
    parent = messages.get(ROOM, mid(1))
    assert (parent.reply_count, parent.last_reply_at) == (3, reply(5, 1).created_at)
    # The thread: oldest first, paged by the last id seen.
    assert [m.message_id for m in messages.thread(ROOM, mid(1), None, 2)] == [mid(2), mid(3)]
    assert [m.message_id for m in messages.thread(ROOM, mid(1), mid(3), 2)] == [mid(5)]
    assert messages.thread(ROOM, mid(4), None, 10) == []
    # The timeline: replies seen only in their thread are not in it, full pages all the same.
    timeline = [mid(1), mid(3), mid(4)]
    assert [m.message_id for m in messages.after(ROOM, None, 10)] == timeline
    assert [m.message_id for m in messages.before(ROOM, None, 2)] == [mid(4), mid(3)]
    assert [m.message_id for m in messages.before(ROOM, mid(3), 2)] == [mid(1)]
    assert messages.count_after(ROOM, None, 100) == 3
    # A reply is a message like any other by its id: one get, edit, react.
    stored = messages.get(ROOM, mid(2))
    assert (stored.parent_id, stored.also_in_room, stored.in_room) == (mid(1), False, False)
    assert messages.edit(ROOM, mid(2), "edited", 9).text == "edited"


def test_a_reply_post_carries_its_parents_counts(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    messages.append(msg(1))
    messages.append(reply(2, 1))
    seq = messages.get(ROOM, mid(2)).seq
    change = messages.feed.get(ROOM, seq)
    assert isinstance(change, MessagePosted)
    assert change.thread is not None
    assert (change.thread.parent_id, change.thread.reply_count) == (mid(1), 1)
    assert change.message.parent_id == mid(1)


def test_replies_to_a_missing_deleted_or_reply_parent_are_refused(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    messages.append(msg(1))
    messages.append(reply(2, 1))
    with pytest.raises(NotFound):
        messages.append(reply(3, 99))
    with pytest.raises(NotFound):
        messages.append(reply(4, 2))  # one level of threads
    messages.soft_delete(ROOM, mid(1), 10)
    with pytest.raises(NotFound):
        messages.append(reply(5, 1))
    assert messages.get(ROOM, mid(3)) is None
    assert messages.get(ROOM, mid(1)).reply_count == 1


def test_reply_counts_stay_exact_under_concurrent_replies(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    messages.append(msg(1))
    # On DynamoDB each writer is its own container (its own feed and room lock): real races.
    if isinstance(messages, DynamoMessageStore):
        writers = [DynamoMessageStore(messages.client, messages.table_name) for _ in range(6)]
    else:
        writers = [messages] * 6
    failures: list[BaseException] = []

    def post(writer: Any, n: int) -> None:
        try:
            for _ in range(30):  # what a client does with a retryable refusal
                try:
                    writer.append(reply(n, 1, author=f"user{n}"))
                    return
                except RateLimited:
                    continue
            failures.append(AssertionError(f"reply {n} never stored"))
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    replies = [
        threading.Thread(target=post, args=(writer, 100 + i * 3 + j))
        for i, writer in enumerate(writers)
        for j in range(3)
    ]
    for thread in replies:
        thread.start()
    for thread in replies:
        thread.join()
    assert failures == []
    assert messages.get(ROOM, mid(1)).reply_count == 18
    assert len(messages.thread(ROOM, mid(1), None, 100)) == 18
    # Each post carried the count it made: 1..18, each once.
    counts = sorted(
        c.thread.reply_count
        for c in messages.feed.after(ROOM, 0, 100)
        if isinstance(c, MessagePosted) and c.thread is not None
    )
    assert counts == list(range(1, 19))


def test_quote_and_mentions_round_trip_and_mentions_count(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    quote = Quote(mid(1), "alice", "Alice", 5, "quoted text")
    messages.append(msg(1))
    posted = attrs.evolve(
        msg(2), quote=quote, mentions=("bob", "carol"), mentions_all=MentionAll.HERE
    )
    messages.append(posted)
    messages.append(attrs.evolve(msg(3), mentions=("bob",)))
    messages.append(attrs.evolve(reply(4, 1), mentions=("bob",)))
    stored = messages.get(ROOM, mid(2))
    assert (stored.quote, stored.mentions, stored.mentions_all) == (
        quote,
        ("bob", "carol"),
        MentionAll.HERE,
    )
    assert messages.count_mentions(ROOM, "bob", None, 100) == 3
    assert messages.count_mentions(ROOM, "bob", mid(2), 100) == 2
    assert messages.count_mentions(ROOM, "bob", mid(4), 100) == 0
    assert messages.count_mentions(ROOM, "bob", None, 2) == 2
    assert messages.count_mentions(ROOM, "carol", mid(1), 100) == 1
    assert messages.count_mentions(ROOM, "alice", None, 100) == 0
    assert messages.count_mentions("room-2", "bob", None, 100) == 0


def test_mentions_by_hidden_authors_do_not_count(stores: dict[str, Any]) -> None:
    # A member who blocked an author reads their mentions as nothing (service/rooms.py passes
    # the member's blocks): the others still count, and so does everyone else's count.
    messages = stores["messages"]
    messages.append(attrs.evolve(msg(1), author_id="mallory", mentions=("bob", "carol")))
    messages.append(attrs.evolve(msg(2), author_id="alice", mentions=("bob",)))
    messages.append(attrs.evolve(msg(3), author_id="mallory", mentions=("bob",)))
    assert messages.count_mentions(ROOM, "bob", None, 100) == 3
    assert messages.count_mentions(ROOM, "bob", None, 100, frozenset({"mallory"})) == 1
    assert messages.count_mentions(ROOM, "bob", None, 100, frozenset({"mallory", "alice"})) == 0
    assert messages.count_mentions(ROOM, "bob", mid(1), 100, frozenset({"mallory"})) == 1
    assert messages.count_mentions(ROOM, "carol", None, 100, frozenset({"alice"})) == 1
    many = frozenset(f"user-{n}" for n in range(250)) | {"mallory"}  # three NOT IN groups
    assert messages.count_mentions(ROOM, "bob", None, 100, many) == 1
