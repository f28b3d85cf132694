"""One contract per store port, run against the in-memory fakes, DynamoDB Local and moto.

The same assertions on all three keep the fakes honest: a behaviour the unit tests rely on must
be what DynamoDB actually does.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import attrs
import boto3
import pytest
from botocore.exceptions import ClientError

from dynamotalk.adapters import memory
from dynamotalk.adapters.dynamodb import (
    DynamoConnectionRegistry,
    DynamoMessageStore,
    DynamoRoomStore,
    DynamoUserStore,
)
from dynamotalk.domain.errors import NotFound, RateLimited, TooLarge
from dynamotalk.domain.ids import encode_ulid
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import (
    Attachment,
    Connection,
    Membership,
    Message,
    Role,
    Room,
    RoomKind,
    Subscription,
    User,
)
from dynamotalk.tables import create_table_request

_names = itertools.count()
BACKENDS = ["memory", "dynamodb-local", "moto"]
LIMITS = Limits()


def _client(endpoint: str) -> Any:
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    name = f"contract-{next(_names)}"
    client.create_table(**create_table_request(name))
    return client, name


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    if request.param == "memory":
        feed = memory.MemoryChangeFeed()
        yield {
            "messages": memory.MemoryMessageStore(feed=feed),
            "rooms": memory.MemoryRoomStore(feed=feed),
            "users": memory.MemoryUserStore(),
            "connections": memory.MemoryConnectionRegistry(),
        }
        return
    fixture = "dynamodb_local" if request.param == "dynamodb-local" else "moto_server"
    client, table = _client(request.getfixturevalue(fixture))
    yield {
        "messages": DynamoMessageStore(client, table),
        "rooms": DynamoRoomStore(client, table),
        "users": DynamoUserStore(client, table),
        "connections": DynamoConnectionRegistry(client, table),
    }
    client.delete_table(TableName=table)


def mid(n: int) -> str:
    """The n-th message id: valid, time-ordered ULIDs."""
    return encode_ulid(((1_700_000_000_000 + n) << 80) | n)


def msg(
    n: int, room: str = "room-1", author: str = "alice", client_id: str | None = None
) -> Message:
    return Message(
        message_id=mid(n),
        room_id=room,
        author_id=author,
        text=f"message {n}",
        created_at=1_700_000_000_000 + n,
        client_id=client_id or f"c{n}",
    )


# --- MessageStore ---------------------------------------------------------------------------


def test_append_is_idempotent_per_author_and_client_id(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    first, created = messages.append(msg(1, client_id="same"))
    assert created
    retry = Message(
        message_id=mid(2),
        room_id="room-1",
        author_id="alice",
        text="different",
        created_at=5,
        client_id="same",
    )
    again, created_again = messages.append(retry)
    assert not created_again
    assert again == first
    assert [m.message_id for m in messages.after("room-1", None, 10)] == [mid(1)]
    # Another author may use the same client id: that is another message.
    _, other_created = messages.append(msg(3, author="bob", client_id="same"))
    assert other_created


def test_message_round_trips_with_attachments(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    attachment = Attachment("rooms/room-1/alice/x/cat.png", "cat.png", "image/png", 1234)
    original = Message(
        message_id=mid(1),
        room_id="room-1",
        author_id="alice",
        text="héllo 👋 \u200b",
        created_at=17,
        client_id="c1",
        attachments=(attachment,),
    )
    stored, created = messages.append(original)
    assert created
    assert stored == attrs.evolve(original, seq=1)  # the room's first change
    assert messages.get("room-1", mid(1)) == stored
    assert messages.get("room-1", mid(2)) is None
    assert messages.get("room-2", mid(1)) is None


def test_edit_delete_and_missing_messages(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    messages.append(msg(1))
    edited = messages.edit("room-1", mid(1), "new text", 99)
    assert (edited.text, edited.edited_at) == ("new text", 99)
    assert messages.get("room-1", mid(1)) == edited
    with pytest.raises(NotFound):
        messages.edit("room-1", mid(9), "x", 1)
    with pytest.raises(NotFound):
        messages.soft_delete("room-1", mid(9), 1)
    with pytest.raises(NotFound):
        messages.set_reaction("room-1", mid(9), "👍", "bob", True, LIMITS)


def test_soft_delete_keeps_the_slot_and_clears_content(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    for n in (1, 2, 3):
        messages.append(msg(n))
    messages.set_reaction("room-1", mid(2), "👍", "bob", True, LIMITS)
    deleted = messages.soft_delete("room-1", mid(2), 50)
    assert deleted.deleted
    assert deleted.deleted_at == 50
    assert (deleted.text, deleted.attachments, dict(deleted.reactions)) == ("", (), {})
    assert [m.message_id for m in messages.before("room-1", None, 10)] == [mid(3), mid(2), mid(1)]
    with pytest.raises(NotFound):
        messages.edit("room-1", mid(2), "revive", 60)
    with pytest.raises(NotFound):
        messages.set_reaction("room-1", mid(2), "👍", "bob", True, LIMITS)


def test_reactions_toggle_per_user_and_emoji(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    messages.append(msg(1))
    messages.set_reaction("room-1", mid(1), "👍", "bob", True, LIMITS)
    messages.set_reaction("room-1", mid(1), "👍", "carol", True, LIMITS)
    after = messages.set_reaction("room-1", mid(1), "🎉", "bob", True, LIMITS)
    assert dict(after.reactions) == {"👍": {"bob", "carol"}, "🎉": {"bob"}}
    again = messages.set_reaction("room-1", mid(1), "👍", "bob", True, LIMITS)
    assert again.reactions["👍"] == {"bob", "carol"}
    removed = messages.set_reaction("room-1", mid(1), "🎉", "bob", False, LIMITS)
    assert dict(removed.reactions) == {"👍": {"bob", "carol"}}
    assert messages.get("room-1", mid(1)).reactions == removed.reactions


def test_pages_newest_first_visit_every_message_once(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    for n in range(1, 24):
        messages.append(msg(n))
    messages.append(msg(100, room="room-2"))
    seen: list[str] = []
    before = None
    while True:
        page = messages.before("room-1", before, 5)
        if not page:
            break
        seen += [m.message_id for m in page]
        before = page[-1].message_id
    assert seen == [mid(n) for n in range(23, 0, -1)]


def test_after_is_gap_free_and_ordered(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    for n in range(1, 11):
        messages.append(msg(n))
    assert [m.message_id for m in messages.after("room-1", mid(7), 10)] == [mid(8), mid(9), mid(10)]
    assert [m.message_id for m in messages.after("room-1", None, 3)] == [mid(1), mid(2), mid(3)]
    assert messages.after("room-1", mid(10), 10) == []
    assert [m.message_id for m in messages.after("room-1", mid(3), 2)] == [mid(4), mid(5)]


def test_count_after_is_exact_up_to_the_cap(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    for n in range(1, 13):
        messages.append(msg(n))
    assert messages.count_after("room-1", None, 100) == 12
    assert messages.count_after("room-1", mid(4), 100) == 8
    assert messages.count_after("room-1", mid(4), 5) == 5
    assert messages.count_after("room-1", mid(12), 100) == 0
    assert messages.count_after("room-9", None, 100) == 0


def test_reactions_take_any_short_emoji_string(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    messages.append(msg(1))
    # Strings that would break a bare attribute name or an expression if not placeholdered.
    emojis = ["👨\u200d👩\u200d👧\u200d👦", "a.b#c:d", "#text", ":user", "r#x", "Ω" * 16]
    for emoji in emojis:
        messages.set_reaction("room-1", mid(1), emoji, "bob", True, LIMITS)
    assert dict(messages.get("room-1", mid(1)).reactions) == {e: {"bob"} for e in emojis}
    for emoji in emojis:
        last = messages.set_reaction("room-1", mid(1), emoji, "bob", False, LIMITS)
    assert dict(last.reactions) == {}
    assert dict(messages.get("room-1", mid(1)).reactions) == {}
    # Removing a reaction nobody made changes nothing and is no error.
    assert dict(messages.set_reaction("room-1", mid(1), "👍", "bob", False, LIMITS).reactions) == {}


def test_reaction_caps_hold_however_many_react_at_once(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    messages.append(msg(1))
    caps = Limits(max_reaction_kinds=4, max_reactions_per_user=3)
    kinds = ["😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊"]

    def race(calls: list[tuple[str, str]]) -> list[str]:
        start = threading.Barrier(len(calls))
        outcomes: list[str] = []

        def react(emoji: str, user: str) -> None:
            start.wait()
            try:
                messages.set_reaction("room-1", mid(1), emoji, user, True, caps)
                outcomes.append("added")
            except TooLarge:
                outcomes.append("refused")

        threads = [threading.Thread(target=react, args=call) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    # Ten users, ten new emoji at once: exactly the cap of distinct emoji gets in.
    outcomes = race([(emoji, f"user-{n}") for n, emoji in enumerate(kinds)])
    assert sorted(outcomes) == ["added"] * 4 + ["refused"] * 6
    stored = messages.get("room-1", mid(1)).reactions
    assert len(stored) == 4
    # One user, every stored emoji at once: exactly their cap gets in.
    outcomes = race([(emoji, "greedy") for emoji in stored])
    assert sorted(outcomes) == ["added"] * 3 + ["refused"]
    final = messages.get("room-1", mid(1)).reactions
    assert sum("greedy" in users for users in final.values()) == 3
    # A freed slot is free again: removing the last reactor of an emoji lets a new one in.
    emoji, users = next(iter(final.items()))
    for user in users:
        messages.set_reaction("room-1", mid(1), emoji, user, False, caps)
    # (An emoji that lost the first race: which ones won depends on the threads' order.)
    fresh = next(e for e in kinds if e not in final)
    again = messages.set_reaction("room-1", mid(1), fresh, "user-x", True, caps)
    assert len(again.reactions) == 4
    assert fresh in again.reactions


def test_soft_delete_twice_keeps_the_first_deletion(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    messages.append(msg(1))
    first = messages.soft_delete("room-1", mid(1), 50)
    again = messages.soft_delete("room-1", mid(1), 60)
    assert again == first
    assert again.deleted_at == 50


def test_empty_limits_give_empty_answers(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    for n in (1, 2):
        messages.append(msg(n))
    assert messages.before("room-1", None, 0) == []
    assert messages.after("room-1", None, 0) == []
    assert messages.count_after("room-1", None, 0) == 0
    stores["rooms"].create(room("r1"), [member("r1", "alice")])
    assert stores["rooms"].public_rooms(0) == []


def test_concurrent_retries_of_one_post_store_it_once(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    results: list[tuple[Message, bool]] = []
    lock = threading.Lock()

    def post(n: int) -> None:
        # What a client does: retry a retryable refusal with the same client id.
        for _ in range(20):
            try:
                outcome = messages.append(msg(n, client_id="one-post"))
            except RateLimited:
                continue
            with lock:
                results.append(outcome)
            return

    threads = [threading.Thread(target=post, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert sum(created for _, created in results) == 1
    assert len({stored for stored, _ in results}) == 1
    assert len(messages.after("room-1", None, 100)) == 1


# --- RoomStore ------------------------------------------------------------------------------


def room(room_id: str, kind: RoomKind = RoomKind.PUBLIC, created_at: int = 1) -> Room:
    return Room(room_id, f"name {room_id}", kind, "alice", created_at)


def member(room_id: str, user_id: str, role: Role = Role.MEMBER) -> Membership:
    return Membership(room_id, user_id, role, 5)


def test_create_room_once_with_members(stores: dict[str, Any]) -> None:
    rooms = stores["rooms"]
    assert rooms.create(room("r1"), [member("r1", "alice", Role.OWNER), member("r1", "bob")])
    assert not rooms.create(room("r1"), [member("r1", "mallory")])
    assert rooms.get("r1") == room("r1")
    assert rooms.get("nope") is None
    assert {m.user_id for m in rooms.members("r1")} == {"alice", "bob"}
    assert rooms.member("r1", "mallory") is None
    assert rooms.member("r1", "alice") == member("r1", "alice", Role.OWNER)


def test_create_room_with_a_repeated_member(stores: dict[str, Any]) -> None:
    rooms = stores["rooms"]
    owner = member("r1", "alice", Role.OWNER)
    assert rooms.create(room("r1"), [member("r1", "alice"), owner])
    assert rooms.members("r1") == [owner]


def test_direct_room_keeps_its_pair(stores: dict[str, Any]) -> None:
    rooms = stores["rooms"]
    direct = Room("dm-1", "a & b", RoomKind.DIRECT, "a", 3, direct_pair=("a", "b"))
    rooms.create(direct, [member("dm-1", "a"), member("dm-1", "b")])
    assert rooms.get("dm-1") == direct


def test_membership_changes_and_rooms_of_a_user(stores: dict[str, Any]) -> None:
    rooms = stores["rooms"]
    rooms.create(room("r1"), [member("r1", "alice", Role.OWNER)])
    rooms.create(room("r2", RoomKind.PRIVATE), [member("r2", "alice", Role.OWNER)])
    assert rooms.add_member(member("r1", "bob"))
    assert not rooms.add_member(member("r1", "bob"))
    assert {m.room_id for m in rooms.rooms_of("alice")} == {"r1", "r2"}
    assert [m.room_id for m in rooms.rooms_of("bob")] == ["r1"]
    assert rooms.remove_member("r1", "bob")
    assert not rooms.remove_member("r1", "bob")
    assert rooms.rooms_of("bob") == []
    assert {r.room_id for r in rooms.get_many(["r1", "r2", "missing", "r1"])} == {"r1", "r2"}


def test_public_rooms_newest_first(stores: dict[str, Any]) -> None:
    rooms = stores["rooms"]
    for n in range(1, 6):
        kind = RoomKind.PRIVATE if n == 3 else RoomKind.PUBLIC
        rooms.create(room(mid(n), kind), [member(mid(n), "alice", Role.OWNER)])
    assert [r.room_id for r in rooms.public_rooms(10)] == [mid(5), mid(4), mid(2), mid(1)]
    assert [r.room_id for r in rooms.public_rooms(2)] == [mid(5), mid(4)]


def test_read_marker_only_moves_forward(stores: dict[str, Any]) -> None:
    rooms = stores["rooms"]
    rooms.create(room("r1"), [member("r1", "alice")])
    rooms.mark_read("r1", "alice", mid(5))
    rooms.mark_read("r1", "alice", mid(3))
    assert rooms.member("r1", "alice").last_read_id == mid(5)
    rooms.mark_read("r1", "alice", mid(8))
    assert rooms.member("r1", "alice").last_read_id == mid(8)
    rooms.mark_read("r1", "stranger", mid(9))  # silently ignored
    assert rooms.member("r1", "stranger") is None


# --- UserStore ------------------------------------------------------------------------------


def test_users_by_id_and_case_insensitive_username(stores: dict[str, Any]) -> None:
    users = stores["users"]
    alice = User("u-1", "Alice", "Alice A.", None, 10)
    users.put(alice)
    users.put(User("u-2", "bob", "Bob", "avatars/u-2/x/me.png", 11))
    assert users.get("u-1") == alice
    assert users.get("u-9") is None
    assert users.by_username("alice") == alice
    assert users.by_username("ALICE") == alice
    assert users.by_username("nobody") is None
    assert {u.user_id for u in users.get_many(["u-1", "u-2", "u-9"])} == {"u-1", "u-2"}
    users.set_last_seen("u-1", 12345)
    assert users.get("u-1").last_seen == 12345
    users.set_last_seen("u-9", 1)  # unknown user: nothing happens
    assert users.get("u-9") is None


def test_a_username_claim_never_moves_to_another_user(stores: dict[str, Any]) -> None:
    """H1: a second profile with a held name (any case) gets no claim; the holder keeps it."""
    users = stores["users"]
    bot = User("dynamotalk-bot", "bot", "DynamoTalk bot")
    assert users.put(bot) is True
    impostor = User("u-evil", "BOT", "bot")
    assert users.put(impostor) is False
    assert users.by_username("bot") == bot
    assert users.get("u-evil") == impostor, "the impostor still has a profile, not the name"
    # The holder rewriting its own profile keeps (and re-confirms) its claim.
    assert users.put(attrs.evolve(bot, display_name="The bot")) is True
    assert users.by_username("Bot") is not None
    assert users.by_username("Bot").user_id == "dynamotalk-bot"


def test_get_many_beyond_one_batch(stores: dict[str, Any]) -> None:
    users = stores["users"]
    for n in range(105):
        users.put(User(f"u-{n}", f"user{n}", f"User {n}", None, n))
    wanted = [f"u-{n}" for n in range(105)] + ["u-missing", "u-7"]
    assert sorted(u.user_id for u in users.get_many(wanted)) == sorted(f"u-{n}" for n in range(105))


# --- ConnectionRegistry ---------------------------------------------------------------------

NOW = 1_700_000_000


def conn(cid: str, user: str = "alice", expires_at: int = NOW + 100) -> Connection:
    return Connection(cid, user, user, NOW * 1000, expires_at)


def sub(cid: str, room_id: str, user: str = "alice", expires_at: int = NOW + 100) -> Subscription:
    return Subscription(cid, room_id, user, expires_at)


def test_register_subscribe_and_fan_out_targets(stores: dict[str, Any]) -> None:
    registry = stores["connections"]
    registry.register(conn("c1"))
    registry.register(conn("c2", "bob"))
    registry.subscribe(sub("c1", "r1"))
    registry.subscribe(sub("c1", "r2"))
    registry.subscribe(sub("c2", "r1", "bob"))
    assert registry.get("c1", NOW) == conn("c1")
    assert {s.connection_id for s in registry.connections_in_room("r1", NOW)} == {"c1", "c2"}
    assert sorted(registry.rooms_of_connection("c1", NOW)) == ["r1", "r2"]
    registry.unsubscribe("c1", "r1")
    assert [s.connection_id for s in registry.connections_in_room("r1", NOW)] == ["c2"]
    assert [c.connection_id for c in registry.connections_of_user("bob", NOW)] == ["c2"]


def test_unregister_removes_connection_and_subscriptions(stores: dict[str, Any]) -> None:
    registry = stores["connections"]
    registry.register(conn("c1"))
    registry.subscribe(sub("c1", "r1"))
    registry.subscribe(sub("c1", "r2"))
    assert registry.unregister("c1") == conn("c1")
    assert registry.unregister("c1") is None
    assert registry.get("c1", NOW) is None
    assert registry.connections_in_room("r1", NOW) == []
    assert registry.connections_in_room("r2", NOW) == []
    assert registry.connections_of_user("alice", NOW) == []


def test_unregister_many_in_one_batch(stores: dict[str, Any]) -> None:
    registry = stores["connections"]
    for n in range(30):
        registry.register(conn(f"c{n}"))
        registry.subscribe(sub(f"c{n}", "big-room"))
    registry.unregister_many([f"c{n}" for n in range(0, 30, 2)])
    left = {s.connection_id for s in registry.connections_in_room("big-room", NOW)}
    assert left == {f"c{n}" for n in range(1, 30, 2)}
    assert len(registry.connections_of_user("alice", NOW)) == 15


def test_expired_rows_are_not_returned(stores: dict[str, Any]) -> None:
    registry = stores["connections"]
    registry.register(conn("old", expires_at=NOW - 1))
    registry.subscribe(sub("old", "r1", expires_at=NOW - 1))
    registry.register(conn("new", expires_at=NOW + 10))
    registry.subscribe(sub("new", "r1", expires_at=NOW + 10))
    assert registry.get("old", NOW) is None
    assert [s.connection_id for s in registry.connections_in_room("r1", NOW)] == ["new"]
    assert [c.connection_id for c in registry.connections_of_user("alice", NOW)] == ["new"]
    assert registry.rooms_of_connection("old", NOW) == []
    # The same rows were alive a moment earlier.
    assert registry.get("old", NOW - 5) == conn("old", expires_at=NOW - 1)


# --- DynamoDB only: paging and throttling ---------------------------------------------------


@pytest.fixture(params=["dynamodb-local", "moto"])
def dynamo(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    fixture = "dynamodb_local" if request.param == "dynamodb-local" else "moto_server"
    client, table = _client(request.getfixturevalue(fixture))
    yield client, table
    client.delete_table(TableName=table)


def test_every_full_answer_follows_every_page(dynamo: tuple[Any, str]) -> None:
    """Pages of two items (as if each were near 1 MB): answers must still be whole."""
    client, table = dynamo

    def two_per_page(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = min(params.get("Limit", 2), 2)

    messages = DynamoMessageStore(client, table)
    rooms = DynamoRoomStore(client, table)
    registry = DynamoConnectionRegistry(client, table)
    for n in range(1, 8):
        messages.append(msg(n))
        rooms.create(room(mid(n)), [member(mid(n), "alice")])
        rooms.add_member(member(mid(1), f"user-{n}"))
        registry.register(conn(f"c{n}"))
        registry.subscribe(sub(f"c{n}", "r1"))
        registry.subscribe(sub("c1", f"room-{n}"))
    client.meta.events.register("before-parameter-build.dynamodb.Query", two_per_page)

    assert [m.message_id for m in messages.before("room-1", None, 10)] == [
        mid(n) for n in range(7, 0, -1)
    ]
    assert [m.message_id for m in messages.after("room-1", mid(1), 5)] == [
        mid(n) for n in range(2, 7)
    ]
    assert messages.count_after("room-1", None, 100) == 7
    assert messages.count_after("room-1", None, 5) == 5
    assert len(rooms.members(mid(1))) == 8
    assert len(rooms.rooms_of("alice")) == 7
    assert len(rooms.public_rooms(10)) == 7
    assert len(registry.connections_in_room("r1", NOW)) == 7
    assert len(registry.connections_of_user("alice", NOW)) == 7
    assert len(registry.rooms_of_connection("c1", NOW)) == 8
    assert registry.unregister("c1") == conn("c1")
    assert registry.rooms_of_connection("c1", NOW) == []
    assert all(registry.connections_in_room(f"room-{n}", NOW) == [] for n in range(1, 8))


def test_a_reaction_racing_a_delete_does_not_survive_it(dynamo: tuple[Any, str]) -> None:
    client, table = dynamo
    messages = DynamoMessageStore(client, table)
    messages.append(msg(1))
    messages.set_reaction("room-1", mid(1), "👍", "bob", True, LIMITS)
    # Another Lambda (its own client) reacts between soft_delete's read and its update.
    other = DynamoMessageStore(_client_for(client), table)
    raced: list[Message] = []

    def react_first(params: dict[str, Any], **_: Any) -> None:
        updates = [i["Update"] for i in params.get("TransactItems", []) if "Update" in i]
        if any("deleted_at" in u["UpdateExpression"] for u in updates) and not raced:
            raced.append(other.set_reaction("room-1", mid(1), "🎉", "carol", True, LIMITS))

    client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", react_first)
    deleted = messages.soft_delete("room-1", mid(1), 50)
    assert dict(raced[0].reactions) == {"👍": {"bob"}, "🎉": {"carol"}}
    assert dict(deleted.reactions) == {}
    assert dict(other.get("room-1", mid(1)).reactions) == {}


def _client_for(client: Any) -> Any:
    return boto3.client("dynamodb", endpoint_url=client.meta.endpoint_url, region_name="us-east-1")


def _refuse(
    client: Any, operation: str, code: str, reasons: list[str] | None = None, times: int = 10**9
) -> None:
    """Make the next `times` `operation` calls fail with `code` before they leave the process."""
    left = [times]

    def refuse(model: Any, **_: Any) -> None:
        if model.name != operation or left[0] <= 0:
            return
        left[0] -= 1
        response: dict[str, Any] = {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        if reasons is not None:
            response["CancellationReasons"] = [{"Code": r} for r in reasons]
        raise ClientError(response, operation)  # type: ignore[arg-type]

    client.meta.events.register("before-call.dynamodb", refuse)


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"],
)
def test_throttling_becomes_rate_limited(dynamo: tuple[Any, str], code: str) -> None:
    client, table = dynamo
    for operation in ("GetItem", "Query", "UpdateItem", "BatchWriteItem", "BatchGetItem"):
        _refuse(client, operation, code)
    with pytest.raises(RateLimited, match="busy"):
        DynamoMessageStore(client, table).get("room-1", mid(1))
    with pytest.raises(RateLimited):
        DynamoMessageStore(client, table).before("room-1", None, 5)
    with pytest.raises(RateLimited):
        DynamoMessageStore(client, table).edit("room-1", mid(1), "x", 1)
    with pytest.raises(RateLimited):
        DynamoConnectionRegistry(client, table).subscribe(sub("c1", "r1"))
    with pytest.raises(RateLimited):
        DynamoUserStore(client, table).get_many(["u-1"])


def test_a_post_that_keeps_conflicting_is_refused_as_retryable(dynamo: tuple[Any, str]) -> None:
    client, table = dynamo
    messages = DynamoMessageStore(client, table)
    _refuse(
        client,
        "TransactWriteItems",
        "TransactionCanceledException",
        ["None", "TransactionConflict"],
    )
    with pytest.raises(RateLimited) as refused:
        messages.append(msg(1))
    assert refused.value.retryable
    assert messages.get("room-1", mid(1)) is None


def test_a_post_that_conflicts_once_is_stored_on_the_next_attempt(
    dynamo: tuple[Any, str],
) -> None:
    client, table = dynamo
    messages = DynamoMessageStore(client, table)
    _refuse(
        client,
        "TransactWriteItems",
        "TransactionCanceledException",
        ["TransactionConflict", "None"],
        times=1,
    )
    assert messages.append(msg(1)) == (attrs.evolve(msg(1), seq=1), True)
    assert messages.get("room-1", mid(1)) == attrs.evolve(msg(1), seq=1)


def test_unexpected_errors_are_not_disguised(dynamo: tuple[Any, str]) -> None:
    client, table = dynamo
    _refuse(client, "GetItem", "ValidationException")
    with pytest.raises(ClientError, match="ValidationException"):
        DynamoRoomStore(client, table).get("r1")
