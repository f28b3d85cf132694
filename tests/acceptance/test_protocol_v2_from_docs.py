"""A v2 client of DynamoTalk written from docs/PROTOCOL.md alone, run against `dynamotalk dev`.

It follows the doc's v2 sections: "Sequence numbers and the change feed", "Delivery", "Read
receipts", "Keepalive and reconnecting", `sync` with `afterSeq`, history's `seq`, `read`
events, `feed_expired` and "Versioning" (v1 clients). The client keeps `lastSeq` per room,
applies changes by the doc's rules and drops repeats. Nothing here imports the server's code;
only the session fixture `stack_url` (tests/conftest.py) starts the stack.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from websockets.sync.client import ClientConnection, connect

PASSWORD = "Corr3ct-Horse-Battery!"
WAIT = 30.0  # generous: the machine is shared
CHANGE_TYPES = {
    "message.posted",
    "message.edited",
    "message.deleted",
    "reaction.changed",
    "member.joined",
    "member.left",
}
Frame = dict[str, Any]


# --------------------------------------------------------------------------------------------
# discovery, sign-in, HTTP (PROTOCOL.md "The local stack", "Getting a token")


@pytest.fixture(scope="module")
def config(stack_url: str) -> Frame:
    response = httpx.get(f"{stack_url}/config.json", timeout=30)
    assert response.status_code == 200
    result: Frame = response.json()
    return result


@pytest.fixture(scope="module")
def api(config: Frame) -> str:
    return str(config["httpUrl"]).rstrip("/")


class User:
    def __init__(self, username: str, token: str, user_id: str) -> None:
        self.username = username
        self.token = token
        self.user_id = user_id


@pytest.fixture(scope="module")
def make_user(stack_url: str, config: Frame, api: str) -> Callable[[str], User]:
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=f"{stack_url}/cognito",
        region_name=config["region"],
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )

    def make(prefix: str) -> User:
        username = f"{prefix}{uuid.uuid4().hex[:10]}"
        cognito.sign_up(
            ClientId=config["userPoolClientId"],
            Username=username,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        )
        auth = cognito.initiate_auth(
            ClientId=config["userPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        me = httpx.get(
            f"{api}/me", headers={"Authorization": f"Bearer {auth['IdToken']}"}, timeout=30
        )
        assert me.status_code == 200, me.text
        return User(username, auth["IdToken"], me.json()["user"]["userId"])

    return make


def call(method: str, url: str, user: User, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {user.token}"}
    return httpx.request(method, url, headers=headers, timeout=60, **kwargs)


def room_with(api: str, owner: User, *members: User) -> str:
    response = call(
        "POST",
        f"{api}/rooms",
        owner,
        json={"name": f"v2 {uuid.uuid4().hex[:8]}", "kind": "private", "members": []},
    )
    assert response.status_code == 201, response.text
    room_id = str(response.json()["room"]["roomId"])
    for member in members:
        invite(api, owner, member, room_id)
    return room_id


def invite(api: str, owner: User, member: User, room_id: str) -> None:
    sent = call("POST", f"{api}/rooms/{room_id}/members", owner, json={"username": member.username})
    assert sent.status_code == 202, sent.text
    accepted = call("POST", f"{api}/invites/{room_id}/accept", member)
    assert accepted.status_code == 200, accepted.text


def history(api: str, user: User, room_id: str) -> tuple[dict[str, Frame], int]:
    """A fresh history load: every message by id, and the first page's `seq`."""
    messages: dict[str, Frame] = {}
    cursor: str | None = None
    first_seq: int | None = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        response = call("GET", f"{api}/rooms/{room_id}/messages", user, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        if first_seq is None:
            first_seq = body["seq"]
        for message in body["messages"]:
            messages[message["id"]] = message
        cursor = body["nextCursor"]
        if not cursor:
            assert isinstance(first_seq, int)
            return messages, first_seq


# --------------------------------------------------------------------------------------------
# the socket


class Socket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.pending: list[Frame] = []
        self.received: list[Frame] = []
        self.sizes: list[int] = []  # each received message's size in bytes

    def recv(self, timeout: float) -> Frame:
        raw = self.connection.recv(timeout=timeout)
        self.sizes.append(len(raw.encode() if isinstance(raw, str) else raw))
        frame: Frame = json.loads(raw)
        self.received.append(frame)
        return frame

    def request(self, frame: Frame) -> Frame:
        """Send with a fresh requestId, retry `rate_limited` as the doc says, return the reply."""
        while True:
            sent = {**frame, "requestId": uuid.uuid4().hex}
            self.connection.send(json.dumps(sent))
            deadline = time.monotonic() + WAIT
            while True:
                reply = self.recv(max(0.1, deadline - time.monotonic()))
                if (
                    reply.get("type") in ("ack", "error")
                    and reply.get("requestId") == sent["requestId"]
                ):
                    break
                self.pending.append(reply)
            if reply["type"] == "error" and reply["error"]["code"] == "rate_limited":
                time.sleep(reply["error"]["retryAfterMs"] / 1000 + 0.05)
                continue
            return reply

    def ack(self, frame: Frame) -> Frame:
        reply = self.request(frame)
        assert reply["type"] == "ack", reply
        return reply

    def event(self, predicate: Callable[[Frame], bool]) -> Frame:
        for frame in self.pending:
            if predicate(frame):
                self.pending.remove(frame)
                return frame
        deadline = time.monotonic() + WAIT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching event within {WAIT}s; got {self.pending}")
            with contextlib.suppress(TimeoutError):
                frame = self.recv(remaining)
                if predicate(frame):
                    return frame
                self.pending.append(frame)

    def post(self, room_id: str, text: str) -> Frame:
        frame = {"action": "sendMessage", "roomId": room_id, "text": text}
        message: Frame = self.ack({**frame, "clientId": uuid.uuid4().hex})["message"]
        return message

    def sync(self, room_id: str, **fields: Any) -> Frame:
        return self.request({"action": "sync", "roomId": room_id, **fields})


@pytest.fixture
def open_socket(config: Frame) -> Iterator[Callable[[User], Socket]]:
    with contextlib.ExitStack() as stack:

        def opener(user: User) -> Socket:
            url = f"{config['wsUrl']}?token={urllib.parse.quote(user.token, safe='')}"
            return Socket(stack.enter_context(connect(url, open_timeout=WAIT, close_timeout=5)))

        yield opener


# --------------------------------------------------------------------------------------------
# the client's room state, by the doc's rules


class Room:
    """One room as a v2 client holds it: messages by id, members by id, and `lastSeq`."""

    def __init__(self, room_id: str, messages: dict[str, Frame], seq: int) -> None:
        self.room_id = room_id
        self.messages = dict(messages)
        self.members: dict[str, str] = {}
        self.last_seq = seq
        self.dropped: list[int] = []

    def on_change(self, change: Frame) -> str:
        """Apply one change event: 'applied', 'dropped' (a repeat) or 'gap'."""
        seq = change["seq"]
        if seq <= self.last_seq:
            self.dropped.append(seq)
            return "dropped"
        if seq > self.last_seq + 1:
            return "gap"
        kind = change["type"]
        if kind == "message.posted":
            self.messages[change["message"]["id"]] = change["message"]
        elif kind in ("message.edited", "message.deleted", "reaction.changed"):
            if change["message"]["id"] in self.messages:
                self.messages[change["message"]["id"]] = change["message"]
        elif kind == "member.joined":
            self.members[change["membership"]["userId"]] = change["membership"]["role"]
        elif kind == "member.left":
            self.members.pop(change["userId"], None)
        self.last_seq = seq
        return "applied"

    def catch_up(self, socket: Socket, limit: int = 2) -> list[Frame]:
        """`sync` from `lastSeq`, looping while `hasMore`; returns every reply."""
        replies = []
        while True:
            after = self.last_seq
            reply = socket.sync(self.room_id, afterSeq=after, limit=limit)
            assert reply["type"] == "ack", reply
            replies.append(reply)
            assert len(reply["changes"]) <= limit
            # `seq`: "the last change returned, or `afterSeq` when there is none"
            assert reply["seq"] == (reply["changes"][-1]["seq"] if reply["changes"] else after)
            for change in reply["changes"]:
                assert self.on_change(change) != "gap", (change, self.last_seq)
            if not reply["hasMore"]:
                return replies

    def view(self) -> dict[str, tuple[str, bool, Frame]]:
        return {i: (m["text"], m["deleted"], m["reactionCounts"]) for i, m in self.messages.items()}


def view_of(messages: dict[str, Frame]) -> dict[str, tuple[str, bool, Frame]]:
    return {i: (m["text"], m["deleted"], m["reactionCounts"]) for i, m in messages.items()}


def is_change(room_id: str, after: int = -1) -> Callable[[Frame], bool]:
    """A change of the room past seq `after`: a late delivery of a change made before the
    socket subscribed (the fan-out runs from the stream, after the store) is not what a test
    waits for."""
    return lambda f: (
        f.get("type") in CHANGE_TYPES
        and f.get("roomId") == room_id
        and int(f.get("seq", 0)) > after
    )


def error_code(reply: Frame) -> str:
    assert reply["type"] == "error", reply
    return str(reply["error"]["code"])


# ============================================================================================
# Sequence numbers: history's seq, messages' seq, live changes numbered 1, 2, 3...


def test_history_seq_and_live_changes_are_consecutive(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    room_id = room_with(api, alice, bob)
    a, b = open_socket(alice), open_socket(bob)
    a.ack({"action": "subscribe", "roomIds": [room_id]})
    b.ack({"action": "subscribe", "roomIds": [room_id]})
    first = a.post(room_id, "one")
    assert isinstance(first["seq"], int)

    messages, seq = history(api, bob, room_id)
    assert messages[first["id"]]["seq"] == first["seq"]
    assert seq >= first["seq"]  # "the room's position read just before the page"
    room = Room(room_id, messages, seq)

    second = a.post(room_id, "two")
    assert second["seq"] == seq + 1  # "1, 2, 3... per room, with no gap"
    edited = a.ack(
        {"action": "editMessage", "roomId": room_id, "messageId": first["id"], "text": "uno"}
    )["message"]
    assert edited["seq"] == first["seq"]  # a message's seq is its post's
    a.ack({"action": "react", "roomId": room_id, "messageId": second["id"], "emoji": "👍"})
    a.ack({"action": "deleteMessage", "roomId": room_id, "messageId": second["id"]})

    kinds = []
    while room.last_seq < seq + 4:
        change = b.event(is_change(room_id))
        outcome = room.on_change(change)
        assert outcome != "gap", (change, room.last_seq)
        if outcome == "applied":
            kinds.append(change["type"])
    assert room.dropped == [first["seq"]]  # bob subscribed before `first`: it came live too
    assert kinds == ["message.posted", "message.edited", "reaction.changed", "message.deleted"]
    assert room.last_seq == seq + 4
    deleted = room.messages[second["id"]]
    assert deleted["deleted"] is True
    assert deleted["text"] == ""

    # A repeat (here: a sync from before what we hold) is dropped by seq; nothing changes.
    before = room.view()
    reply = b.sync(room_id, afterSeq=room.last_seq - 3, limit=100)
    assert [c["seq"] for c in reply["changes"]] == [seq + 2, seq + 3, seq + 4]
    for change in reply["changes"]:
        assert room.on_change(change) == "dropped"
    assert room.view() == before == view_of(history(api, bob, room_id)[0])


def test_sync_changes_are_the_frames_a_live_connection_got(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    room_id = room_with(api, alice, bob)
    a, b = open_socket(alice), open_socket(bob)
    b.ack({"action": "subscribe", "roomIds": [room_id]})
    _, seq = history(api, bob, room_id)
    message = a.post(room_id, "hi")
    a.ack({"action": "react", "roomId": room_id, "messageId": message["id"], "emoji": "🎉"})
    a.ack({"action": "editMessage", "roomId": room_id, "messageId": message["id"], "text": "yo"})
    live = [b.event(is_change(room_id, after=seq)) for _ in range(3)]
    reply = b.sync(room_id, afterSeq=seq)
    assert reply["type"] == "ack"
    assert reply["action"] == "sync"
    assert reply["v"] == 2
    assert reply["roomId"] == room_id
    assert reply["changes"] == live  # "each as the event frame a live connection got"
    assert reply["seq"] == live[-1]["seq"]
    assert reply["hasMore"] is False


def test_sync_after_seq_zero_starts_at_the_first_change(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    room_id = room_with(api, alice, bob)
    a = open_socket(alice)
    a.post(room_id, "first")
    _, head = history(api, alice, room_id)
    reply = a.sync(room_id, afterSeq=0, limit=100)
    seqs = [c["seq"] for c in reply["changes"]]
    assert seqs == list(range(1, head + 1)), reply["changes"]
    assert reply["seq"] == head
    assert reply["hasMore"] is False
    # Nothing after the head: no change, and `seq` is `afterSeq` ("or afterSeq when there is none").
    empty = a.sync(room_id, afterSeq=head)
    assert empty["changes"] == []
    assert empty["seq"] == head
    assert empty["hasMore"] is False


# ============================================================================================
# Offline: edits, deletes, reactions, members joining and leaving; then reconnect and sync


def test_offline_changes_are_caught_up_by_sync_in_pages_of_two(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    room_id = room_with(api, alice, bob)
    a = open_socket(alice)
    m1, m2, m3 = (a.post(room_id, text) for text in ("m1", "m2", "m3"))

    b = open_socket(bob)
    b.ack({"action": "subscribe", "roomIds": [room_id]})
    messages, seq = history(api, bob, room_id)
    room = Room(room_id, messages, seq)
    members = call("GET", f"{api}/rooms/{room_id}/members", bob).json()["members"]
    room.members = {m["userId"]: m["role"] for m in members}
    b.connection.close()

    a.ack({"action": "editMessage", "roomId": room_id, "messageId": m1["id"], "text": "m1!"})
    a.ack({"action": "deleteMessage", "roomId": room_id, "messageId": m2["id"]})
    a.ack({"action": "react", "roomId": room_id, "messageId": m3["id"], "emoji": "👍"})
    invite(api, alice, carol, room_id)
    c = open_socket(carol)
    c.ack({"action": "react", "roomId": room_id, "messageId": m3["id"], "emoji": "👍"})
    c.ack({"action": "react", "roomId": room_id, "messageId": m1["id"], "emoji": "🎉"})
    m4 = c.post(room_id, "carol was here")
    assert call("POST", f"{api}/rooms/{room_id}/leave", carol).json() == {"left": True}
    a.ack({"action": "react", "roomId": room_id, "messageId": m3["id"], "emoji": "👍"})  # off

    b = open_socket(bob)
    b.ack({"action": "subscribe", "roomIds": [room_id]})
    replies = room.catch_up(b, limit=2)
    assert len(replies) >= 5  # 10 changes, two per reply
    assert all(r["hasMore"] for r in replies[:-1])
    assert not replies[-1]["hasMore"]
    fresh, head = history(api, bob, room_id)
    assert room.last_seq == head
    assert room.view() == view_of(fresh)
    assert fresh[m4["id"]]["text"] == "carol was here"
    assert fresh[m3["id"]]["reactionCounts"] == {"👍": 1}
    now = call("GET", f"{api}/rooms/{room_id}/members", bob).json()["members"]
    assert room.members == {m["userId"]: m["role"] for m in now}
    assert carol.user_id not in room.members

    # And live again from there: the next change is lastSeq + 1.
    a.post(room_id, "welcome back")
    assert room.on_change(b.event(is_change(room_id, after=head))) == "applied"
    assert room.last_seq == head + 1


def test_an_owner_leaving_is_a_member_left_then_a_role_change(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    room_id = room_with(api, alice, bob, carol)
    c = open_socket(carol)
    c.ack({"action": "subscribe", "roomIds": [room_id]})
    _, seq = history(api, carol, room_id)
    assert call("POST", f"{api}/rooms/{room_id}/leave", alice).status_code == 200
    events = [c.event(is_change(room_id, after=seq)) for _ in range(2)]
    by_type = {e["type"]: e for e in events}
    assert by_type["member.left"]["userId"] == alice.user_id
    assert by_type["member.joined"]["membership"]["userId"] == bob.user_id
    assert by_type["member.joined"]["membership"]["role"] == "owner"
    assert sorted(e["seq"] for e in events) == [seq + 1, seq + 2]


# ============================================================================================
# Read receipts


def is_read(room_id: str) -> Callable[[Frame], bool]:
    return lambda f: f.get("type") == "read" and f.get("roomId") == room_id


def test_read_events_follow_the_marker_forward_only(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    room_id = room_with(api, alice, bob)
    a, b = open_socket(alice), open_socket(bob)
    a.ack({"action": "subscribe", "roomIds": [room_id]})
    b.ack({"action": "subscribe", "roomIds": [room_id]})
    m1, m2 = a.post(room_id, "one"), a.post(room_id, "two")

    reply = b.ack({"action": "markRead", "roomId": room_id, "messageId": m2["id"]})
    assert set(reply) == {"v", "type", "action", "requestId"}  # "carry nothing more"
    read = a.event(is_read(room_id))
    assert read == {
        "v": 2,
        "type": "read",
        "roomId": room_id,
        "userId": bob.user_id,
        "messageId": m2["id"],
        "upTo": m2["seq"],
    }

    # Re-reading an older message sends nothing: the next `read` alice sees is a later marker.
    b.ack({"action": "markRead", "roomId": room_id, "messageId": m1["id"]})
    m3 = a.post(room_id, "three")
    response = call("POST", f"{api}/rooms/{room_id}/read", bob, json={"messageId": m3["id"]})
    assert response.json() == {"read": m3["id"]}
    nxt = a.event(is_read(room_id))
    assert (nxt["userId"], nxt["messageId"], nxt["upTo"]) == (bob.user_id, m3["id"], m3["seq"])

    # Posting marks your own message read without an event.
    own = b.post(room_id, "mine")
    b.ack({"action": "markRead", "roomId": room_id, "messageId": own["id"]})  # not forward
    m5 = a.post(room_id, "five")
    b.ack({"action": "markRead", "roomId": room_id, "messageId": m5["id"]})
    nxt = a.event(is_read(room_id))
    assert (nxt["userId"], nxt["messageId"], nxt["upTo"]) == (bob.user_id, m5["id"], m5["seq"])
    members = call("GET", f"{api}/rooms/{room_id}/members", alice).json()["members"]
    assert {m["userId"]: m["lastReadId"] for m in members}[bob.user_id] == m5["id"]

    # Receipts are not changes: no seq, never replayed by sync.
    assert "seq" not in nxt
    replayed = a.sync(room_id, afterSeq=0, limit=100)
    assert {c["type"] for c in replayed["changes"]} <= CHANGE_TYPES


def test_the_reader_connections_get_the_read_event_too(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    # "the room's connections get a `read` event": the reader's own connections are the room's.
    alice, bob = make_user("alice"), make_user("bob")
    room_id = room_with(api, alice, bob)
    a, b = open_socket(alice), open_socket(bob)
    b.ack({"action": "subscribe", "roomIds": [room_id]})
    message = a.post(room_id, "read me")
    b.ack({"action": "markRead", "roomId": room_id, "messageId": message["id"]})
    assert b.event(is_read(room_id))["messageId"] == message["id"]


# ============================================================================================
# v1 clients (Versioning)


def test_a_v1_sync_with_after_id_gets_messages_and_has_more(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    room_id = room_with(api, alice, bob)
    a = open_socket(alice)
    m1, m2, m3 = (a.post(room_id, text) for text in ("one", "two", "three"))
    a.ack({"action": "editMessage", "roomId": room_id, "messageId": m2["id"], "text": "TWO"})
    a.ack({"action": "react", "roomId": room_id, "messageId": m3["id"], "emoji": "👍"})

    b = open_socket(bob)
    reply = b.sync(room_id, afterId=m1["id"], limit=1)
    assert reply["type"] == "ack"
    assert "changes" not in reply
    assert [m["id"] for m in reply["messages"]] == [m2["id"]]
    assert reply["messages"][0]["text"] == "TWO"  # "as they are now"
    assert reply["hasMore"] is True
    rest = b.sync(room_id, afterId=m2["id"], limit=100)
    assert [m["id"] for m in rest["messages"]] == [m3["id"]]
    assert rest["hasMore"] is False
    assert rest["messages"][0]["reactionCounts"] == {"👍": 1}
    # With neither afterId nor afterSeq: the v1 form too.
    neither = b.sync(room_id)
    assert neither["type"] == "ack"
    assert "changes" not in neither
    assert {m["id"] for m in neither["messages"]} >= {m1["id"], m2["id"], m3["id"]}
    assert neither["hasMore"] is False


# ============================================================================================
# ping, bad afterSeq, Versioning, keepalive settings


def test_ping_gets_a_bare_ack(open_socket: Callable[[User], Socket], make_user: Any) -> None:
    s = open_socket(make_user("pinger"))
    reply = s.ack({"action": "ping"})
    assert set(reply) == {"v", "type", "action", "requestId"}
    assert reply["action"] == "ping"
    s.connection.send(json.dumps({"action": "ping"}))
    bare = s.recv(WAIT)
    assert bare["type"] == "ack"
    assert bare["action"] == "ping"
    assert bare["requestId"] is None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"afterSeq": -1}, "invalid_input"),
        ({"afterSeq": "3"}, "invalid_input"),
        ({"afterSeq": 1.5}, "invalid_input"),
        ({"afterSeq": True}, "invalid_input"),
        ({"afterSeq": 0, "limit": 0}, "invalid_input"),
        ({"afterSeq": 0, "limit": 101}, "invalid_input"),
    ],
)
def test_bad_sync_fields_are_invalid_input(
    api: str,
    make_user: Callable[[str], User],
    open_socket: Callable[[User], Socket],
    fields: Frame,
    code: str,
) -> None:
    alice = make_user("alice")
    room_id = room_with(api, alice)
    reply = open_socket(alice).sync(room_id, **fields)
    assert error_code(reply) == code
    assert reply["error"]["retryable"] is False


def test_sync_past_the_head(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice = make_user("alice")
    room_id = room_with(api, alice)
    s = open_socket(alice)
    s.post(room_id, "x")
    _, head = history(api, alice, room_id)
    reply = s.sync(room_id, afterSeq=head + 5)
    # The doc: feed_expired is "`sync` from a `seq` the room's feed no longer holds"; a seq the
    # feed never held is not described. Whatever it is, it must not pretend to be caught up.
    assert reply["type"] == "error", reply
    assert error_code(reply) in {"invalid_input", "feed_expired"}


def test_sync_with_after_seq_of_a_room_you_cannot_see_is_not_found(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, mallory = make_user("alice"), make_user("mallory")
    room_id = room_with(api, alice)
    assert error_code(open_socket(mallory).sync(room_id, afterSeq=0)) == "not_found"


def test_every_frame_carries_v2(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    room_id = room_with(api, alice, bob)
    a, b = open_socket(alice), open_socket(bob)
    b.ack({"action": "subscribe", "roomIds": [room_id]})
    message = a.post(room_id, "v?")
    b.event(is_change(room_id))
    b.ack({"action": "markRead", "roomId": room_id, "messageId": message["id"]})
    b.event(is_read(room_id))
    b.sync(room_id, afterSeq=0)
    error_code(b.sync(room_id, afterSeq=-1))
    frames = a.received + b.received
    assert frames
    assert all(f["v"] == 2 for f in frames)


def test_keepalive_settings_are_in_config_json(config: Frame) -> None:
    limits = config["limits"]
    assert limits["pingIntervalSeconds"] == 240  # "Send `ping` every 4 minutes"
    assert limits["reconnectBaseMs"] == 500  # "0.5 s x 2^n"
    assert limits["reconnectCapMs"] == 30_000  # "min(30 s, ...)"


# ============================================================================================
# Delivery: a change stored is never lost; a sync reply always fits


def test_a_socket_lost_without_disconnect_misses_nothing(
    api: str,
    stack_url: str,
    make_user: Callable[[str], User],
    open_socket: Callable[[User], Socket],
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    room_id = room_with(api, alice, bob)
    before = set(httpx.get(f"{stack_url}/_local/connections", timeout=30).json()["connections"])
    b = open_socket(bob)
    b.ack({"action": "subscribe", "roomIds": [room_id]})
    after = set(httpx.get(f"{stack_url}/_local/connections", timeout=30).json()["connections"])
    (bobs,) = after - before
    messages, seq = history(api, bob, room_id)
    room = Room(room_id, messages, seq)
    # LOCAL.md: "cuts a socket *without* running `$disconnect`, as when AWS loses one".
    dropped = httpx.post(f"{stack_url}/_local/connections/{bobs}/drop", timeout=30)
    assert dropped.status_code < 300, dropped.text
    a = open_socket(alice)
    posted = [a.post(room_id, f"while away {i}") for i in range(3)]
    a.ack({"action": "editMessage", "roomId": room_id, "messageId": posted[0]["id"], "text": "e"})

    b = open_socket(bob)
    b.ack({"action": "subscribe", "roomIds": [room_id]})
    room.catch_up(b, limit=2)
    fresh, head = history(api, bob, room_id)
    assert room.last_seq == head == seq + 4
    assert room.view() == view_of(fresh)


def test_a_sync_reply_stops_before_120_kb(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice = make_user("alice")
    room_id = room_with(api, alice)
    a = open_socket(alice)
    _, seq = history(api, alice, room_id)
    for _ in range(14):  # 14 posts of 12,000 UTF-8 bytes: more than one reply holds
        a.post(room_id, "€" * 4000)
    room = Room(room_id, {}, seq)
    replies = room.catch_up(a, limit=100)
    assert len(replies) >= 2
    assert replies[0]["hasMore"] is True
    assert len(replies[0]["changes"]) < 14
    assert room.last_seq == seq + 14
    assert max(a.sizes) <= 120 * 1024


def test_a_member_removed_while_offline_gets_not_found_from_sync(
    api: str, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    # The doc promises "if no live delivery reaches you ..., sync has it", but also that a
    # room you may not see answers not_found: a removed member's sync is the latter.
    alice, bob = make_user("alice"), make_user("bob")
    room_id = room_with(api, alice, bob)
    _, seq = history(api, bob, room_id)
    removed = call("DELETE", f"{api}/rooms/{room_id}/members/{bob.user_id}", alice)
    assert removed.json() == {"removed": True}
    assert error_code(open_socket(bob).sync(room_id, afterSeq=seq)) == "not_found"
