"""A client of issue 17's conversation features written from docs/PROTOCOL.md alone.

It follows the doc's sections "Roles and moderation", "Threads, quotes and mentions",
"Blocking and reports" and "Rooms: member counts and the lobby": plain JSON over a real
WebSocket (`websockets`) and real HTTP (`httpx`), with its own small helpers. Every example
JSON of those sections is parsed, and the objects the server sends are compared with the
doc's examples (field names, types, which fields are present when). Sentences of the doc this
client relies on are quoted in comments. Nothing here imports the server's code; only the
session fixture `stack_url` (tests/conftest.py) starts the stack, and one test starts a second
stack with a tight report limit (tests/support/dev_stack.py) to reach `rate_limited`.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

PASSWORD = "Corr3ct-Horse-Battery!"
WAIT = 30.0  # generous: the machine is shared
DOC = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"
SECTIONS = (
    "Roles and moderation",
    "Rooms: member counts and the lobby (issue 17)",
    "Blocking and reports",
    "Threads, quotes and mentions",
)
NOT_A_ULID_BUT_WELL_FORMED = "01JD2V7B0000000000000000ZZ"  # a message id that exists nowhere
Frame = dict[str, Any]


# --------------------------------------------------------------------------------------------
# the doc's examples


def section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def examples(title: str) -> list[Frame]:
    """Every ```json block of a section, parsed (a block that does not parse fails here)."""
    blocks = re.findall(r"```json\n(.*?)\n```", section(title), flags=re.S)
    return [json.loads(block) for block in blocks]


def example(title: str, predicate: Callable[[Frame], bool]) -> Frame:
    found = [e for e in examples(title) if predicate(e)]
    assert len(found) >= 1, f"no such example in {title!r}"
    return found[0]


ROLES = "Roles and moderation"
THREADS = "Threads, quotes and mentions"
BLOCKS = "Blocking and reports"
COUNTS = "Rooms: member counts and the lobby (issue 17)"

# Fields the doc says are present only when they say something ("a key is absent where it
# would say nothing"; "Rooms and memberships show `archived`, `slowModeSeconds`, `mutedUntil`
# and `retentionDays` only when set"; "`hidden` is absent on every other message"; "`deletedBy` (who
# deleted it; absent when the author did)").
OPTIONAL = {
    "message": {
        "parentId",
        "alsoInRoom",
        "replyCount",
        "lastReplyAt",
        "quote",
        "mentions",
        "mentionsAll",
        "hidden",
        "deletedBy",
    },
    "room": {"archived", "slowModeSeconds", "retentionDays"},
    "rooms": {"archived", "slowModeSeconds", "retentionDays"},
    "membership": {"mutedUntil"},
    "error": {"retryAfterMs"},
}
# Fields the doc says are `null` at times though its example shows a value ("`targetUserId` and
# `targetMessageId` are `null` where the act has none").
NULLABLE = {"targetUserId", "targetMessageId"}


def same_shape(
    doc: Any, got: Any, where: str = "$", optional: frozenset[str] = frozenset()
) -> None:
    """`got` has the doc example's fields with the same JSON types (a doc `null` accepts a value
    too, a value accepts `null` only where the doc shows one), and no field the doc does not
    name (but those in `optional`)."""
    if isinstance(doc, dict):
        assert isinstance(got, dict), (where, got)
        if "..." in doc:  # the doc's "as in ..." placeholder: keys not spelled out
            return
        missing = set(doc) - set(got) - optional
        extra = set(got) - set(doc) - optional
        assert not missing, f"{where}: the server omits {sorted(missing)}: {got}"
        assert not extra, f"{where}: the server sends fields the doc does not name {sorted(extra)}"
        for key in doc.keys() & got.keys():
            same_shape(doc[key], got[key], f"{where}.{key}", frozenset(OPTIONAL.get(key, ())))
    elif isinstance(doc, list):
        assert isinstance(got, list), (where, got)
        if doc and got:
            for item in got:
                same_shape(doc[0], item, f"{where}[]", optional)
    elif doc is None or (got is None and where.rsplit(".", 1)[-1] in NULLABLE):
        return
    elif isinstance(doc, bool):
        assert isinstance(got, bool), (where, got)
    elif isinstance(doc, int):
        assert isinstance(got, int), (where, got)
        assert not isinstance(got, bool), (where, got)
    else:
        assert isinstance(got, type(doc)), (where, got)


def shaped(doc: Frame, got: Frame, top: str = "") -> None:
    same_shape(doc, got, optional=frozenset(OPTIONAL.get(top, ())))


# --------------------------------------------------------------------------------------------
# discovery, sign-in, HTTP ("The local stack", "Getting a token")


class User:
    def __init__(self, username: str, token: str, user_id: str) -> None:
        self.username = username
        self.token = token
        self.user_id = user_id


class Api:
    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, method: str, path: str, user: User, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {user.token}"}
        return httpx.request(method, f"{self.base}{path}", headers=headers, timeout=60, **kwargs)

    def ok(self, method: str, path: str, user: User, status: int = 200, **kwargs: Any) -> Frame:
        response = self(method, path, user, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        body: Frame = response.json()
        return body

    def fails(self, method: str, path: str, user: User, status: int, code: str, **kw: Any) -> Frame:
        """An error answer: the status, and `{"error": {"code", "message"}}`."""
        response = self(method, path, user, **kw)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        body: Frame = response.json()
        assert body["error"]["code"] == code, body
        assert isinstance(body["error"]["message"], str)
        assert body["error"]["message"]
        return body


def discover(stack_url: str) -> Frame:
    response = httpx.get(f"{stack_url}/config.json", timeout=30)
    assert response.status_code == 200
    result: Frame = response.json()
    return result


def user_maker(stack_url: str, config: Frame, api: Api) -> Callable[[str], User]:
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
            f"{api.base}/me", headers={"Authorization": f"Bearer {auth['IdToken']}"}, timeout=30
        )
        assert me.status_code == 200, me.text
        return User(username, auth["IdToken"], me.json()["user"]["userId"])

    return make


@pytest.fixture(scope="module")
def config(stack_url: str) -> Frame:
    return discover(stack_url)


@pytest.fixture(scope="module")
def api(config: Frame) -> Api:
    return Api(str(config["httpUrl"]).rstrip("/"))


@pytest.fixture(scope="module")
def make_user(stack_url: str, config: Frame, api: Api) -> Callable[[str], User]:
    return user_maker(stack_url, config, api)


def new_room(api: Api, owner: User, kind: str, *members: User) -> str:
    body = {"name": f"i17 {uuid.uuid4().hex[:8]}", "kind": kind, "members": []}
    room_id = str(api.ok("POST", "/rooms", owner, 201, json=body)["room"]["roomId"])
    for member in members:
        if kind == "public":
            api.ok("POST", f"/rooms/{room_id}/join", member)
        else:
            api.ok(
                "POST", f"/rooms/{room_id}/members", owner, 202, json={"username": member.username}
            )
            api.ok("POST", f"/invites/{room_id}/accept", member)
    return room_id


def set_role(api: Api, actor: User, room_id: str, target: User, role: str) -> Frame:
    return api.ok(
        "PUT", f"/rooms/{room_id}/members/{target.user_id}/role", actor, json={"role": role}
    )


def audit(api: Api, user: User, room_id: str, **params: Any) -> list[Frame]:
    entries: list[Frame] = api.ok("GET", f"/rooms/{room_id}/audit", user, params=params)["entries"]
    return entries


# --------------------------------------------------------------------------------------------
# the socket


class Socket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.pending: list[Frame] = []

    def recv(self, timeout: float) -> Frame:
        frame: Frame = json.loads(self.connection.recv(timeout=timeout))
        return frame

    def request(self, frame: Frame) -> Frame:
        """Send with a fresh requestId; the one reply with that requestId ("Each frame gets
        exactly one reply: an `ack` with the action's result, or an `error`")."""
        sent = {**frame, "requestId": uuid.uuid4().hex}
        self.connection.send(json.dumps(sent))
        deadline = time.monotonic() + WAIT
        while True:
            reply = self.recv(max(0.1, deadline - time.monotonic()))
            if (
                reply.get("type") in ("ack", "error")
                and reply.get("requestId") == sent["requestId"]
            ):
                assert reply["v"] == 2
                return reply
            self.pending.append(reply)

    def ack(self, frame: Frame) -> Frame:
        reply = self.request(frame)
        assert reply["type"] == "ack", reply
        return reply

    def error(self, frame: Frame, code: str) -> Frame:
        reply = self.request(frame)
        assert reply["type"] == "error", reply
        assert reply["error"]["code"] == code, reply
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

    def subscribe(self, *room_ids: str) -> None:
        self.ack({"action": "subscribe", "roomIds": list(room_ids)})

    def send(self, room_id: str, text: str, **fields: Any) -> Frame:
        frame = {"action": "sendMessage", "roomId": room_id, "text": text, **fields}
        return self.request({"clientId": uuid.uuid4().hex, **frame})

    def post(self, room_id: str, text: str, **fields: Any) -> Frame:
        reply = self.send(room_id, text, **fields)
        assert reply["type"] == "ack", reply
        message: Frame = reply["message"]
        return message

    def sync_all(self, room_id: str, after: int) -> list[Frame]:
        changes: list[Frame] = []
        while True:
            reply = self.ack({"action": "sync", "roomId": room_id, "afterSeq": after, "limit": 100})
            changes.extend(reply["changes"])
            after = reply["seq"]
            if not reply["hasMore"]:
                return changes


@pytest.fixture
def open_socket(config: Frame) -> Iterator[Callable[[User], Socket]]:
    with contextlib.ExitStack() as stack:

        def opener(user: User) -> Socket:
            url = f"{config['wsUrl']}?token={urllib.parse.quote(user.token, safe='')}"
            return Socket(stack.enter_context(connect(url, open_timeout=WAIT, close_timeout=5)))

        yield opener


def closed_by_server(socket: Socket) -> bool:
    """Whether the server closes the socket (whatever it sends before) within WAIT."""
    try:
        while True:
            socket.recv(WAIT)
    except ConnectionClosed:
        return True
    except TimeoutError:
        return False


def of_type(kind: str, room_id: str, **match: Any) -> Callable[[Frame], bool]:
    def predicate(frame: Frame) -> bool:
        if frame.get("type") != kind or frame.get("roomId") != room_id:
            return False
        return all(_dig(frame, key) == value for key, value in match.items())

    return predicate


def _dig(frame: Frame, dotted: str) -> Any:
    value: Any = frame
    for part in dotted.split("__"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def room_seq(api: Api, user: User, room_id: str) -> int:
    """History's `seq`: "the room's position read just before the page"."""
    seq: int = api.ok("GET", f"/rooms/{room_id}/messages", user, params={"limit": "1"})["seq"]
    return seq


def history(api: Api, user: User, room_id: str) -> dict[str, Frame]:
    messages: dict[str, Frame] = {}
    cursor: str | None = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        body = api.ok("GET", f"/rooms/{room_id}/messages", user, params=params)
        messages.update({m["id"]: m for m in body["messages"]})
        cursor = body["nextCursor"]
        if not cursor:
            return messages


def my_room(api: Api, user: User, room_id: str) -> Frame:
    """The `GET /rooms` entry of one room (`{"room", "membership", "unread", ...}`)."""
    cursor: str | None = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        body = api.ok("GET", "/rooms", user, params=params)
        for entry in body["rooms"]:
            if entry["room"]["roomId"] == room_id:
                found: Frame = entry
                return found
        cursor = body["nextCursor"]
        assert cursor, f"{room_id} is not in {user.username}'s rooms"


# ============================================================================================
# The doc's examples parse, and its bodies are accepted as written


def test_every_example_of_the_issue_17_sections_parses() -> None:
    for title in SECTIONS:
        blocks = re.findall(r"```json\n(.*?)\n```", section(title), flags=re.S)
        assert blocks, title
        for block in blocks:
            assert isinstance(json.loads(block), dict), block
    # "Every frame the socket sends carries "v": 2 (HTTP bodies ... carry no v)"
    for title in SECTIONS:
        for frame in examples(title):
            if "type" in frame:
                assert frame["v"] == 2, frame


def test_the_permission_table_names_every_act_in_every_kind() -> None:
    table = section(ROLES).split("<!-- permissions:")[1].split("<!-- /permissions -->")[0]
    rows = [r for r in table.splitlines() if r.startswith("| `")]
    acts = {r.split("`")[1] for r in rows}
    assert {"post", "react", "invite", "remove", "ban", "mute", "deleteOthers", "pin"} <= acts
    assert {"slowMode", "changeRoles", "rename", "archive", "mentionAll", "report"} <= acts
    assert {"moderate", "slowModeExempt", "banList"} <= acts
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        assert len(cells) == 3, row
        for cell in cells:
            assert cell in {"owner+", "admin+", "moderator+", "member+", "nobody"}, row


# ============================================================================================
# Roles and moderation: the permission table, role changes


def test_roles_change_as_the_table_says_and_each_change_is_member_joined(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    owner, adam, mod, mem, other = (make_user(p) for p in ("own", "adm", "mod", "mem", "oth"))
    room = new_room(api, owner, "public", adam, mod, mem, other)
    watcher = open_socket(owner)
    watcher.subscribe(room)
    before = room_seq(api, owner, room)

    # `PUT /rooms/{roomId}/members/{userId}/role` ChangeRole -> `{"membership"}`; "the room gets
    # `member.joined` with the new role"
    body = example(ROLES, lambda e: e.get("role") == "moderator" and len(e) == 1)
    assert body == {"role": "moderator"}
    answer = set_role(api, owner, room, adam, "admin")
    assert answer["membership"]["role"] == "admin"
    assert answer["membership"]["userId"] == adam.user_id
    event = watcher.event(of_type("member.joined", room, membership__userId=adam.user_id))
    assert event["membership"]["role"] == "admin"
    assert event["seq"] == before + 1
    shaped(example(ROLES, lambda e: e.get("type") == "member.joined"), event)

    # "an admin makes at most moderators; only an owner makes owners"
    assert set_role(api, adam, room, mod, "moderator")["membership"]["role"] == "moderator"
    put = f"/rooms/{room}/members/{other.user_id}/role"
    api.fails("PUT", put, adam, 403, "forbidden", json={"role": "admin"})
    api.fails("PUT", put, adam, 403, "forbidden", json={"role": "owner"})
    # `changeRoles` is admin+: a moderator or a member changes nobody's role
    api.fails("PUT", put, mod, 403, "forbidden", json={"role": "moderator"})
    api.fails("PUT", put, mem, 403, "forbidden", json={"role": "moderator"})
    # "nobody acts on an owner"; over a lower role only: an admin does not demote an admin
    api.fails(
        "PUT",
        f"/rooms/{room}/members/{owner.user_id}/role",
        adam,
        403,
        "forbidden",
        json={"role": "member"},
    )
    set_role(api, owner, room, other, "admin")
    api.fails("PUT", put, adam, 403, "forbidden", json={"role": "member"})
    # an owner makes owners
    assert set_role(api, owner, room, other, "owner")["membership"]["role"] == "owner"
    # a role that is not one of the four
    api.fails(
        "PUT",
        f"/rooms/{room}/members/{mem.user_id}/role",
        owner,
        400,
        "invalid_input",
        json={"role": "superuser"},
    )

    # The audit log: "Each audit entry's `action` is the act's name" ... "`member -> moderator`"
    entries = audit(api, owner, room)
    role_entries = [e for e in entries if e["action"] == "changeRoles"]
    assert {(e["targetUserId"], e["detail"]) for e in role_entries} >= {
        (adam.user_id, "member -> admin"),
        (mod.user_id, "member -> moderator"),
    }


def test_not_members_are_forbidden_in_public_rooms_and_not_found_in_private_ones(
    api: Api, make_user: Callable[[str], User]
) -> None:
    owner, mem, stranger = make_user("own"), make_user("mem"), make_user("str")
    public = new_room(api, owner, "public", mem)
    private = new_room(api, owner, "private", mem)
    # "Not members (non-members and banned users) may do none of these: in a public room they
    # are answered `403 forbidden`, in a private or direct room `404 not_found`"
    for room, status, code in ((public, 403, "forbidden"), (private, 404, "not_found")):
        api.fails("PATCH", f"/rooms/{room}", stranger, status, code, json={"name": "mine"})
        api.fails(
            "POST",
            f"/rooms/{room}/mutes",
            stranger,
            status,
            code,
            json={"userId": mem.user_id, "seconds": 60},
        )
        api.fails(
            "POST",
            f"/rooms/{room}/bans",
            stranger,
            status,
            code,
            json={"userId": mem.user_id, "reason": ""},
        )
        api.fails("DELETE", f"/rooms/{room}/members/{mem.user_id}", stranger, status, code)
        api.fails("GET", f"/rooms/{room}/audit", stranger, status, code)
        api.fails("GET", f"/rooms/{room}/bans", stranger, status, code)
    # `invite` is admin+ in a private room, member+ in a public one
    api.fails(
        "POST",
        f"/rooms/{private}/members",
        mem,
        403,
        "forbidden",
        json={"username": stranger.username},
    )
    api.ok("POST", f"/rooms/{public}/members", mem, 202, json={"username": stranger.username})


def test_a_direct_room_has_pins_but_no_moderation(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob = make_user("ali"), make_user("bob")
    room = api.ok("POST", "/direct", alice, json={"userId": bob.user_id})["room"]
    room_id = room["roomId"]
    assert (
        room["memberCount"] == 2
    )  # "Every `room` object (... `POST /direct`) carries memberCount"
    message = open_socket(alice).post(room_id, "pin me")
    # `pin` | moderator+ | moderator+ | member+
    pin = api.ok("POST", f"/rooms/{room_id}/pins", bob, json={"messageId": message["id"]})["pin"]
    assert pin["messageId"] == message["id"]
    # every other act of moderation is "nobody" in a direct room
    api.fails("PATCH", f"/rooms/{room_id}", alice, 403, "forbidden", json={"slowModeSeconds": 5})
    api.fails("PATCH", f"/rooms/{room_id}", alice, 403, "forbidden", json={"name": "us"})
    api.fails(
        "POST",
        f"/rooms/{room_id}/mutes",
        alice,
        403,
        "forbidden",
        json={"userId": bob.user_id, "seconds": 60},
    )
    api.fails(
        "POST",
        f"/rooms/{room_id}/bans",
        alice,
        403,
        "forbidden",
        json={"userId": bob.user_id, "reason": "x"},
    )
    api.fails("GET", f"/rooms/{room_id}/audit", alice, 403, "forbidden")


def test_the_roles_sections_error_table(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    owner, mem, stranger = make_user("own"), make_user("mem"), make_user("str")
    room = new_room(api, owner, "public", mem)
    m = open_socket(mem)
    gone = m.post(room, "going")
    m.ack({"action": "deleteMessage", "roomId": room, "messageId": gone["id"]})
    live = m.post(room, "staying")
    # 400 invalid_input: "a `PATCH` with none of `name`, `slowModeSeconds`, `archived`; an
    # unknown field or role; ... banning yourself; a cursor from elsewhere"
    api.fails("PATCH", f"/rooms/{room}", owner, 400, "invalid_input", json={})
    api.fails("PATCH", f"/rooms/{room}", owner, 400, "invalid_input", json={"topic": "x"})
    api.fails(
        "POST",
        f"/rooms/{room}/bans",
        owner,
        400,
        "invalid_input",
        json={"userId": owner.user_id, "reason": ""},
    )
    api.fails("GET", f"/rooms/{room}/audit", owner, 400, "invalid_input", params={"cursor": "x"})
    # 403 forbidden: "the target's role is not below yours" (an owner mutes no owner, itself)
    denied = api.fails(
        "POST",
        f"/rooms/{room}/mutes",
        owner,
        403,
        "forbidden",
        json={"userId": owner.user_id, "seconds": 60},
    )
    assert not denied["error"]["message"].startswith("a owner"), denied  # plain English
    # 404 not_found: "a target user who is not a member (role, mute, kick) or does not exist
    # (ban); a message that is not a live message of the room (pin), or not pinned (unpin)"
    for method, path, body in (
        ("PUT", f"/rooms/{room}/members/{stranger.user_id}/role", {"role": "moderator"}),
        ("POST", f"/rooms/{room}/mutes", {"userId": stranger.user_id, "seconds": 60}),
        ("DELETE", f"/rooms/{room}/members/{stranger.user_id}", None),
        ("POST", f"/rooms/{room}/bans", {"userId": f"nobody-{uuid.uuid4().hex}", "reason": ""}),
        ("POST", f"/rooms/{room}/pins", {"messageId": gone["id"]}),
        ("DELETE", f"/rooms/{room}/pins/{live['id']}", None),
    ):
        api.fails(method, path, owner, 404, "not_found", json=body)


# ============================================================================================
# Rename, slow mode, archive: `room.updated`


def test_rename_slow_mode_and_archive_are_room_updated_changes(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    owner, mod, mem, late = make_user("own"), make_user("mod"), make_user("mem"), make_user("lat")
    room = new_room(api, owner, "public", mod, mem)
    set_role(api, owner, room, mod, "moderator")
    o, d, m = open_socket(owner), open_socket(mod), open_socket(mem)
    o.subscribe(room)
    before = room_seq(api, owner, room)
    first = m.post(room, "before the rules")

    # UpdateRoom's example, as written in the doc (its name, 30 s, not archived)
    body = example(ROLES, lambda e: "slowModeSeconds" in e and "name" in e and "type" not in e)
    answer = api.ok("PATCH", f"/rooms/{room}", owner, json=body)["room"]
    assert answer["name"] == body["name"]
    assert answer["slowModeSeconds"] == 30
    assert "archived" not in answer  # "absent: not archived"
    # "each setting that changed is a `room.updated` change"
    # "one `room.updated` change per setting it changed, each carrying the room as it stood after
    # that setting (the last one: as the answer)"; `archived: false` was no change
    updates = [c for c in o.sync_all(room, before) if c["type"] == "room.updated"]
    assert len(updates) == 2, updates
    assert all(u["room"]["roomId"] == room for u in updates)
    assert updates[-1]["room"] == answer
    assert [u["seq"] for u in updates] == [before + 2, before + 3]  # after `first`'s post
    # "a field given with the value it already has changes nothing (no event, no entry)"
    assert api.ok("PATCH", f"/rooms/{room}", owner, json={"name": body["name"]})["room"] == answer
    assert [c for c in o.sync_all(room, before + 3) if c["type"] == "room.updated"] == []
    live = o.event(of_type("room.updated", room))
    assert live == updates[0]  # the feed holds the frames live connections got
    shaped(example(ROLES, lambda e: e.get("type") == "room.updated"), live)

    # Slow mode: "a member posts at most once per slowModeSeconds (`slow_mode`, with
    # `retryAfterMs` until the next post is allowed; an edit is no post)"
    client_id = uuid.uuid4().hex
    m.post(room, "one", clientId=client_id)
    # "a retry of a post whose ack was lost, within the interval, gets `slow_mode` too"
    assert _code(m.send(room, "one", clientId=client_id)) == "slow_mode"
    refused = m.send(room, "two")
    assert refused["type"] == "error", refused
    assert refused["error"]["code"] == "slow_mode"
    assert 0 < refused["error"]["retryAfterMs"] <= 30_000
    assert refused["error"]["retryable"] is False
    shaped(example(ROLES, lambda e: _code(e) == "slow_mode"), refused)
    m.ack({"action": "editMessage", "roomId": room, "messageId": first["id"], "text": "edited"})
    # `slowModeExempt` moderator+: a moderator posts twice
    d.post(room, "mod one")
    d.post(room, "mod two")
    # `slowMode` is moderator+: a moderator sets it, a member does not; 0 turns it off
    api.fails("PATCH", f"/rooms/{room}", mem, 403, "forbidden", json={"slowModeSeconds": 0})
    off = api.ok("PATCH", f"/rooms/{room}", mod, json={"slowModeSeconds": 0})["room"]
    assert "slowModeSeconds" not in off  # "absent: ... no slow mode"
    m.post(room, "free again")
    # "slow mode 0 (off)..21,600 s"
    api.fails(
        "PATCH", f"/rooms/{room}", owner, 400, "invalid_input", json={"slowModeSeconds": 21_601}
    )
    api.fails("PATCH", f"/rooms/{room}", owner, 400, "invalid_input", json={"slowModeSeconds": -1})
    # `rename` is admin+
    api.fails("PATCH", f"/rooms/{room}", mod, 403, "forbidden", json={"name": "mod's room"})

    # Archive: "refuses posting, editing, reacting, pinning, inviting and joining
    # (`room_archived`; reading, history and sync work)"
    archived = api.ok("PATCH", f"/rooms/{room}", owner, json={"archived": True})["room"]
    assert archived["archived"] is True
    api.fails("PATCH", f"/rooms/{room}", mod, 403, "forbidden", json={"archived": False})
    refused = m.send(room, "anyone?")
    shaped(example(ROLES, lambda e: _code(e) == "room_archived"), refused)
    assert refused["error"]["code"] == "room_archived"
    edit = {"action": "editMessage", "roomId": room, "messageId": first["id"], "text": "x"}
    m.error(edit, "room_archived")
    m.error(
        {"action": "react", "roomId": room, "messageId": first["id"], "emoji": "👍"},
        "room_archived",
    )
    api.fails(
        "POST", f"/rooms/{room}/pins", owner, 403, "room_archived", json={"messageId": first["id"]}
    )
    api.fails(
        "POST",
        f"/rooms/{room}/members",
        owner,
        403,
        "room_archived",
        json={"username": late.username},
    )
    api.fails("POST", f"/rooms/{room}/join", late, 403, "room_archived")
    assert first["id"] in history(api, mem, room)
    assert m.ack({"action": "sync", "roomId": room, "afterSeq": before})["changes"]
    unarchived = api.ok("PATCH", f"/rooms/{room}", owner, json={"archived": False})["room"]
    assert "archived" not in unarchived
    m.post(room, "open again")

    # "`detail` says what changed (... the new name, `30 s` or `off`, `archived` / `unarchived`"
    entries = audit(api, owner, room)
    assert [e["detail"] for e in entries if e["action"] == "rename"] == [body["name"]]
    details = {(e["action"], e["detail"]) for e in entries}
    assert {("rename", body["name"]), ("slowMode", "30 s"), ("slowMode", "off")} <= details
    assert {("archive", "archived"), ("archive", "unarchived")} <= details


def _code(frame: Frame) -> str | None:
    return frame.get("error", {}).get("code") if frame.get("type") == "error" else None


# ============================================================================================
# Mute


def test_a_muted_member_reads_but_neither_posts_edits_nor_reacts_until_unmuted(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    owner, mod, mem, other = make_user("own"), make_user("mod"), make_user("mem"), make_user("oth")
    room = new_room(api, owner, "public", mod, mem, other)
    set_role(api, owner, room, mod, "moderator")
    o, m = open_socket(owner), open_socket(mem)
    o.subscribe(room)
    mine = m.post(room, "before the mute")
    before = room_seq(api, owner, room)

    # MuteBody -> `{"membership"}` with `mutedUntil` (epoch ms); "the room gets member.joined"
    doc_body = example(ROLES, lambda e: "seconds" in e)
    assert set(doc_body) == {"userId", "seconds"}
    start = int(time.time() * 1000)
    membership = api.ok(
        "POST", f"/rooms/{room}/mutes", mod, json={"userId": mem.user_id, "seconds": 600}
    )["membership"]
    assert membership["userId"] == mem.user_id
    assert start + 590_000 <= membership["mutedUntil"] <= start + 700_000
    event = o.event(of_type("member.joined", room, membership__userId=mem.user_id))
    assert event["seq"] == before + 1
    assert event["membership"]["mutedUntil"] == membership["mutedUntil"]
    shaped(example(ROLES, lambda e: "mutedUntil" in e.get("membership", {})), event)

    # "a muted member may not post, edit or react (`muted`, with `retryAfterMs` until the mute
    # ends)"
    refused = m.send(room, "let me speak")
    assert _code(refused) == "muted", refused
    assert 0 < refused["error"]["retryAfterMs"] <= 600_000
    shaped(example(ROLES, lambda e: _code(e) == "muted"), refused)
    m.error(
        {"action": "editMessage", "roomId": room, "messageId": mine["id"], "text": "x"}, "muted"
    )
    m.error({"action": "react", "roomId": room, "messageId": mine["id"], "emoji": "👍"}, "muted")
    assert mine["id"] in history(api, mem, room)  # "you read"
    # "Rooms and memberships show ... `mutedUntil` only when set": the member list too
    listed = api.ok("GET", f"/rooms/{room}/members", owner)["members"]
    shown = {x["userId"]: x.get("mutedUntil") for x in listed}
    assert shown[mem.user_id] == membership["mutedUntil"]
    assert shown[other.user_id] is None
    assert "mutedUntil" not in next(x for x in listed if x["userId"] == other.user_id)
    # "Leaving and rejoining keeps the mute"
    api.ok("POST", f"/rooms/{room}/leave", mem)
    rejoined = api.ok("POST", f"/rooms/{room}/join", mem)["membership"]
    assert rejoined.get("mutedUntil") == membership["mutedUntil"]
    assert _code(m.send(room, "still?")) == "muted"

    # `mute` is moderator+ and over a lower role; 1..2,419,200 s
    mutes = f"/rooms/{room}/mutes"
    api.fails("POST", mutes, other, 403, "forbidden", json={"userId": mem.user_id, "seconds": 60})
    api.fails("POST", mutes, mod, 403, "forbidden", json={"userId": owner.user_id, "seconds": 60})
    api.fails("POST", mutes, mod, 400, "invalid_input", json={"userId": mem.user_id, "seconds": 0})
    api.fails(
        "POST", mutes, mod, 400, "invalid_input", json={"userId": mem.user_id, "seconds": 2_419_201}
    )
    # `DELETE /rooms/{roomId}/mutes/{userId}` -> `{"membership"}` without `mutedUntil`
    api.fails("DELETE", f"{mutes}/{mem.user_id}", other, 403, "forbidden")
    unmuted = api.ok("DELETE", f"{mutes}/{mem.user_id}", mod)["membership"]
    assert "mutedUntil" not in unmuted
    # "A mute (and its end) is the membership as it now is, like a role change"
    ended = o.event(
        lambda f: (
            of_type("member.joined", room, membership__userId=mem.user_id)(f)
            and "mutedUntil" not in f["membership"]
        )
    )
    assert ended["membership"]["role"] == "member"
    m.post(room, "thanks")
    details = {(e["action"], e["detail"]) for e in audit(api, owner, room)}
    assert {("mute", "600 s"), ("mute", "unmuted")} <= details


# ============================================================================================
# Kick and ban


def test_a_kick_ends_the_members_subscription_and_both_get_member_left(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    owner, mod, mem, other = make_user("own"), make_user("mod"), make_user("mem"), make_user("oth")
    room = new_room(api, owner, "public", mod, mem, other)
    set_role(api, owner, room, mod, "moderator")
    o, k = open_socket(owner), open_socket(mem)
    o.subscribe(room)
    k.subscribe(room)
    # `remove` is moderator+, over a lower role
    api.fails("DELETE", f"/rooms/{room}/members/{mem.user_id}", other, 403, "forbidden")
    api.fails("DELETE", f"/rooms/{room}/members/{owner.user_id}", mod, 403, "forbidden")
    assert api.ok("DELETE", f"/rooms/{room}/members/{mem.user_id}", mod) == {"removed": True}
    # "they and the room get `member.left`"
    o.event(of_type("member.left", room, userId=mem.user_id))
    k.event(of_type("member.left", room, userId=mem.user_id))
    # "the member's subscriptions to the room end at once": a later post reaches the owner, and
    # the kicked socket has not got it by the time it answers a ping sent after that
    later = open_socket(other).post(room, "after the kick")
    o.event(of_type("message.posted", room, message__id=later["id"]))
    k.ack({"action": "ping"})
    assert not [f for f in k.pending if f.get("type") == "message.posted"], k.pending
    # a kick is no ban: a public room may be joined again
    api.ok("POST", f"/rooms/{room}/join", mem)
    assert ("remove", mem.user_id) in {
        (e["action"], e["targetUserId"]) for e in audit(api, owner, room)
    }


def test_a_ban_removes_closes_the_only_rooms_socket_and_refuses_rejoining(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    owner, mod, mem, bad = make_user("own"), make_user("mod"), make_user("mem"), make_user("bad")
    room = new_room(api, owner, "public", mod, mem, bad)
    set_role(api, owner, room, mod, "moderator")
    o, b, both = open_socket(owner), open_socket(bad), open_socket(bad)
    o.subscribe(room)
    b.subscribe(room)
    elsewhere = new_room(api, owner, "public", bad)
    both.subscribe(room, elsewhere)

    doc_body = example(ROLES, lambda e: set(e) == {"userId", "reason"})
    start = int(time.time() * 1000)
    api.fails(
        "POST",
        f"/rooms/{room}/bans",
        mem,
        403,
        "forbidden",
        json={"userId": bad.user_id, "reason": "x"},
    )
    api.fails(
        "POST",
        f"/rooms/{room}/bans",
        mod,
        400,
        "invalid_input",
        json={"userId": bad.user_id, "reason": "x" * 501},
    )  # "a ban's reason 0..500"
    members_before = api.ok("GET", f"/rooms/{room}", owner)["room"]["memberCount"]
    ban = api.ok(
        "POST",
        f"/rooms/{room}/bans",
        mod,
        json={"userId": bad.user_id, "reason": doc_body["reason"]},
    )["ban"]
    assert set(ban) == {"roomId", "userId", "bannedBy", "bannedAt", "reason"}
    assert (ban["roomId"], ban["userId"], ban["bannedBy"]) == (room, bad.user_id, mod.user_id)
    assert ban["reason"] == "spam"
    assert ban["bannedAt"] >= start - 5_000
    # "removed as by a kick": the room and they get member.left; "each of their live sockets
    # that followed only this room is closed (after its `member.left`)"
    o.event(of_type("member.left", room, userId=bad.user_id))
    b.event(of_type("member.left", room, userId=bad.user_id))
    assert closed_by_server(b)
    # ... and a socket that also follows another room stays open
    both.event(of_type("member.left", room, userId=bad.user_id))
    assert both.ack({"action": "ping"})["action"] == "ping"
    assert api.ok("GET", f"/rooms/{room}", owner)["room"]["memberCount"] == members_before - 1
    # "Banning again answers the ban in place"
    again = api.ok(
        "POST", f"/rooms/{room}/bans", mod, json={"userId": bad.user_id, "reason": "more"}
    )
    assert again["ban"] == ban
    # "A banned user's POST /rooms/{roomId}/join is `403 forbidden` in a public room"
    api.fails("POST", f"/rooms/{room}/join", bad, 403, "forbidden")
    # `GET /rooms/{roomId}/bans` -> `{"bans": [...]}` (`banList`, moderator+)
    bans = api.ok("GET", f"/rooms/{room}/bans", mod)["bans"]
    assert bans == [ban]
    api.fails("GET", f"/rooms/{room}/bans", mem, 403, "forbidden")
    entry = next(e for e in audit(api, owner, room) if e["action"] == "ban")
    assert (entry["actorId"], entry["targetUserId"], entry["detail"]) == (
        mod.user_id,
        bad.user_id,
        "spam",
    )
    # `DELETE /rooms/{roomId}/bans/{userId}` -> `{"unbanned": true}`; `404` if not banned
    assert api.ok("DELETE", f"/rooms/{room}/bans/{bad.user_id}", mod) == {"unbanned": True}
    api.fails("DELETE", f"/rooms/{room}/bans/{bad.user_id}", mod, 404, "not_found")
    api.ok("POST", f"/rooms/{room}/join", bad)
    assert ("ban", "unbanned") in {(e["action"], e["detail"]) for e in audit(api, owner, room)}


def test_a_user_banned_from_a_private_room_gets_no_invite_and_cannot_join(
    api: Api, make_user: Callable[[str], User]
) -> None:
    owner, bad, invited = make_user("own"), make_user("bad"), make_user("inv")
    room = new_room(api, owner, "private", bad)
    # "pending invite withdrawn"
    api.ok("POST", f"/rooms/{room}/members", owner, 202, json={"username": invited.username})
    api.ok("POST", f"/rooms/{room}/bans", owner, json={"userId": invited.user_id, "reason": ""})
    assert room not in {i["roomId"] for i in api.ok("GET", "/invites", invited)["invites"]}
    api.ok("POST", f"/rooms/{room}/bans", owner, json={"userId": bad.user_id, "reason": ""})
    # "an invite to them gets the usual `202` pending answer while nothing is stored"
    sent = api.ok("POST", f"/rooms/{room}/members", owner, 202, json={"username": bad.username})
    assert sent["pending"] is True
    assert room not in {i["roomId"] for i in api.ok("GET", "/invites", bad)["invites"]}
    # "(`404` in another, as for anyone not invited)"
    api.fails("POST", f"/rooms/{room}/join", bad, 404, "not_found")
    api.fails("POST", f"/invites/{room}/accept", bad, 404, "not_found")


# ============================================================================================
# Deleting others' messages


def test_a_moderator_deletes_a_members_message_and_the_deletion_is_recorded(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    owner, adam, mod, mem = make_user("own"), make_user("adm"), make_user("mod"), make_user("mem")
    room = new_room(api, owner, "public", adam, mod, mem)
    set_role(api, owner, room, adam, "admin")
    set_role(api, owner, room, mod, "moderator")
    o, d, m, a = open_socket(owner), open_socket(mod), open_socket(mem), open_socket(adam)
    o.subscribe(room)
    victim, own, admins, mods = (
        m.post(room, "spam"),
        m.post(room, "mine"),
        a.post(room, "admin's"),
        d.post(room, "mod's"),
    )
    delete = {"action": "deleteMessage", "roomId": room}
    # `deleteOthers` needs "a role above its author's"
    m.error({**delete, "messageId": mods["id"]}, "forbidden")
    d.error({**delete, "messageId": admins["id"]}, "forbidden")
    deleted = d.ack({**delete, "messageId": victim["id"]})["message"]
    assert deleted["deleted"] is True
    assert deleted["deletedBy"] == mod.user_id
    event = o.event(of_type("message.deleted", room, message__id=victim["id"]))
    assert event["message"]["deletedBy"] == mod.user_id
    shaped(example(ROLES, lambda e: "deletedBy" in e.get("message", {})), event)
    # "absent when the author did"
    by_author = m.ack({**delete, "messageId": own["id"]})["message"]
    assert by_author["deleted"] is True
    assert "deletedBy" not in by_author
    assert history(api, owner, room)[victim["id"]]["deletedBy"] == mod.user_id
    entry = next(e for e in audit(api, owner, room) if e["action"] == "deleteOthers")
    assert (entry["targetMessageId"], entry["targetUserId"]) == (victim["id"], mem.user_id)


# ============================================================================================
# Pins


def test_pins_are_changes_listed_newest_first_and_capped(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    owner, mod, mem = make_user("own"), make_user("mod"), make_user("mem")
    room = new_room(api, owner, "public", mod, mem)
    set_role(api, owner, room, mod, "moderator")
    o, m = open_socket(owner), open_socket(mem)
    o.subscribe(room)
    long_one = m.post(room, "p" * 600)
    short = m.post(room, "short")
    before = room_seq(api, owner, room)

    body = example(ROLES, lambda e: set(e) == {"messageId"})
    assert set(body) == {"messageId"}
    api.fails("POST", f"/rooms/{room}/pins", mem, 403, "forbidden", json={"messageId": short["id"]})
    pin = api.ok("POST", f"/rooms/{room}/pins", mod, json={"messageId": long_one["id"]})["pin"]
    # "A pin keeps the message's first 500 characters as they were when it was pinned"
    assert pin["text"] == "p" * 500
    assert (pin["roomId"], pin["messageId"], pin["pinnedBy"], pin["authorId"]) == (
        room,
        long_one["id"],
        mod.user_id,
        mem.user_id,
    )
    assert pin["createdAt"] == long_one["createdAt"]
    event = o.event(of_type("message.pinned", room))
    assert event["seq"] == before + 1
    assert event["pin"] == pin
    shaped(example(ROLES, lambda e: e.get("type") == "message.pinned"), event)
    # "Pinning again answers the pin in place"
    assert (
        api.ok("POST", f"/rooms/{room}/pins", mod, json={"messageId": long_one["id"]})["pin"] == pin
    )
    second = api.ok("POST", f"/rooms/{room}/pins", owner, json={"messageId": short["id"]})["pin"]
    # `GET /rooms/{roomId}/pins` "newest pin first", for "anyone who may read the room"
    assert [p["messageId"] for p in api.ok("GET", f"/rooms/{room}/pins", mem)["pins"]] == [
        short["id"],
        long_one["id"],
    ]
    assert api.ok("GET", f"/rooms/{room}/pins", mem)["pins"] == [second, pin]
    # unknown message
    api.fails(
        "POST",
        f"/rooms/{room}/pins",
        mod,
        404,
        "not_found",
        json={"messageId": NOT_A_ULID_BUT_WELL_FORMED},
    )
    # `DELETE /rooms/{roomId}/pins/{messageId}` -> `{"unpinned": true}`; `message.unpinned`
    assert api.ok("DELETE", f"/rooms/{room}/pins/{long_one['id']}", mod) == {"unpinned": True}
    unpinned = o.event(of_type("message.unpinned", room))
    assert unpinned["messageId"] == long_one["id"]
    shaped(example(ROLES, lambda e: e.get("type") == "message.unpinned"), unpinned)
    # "Events (room changes: numbered, in the feed, replayed by `sync`, published like the
    # others)"
    replayed = [c for c in o.sync_all(room, before) if c["type"].startswith("message.")]
    assert replayed[0] == event
    assert unpinned in replayed
    # "Deleting a pinned message unpins it too"
    m.ack({"action": "deleteMessage", "roomId": room, "messageId": short["id"]})
    assert api.ok("GET", f"/rooms/{room}/pins", mem)["pins"] == []
    details = {(e["action"], e["detail"]) for e in audit(api, owner, room)}
    assert ("pin", "unpinned") in details

    # "50 pins a room (`limits.MAX_PINS`)": "past 50 pins `413 too_large`"
    for n in range(50):
        message = m.post(room, f"pin {n}")
        api.ok("POST", f"/rooms/{room}/pins", owner, json={"messageId": message["id"]})
    extra = m.post(room, "one too many")
    api.fails(
        "POST", f"/rooms/{room}/pins", owner, 413, "too_large", json={"messageId": extra["id"]}
    )


# ============================================================================================
# The audit log


def test_the_audit_log_is_for_admins_newest_first_and_pages(
    api: Api, make_user: Callable[[str], User]
) -> None:
    owner, adam, mod = make_user("own"), make_user("adm"), make_user("mod")
    room = new_room(api, owner, "public", adam, mod)
    set_role(api, owner, room, adam, "admin")
    set_role(api, adam, room, mod, "moderator")
    api.ok("PATCH", f"/rooms/{room}", adam, json={"name": "renamed"})
    # `moderate` is admin+: "`moderate` is reading the audit log"
    api.fails("GET", f"/rooms/{room}/audit", mod, 403, "forbidden")
    page = api.ok("GET", f"/rooms/{room}/audit", adam)
    doc = example(ROLES, lambda e: "entries" in e)
    shaped(doc, page)
    assert [e["action"] for e in page["entries"]] == ["rename", "changeRoles", "changeRoles"]
    assert page["entries"][0]["targetUserId"] is None  # a rename targets nobody
    assert page["entries"][0]["targetMessageId"] is None
    assert page["entries"][0]["actorId"] == adam.user_id
    ats = [e["at"] for e in page["entries"]]
    assert ats == sorted(ats, reverse=True)  # "newest first"
    # "an audit page 1..100 entries, default 50"; `nextCursor` pages on
    one = api.ok("GET", f"/rooms/{room}/audit", adam, params={"limit": "1"})
    assert one["entries"] == page["entries"][:1]
    assert one["nextCursor"]
    two = api.ok(
        "GET", f"/rooms/{room}/audit", adam, params={"limit": "2", "cursor": one["nextCursor"]}
    )
    assert two["entries"] == page["entries"][1:3]
    api.fails("GET", f"/rooms/{room}/audit", adam, 400, "invalid_input", params={"limit": "0"})
    api.fails("GET", f"/rooms/{room}/audit", adam, 400, "invalid_input", params={"limit": "101"})


# ============================================================================================
# Threads: replies, parent counts, the thread view


def thread(api: Api, user: User, room_id: str, parent_id: str, **params: Any) -> httpx.Response:
    return api("GET", f"/rooms/{room_id}/messages/{parent_id}/thread", user, params=params)


def thread_with(api: Api, user: User, room_id: str, parent_id: str, count: int) -> Frame:
    """The thread's first page once it holds `count` replies: "A reply shows in its thread a
    moment after its ack at worst (the thread is read from an index that follows the table)"."""
    deadline = time.monotonic() + WAIT
    while True:
        response = thread(api, user, room_id, parent_id, limit="100")
        assert response.status_code == 200, response.text
        body: Frame = response.json()
        if len(body["replies"]) >= count or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_replies_count_on_their_parent_and_show_in_the_timeline_only_when_asked(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob, carol = make_user("ali"), make_user("bob"), make_user("car")
    room = new_room(api, alice, "private", bob, carol)
    a, b, c = open_socket(alice), open_socket(bob), open_socket(carol)
    c.subscribe(room)
    plain = a.post(room, "a plain message")
    # "a plain message's JSON is as before"
    for key in OPTIONAL["message"]:
        assert key not in plain, (key, plain)
    parent = a.post(room, "Hello!")
    before = room_seq(api, alice, room)

    only_thread = b.post(room, "in the thread", parentId=parent["id"])
    assert only_thread["parentId"] == parent["id"]
    assert only_thread["alsoInRoom"] is False  # "default `false`"
    event = c.event(of_type("message.posted", room, message__id=only_thread["id"]))
    assert event["seq"] == before + 1  # "A reply is a room change like any post"
    # "Its `thread` holds the first message's counts exactly as this reply left them"
    assert event["thread"] == {
        "parentId": parent["id"],
        "replyCount": 1,
        "lastReplyAt": only_thread["createdAt"],
    }
    both = b.post(room, "in both", parentId=parent["id"], alsoInRoom=True)
    assert both["alsoInRoom"] is True
    event = c.event(of_type("message.posted", room, message__id=both["id"]))
    assert event["thread"]["replyCount"] == 2
    assert event["thread"]["lastReplyAt"] == both["createdAt"]
    shaped(example(THREADS, lambda e: e.get("type") == "message.posted" and "thread" in e), event)

    # "A reply seen only in its thread (`alsoInRoom` false) is not in GET .../messages, not in
    # sync v1 (`afterId`), and not in the room's `unread` count"
    timeline = history(api, carol, room)
    assert both["id"] in timeline
    assert only_thread["id"] not in timeline
    assert timeline[parent["id"]]["replyCount"] == 2
    assert timeline[parent["id"]]["lastReplyAt"] == both["createdAt"]
    v1 = c.ack({"action": "sync", "roomId": room, "afterId": parent["id"], "limit": 100})
    assert [m["id"] for m in v1["messages"]] == [both["id"]]
    v2 = c.sync_all(room, before)
    assert [ch["message"]["id"] for ch in v2[:2]] == [only_thread["id"], both["id"]]
    assert my_room(api, carol, room)["unread"] == 3  # plain, parent, both: not the thread-only one
    # "a marker moved to a newer reply's id counts every older timeline message as read"
    api.ok("POST", f"/rooms/{room}/read", carol, json={"messageId": only_thread["id"]})
    assert my_room(api, carol, room)["unread"] == 1  # `both` came after it

    # "a deleted reply keeps its slot in the thread and stays counted"
    b.ack({"action": "deleteMessage", "roomId": room, "messageId": only_thread["id"]})
    view = thread_with(api, carol, room, parent["id"], 2)
    assert view["parent"]["id"] == parent["id"]
    assert view["parent"]["replyCount"] == 2
    assert [r["id"] for r in view["replies"]] == [only_thread["id"], both["id"]]
    assert view["replies"][0]["deleted"] is True
    assert view["nextCursor"] is None
    # "the thread's first message (with its counts, also when deleted)"
    a.ack({"action": "deleteMessage", "roomId": room, "messageId": parent["id"]})
    view = thread_with(api, carol, room, parent["id"], 2)
    assert view["parent"]["deleted"] is True
    assert (view["parent"]["replyCount"], view["parent"]["lastReplyAt"]) == (2, both["createdAt"])
    assert _code(b.send(room, "too late", parentId=parent["id"])) == "not_found"
    shaped(example(THREADS, lambda e: "replies" in e), view)
    # the replies' "...": "as in message.posted"
    posted_doc = example(THREADS, lambda e: e.get("type") == "message.posted" and "thread" in e)
    for item in view["replies"]:
        shaped(posted_doc["message"], item, "message")

    # Errors of the section, each provoked
    send = {"parentId": both["id"]}  # "not itself a reply (threads are one level deep)"
    assert _code(a.send(room, "deeper", **send)) == "invalid_input"
    assert _code(a.send(room, "where?", alsoInRoom=True)) == "invalid_input"
    assert _code(a.send(room, "bad id", parentId="not-an-id")) == "invalid_input"
    assert _code(a.send(room, "bad quote", quote={"messageId": "not-an-id"})) == "invalid_input"
    assert _code(a.send(room, "nobody", parentId=NOT_A_ULID_BUT_WELL_FORMED)) == "not_found"
    assert _code(a.send(room, "nothing", quote={"messageId": NOT_A_ULID_BUT_WELL_FORMED})) == (
        "not_found"
    )
    gone = a.post(room, "going")
    a.ack({"action": "deleteMessage", "roomId": room, "messageId": gone["id"]})
    assert _code(a.send(room, "to the deleted", parentId=gone["id"])) == "not_found"
    assert _code(a.send(room, "quote the deleted", quote={"messageId": gone["id"]})) == "not_found"
    # "Opening the thread of a reply is `invalid_input`"
    response = thread(api, alice, room, both["id"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    # "the thread of a room you may not read is `404`, as the room"
    stranger = make_user("str")
    response = thread(api, stranger, room, parent["id"])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    response = thread(api, alice, room, NOT_A_ULID_BUT_WELL_FORMED)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_thread_view_pages_oldest_first_with_cursors_bound_to_the_thread(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice = make_user("ali")
    room = new_room(api, alice, "public")
    a = open_socket(alice)
    parent, other = a.post(room, "first"), a.post(room, "second")
    replies = [a.post(room, f"r{n}", parentId=parent["id"])["id"] for n in range(5)]
    a.post(room, "elsewhere", parentId=other["id"])
    thread_with(api, alice, room, parent["id"], 5)
    seen: list[str] = []
    cursor: str | None = None
    first_cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = thread(api, alice, room, parent["id"], **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["replies"]) <= 2
        seen += [r["id"] for r in body["replies"]]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:  # "(`null` on the last page)"
            break
        first_cursor = first_cursor or cursor
    assert seen == replies  # "a page of replies **oldest first**"
    assert pages == 3
    # "it is bound to this thread (another thread's or a history cursor is `invalid_input`)"
    response = thread(api, alice, room, other["id"], cursor=first_cursor)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    for n in range(3):
        a.post(room, f"filler {n}")
    page = api.ok("GET", f"/rooms/{room}/messages", alice, params={"limit": "1"})
    assert page["nextCursor"]
    response = thread(api, alice, room, parent["id"], cursor=page["nextCursor"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    for bad in ("0", "101"):  # "`limit` 1..100"
        response = thread(api, alice, room, parent["id"], limit=bad)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_input"


def test_a_quote_is_a_snapshot_cut_to_280_characters(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob = make_user("ali"), make_user("bob")
    room = new_room(api, alice, "private", bob)
    a, b = open_socket(alice), open_socket(bob)
    original = a.post(room, "q" * 400)
    doc_frame = example(THREADS, lambda e: e.get("action") == "sendMessage")
    assert doc_frame["quote"] == {"messageId": doc_frame["parentId"]}
    quoting = b.post(room, "see above", quote={"messageId": original["id"]})
    quote = quoting["quote"]
    assert set(quote) == {"messageId", "authorId", "authorName", "createdAt", "text"}
    assert quote["messageId"] == original["id"]
    assert quote["authorId"] == alice.user_id
    assert quote["createdAt"] == original["createdAt"]
    assert quote["text"] == "q" * 280  # "`text` cut to 280 characters"
    assert isinstance(quote["authorName"], str)
    assert quote["authorName"]
    # "later edits or deletes of the quoted message do not change it"
    a.ack({"action": "editMessage", "roomId": room, "messageId": original["id"], "text": "new"})
    assert history(api, bob, room)[quoting["id"]]["quote"] == quote
    a.ack({"action": "deleteMessage", "roomId": room, "messageId": original["id"]})
    assert history(api, bob, room)[quoting["id"]]["quote"] == quote
    # The doc's own sendMessage example (a reply that quotes its parent and mentions)
    parent = a.post(room, "Hello!")
    frame = {k: v for k, v in doc_frame.items() if k not in ("requestId", "clientId")}
    frame.update(
        roomId=room,
        parentId=parent["id"],
        quote={"messageId": parent["id"]},
        text=f"@{alice.username} agreed, see above",
    )
    reply = b.send(room, **{k: v for k, v in frame.items() if k not in ("action", "roomId")})
    assert reply["type"] == "ack", reply
    shaped(example(THREADS, lambda e: e.get("type") == "ack"), reply)
    assert reply["message"]["mentions"] == [alice.user_id]


# ============================================================================================
# Mentions


def test_a_mention_resolves_to_members_only_and_counts_as_unread_mentions(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob, outsider = make_user("ali"), make_user("bob"), make_user("out")
    room = new_room(api, alice, "private", bob)
    a, b = open_socket(alice), open_socket(bob)  # alice's socket follows no room
    assert my_room(api, alice, room)["unreadMentions"] == 0
    # "a username's characters after an `@` that does not follow a letter, digit or `@`";
    # case-insensitive; "a trailing `.` ends the sentence, not the name"
    text = (
        f"hey @{alice.username.upper()}, and @{outsider.username} and @nobody{uuid.uuid4().hex[:6]}"
        f" mail x@{alice.username} or @@{alice.username} and @{bob.username}. Bye @{alice.username}."
    )
    message = b.post(room, text)
    # "to the room's **members** only, the author excepted"
    assert message["mentions"] == [alice.user_id]
    # "Each mentioned member's live connections get a `mention` event ... whether or not they
    # follow the room"; "`seq` is the post's"
    mention = a.event(of_type("mention", room, messageId=message["id"]))
    assert mention["seq"] == message["seq"]
    assert mention["authorId"] == bob.user_id
    shaped(example(THREADS, lambda e: e.get("type") == "mention"), mention)
    # "A name of someone who is not a member, or of nobody, is left as text: the answer is the
    # same either way"
    only_outsider = b.post(room, f"@{outsider.username} hi")
    only_nobody = b.post(room, f"@nobody{uuid.uuid4().hex[:8]} hi")
    assert "mentions" not in only_outsider
    assert "mentions" not in only_nobody
    # A reply in a thread mentioning alice counts too ("replies in threads included")
    b.post(room, f"@{alice.username} in a thread", parentId=message["id"])
    entry = my_room(api, alice, room)
    assert entry["unreadMentions"] == 2
    # "Moving the read marker ... past them brings it down"
    api.ok("POST", f"/rooms/{room}/read", alice, json={"messageId": only_nobody["id"]})
    assert my_room(api, alice, room)["unreadMentions"] == 1  # the reply came later
    # "an edit keeps `mentions` as they were and sends no `mention` event"
    edit = {"action": "editMessage", "roomId": room, "messageId": message["id"], "text": "gone"}
    assert b.ack(edit)["message"]["mentions"] == [alice.user_id]
    # "A message may name at most 20 distinct people (`limits.MAX_MENTIONS`); more is
    # `invalid_input` ... counted from the text alone"
    crowd = " ".join(f"@ghost{n}x" for n in range(21))
    refused = b.send(room, crowd)
    assert _code(refused) == "invalid_input"
    assert "20" in refused["error"]["message"]
    assert "mentions" not in b.post(room, " ".join(f"@ghost{n}x" for n in range(20)))


def test_room_and_here_are_for_the_roles_the_table_allows(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    owner, mod, mem = make_user("own"), make_user("mod"), make_user("mem")
    public = new_room(api, owner, "public", mod, mem)
    private = new_room(api, owner, "private", mem)
    set_role(api, owner, public, mod, "moderator")
    o, d, m = open_socket(owner), open_socket(mod), open_socket(mem)
    o.subscribe(public)
    # `mentionAll` | moderator+ | member+ | nobody
    refused = m.send(public, "@room look")
    assert _code(refused) == "forbidden"
    shaped(example(THREADS, lambda e: _code(e) == "forbidden"), refused)
    assert refused["error"]["message"] == "you may not mention everyone in this room"
    before = room_seq(api, owner, public)
    allowed = d.post(public, "@here standup in 5")
    assert allowed["mentionsAll"] == "here"
    assert allowed["seq"] == before + 1
    event = o.event(of_type("message.posted", public, message__id=allowed["id"]))
    shaped(example(THREADS, lambda e: e.get("message", {}).get("mentionsAll") == "here"), event)
    assert m.post(private, "@room lunch?")["mentionsAll"] == "room"
    # "It sends no `mention` event and does not count in `unreadMentions`"
    assert my_room(api, owner, private)["unreadMentions"] == 0
    assert my_room(api, mem, public)["unreadMentions"] == 0
    direct = api.ok("POST", "/direct", owner, json={"userId": mem.user_id})["room"]["roomId"]
    assert _code(m.send(direct, "@here hello")) == "forbidden"


# ============================================================================================
# Blocking: stubs, GET /blocks, direct rooms


def test_a_blocked_users_messages_reach_the_blocker_as_stubs_everywhere(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob, carol = make_user("ali"), make_user("bob"), make_user("car")
    room = new_room(api, alice, "private", bob, carol)
    direct = api.ok("POST", "/direct", bob, json={"userId": alice.user_id})["room"]["roomId"]
    a, b, c = open_socket(alice), open_socket(bob), open_socket(carol)
    a.subscribe(room)
    c.subscribe(room)
    carols = c.post(room, "carol's")
    before = room_seq(api, alice, room)

    assert api.ok("POST", f"/blocks/{bob.user_id}", alice) == {"blocked": bob.user_id}
    assert api.ok("POST", f"/blocks/{bob.user_id}", alice) == {"blocked": bob.user_id}  # idempotent
    # `GET /blocks` -> `{"blocks": [{"userId", "blockedAt"}]}`; "only you list it"
    blocks = api.ok("GET", "/blocks", alice)
    shaped(example(BLOCKS, lambda e: "blocks" in e), blocks)
    assert [x["userId"] for x in blocks["blocks"]] == [bob.user_id]
    assert api.ok("GET", "/blocks", bob) == {"blocks": []}

    posted = b.post(room, "bob speaks")
    assert (
        "hidden" not in posted
    )  # "The blocked user's own answers ... are exactly those of anyone"
    stub = a.event(of_type("message.posted", room, message__id=posted["id"]))
    full = c.event(of_type("message.posted", room, message__id=posted["id"]))
    # "the same message with the same id, seq, authorId and times, but text "", no attachments,
    # no reactions (counts {}), and "hidden": "blocked""
    shaped(example(BLOCKS, lambda e: e.get("type") == "message.posted"), stub)
    assert stub["seq"] == full["seq"] == before + 1
    assert stub["message"]["hidden"] == "blocked"
    assert "hidden" not in full["message"]
    for key in ("id", "seq", "authorId", "createdAt", "editedAt", "deletedAt", "deleted"):
        assert stub["message"][key] == full["message"][key], key
    assert (stub["message"]["text"], stub["message"]["attachments"]) == ("", [])
    assert (stub["message"]["reactions"], stub["message"]["reactionCounts"]) == ({}, {})
    # a reaction on the blocked user's message: still a stub, "a reaction by someone else keeps
    # its `emoji` and `userId`"; the blocked user's reactions on others' messages are not hidden
    c.ack({"action": "react", "roomId": room, "messageId": posted["id"], "emoji": "👍"})
    changed = a.event(of_type("reaction.changed", room, messageId=posted["id"]))
    assert changed["emoji"] == "👍"
    assert changed["userId"] == carol.user_id
    assert changed["message"]["hidden"] == "blocked"
    assert changed["message"]["reactionCounts"] == {}
    b.ack({"action": "react", "roomId": room, "messageId": carols["id"], "emoji": "🎉"})
    on_carols = a.event(of_type("reaction.changed", room, messageId=carols["id"]))
    assert on_carols["userId"] == bob.user_id
    assert on_carols["message"]["reactionCounts"] == {"🎉": 1}
    b.ack({"action": "editMessage", "roomId": room, "messageId": posted["id"], "text": "edited"})
    edited = a.event(of_type("message.edited", room, message__id=posted["id"]))
    assert edited["message"]["text"] == ""
    assert edited["message"]["hidden"] == "blocked"
    # history, sync v1, sync v2
    assert history(api, alice, room)[posted["id"]]["hidden"] == "blocked"
    v1 = a.ack({"action": "sync", "roomId": room, "afterId": carols["id"], "limit": 100})
    assert [(m["id"], m["hidden"], m["text"]) for m in v1["messages"]] == [
        (posted["id"], "blocked", "")
    ]
    v2 = [ch for ch in a.sync_all(room, before) if "message" in ch]
    assert v2
    assert all(
        ch["message"]["hidden"] == "blocked"
        for ch in v2
        if ch["message"]["authorId"] == bob.user_id
    )
    # "A blocked user's invites to you are dropped"
    bobs = new_room(api, bob, "private")
    api.ok("POST", f"/rooms/{bobs}/members", bob, 202, json={"username": alice.username})
    assert bobs not in {i["roomId"] for i in api.ok("GET", "/invites", alice)["invites"]}
    # "they can neither open nor post in a direct room with you (`404`, as for nobody)"
    api.fails("POST", "/direct", bob, 404, "not_found", json={"userId": alice.user_id})
    assert _code(b.send(direct, "hello?")) == "not_found"

    # "After `DELETE /blocks/{userId}` the same reads answer in full again"
    assert api.ok("DELETE", f"/blocks/{bob.user_id}", alice) == {"unblocked": True}
    again = history(api, alice, room)[posted["id"]]
    assert again["text"] == "edited"
    assert "hidden" not in again
    assert api.ok("GET", "/blocks", alice) == {"blocks": []}
    b.post(direct, "friends again")


def test_a_blocked_users_thread_messages_are_stubs_in_the_thread_view(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    """ "a stub arrives everywhere the message would, in history ..., live events, and the
    thread view (`GET /rooms/{roomId}/messages/{messageId}/thread`: its `parent` and
    `replies`)"."""
    alice, bob, carol = make_user("ali"), make_user("bob"), make_user("car")
    room = new_room(api, alice, "private", bob, carol)
    b, c = open_socket(bob), open_socket(carol)
    carols = c.post(room, "carol's thread")
    bobs = b.post(room, "bob's thread")
    api.ok("POST", f"/blocks/{bob.user_id}", alice)
    reply = b.post(room, "bob replies", parentId=carols["id"])
    c.post(room, "carol replies", parentId=bobs["id"])
    view = thread_with(api, alice, room, carols["id"], 1)
    (stub,) = view["replies"]
    assert stub["id"] == reply["id"]
    assert (stub.get("hidden"), stub["text"]) == ("blocked", ""), stub
    parent = thread_with(api, alice, room, bobs["id"], 1)["parent"]
    assert (parent.get("hidden"), parent["text"]) == ("blocked", ""), parent
    # carol, who blocked nobody, reads both in full
    assert thread_with(api, carol, room, carols["id"], 1)["replies"][0]["text"] == "bob replies"


# ============================================================================================
# Reports: report, the queue, resolving


def test_reports_keep_their_snapshot_and_admins_resolve_them_once(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    owner, adam, mod, reporter, author = (make_user(p) for p in ("own", "adm", "mod", "rep", "aut"))
    room = new_room(api, owner, "public", adam, mod, reporter, author)
    set_role(api, owner, room, adam, "admin")
    set_role(api, owner, room, mod, "moderator")
    w, r = open_socket(author), open_socket(reporter)
    first, second, target = (w.post(room, t) for t in ("welcome!", "second", "cheap pills"))
    reported = f"/rooms/{room}/messages/{target['id']}/report"

    body = example(BLOCKS, lambda e: set(e) == {"reason", "note"})
    made = api.ok("POST", reported, reporter, 201, json=body)
    shaped(example(BLOCKS, lambda e: set(e) == {"report"}), made)
    report = made["report"]
    assert (report["roomId"], report["messageId"], report["reason"], report["note"]) == (
        room,
        target["id"],
        "spam",
        body["note"],
    )
    # "reporting it again while open answers `200` with the same report (... the first reason kept)"
    assert api.ok("POST", reported, reporter, 200, json={"reason": "hate"}) == made
    # "an edit or a delete later does not change it"
    w.ack(
        {"action": "editMessage", "roomId": room, "messageId": target["id"], "text": "nice pills"}
    )
    w.ack({"action": "deleteMessage", "roomId": room, "messageId": first["id"]})
    # the queue: `moderate`, admin+
    api.fails("GET", f"/rooms/{room}/reports", mod, 403, "forbidden")
    api.fails("GET", f"/rooms/{room}/reports", reporter, 403, "forbidden")
    queue = api.ok("GET", f"/rooms/{room}/reports", adam)
    shaped(example(BLOCKS, lambda e: "reports" in e), queue)
    (item,) = queue["reports"]
    assert item["id"] == report["id"]
    assert item["status"] == "open"
    assert item["resolution"] is None
    assert item["reporterId"] == reporter.user_id
    assert (item["message"]["text"], item["message"]["authorId"]) == ("cheap pills", author.user_id)
    # "the 2 messages before it (`limits.REPORT_CONTEXT`, deleted ones skipped), taken when you
    # report": both were live then
    assert [c["id"] for c in item["context"]] == [first["id"], second["id"]]  # "oldest first"
    assert {c["id"]: c["text"] for c in item["context"]}[first["id"]] == "welcome!"

    # errors of the section
    api.fails("POST", reported, reporter, 400, "invalid_input", json={"reason": "boring"})
    mine = r.post(room, "my own")
    api.fails(
        "POST",
        f"/rooms/{room}/messages/{mine['id']}/report",
        reporter,
        400,
        "invalid_input",
        json={"reason": "spam"},
    )
    other = w.post(room, "another")
    api.fails(
        "POST",
        f"/rooms/{room}/messages/{other['id']}/report",
        reporter,
        400,
        "invalid_input",
        json={"reason": "other", "note": "n" * 501},
    )
    api.fails(
        "POST",
        f"/rooms/{room}/messages/{first['id']}/report",
        reporter,
        404,
        "not_found",
        json={"reason": "spam"},
    )  # "a deleted message too"
    api.fails(
        "POST",
        f"/rooms/{room}/messages/{NOT_A_ULID_BUT_WELL_FORMED}/report",
        reporter,
        404,
        "not_found",
        json={"reason": "spam"},
    )
    api.fails("GET", f"/rooms/{room}/reports", adam, 400, "invalid_input", params={"status": "new"})
    page = api.ok("GET", f"/rooms/{room}/messages", adam, params={"limit": "1"})
    api.fails(
        "GET",
        f"/rooms/{room}/reports",
        adam,
        400,
        "invalid_input",
        params={"cursor": page["nextCursor"]},
    )  # "a history cursor is `400 invalid_input`"
    api.fails("GET", f"/rooms/{room}/reports", adam, 400, "invalid_input", params={"limit": "21"})

    # resolving
    resolve = f"/rooms/{room}/reports/{report['id']}/resolve"
    resolution_body = example(BLOCKS, lambda e: "outcome" in e)
    api.fails("POST", resolve, mod, 403, "forbidden", json=resolution_body)
    api.fails("POST", resolve, adam, 400, "invalid_input", json={"outcome": "ignored"})
    api.fails(
        "POST",
        f"/rooms/{room}/reports/{NOT_A_ULID_BUT_WELL_FORMED}/resolve",
        adam,
        404,
        "not_found",
        json=resolution_body,
    )
    api.fails(
        "POST",
        f"/rooms/{room}/reports/not-a-report/resolve",
        adam,
        400,
        "invalid_input",
        json=resolution_body,
    )
    start = int(time.time() * 1000)
    resolved = api.ok("POST", resolve, adam, json=resolution_body)["report"]
    assert resolved["status"] == "resolved"
    resolution = resolved["resolution"]
    assert set(resolution) == {"outcome", "resolvedBy", "resolvedAt", "note"}
    assert (resolution["outcome"], resolution["resolvedBy"]) == ("actioned", adam.user_id)
    assert resolution["note"] == resolution_body["note"]
    assert resolution["resolvedAt"] >= start - 5000
    # the audit log: action `moderate`, "its `targetMessageId` is the reported message and
    # `targetUserId` its author, never the reporter"
    entry = next(e for e in audit(api, owner, room) if e["action"] == "moderate")
    assert (entry["actorId"], entry["targetMessageId"], entry["targetUserId"]) == (
        adam.user_id,
        target["id"],
        author.user_id,
    )
    assert entry["detail"] == f"report {report['id']} actioned"
    conflict = api.fails("POST", resolve, owner, 409, "conflict", json={"outcome": "dismissed"})
    assert conflict == example(BLOCKS, lambda e: _err(e) == "conflict")
    assert api.ok("GET", f"/rooms/{room}/reports", adam)["reports"] == []
    done = api.ok("GET", f"/rooms/{room}/reports", owner, params={"status": "resolved"})
    assert [x["id"] for x in done["reports"]] == [report["id"]]
    # "once resolved you may report it again"
    renewed = api.ok("POST", reported, reporter, 201, json={"reason": "other"})["report"]
    assert renewed["id"] != report["id"]
    assert renewed["note"] is None  # "`null` in the report when not given"
    dismissed = api.ok(
        "POST",
        f"/rooms/{room}/reports/{renewed['id']}/resolve",
        owner,
        json={"outcome": "dismissed"},
    )["report"]
    assert dismissed["resolution"]["note"] is None
    assert dismissed["resolution"]["outcome"] == ("dismissed")
    # paging: "newest first"; "`nextCursor` pages further back"
    params = {"status": "resolved", "limit": "1"}
    one = api.ok("GET", f"/rooms/{room}/reports", adam, params=params)
    assert [x["id"] for x in one["reports"]] == [renewed["id"]]
    assert one["nextCursor"]
    rest = api.ok(
        "GET", f"/rooms/{room}/reports", adam, params={**params, "cursor": one["nextCursor"]}
    )
    assert [x["id"] for x in rest["reports"]] == [report["id"]]


def _err(body: Frame) -> str | None:
    error = body.get("error")
    return error.get("code") if isinstance(error, dict) and "type" not in body else None


def test_reports_are_refused_in_direct_rooms_and_hidden_in_rooms_you_cannot_read(
    api: Api, make_user: Callable[[str], User], open_socket: Callable[[User], Socket]
) -> None:
    alice, bob, stranger = make_user("ali"), make_user("bob"), make_user("str")
    direct = api.ok("POST", "/direct", alice, json={"userId": bob.user_id})["room"]["roomId"]
    message = open_socket(bob).post(direct, "hi")
    # "a direct room has no moderators, so reporting there is `403 forbidden`"
    api.fails(
        "POST",
        f"/rooms/{direct}/messages/{message['id']}/report",
        alice,
        403,
        "forbidden",
        json={"reason": "spam"},
    )
    private = new_room(api, alice, "private", bob)
    secret = open_socket(bob).post(private, "secret")
    api.fails(
        "POST",
        f"/rooms/{private}/messages/{secret['id']}/report",
        stranger,
        404,
        "not_found",
        json={"reason": "spam"},
    )
    api.fails("GET", f"/rooms/{private}/reports", stranger, 404, "not_found")


def test_reports_and_moderation_writes_past_the_per_user_limits_are_rate_limited(
    tmp_path: Path,
) -> None:
    """ "Reports count against a per-user limit (30 an hour, `limitReportsPerHour`)"; "Every
    moderation write above (all but the `GET`s) counts against the per-user limit of
    `sendMessage`, `editMessage` and `deleteMessage`"; "`dynamotalk dev` reads the same
    `DYNAMOTALK_LIMIT_*` variables": a stack of its own with 2 reports an hour and 1 message a
    second (bursts of 10)."""
    from dynamotalk.local.emulators import free_port
    from tests.support.dev_stack import start_dev, stop, wait_healthy

    port = free_port()
    process = start_dev(
        port,
        tmp_path,
        "--in-memory",
        "--quiet",
        env={
            "DYNAMOTALK_LIMIT_REPORTS_PER_HOUR": "2",
            "DYNAMOTALK_LIMIT_MESSAGES_PER_SECOND": "1",
            "DYNAMOTALK_LIMIT_MESSAGES_BURST": "10",
        },
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        config = discover(base)
        api = Api(str(config["httpUrl"]).rstrip("/"))
        make = user_maker(base, config, api)
        owner, reporter = make("own"), make("rep")
        room = new_room(api, owner, "public", reporter)
        url = f"{config['wsUrl']}?token={urllib.parse.quote(owner.token, safe='')}"
        with connect(url, open_timeout=WAIT) as connection:
            socket = Socket(connection)
            ids = [socket.post(room, f"m{n}")["id"] for n in range(3)]
        for message_id in ids[:2]:
            api.ok(
                "POST",
                f"/rooms/{room}/messages/{message_id}/report",
                reporter,
                201,
                json={"reason": "spam"},
            )
        refused = api(
            "POST", f"/rooms/{room}/messages/{ids[2]}/report", reporter, json={"reason": "spam"}
        )
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "rate_limited"
        assert refused.json()["error"]["retryAfterMs"] > 0
        assert int(refused.headers["Retry-After"]) >= 1
        # "nothing was stored or counted for the refused request"
        queue = api.ok("GET", f"/rooms/{room}/reports", owner)["reports"]
        assert sorted(x["messageId"] for x in queue) == sorted(ids[:2])
        # Pinning and unpinning: "10·N in any 10 seconds" admits at most 20 of 60 quick writes
        # across two windows; the first refusal is `rate_limited`, 429, with `retryAfterMs`.
        refusal = None
        for attempt in range(60):
            method, path = (
                ("POST", f"/rooms/{room}/pins")
                if attempt % 2 == 0
                else ("DELETE", f"/rooms/{room}/pins/{ids[0]}")
            )
            answer = api(
                method, path, owner, json={"messageId": ids[0]} if method == "POST" else None
            )
            if answer.status_code != 200:
                refusal = answer
                break
        assert refusal is not None, "60 quick writes were all admitted"
        assert refusal.status_code == 429, refusal.text
        assert refusal.json()["error"]["code"] == "rate_limited"
        assert refusal.json()["error"]["retryAfterMs"] > 0
    finally:
        stop(process)


# ============================================================================================
# Rooms: member counts and the lobby


def test_member_counts_follow_joins_and_leaves_and_the_lobby_is_in_config(
    api: Api, config: Frame, make_user: Callable[[str], User]
) -> None:
    alice, bob, carol = make_user("ali"), make_user("bob"), make_user("car")
    # "`config.json` carries `lobby`: the id of the public room a new user lands in, where the
    # stage has one (the local stack's `lobby`, seeded with a welcome message)"
    lobby = config["lobby"]
    public = api.ok("GET", "/rooms/public", alice, params={"limit": "100"})
    doc = example(COUNTS, lambda e: "rooms" in e)
    shaped(doc, public)
    entry = next(r for r in public["rooms"] if r["roomId"] == lobby)
    assert entry["name"] == "lobby"
    assert entry["kind"] == "public"
    assert entry["memberCount"] >= 0
    joined = api.ok("POST", f"/rooms/{lobby}/join", alice)
    assert joined["membership"]["roomId"] == lobby
    assert (
        api.ok("GET", f"/rooms/{lobby}", alice)["room"]["memberCount"] == entry["memberCount"] + 1
    )

    # "The answer to `POST /rooms` is built before the room is stored and carries `0`"
    created = api.ok(
        "POST", "/rooms", alice, 201, json={"name": "counted", "kind": "public", "members": []}
    )["room"]
    assert created["memberCount"] == 0
    room = created["roomId"]
    count = lambda: api.ok("GET", f"/rooms/{room}", alice)["room"]["memberCount"]  # noqa: E731
    assert count() == 1
    api.ok("POST", f"/rooms/{room}/join", bob)
    api.ok("POST", f"/rooms/{room}/members", alice, 202, json={"username": carol.username})
    assert count() == 2  # a pending invite is no member
    api.ok("POST", f"/invites/{room}/accept", carol)
    assert count() == 3
    assert my_room(api, bob, room)["room"]["memberCount"] == 3  # GET /rooms too
    assert (
        next(
            r
            for r in api.ok("GET", "/rooms/public", bob, params={"limit": "100"})["rooms"]
            if r["roomId"] == room
        )["memberCount"]
        == 3
    )
    api.ok("POST", f"/rooms/{room}/leave", bob)
    assert count() == 2
    api.ok("DELETE", f"/rooms/{room}/members/{carol.user_id}", alice)  # removal
    assert count() == 1
    # a direct room: both members join with it; the same room, the same count, every time
    first = api.ok("POST", "/direct", bob, json={"userId": carol.user_id})["room"]
    again = api.ok("POST", "/direct", carol, json={"userId": bob.user_id})["room"]
    assert first == again
    assert first["memberCount"] == 2
