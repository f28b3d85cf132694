"""H2, bounded items: one user can no longer stop live delivery for the whole stage.

The attack, through the real local stack over real sockets: flood one message with reactions
until its events pass API Gateway's 128 KB (PayloadTooLarge), and let twenty of those open the
notifier's container-wide breaker. Now a reaction is one real emoji, a message takes at most 20
different ones and each user at most 10 (held atomically by DynamoDB), every event stays under
the 32 KB frame, and a refused payload never counts against the endpoint.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from dynamotalk import quotas
from dynamotalk.adapters.apigateway import (
    ApiGatewayNotifier,
    build_management_client,
    management_poster,
)
from dynamotalk.domain.events import Event, Typing
from dynamotalk.domain.limits import Limits
from dynamotalk.wire import encode_event
from tests.e2e.client import Socket, User

LIMITS = Limits()
# Fifty different real emoji: more than both caps allow.
FLOOD = [chr(c) for c in range(0x1F600, 0x1F600 + 50)]


@pytest.fixture(scope="module")
def people(stack_url: str) -> dict[str, User]:
    return {name: User(stack_url, f"h2{name}") for name in ("alice", "mallory", "mole", "bob")}


@pytest.fixture(scope="module")
def room(people: dict[str, User]) -> str:
    room_id = people["alice"].room("bounded")
    for name in ("mallory", "mole"):
        people[name].post(f"/rooms/{room_id}/join")
    return room_id


@pytest.fixture(scope="module")
def sockets(people: dict[str, User], room: str) -> Iterator[dict[str, Socket]]:
    opened = {name: user.socket() for name, user in people.items()}
    for name in ("alice", "mallory", "mole"):
        assert opened[name].call({"action": "subscribe", "roomIds": [room]})["type"] == "ack"
    yield opened
    for socket in opened.values():
        socket.close()


def react(socket: Socket, room: str, message_id: str, emoji: str) -> dict[str, Any]:
    frame = {"action": "react", "roomId": room, "messageId": message_id, "emoji": emoji}
    return socket.call(frame)


def flood(socket: Socket, room: str, message_id: str, emojis: list[str]) -> list[dict[str, Any]]:
    """Send every reaction at once (concurrent invocations), then collect every reply."""
    ids = [uuid.uuid4().hex for _ in emojis]
    for request_id, emoji in zip(ids, emojis, strict=True):
        frame = {"action": "react", "roomId": room, "messageId": message_id, "emoji": emoji}
        socket.connection.send(json.dumps({**frame, "requestId": request_id}))
    return [
        socket.wait(lambda f, r=r: f.get("requestId") == r and f["type"] in ("ack", "error"), 30)
        for r in ids
    ]


def test_the_reaction_flood_is_refused_early_and_the_message_survives(
    people: dict[str, User], room: str, sockets: dict[str, Socket]
) -> None:
    message = sockets["alice"].post(room, "react to this")
    replies = flood(sockets["mallory"], room, message["id"], FLOOD)
    acks = [r for r in replies if r["type"] == "ack"]
    refused = [r["error"] for r in replies if r["type"] == "error"]
    # Exactly the per-user cap got in, however the concurrent frames raced.
    assert len(acks) == LIMITS.max_reactions_per_user
    assert len(refused) == len(FLOOD) - LIMITS.max_reactions_per_user
    assert {e["code"] for e in refused} == {"too_large"}
    assert all("at most 10 reactions on one message" in e["message"] for e in refused)
    # A second account fills the distinct-emoji cap; then no account adds a new emoji.
    taken = [e for e, r in zip(FLOOD, replies, strict=True) if r["type"] == "ack"]
    rest = [e for e in FLOOD if e not in taken]
    mole = flood(sockets["mole"], room, message["id"], rest[:15])
    assert sum(r["type"] == "ack" for r in mole) == LIMITS.max_reaction_kinds - len(acks)
    late = react(sockets["alice"], room, message["id"], "👍")
    assert late["type"] == "error"
    assert late["error"]["code"] == "too_large"
    assert "at most 20 different reactions" in late["error"]["message"]
    # Reacting with an emoji already on the message needs no new slot.
    joined = react(sockets["alice"], room, message["id"], taken[0])
    assert joined["type"] == "ack"
    assert sum(joined["message"]["reactionCounts"].values()) == LIMITS.max_reaction_kinds + 1
    # Every frame anyone received stayed under the 32 KB frame.
    for socket in sockets.values():
        for frame in list(socket.frames):
            size = len(json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode())
            assert size < quotas.WS_FRAME_BYTES
    # The message still delivers and its history page is intact.
    posted = sockets["mallory"].post(room, "still here")
    sockets["alice"].wait(
        lambda f: f.get("type") == "message.posted" and f["message"]["id"] == posted["id"]
    )
    page = people["alice"].get(f"/rooms/{room}/messages")["messages"]
    stored = next(m for m in page if m["id"] == message["id"])
    assert stored["text"] == "react to this"
    assert len(stored["reactionCounts"]) == LIMITS.max_reaction_kinds
    assert all(len(sample) <= 3 for sample in stored["reactions"].values())


@pytest.mark.parametrize(
    "bad", ["x", ":+1:", "ok", "👍👍", "🏻", "🇦", "a\u200db", "<img src=x>", "\u202e"]
)
def test_anything_but_one_real_emoji_is_refused(
    room: str, sockets: dict[str, Socket], bad: str
) -> None:
    message = sockets["alice"].post(room, f"no {bad!r} here")
    reply = react(sockets["mallory"], room, message["id"], bad)
    assert reply["type"] == "error", reply
    assert reply["error"]["code"] == "invalid_input"
    assert reply["error"]["message"] == "emoji must be exactly one emoji"


def test_a_too_large_payload_flood_never_stops_another_rooms_delivery(
    stack_url: str, people: dict[str, User], sockets: dict[str, Socket]
) -> None:
    """Twenty-five PayloadTooLarge answers from the real gateway for one connection, through
    the real notifier and its breaker; a real socket in another room still gets its event."""
    gateway = stack_url
    before = set(httpx.get(f"{gateway}/_local/connections").json()["connections"])
    victim = people["mallory"].socket()
    other = people["bob"].socket()
    new = set(httpx.get(f"{gateway}/_local/connections").json()["connections"]) - before
    assert len(new) == 2
    ping = other.call({"action": "ping"})
    assert ping["type"] == "ack"

    def encode(event: Event) -> bytes:
        if isinstance(event, Typing) and event.room_id == "bloated":
            return b"x" * (quotas.WS_MESSAGE_BYTES + 1)
        return encode_event(event)

    session = boto3.session.Session()
    management = build_management_client(gateway, "us-east-1", 4, session)
    notifier = ApiGatewayNotifier(
        management_poster(management, session.get_credentials(), "lean"),  # as deployed
        pool_size=4,
        encode=encode,
    )
    breaker = notifier.breaker  # the container's own breaker, as deployed
    try:
        for _ in range(breaker.threshold + 5):
            report = notifier.send(sorted(new), Typing("bloated", "u-mallory", "mallory"))
            assert len(report.failed) == 2
            assert report.delivered == 0
        assert breaker.state == "closed"
        delivered = notifier.send(sorted(new), Typing("elsewhere", "u-bob", "bob"))
        assert delivered.delivered == 2
        for socket in (victim, other):
            socket.wait(lambda f: f.get("type") == "typing" and f["roomId"] == "elsewhere")
    finally:
        notifier.close()
        victim.close()
        other.close()
