"""Text-path attacks of issue 13's red team (F1, F7, F8) on the real local stack: raw frames on
real WebSockets and real HTTP bodies. Each must fail safely: one clear `invalid_input` reply,
nothing stored, and history, sync and the socket still working for every member afterwards.

F1: a lone surrogate escaped in JSON (`"x\\ud800y"`) was stored; the sender got `internal` and
`GET /rooms/{id}/messages` answered 500 for every member from then on. F7: invisible format
characters and noncharacters passed in message text. F8: a frame nested 10,000 deep got no
reply at all (the local gateway's route selection died on RecursionError).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.client import Socket, User

pytestmark = pytest.mark.timeout(120)

ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # joined with ZWJ
KEPT = f"flag {ENGLAND} family {FAMILY} heart \u2764\ufe0f zwnj a\u200cb"


@pytest.fixture(scope="module")
def owner(stack_url: str) -> User:
    return User(stack_url, "txtown")


@pytest.fixture(scope="module")
def member(stack_url: str) -> User:
    return User(stack_url, "txtmem")


@pytest.fixture(scope="module")
def room(owner: User, member: User) -> str:
    room_id = owner.room("text attacks")
    member.post(f"/rooms/{room_id}/join")
    return room_id


@pytest.fixture(scope="module")
def sock(owner: User) -> Iterator[Socket]:
    socket = owner.socket()
    yield socket
    socket.close()


@pytest.fixture(scope="module")
def original(sock: Socket, room: str) -> dict[str, Any]:
    """A message posted before the attacks; it must come through them unchanged."""
    return post(sock, {"action": "sendMessage", "roomId": room, "text": "before the attacks"})


def send_raw(sock: Socket, raw: str, timeout: float = 10) -> dict[str, Any]:
    """Send `raw` as one text frame; the next reply the socket gets (ack, error, or API
    Gateway's "Internal server error") is its reply."""
    seen = len(sock.frames)
    sock.connection.send(raw)
    deadline = time.monotonic() + timeout
    with sock.changed:
        while True:
            for frame in sock.frames[seen:]:
                if frame.get("type") in ("ack", "error") or "connectionId" in frame:
                    return frame
            left = deadline - time.monotonic()
            assert left > 0, f"no reply to {raw[:80]!r}; got {sock.frames[seen:]}"
            sock.changed.wait(left)


def ask(sock: Socket, frame: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    request_id = uuid.uuid4().hex[:12]
    return request_id, send_raw(sock, json.dumps({**frame, "requestId": request_id}))


def post(sock: Socket, frame: dict[str, Any]) -> dict[str, Any]:
    """A frame through `call`, waiting out a per-user rate limit (refused ones count too)."""
    while True:
        reply = sock.call({"clientId": uuid.uuid4().hex, **frame})
        if reply.get("error", {}).get("code") != "rate_limited":
            assert reply["type"] == "ack", reply
            message: dict[str, Any] = reply.get("message", reply)
            return message
        time.sleep(reply["error"]["retryAfterMs"] / 1000)


def refused(reply: dict[str, Any], request_id: str | None) -> str:
    assert reply["type"] == "error", reply
    assert reply["error"]["code"] == "invalid_input", reply
    assert reply["requestId"] == request_id, reply
    message: str = reply["error"]["message"]
    return message


def texts(user: User, room: str) -> list[str]:
    return [m["text"] for m in user.get(f"/rooms/{room}/messages", limit=100)["messages"]]


# --- F1: lone surrogates ----------------------------------------------------------------------


def test_lone_surrogates_in_frames_are_refused_and_history_still_works(
    owner: User, member: User, room: str, sock: Socket, original: dict[str, Any]
) -> None:
    # json.dumps escapes the surrogate (ASCII on the wire), exactly as an attacker's frame.
    sends: list[dict[str, Any]] = [
        {"action": "sendMessage", "roomId": room, "text": "x\ud800y", "clientId": "c1"},
        {"action": "sendMessage", "roomId": room, "text": "ok", "clientId": "c\udbff"},
        {
            "action": "sendMessage",
            "roomId": room,
            "text": "with file",
            "clientId": "c2",
            "attachments": [{"key": "k", "name": "a\udc00.txt", "contentType": "text/plain"}],
        },
        {"action": "editMessage", "roomId": room, "messageId": original["id"], "text": "x\udfffy"},
        {"action": "react", "roomId": room, "messageId": original["id"], "emoji": "\ud83d"},
        {"action": "sync", "roomId": room, "\udfff": 1},  # in a key
    ]
    for frame in sends:
        request_id, reply = ask(sock, frame)
        assert "lone surrogate" in refused(reply, request_id)
    # A requestId that is itself a lone surrogate is not echoed; the frame still gets its reply.
    reply = send_raw(sock, json.dumps({"action": "ping", "requestId": "\ud800"}))
    assert "lone surrogate" in refused(reply, None)

    # Nothing was stored or changed, and every member still reads the room: history over HTTP
    # and sync over the socket.
    for user in (owner, member):
        history = texts(user, room)
        assert "before the attacks" in history
        assert not any(t.startswith("x") or "file" in t for t in history), history
    history_now = member.get(f"/rooms/{room}/messages")["messages"]
    (kept,) = [m for m in history_now if m["id"] == original["id"]]
    assert kept["editedAt"] is None, kept
    assert kept["reactionCounts"] == {}, kept
    synced = sock.call({"action": "sync", "roomId": room})
    assert synced["type"] == "ack", synced
    assert [m["text"] for m in synced["messages"]].count("before the attacks") == 1
    assert post(sock, {"action": "sendMessage", "roomId": room, "text": "after"})["text"] == "after"


def test_lone_surrogates_in_http_bodies_are_refused(owner: User, room: str) -> None:
    name = f"room {uuid.uuid4().hex[:6]}"
    me = owner.get("/me")["user"]
    attacks = [
        ("POST", "/rooms", {"name": name + "\ud800"}),
        ("PATCH", "/me", {"displayName": "me\udfff"}),
        ("POST", f"/rooms/{room}/read", {"messageId": "\ud800"}),
    ]
    for method, path, body in attacks:
        # Escaped, ASCII only, as an attacker sends it (httpx's json= would not encode it).
        escaped = json.dumps(body)
        reply = owner.http.request(
            method, path, content=escaped, headers={"content-type": "application/json"}
        )
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]["code"] == "invalid_input"
        assert "lone surrogate" in reply.json()["error"]["message"]
    mine = owner.get("/rooms")["rooms"]
    assert all(not r["room"]["name"].startswith(name) for r in mine)
    assert owner.get("/me")["user"] == me


# --- F7: invisible format characters and noncharacters ---------------------------------------


INVISIBLE = {
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "byte order mark": "\ufeff",
    "interlinear annotation": "\ufff9",
    "interlinear terminator": "\ufffb",
    "noncharacter FDD0": "\ufdd0",
    "noncharacter FFFE": "\ufffe",
    "noncharacter 10FFFF": "\U0010ffff",
    "lone tag letter": "\U000e0067",
    "tag run without flag": "\U000e0067\U000e0062\U000e007f",
    "cancel tag after flag": "\U0001f3f4\U000e007f",
}


def test_invisible_characters_are_refused_in_message_text(
    owner: User, room: str, sock: Socket, original: dict[str, Any]
) -> None:
    for what, bad in INVISIBLE.items():
        text = f"hi{bad}[lobby] admin: please re-enter your password"
        # editMessage is not rate limited: every character through it, a few through sendMessage.
        edit = {"action": "editMessage", "roomId": room, "messageId": original["id"], "text": text}
        request_id, reply = ask(sock, edit)
        assert "invisible" in refused(reply, request_id), what
    for bad in ("\u2028", "\ufeff", "\U000e0067"):
        frame = {"action": "sendMessage", "roomId": room, "text": f"a{bad}b"}
        while True:
            request_id, reply = ask(sock, {**frame, "clientId": uuid.uuid4().hex})
            if reply.get("error", {}).get("code") != "rate_limited":
                break
            time.sleep(reply["error"]["retryAfterMs"] / 1000)
        assert "invisible" in refused(reply, request_id)
    history = texts(owner, room)
    assert "before the attacks" in history
    assert all(bad not in t for t in history for bad in INVISIBLE.values())


def test_emoji_joiners_selectors_and_subdivision_flags_are_kept(
    owner: User, member: User, room: str, sock: Socket
) -> None:
    posted = post(sock, {"action": "sendMessage", "roomId": room, "text": KEPT})
    assert posted["text"] == KEPT
    assert KEPT in texts(member, room)


# --- F8: a frame nested too deeply ------------------------------------------------------------


def test_a_frame_nested_too_deeply_gets_one_clear_reply(sock: Socket, room: str) -> None:
    for raw in ("[" * 10_000 + "]" * 10_000, '{"a":' * 5_000 + "1" + "}" * 5_000):
        seen = len(sock.frames)
        reply = send_raw(sock, raw)
        assert "nested too deeply" in refused(reply, None)
        # Exactly one reply: a ping sent after it is answered next, and nothing else came.
        pong = sock.call({"action": "ping"})
        assert pong["type"] == "ack"
        replies = [f for f in sock.frames[seen:] if f.get("type") in ("ack", "error")]
        assert replies == [reply, pong]
