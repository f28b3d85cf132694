"""ErasureStore (erasure_ports.py): one suite for the in-memory store and the DynamoDB adapter
on DynamoDB Local and moto, over the real user, message, room and push stores: the job is
created once, the partition wiped in bounded pages, the username freed only if still the
user's, authors listed with thread-only replies, rewrites conditional on the old author, and
others' messages, mention items and the change feed scrubbed of the user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dynamotalk.adapters import memory
from dynamotalk.adapters.dynamodb import DynamoMessageStore, DynamoRoomStore, DynamoUserStore
from dynamotalk.adapters.dynamodb.erasure import DynamoErasureStore
from dynamotalk.adapters.dynamodb.feed import DynamoChangeFeed
from dynamotalk.adapters.dynamodb.push import DynamoPushStore
from dynamotalk.adapters.memory.erasure import MemoryErasureStore
from dynamotalk.adapters.memory.push import MemoryPushStore
from dynamotalk.domain.erasure import ERASED_AUTHOR, ERASED_NAME, ErasePolicy, ErasureJob, Step
from dynamotalk.domain.events import MemberJoined, MemberLeft, ReactionChanged
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import Membership, Message, Quote, Role, Room, RoomKind, User
from dynamotalk.domain.push import PushSubscription
from tests.integration.test_store_contract import BACKENDS, _client


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    if request.param == "memory":
        feed = memory.MemoryChangeFeed()
        users, rooms = memory.MemoryUserStore(), memory.MemoryRoomStore(feed=feed)
        messages, push = memory.MemoryMessageStore(feed=feed), MemoryPushStore()
        erasure: Any = MemoryErasureStore(users, messages, rooms, push)
        yield {
            **{"users": users, "rooms": rooms, "messages": messages, "push": push},
            **{"e": erasure, "feed": feed},
        }
        return
    fixture = "dynamodb_local" if request.param == "dynamodb-local" else "moto_server"
    client, table = _client(request.getfixturevalue(fixture))
    yield {
        "users": DynamoUserStore(client, table),
        "rooms": DynamoRoomStore(client, table),
        "messages": DynamoMessageStore(client, table),
        "push": DynamoPushStore(client, table),
        "e": DynamoErasureStore(client, table),
        "feed": DynamoChangeFeed(client, table),
    }
    client.delete_table(TableName=table)


def job(**changes: Any) -> ErasureJob:
    fields = {
        "user_id": "u1",
        "erasure_id": "E1",
        "sign_in": "ann",
        "username": "Ann",
        "avatar_key": "avatars/u1/a.png",
        "policy": ErasePolicy.ANONYMISE,
        "created_at": 5,
        **changes,
    }
    return ErasureJob(**fields)


def test_a_job_is_created_once_and_saved(stores: dict[str, Any]) -> None:
    e = stores["e"]
    assert e.get("u1") is None
    assert e.create(job()) == job()
    assert e.create(job(erasure_id="E2")).erasure_id == "E1"  # the first one stays
    progressed = job(steps_done=(Step.SOCKETS,), room_cursor="r1", message_cursor="m9")
    e.save(progressed)
    assert e.get("u1") == progressed


def test_the_partition_is_wiped_in_bounded_pages_and_the_name_freed(
    stores: dict[str, Any],
) -> None:
    users, push, e = stores["users"], stores["push"], stores["e"]
    users.put(User("u1", "Ann", "Ann", created_at=1))
    users.put(User("u2", "Bob", "Bob", created_at=1))
    for n in range(4):
        push.put_subscription(PushSubscription("u1", f"d{n}", "https://x", "k", "a", 1))
    e.create(job())
    while not e.wipe_user("u1", 2):
        pass
    assert users.get("u1") is None
    assert push.subscriptions("u1") == []
    assert users.get("u2") is not None
    assert e.get("u1") is not None  # the job is outside the partition
    e.free_username("Bob", "u1")  # not u1's: kept
    assert users.by_username("Bob") is not None
    e.free_username("Ann", "u1")
    assert users.by_username("Ann") is None
    assert users.put(User("u3", "ann", "ann", created_at=2))  # free for a new sign-up


def test_authors_include_thread_replies_and_rewrites_are_conditional(
    stores: dict[str, Any],
) -> None:
    rooms, messages, e = stores["rooms"], stores["messages"], stores["e"]
    room = Room("r1", "General", RoomKind.PUBLIC, created_by="u1", created_at=1)
    rooms.create(room, [Membership("r1", "u1", Role.OWNER, 1)])
    ids = [f"01J0000000000000000000000{n}" for n in range(4)]
    for n, message_id in enumerate(ids[:3]):
        author = "u1" if n != 1 else "u2"
        messages.append(Message(message_id, "r1", author, f"m{n}", n + 2, f"c{n}"))
    reply = Message(ids[3], "r1", "u1", "reply", 9, "c3", parent_id=ids[0])
    messages.append(reply)
    found = e.authors("r1", None, 10)
    assert found == [(ids[3], "u1"), (ids[2], "u1"), (ids[1], "u2"), (ids[0], "u1")]
    assert e.authors("r1", ids[2], 1) == [(ids[1], "u2")]  # paging back from a cursor
    e.anonymise("r1", ids[0], "u1")
    e.anonymise("r1", ids[1], "u1")  # by u2: untouched
    assert messages.get("r1", ids[0]).author_id == ERASED_AUTHOR
    assert messages.get("r1", ids[1]).author_id == "u2"
    e.anonymise_room("r1", "u2")  # not the creator: untouched
    assert rooms.get("r1").created_by == "u1"
    e.anonymise_room("r1", "u1")
    assert rooms.get("r1").created_by == ERASED_AUTHOR


def test_others_messages_mentions_and_the_feed_lose_the_user(stores: dict[str, Any]) -> None:
    rooms, messages, e, feed = stores["rooms"], stores["messages"], stores["e"], stores["feed"]
    room = Room("r1", "General", RoomKind.PUBLIC, created_by="u2", created_at=1)
    rooms.create(room, [Membership("r1", "u2", Role.OWNER, 1)])
    rooms.add_member(Membership("r1", "u1", Role.MEMBER, 2))
    own, other = "01J00000000000000000000001", "01J00000000000000000000002"
    messages.append(Message(own, "r1", "u1", "mine", 3, "c1", mentions=("u2",)))
    quote = Quote(own, "u1", "Ann", 3, "mine")
    messages.append(
        Message(other, "r1", "u2", "@Ann yes", 4, "c2", quote=quote, mentions=("u1", "u2"))
    )
    for emoji, user in (("👍", "u1"), ("👍", "u2"), ("🎉", "u1")):
        messages.set_reaction("r1", other, emoji, user, True, Limits())
    rooms.remove_member("r1", "u1")
    assert messages.count_mentions("r1", "u1", None, 10) == 1
    page = e.scrub_messages("r1", None, 10, "u1")
    assert page == [(other, "u2"), (own, "u1")]
    scrubbed = messages.get("r1", other)
    assert dict(scrubbed.reactions) == {"👍": frozenset({"u2"})}
    assert scrubbed.quote == Quote(own, ERASED_AUTHOR, ERASED_NAME, 3, "mine")
    assert scrubbed.mentions == ("u2",)
    assert messages.get("r1", own).author_id == "u1"  # the user's own: the message path's
    messages.set_reaction("r1", other, "🎉", "u2", True, Limits())  # the counts still add up
    assert set(messages.get("r1", other).reactions) == {"👍", "🎉"}
    e.drop_mentions("r1", "u1")
    assert messages.count_mentions("r1", "u1", None, 10) == 0
    assert messages.count_mentions("r1", "u2", None, 10) == 2
    cursor, looked = 0, 0
    while cursor is not None:  # bounded pages of 2
        cursor = e.scrub_changes("r1", cursor, 2, "u1", ErasePolicy.ANONYMISE)
        looked += 1
    assert looked >= 3
    changes = feed.after("r1", 0, 100)
    assert changes, "the room has a feed"
    text = repr(changes)
    assert "'u1'" not in text
    assert "Ann'" not in text
    assert any(isinstance(c, MemberJoined) for c in changes)
    assert any(isinstance(c, MemberLeft) and c.user_id == ERASED_AUTHOR for c in changes)
    reacted = [c for c in changes if isinstance(c, ReactionChanged)]
    assert reacted
    assert all("u1" not in u for c in reacted for u in c.message.reactions.values())
