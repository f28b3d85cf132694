"""Erase my account end to end on the local stack (issue 18): real HTTP and WebSockets, the
real handlers, the erasure queue invoking account_erasure under its IAM policy, on DynamoDB
Local (the stage's default erasePolicy: anonymise).

X owns a room with Y, posts (one reply in a thread, one mention of Y, searchable words),
reacts to Y's message, is quoted and mentioned by Y, blocks Z and is blocked by Z, then
erases; then Y walks every GET route of routes.HTTP_ROUTES (path parameters filled with the
rooms and messages known), WebSocket sync v1 and v2 (the whole change feed from seq 0) and
search, and X's id and username appear nowhere (but in the `@name` Y typed, which stays: docs/
PROTOCOL.md); the feed replays to what history shows; X's token and password are refused; the
room passed to Y.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from dynamotalk.client import frames
from dynamotalk.client.config import ChatClientError
from dynamotalk.domain.erasure import ERASED_AUTHOR, ERASED_NAME
from dynamotalk.routes import HTTP_ROUTES
from tests.e2e.client import PASSWORD, User, eventually

P256_KEYS = {
    "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
    "auth": "tBHItJI5svbpez7KI4CCXg",
}
"""RFC 8291's example subscription keys (a valid P-256 point and a 16-byte secret)."""

pytestmark = pytest.mark.timeout(240)


def signs_in(user: User) -> bool:
    try:
        user.session.sign_in(PASSWORD, None)
    except ChatClientError:
        return False
    return True


@pytest.fixture(scope="module")
def erased(stack_url: str) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:4]
    x, y, z = (User(stack_url, f"{p}{tag}") for p in ("xer", "yer", "zer"))
    room = x.room(f"erasure {tag}")
    y.post(f"/rooms/{room}/join")
    z.post(f"/rooms/{room}/join")
    socket = x.socket()
    word = f"quokka{tag}"
    first = socket.post(room, f"{word} first words")
    socket.call(frames.send_message(room, f"hello @{y.name}"))
    y_socket = y.socket()
    parent = y_socket.post(room, "a parent by y")
    reply = socket.call({**frames.send_message(room, f"{word} reply"), "parentId": parent["id"]})
    assert reply["type"] == "ack", reply
    for who in (socket, y_socket):
        assert who.call(frames.react(room, parent["id"], "👍"))["type"] == "ack"
    assert socket.call(frames.react(room, parent["id"], "🎉"))["type"] == "ack"
    quoting = y_socket.call(frames.send_message(room, "quoting you", quote_id=first["id"]))
    assert quoting["message"]["quote"]["authorId"] == x.id, quoting
    mentioning = y_socket.post(room, f"thanks @{x.name}")
    assert mentioning["mentions"] == [x.id], mentioning
    avatar = give_avatar(x)
    sub = {"endpoint": "https://fcm.googleapis.com/fcm/send/e2e", "keys": P256_KEYS}
    assert x.request("PUT", "/push/subscriptions/laptop", sub).status_code == 201
    x.post(f"/blocks/{z.id}")
    z.post(f"/blocks/{x.id}")
    eventually(lambda: len(y.get("/search", q=word)["results"]) >= 1, what="indexed")
    answer = x.request("DELETE", "/me")
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["status"] == "pending"
    assert job["erasureId"]
    again = x.request("DELETE", "/me")
    assert again.status_code == 202
    assert again.json()["erasureId"] == job["erasureId"]
    eventually(lambda: not signs_in(x), timeout=60, what="the sign-in deleted")
    return {
        "avatar": avatar,
        "x": x,
        "y": y,
        "z": z,
        "room": room,
        "word": word,
        "first": first,
        "parent": parent,
        "socket": socket,
        "tag": tag,
    }


def give_avatar(user: User) -> str:
    """Upload a tiny PNG through the presigned POST and make it the user's avatar."""
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
    upload = user.post(
        "/uploads",
        {"purpose": "avatar", "filename": "me.png", "contentType": "image/png", "size": len(png)},
    )["upload"]
    sent = httpx.post(upload["url"], data=upload["fields"], files={"file": png}, timeout=10)
    assert sent.status_code in (200, 201, 204), sent.text
    reply = user.request("PATCH", "/me", {"avatarKey": upload["key"]})
    assert reply.status_code == 200, reply.text
    return str(upload["key"])


def _fill(path: str, known: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: known[m.group(1)], path)


def shows_x(x: User, text: str) -> bool:
    """X's id or username in `text`, leaving out the `@name` Y typed (it stays: documented)."""
    text = text.replace(f"@{x.name}", "")
    return x.id in text or x.name in text


def test_nothing_of_x_through_any_get_route(erased: dict[str, Any]) -> None:
    x, y = erased["x"], erased["y"]
    known = {
        "roomId": erased["room"],
        "messageId": erased["parent"]["id"],
        "userId": x.id,
        "deviceId": "none",
        "reportId": "none",
        "exportId": "none",
    }
    walked, leaks = [], []
    for route in HTTP_ROUTES:
        if route.method != "GET":
            continue
        params = {"q": erased["word"]} if route.path == "/search" else {}
        if route.path == "/attachments":
            params = {"key": "avatars/none"}
        reply = y.request("GET", _fill(route.path, known), **params)
        assert reply.status_code < 500, (route.path, reply.text)
        if shows_x(x, reply.text):
            leaks.append((route.path, reply.text))
        walked.append(route.path)
    assert [p for p, _ in leaks] == [], leaks
    assert "/rooms/{roomId}/messages" in walked
    assert "/search" in walked
    history = y.get(f"/rooms/{erased['room']}/messages")
    assert any(m["authorId"] == ERASED_AUTHOR for m in history["messages"]), history


def test_the_room_passed_to_the_next_member(erased: dict[str, Any]) -> None:
    y = erased["y"]
    members = y.get(f"/rooms/{erased['room']}/members")["members"]
    owners = [m["userId"] for m in members if m["role"] == "owner"]
    assert owners == [y.id], members


def test_sync_over_the_socket_shows_nothing_of_x(erased: dict[str, Any]) -> None:
    y = erased["y"]
    socket = y.socket()
    reply = socket.call(frames.sync(erased["room"], None, 50))
    assert reply["type"] == "ack", reply
    assert not shows_x(erased["x"], str(reply))


def replay(user: User, room: str) -> list[dict[str, Any]]:
    """Every change the room's feed holds, from seq 0, page by page (sync v2)."""
    socket, after, changes = user.socket(), 0, list[dict[str, Any]]()
    while True:
        reply = socket.call(frames.sync_changes(room, after, 20, "r"))
        assert reply["type"] == "ack", reply
        changes += reply["changes"]
        if not reply["hasMore"]:
            return changes
        after = reply["seq"]


def test_sync_v2_replays_to_history_with_nothing_of_x(erased: dict[str, Any]) -> None:
    x, y, room = erased["x"], erased["y"], erased["room"]
    changes = replay(y, room)
    assert len(changes) > 10
    assert not shows_x(x, str(changes)), changes
    assert any(c["type"] == "member.left" for c in changes)
    state: dict[str, dict[str, Any]] = {}
    for change in changes:
        if "message" in change:
            state[change["message"]["id"]] = change["message"]
    history = y.get(f"/rooms/{room}/messages")["messages"]
    fields = ("authorId", "text", "reactions", "quote", "mentions")
    for message in history:
        replayed = state[message["id"]]
        assert {f: replayed.get(f) for f in fields} == {f: message.get(f) for f in fields}
    parent = next(m for m in history if m["id"] == erased["parent"]["id"])
    assert parent["reactions"] == {"👍": [y.id]} or parent["reactions"] == {"👍": 1}, parent
    quoted = next(m for m in history if m["text"] == "quoting you")
    assert quoted["quote"]["authorId"] == ERASED_AUTHOR
    assert quoted["quote"]["authorName"] == ERASED_NAME
    mentioning = next(m for m in history if m["text"].startswith("thanks @"))
    assert mentioning.get("mentions", []) == []  # an empty list is left out


def test_x_is_refused_and_the_name_is_free(erased: dict[str, Any]) -> None:
    x = erased["x"]
    assert not signs_in(x)
    # The avatar's object is gone: a link to it no longer finds it.
    y = erased["y"]
    link = y.request("GET", "/attachments", key=erased["avatar"])
    if link.status_code == 200:
        assert httpx.get(link.json()["url"], timeout=10).status_code in (403, 404)
    assert x.request("GET", "/push/subscriptions").json().get("subscriptions", []) == []
    # The token outlives the account (JWTs verify offline) but brings no profile back.
    assert x.request("GET", "/me").status_code == 401
    assert x.request("POST", "/rooms", {"name": "back", "kind": "public"}).status_code == 401
    assert y.request("GET", f"/users/{x.id}").status_code == 404
    assert erased["avatar"] not in str(y.get(f"/rooms/{erased['room']}/members"))
    eventually(lambda: erased["socket"].closed, what="x's socket closed")
    y = erased["y"]
    assert y.request("GET", f"/users/{x.id}").status_code == 404
