"""The SessionStore contract, on DynamoDB Local and in memory, and the session use cases on
the in-memory world (sessions.py): due sessions are found by time, renewals move them, and the
sweeper closes exactly the sockets whose session ended."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import attrs
import boto3
import pytest

from dynamotalk import wire
from dynamotalk.adapters import memory
from dynamotalk.adapters.dynamodb import DynamoConnectionRegistry
from dynamotalk.adapters.sessions import DynamoSessionStore, MemorySessionStore
from dynamotalk.domain.errors import Unauthorized
from dynamotalk.domain.models import Connection, Principal
from dynamotalk.service import ChatService
from dynamotalk.service.sessions import SessionKeeper
from dynamotalk.tables import create_table_request

_names = itertools.count()
NOW = 1_800_000_000
ALICE = Principal("u-alice", "alice")
BOB = Principal("u-bob", "bob")


@pytest.fixture(params=["memory", "dynamodb-local"])
def world(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    if request.param == "memory":
        connections = memory.MemoryConnectionRegistry()
        yield {"connections": connections, "sessions": MemorySessionStore(connections)}
        return
    client = boto3.client(
        "dynamodb",
        endpoint_url=request.getfixturevalue("dynamodb_local"),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    table = f"sessions-{next(_names)}"
    client.create_table(**create_table_request(table))
    yield {
        "connections": DynamoConnectionRegistry(client, table),
        "sessions": DynamoSessionStore(client, table),
    }
    client.delete_table(TableName=table)


def open_connection(world: dict[str, Any], cid: str, who: Principal, session_end: int) -> None:
    world["connections"].register(
        Connection(cid, who.user_id, who.username, NOW * 1000, NOW + 8100, session_end)
    )
    world["sessions"].track(cid, session_end)


def test_due_finds_ended_sessions_across_minutes_and_nothing_later(world: dict[str, Any]) -> None:
    store = world["sessions"]
    open_connection(world, "c-old", ALICE, NOW - 400)  # some minutes back
    open_connection(world, "c-now", ALICE, NOW)  # ends this very second
    open_connection(world, "c-soon", BOB, NOW + 1)
    open_connection(world, "c-ancient", BOB, NOW - 3600)  # outside the look-back

    assert sorted(store.due(NOW, 900)) == [("c-now", NOW), ("c-old", NOW - 400)]
    store.forget("c-old", NOW - 400)
    assert store.due(NOW, 900) == [("c-now", NOW)]


def test_renew_moves_a_live_session_of_the_same_user_only(world: dict[str, Any]) -> None:
    store, connections = world["sessions"], world["connections"]
    open_connection(world, "c-1", ALICE, NOW + 10)

    assert store.renew("c-1", BOB.user_id, NOW + 900, NOW) is False
    assert connections.get("c-1", NOW).session_expires_at == NOW + 10
    assert store.renew("c-missing", ALICE.user_id, NOW + 900, NOW) is False
    assert store.renew("c-1", ALICE.user_id, NOW + 900, NOW + 10) is False  # already ended

    assert store.renew("c-1", ALICE.user_id, NOW + 900, NOW) is True
    assert connections.get("c-1", NOW).session_expires_at == NOW + 900
    assert ("c-1", NOW + 900) in store.due(NOW + 900, 900)


@attrs.define
class FakeCloser:
    closed: list[tuple[str, bytes | None]] = attrs.Factory(list)

    def close(self, connection_id: str, last_words: bytes | None = None) -> bool:
        self.closed.append((connection_id, last_words))
        return True


@attrs.define
class FakeVerifier:
    tokens: dict[str, tuple[Principal, int]]

    def verify_session(self, token: str) -> tuple[Principal, int]:
        if token not in self.tokens:
            raise Unauthorized("invalid or expired token")
        return self.tokens[token]


@pytest.fixture
def keeper(chat: ChatService) -> SessionKeeper:
    sessions = MemorySessionStore(chat.connections)  # type: ignore[arg-type]
    verifier = FakeVerifier({"alice-fresh": (ALICE, NOW + 3600), "bob": (BOB, NOW + 3600)})
    return SessionKeeper(chat, sessions, FakeCloser(), wire.encode_error, verifier)


@pytest.fixture
def chat() -> ChatService:
    clock = memory.ManualClock(NOW * 1000)
    feed = memory.MemoryChangeFeed()
    return ChatService(
        messages=memory.MemoryMessageStore(feed=feed),
        rooms=memory.MemoryRoomStore(feed=feed),
        users=memory.MemoryUserStore(),
        connections=memory.MemoryConnectionRegistry(),
        notifier=memory.RecordingNotifier(),
        attachments=memory.MemoryAttachmentStore(),
        clock=clock,
        ids=memory.SequentialIds(),
        feed=feed,
    )


def connect(chat: ChatService, keeper: SessionKeeper, cid: str, who: Principal, end: int) -> None:
    chat.connect(cid, who, end)
    keeper.started(cid, end)


def test_a_live_session_costs_no_read_and_an_ended_one_is_refused(
    chat: ChatService, keeper: SessionKeeper
) -> None:
    connect(chat, keeper, "c-1", ALICE, NOW + 5)
    assert keeper.is_live("c-1", ALICE, NOW + 5)
    assert keeper.is_live("c-unknown", ALICE, NOW + 5)  # the authorizer's exp alone decides

    chat.clock.advance(5000)  # type: ignore[attr-defined]
    assert not keeper.is_live("c-1", ALICE, NOW + 5)
    keeper.end("c-1", "r1", forget=False)
    assert [c for c, _ in keeper.closer.closed] == ["c-1"]  # type: ignore[attr-defined]
    assert b'"code":"unauthorized"' in (keeper.closer.closed[0][1] or b"")  # type: ignore[attr-defined]
    assert b'"requestId":"r1"' in (keeper.closer.closed[0][1] or b"")  # type: ignore[attr-defined]


def test_reauth_moves_the_session_and_refuses_other_users_and_bad_tokens(
    chat: ChatService, keeper: SessionKeeper
) -> None:
    connect(chat, keeper, "c-1", ALICE, NOW + 5)
    for token in ("bob", "junk"):
        with pytest.raises(Unauthorized):
            keeper.reauth(ALICE, "c-1", token)
    assert chat.connections.get("c-1", NOW).session_expires_at == NOW + 5  # type: ignore[union-attr]

    assert keeper.reauth(ALICE, "c-1", "alice-fresh") == NOW + 3600

    chat.clock.advance(10_000)  # type: ignore[attr-defined]
    assert keeper.is_live("c-1", ALICE, NOW + 5)  # the stale authorizer exp, the record says on
    assert keeper.sweep() == 0
    assert keeper.closer.closed == []  # type: ignore[attr-defined]


def test_the_sweeper_closes_ended_sessions_once_and_revoke_closes_a_users_sockets(
    chat: ChatService, keeper: SessionKeeper
) -> None:
    connect(chat, keeper, "c-a1", ALICE, NOW + 5)
    connect(chat, keeper, "c-a2", ALICE, NOW + 3000)
    connect(chat, keeper, "c-b1", BOB, NOW + 5)
    chat.clock.advance(6000)  # type: ignore[attr-defined]

    assert keeper.sweep() == 2
    assert sorted(c for c, _ in keeper.closer.closed) == ["c-a1", "c-b1"]  # type: ignore[attr-defined]
    assert keeper.sweep() == 0  # forgotten, and the connections are gone

    assert keeper.revoke(ALICE.user_id) == 1
    assert keeper.closer.closed[-1][0] == "c-a2"  # type: ignore[attr-defined]
    assert chat.connections.connections_of_user(ALICE.user_id, NOW) == []
