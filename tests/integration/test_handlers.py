"""The Lambda handlers driven by real-shaped API Gateway events (tests/events/*.json), on
DynamoDB Local, moto's Cognito (real tokens, verified against its JWKS) and moto's S3 (a real
presigned POST), with fan-out through the real boto3 management API client."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pytest

from dynamotalk.domain import commands as cmd
from dynamotalk.edge.records import is_change
from tests.support.bad_frames import BAD_FRAMES
from tests.support.lambda_stack import Stack, load


@pytest.fixture
def stack(lambda_stack: Stack) -> Stack:
    return lambda_stack


# --- authorizer -----------------------------------------------------------------------------


def test_authorizer_allows_id_and_access_tokens(stack: Stack) -> None:
    alice = stack.user("alice")
    for token in (alice["tokens"]["IdToken"], alice["tokens"]["AccessToken"]):
        policy = stack.authorize(token)
        assert policy["principalId"] == alice["id"]
        statement = policy["policyDocument"]["Statement"][0]
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == load("ws_authorizer_request")["methodArn"]
        # The token's exp rides along: the session ends with the token (sessions.py).
        exp = jwt.decode(token, options={"verify_signature": False})["exp"]
        assert policy["context"] == {"userId": alice["id"], "username": alice["name"], "exp": exp}


def test_authorizer_reads_the_token_from_the_query_string_only(stack: Stack) -> None:
    # The cloud's identity source is route.request.querystring.token: a valid token offered as
    # a WebSocket subprotocol instead is refused (there, API Gateway answers 401 on its own).
    alice = stack.user("alice")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        stack.authorize(alice["tokens"]["IdToken"], via_protocol=True)


def test_connect_chooses_no_subprotocol(stack: Stack) -> None:
    alice = stack.user("alice")
    event = stack.ws_event("ws_connect", alice, "conn-no-subprotocol")
    event["headers"]["Sec-WebSocket-Protocol"] = "dynamotalk"
    reply = stack.modules["ws_connect"].handler(event, None)
    assert reply == {"statusCode": 200}


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c"])
def test_authorizer_refuses_with_unauthorized(stack: Stack, token: str | None) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        stack.authorize(token)


# --- the WebSocket conversation -------------------------------------------------------------


def test_two_users_chat_through_the_handlers(stack: Stack) -> None:
    alice, bob = stack.user("alice"), stack.user("bob")
    status, created = stack.http(alice, "POST /rooms", body={"name": "Lobby", "kind": "public"})
    assert status == 201
    room_id = created["room"]["roomId"]
    assert stack.http(bob, "POST /rooms/{roomId}/join", {"roomId": room_id})[0] == 200
    c_alice, c_bob = stack.connect(alice), stack.connect(bob)
    for user, conn in ((alice, c_alice), (bob, c_bob)):
        ack = stack.send(user, conn, {"action": "subscribe", "roomIds": [room_id]})
        assert ack["type"] == "ack"
        assert ack["roomIds"] == [room_id]

    frame = {
        "action": "sendMessage",
        "requestId": "r1",
        "roomId": room_id,
        "text": "hi bob",
        "clientId": "m1",
    }
    ack = stack.send(alice, c_alice, frame)
    assert (ack["type"], ack["requestId"], ack["action"]) == ("ack", "r1", "sendMessage")
    message = ack["message"]
    assert message["text"] == "hi bob"
    posted = [e for e in stack.events_for(c_bob) if e["type"] == "message.posted"]
    assert [e["message"]["id"] for e in posted] == [message["id"]]

    retry = stack.send(alice, c_alice, {**frame, "text": "hi bob (retry)"})
    assert retry["message"]["id"] == message["id"]
    assert len([e for e in stack.events_for(c_bob) if e["type"] == "message.posted"]) == 1

    refused = stack.send(
        bob,
        c_bob,
        {"action": "editMessage", "roomId": room_id, "messageId": message["id"], "text": "x"},
    )
    assert refused["type"] == "error"
    assert refused["error"]["code"] == "forbidden"

    stack.send(bob, c_bob, {"action": "typing", "roomId": room_id})
    assert any(e["type"] == "typing" for e in stack.events_for(c_alice))
    assert not any(e["type"] == "typing" for e in stack.events_for(c_bob))

    status, page = stack.http(
        bob, "GET /rooms/{roomId}/messages", {"roomId": room_id}, {"limit": "10"}
    )
    assert status == 200
    assert [m["id"] for m in page["messages"]] == [message["id"]]
    synced = stack.send(bob, c_bob, {"action": "sync", "roomId": room_id})
    assert [m["text"] for m in synced["messages"]] == ["hi bob"]


def test_malformed_frames_get_error_frames(stack: Stack) -> None:
    alice = stack.user("alice")
    conn = stack.connect(alice)
    for frame, code in [
        ("not json", "invalid_input"),
        ('{"action": "fly"}', "invalid_input"),
        ('{"action": "sendMessage", "roomId": 5, "text": "x", "clientId": "c"}', "invalid_input"),
        ('{"action": "sendMessage", "roomId": "nope", "text": "x", "clientId": "c"}', "not_found"),
        ('{"action": "ping", "requestId": "p"}', None),
    ]:
        reply = stack.send(alice, conn, frame)
        if code is None:
            assert reply["type"] == "ack"
        else:
            assert reply["type"] == "error"
            assert reply["error"]["code"] == code


def test_a_gone_connection_is_removed_on_fan_out(stack: Stack) -> None:
    alice, bob = stack.user("alice"), stack.user("bob")
    room_id = stack.http(alice, "POST /rooms", body={"name": "Gone", "kind": "public"})[1]["room"][
        "roomId"
    ]
    stack.http(bob, "POST /rooms/{roomId}/join", {"roomId": room_id})
    c_bob = stack.connect(bob)
    stack.send(bob, c_bob, {"action": "subscribe", "roomIds": [room_id]})
    stack.api.gone.add(c_bob)
    c_alice = stack.connect(alice)
    stack.send(
        alice,
        c_alice,
        {"action": "sendMessage", "roomId": room_id, "text": "anyone?", "clientId": "g1"},
    )
    assert stack.fan_out() == 2  # bob joining, then the post (410 for bob), from the stream
    registry = stack.modules["ws_default"].SERVICE.connections
    assert registry.get(c_bob, 0) is None
    assert registry.connections_in_room(room_id, 0) == []


def test_disconnect_sets_presence_offline_with_last_seen(stack: Stack) -> None:
    alice, bob = stack.user("alice"), stack.user("bob")
    room = stack.http(
        alice, "POST /rooms", body={"name": "Presence", "kind": "private", "members": [bob["id"]]}
    )[1]["room"]
    room_id = room["roomId"]
    stack.http(bob, "POST /invites/{roomId}/accept", {"roomId": room_id})  # pending till then
    c_bob = stack.connect(bob)
    online = stack.http(alice, "GET /rooms/{roomId}/presence", {"roomId": room_id})[1]["members"]
    assert {m["userId"]: m["online"] for m in online}[bob["id"]] is True
    stack.disconnect(bob, c_bob)
    after = stack.http(alice, "GET /rooms/{roomId}/presence", {"roomId": room_id})[1]["members"]
    bob_entry = next(m for m in after if m["userId"] == bob["id"])
    assert bob_entry["online"] is False
    assert bob_entry["lastSeen"] > 0


# --- HTTP -----------------------------------------------------------------------------------


def test_http_refusals_carry_codes_never_500(stack: Stack) -> None:
    alice = stack.user("alice")
    cases = [
        (alice, "GET /nope", {}, None, None, 404, "not_found"),
        (None, "GET /rooms", {}, None, None, 401, "unauthorized"),
        (alice, "POST /rooms", {}, None, "{bad json", 400, "invalid_input"),
        (alice, "POST /rooms", {}, None, {"name": "x", "kind": "secret"}, 400, "invalid_input"),
        (alice, "POST /rooms", {}, None, {"name": ""}, 400, "invalid_input"),
        (alice, "GET /rooms/{roomId}", {"roomId": "missing"}, None, None, 404, "not_found"),
        (
            alice,
            "GET /rooms/{roomId}/messages",
            {"roomId": "missing"},
            {"limit": "abc"},
            None,
            400,
            "invalid_input",
        ),
        (alice, "POST /direct", {}, None, {"username": "nobody-at-all"}, 404, "not_found"),
        (
            alice,
            "POST /uploads",
            {},
            None,
            {
                "purpose": "avatar",
                "filename": "a.exe",
                "contentType": "application/x-msdownload",
                "size": 5,
            },
            400,
            "invalid_input",
        ),
        (alice, "PATCH /me", {}, None, {}, 400, "invalid_input"),
    ]
    for user, route, path, query, body, status, code in cases:
        got_status, reply = stack.http(user, route, path, query, body)
        assert (got_status, reply["error"]["code"]) == (status, code), route


def test_health_needs_no_token(stack: Stack) -> None:
    assert stack.http(None, "GET /health") == (200, {"status": "ok"})


def test_history_pages_with_cursor_bound_to_room(stack: Stack) -> None:
    alice = stack.user("alice")
    rooms = [stack.http(alice, "POST /rooms", body={"name": f"P{n}"})[1]["room"] for n in range(2)]
    first, second = (r["roomId"] for r in rooms)
    conn = stack.connect(alice)
    for n in range(7):
        stack.send(
            alice,
            conn,
            {"action": "sendMessage", "roomId": first, "text": f"m{n}", "clientId": f"c{n}"},
        )
    seen, cursor = [], None
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        status, page = stack.http(alice, "GET /rooms/{roomId}/messages", {"roomId": first}, query)
        assert status == 200
        seen += [m["text"] for m in page["messages"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
        foreign = stack.http(
            alice, "GET /rooms/{roomId}/messages", {"roomId": second}, {"cursor": cursor}
        )
        assert foreign[0] == 400
    assert seen == [f"m{n}" for n in range(6, -1, -1)]


def test_upload_through_presigned_post_then_attach_and_download(stack: Stack) -> None:
    alice = stack.user("alice")
    room = stack.http(alice, "POST /rooms", body={"name": "Files"})[1]["room"]
    room_id = room["roomId"]
    content = b"\x89PNG\r\n\x1a\n" + b"pixels" * 100
    status, reply = stack.http(
        alice,
        "POST /uploads",
        body={
            "purpose": "attachment",
            "roomId": room_id,
            "filename": "cat.png",
            "contentType": "image/png",
            "size": len(content),
        },
    )
    assert status == 201
    form = reply["upload"]
    uploaded = httpx.post(
        form["url"], data=form["fields"], files={"file": ("cat.png", content, "image/png")}
    )
    assert uploaded.status_code in (200, 201, 204)
    conn = stack.connect(alice)
    attachment = {
        "key": form["key"],
        "name": "cat.png",
        "contentType": "image/png",
        "size": len(content),
    }
    ack = stack.send(
        alice,
        conn,
        {
            "action": "sendMessage",
            "roomId": room_id,
            "text": "",
            "clientId": "f1",
            "attachments": [attachment],
        },
    )
    assert ack["type"] == "ack", ack
    assert ack["message"]["attachments"][0]["size"] == len(content)
    status, link = stack.http(alice, "GET /attachments", query={"key": form["key"]})
    assert status == 200
    assert httpx.get(link["url"]).content == content
    stranger = stack.user("mallory")
    private = stack.http(alice, "POST /rooms", body={"name": "Private", "kind": "private"})[1][
        "room"
    ]
    key = form["key"].replace(room_id, private["roomId"])
    assert stack.http(stranger, "GET /attachments", query={"key": key})[0] == 404


# --- Cognito triggers -----------------------------------------------------------------------


def test_pre_signup_auto_confirms_per_stage_and_checks_the_username(stack: Stack) -> None:
    event = load("cognito_pre_signup")
    event["userName"] = "valid_name"
    reply = stack.modules["cognito_pre_signup"].handler(event, None)
    assert reply["response"]["autoConfirmUser"] is True
    bad = load("cognito_pre_signup")
    bad["userName"] = "no spaces allowed"
    with pytest.raises(ValueError, match="username"):
        stack.modules["cognito_pre_signup"].handler(bad, None)


def test_post_confirmation_creates_the_profile(stack: Stack) -> None:
    event = load("cognito_post_confirmation")
    event["userName"] = "fresh_user"
    event["request"]["userAttributes"]["sub"] = "sub-fresh-1"
    assert stack.modules["cognito_post_confirmation"].handler(event, None) == event
    alice = stack.user("alice")
    status, reply = stack.http(alice, "GET /users/{userId}", {"userId": "sub-fresh-1"})
    assert status == 200
    assert reply["user"]["username"] == "fresh_user"


# --- the edge never crashes, and logs one canonical line ------------------------------------


def test_a_bug_answers_internal_not_a_crash(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = stack.user("alice")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setitem(stack.modules["http_api"].ROUTES, "GET /rooms", broken)
    status, reply = stack.http(alice, "GET /rooms")
    assert (status, reply["error"]["code"]) == (500, "internal")
    assert "boom" not in reply["error"]["message"]


def test_one_canonical_json_log_line_per_invocation(
    stack: Stack, capfd: pytest.CaptureFixture[str]
) -> None:
    alice = stack.user("alice")
    capfd.readouterr()
    stack.http(alice, "GET /rooms")
    lines = [
        json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")
    ]
    canonical = [line for line in lines if line.get("event") == "invocation"]
    assert len(canonical) == 1
    entry = canonical[0]
    assert entry["route"] == "GET /rooms"
    assert entry["outcome"] == "ok"
    assert entry["user_id"] == alice["id"]
    assert {"request_id", "duration_ms", "cold_start", "timestamp", "level"} <= set(entry)
    assert alice["tokens"]["IdToken"] not in json.dumps(lines)


# --- requestId echo and dependency failures -------------------------------------------------


@pytest.mark.parametrize(("frame", "code"), list(BAD_FRAMES.values()), ids=list(BAD_FRAMES))
def test_errors_raised_while_parsing_echo_the_request_id(
    stack: Stack, frame: dict[str, Any], code: str
) -> None:
    alice = stack.user("alice")
    conn = stack.connect(alice)
    reply = stack.send(alice, conn, json.dumps({**frame, "requestId": "req-42"}))
    assert (reply["type"], reply["requestId"], reply["error"]["code"]) == ("error", "req-42", code)


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        '{"action": "fly", "requestId": 7}',
        '{"action": "fly", "requestId": ""}',
        json.dumps({"action": "ping", "requestId": "x" * 65}),
        '["ping"]',
    ],
)
def test_no_valid_request_id_means_null(stack: Stack, raw: str) -> None:
    alice = stack.user("alice")
    reply = stack.send(alice, stack.connect(alice), raw)
    assert reply["type"] == "error"
    assert reply["requestId"] is None


class _Loopback:
    """A TCP listener on loopback that either closes each connection at once or never answers."""

    def __init__(self, behaviour: str) -> None:
        import socket
        import threading

        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.behaviour = behaviour
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if self.behaviour == "close":
                conn.recv(65536)
                conn.close()
            else:
                self.held.append(conn)

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


def _dead_dynamodb_call(behaviour: str) -> Any:
    """A real DynamoDB call through botocore that fails the way a dead dependency fails."""
    import boto3
    from botocore.config import Config

    from dynamotalk.local.emulators import free_port

    server = _Loopback(behaviour) if behaviour != "refused" else None
    port = server.port if server else free_port()
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=1),
    )

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return client.describe_table(TableName="chat")
        finally:
            if server:
                server.close()

    return call


DEAD = ["refused", "close", "hang"]  # EndpointConnectionError, ConnectionClosedError, ReadTimeout


@pytest.mark.parametrize("behaviour", DEAD)
def test_a_dead_dependency_answers_unavailable_frames_not_internal(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], behaviour: str
) -> None:

    alice = stack.user("alice")
    conn = stack.connect(alice)
    handlers = stack.modules["ws_default"].HANDLERS
    monkeypatch.setitem(handlers, cmd.Ping, _dead_dynamodb_call(behaviour))
    capfd.readouterr()
    reply = stack.send(alice, conn, {"action": "ping", "requestId": "p-dead"})
    assert reply["type"] == "error"
    assert reply["requestId"] == "p-dead"
    assert reply["error"]["code"] == "unavailable"
    assert reply["error"]["retryable"] is False
    assert reply["error"]["retryAfterMs"] > 0
    out = capfd.readouterr().out
    assert "Traceback" not in out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    (canonical,) = [line for line in lines if line.get("event") == "invocation"]
    assert canonical["outcome"] == "unavailable"
    assert any(line.get("event") == "dependency_unavailable" for line in lines)


@pytest.mark.parametrize("behaviour", DEAD)
def test_a_dead_dependency_answers_503_over_http(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], behaviour: str
) -> None:
    alice = stack.user("alice")
    routes = stack.modules["http_api"].ROUTES
    monkeypatch.setitem(routes, "GET /rooms", _dead_dynamodb_call(behaviour))
    capfd.readouterr()
    event_reply = stack.modules["http_api"].handler(_http_event(stack, alice, "GET /rooms"), None)
    assert event_reply["statusCode"] == 503
    assert int(event_reply["headers"]["retry-after"]) >= 1
    error = json.loads(event_reply["body"])["error"]
    assert error["code"] == "unavailable"
    assert error["retryAfterMs"] > 0
    lines = [json.loads(x) for x in capfd.readouterr().out.splitlines() if x.startswith("{")]
    (canonical,) = [line for line in lines if line.get("event") == "invocation"]
    assert canonical["outcome"] == "unavailable"


def _http_event(stack: Stack, user: dict[str, Any], route: str) -> dict[str, Any]:
    from tests.support.lambda_stack import load

    event = load("http_api_v2")
    method, _ = route.split(" ", 1)
    event["routeKey"] = event["requestContext"]["routeKey"] = route
    event["requestContext"]["http"]["method"] = method
    event["pathParameters"] = {}
    event["queryStringParameters"] = None
    event["body"] = None
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    claims.update(sub=user["id"], **{"cognito:username": user["context"]["username"]})
    return event


def test_a_bug_is_still_internal_with_its_traceback_logged(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:

    alice = stack.user("alice")
    conn = stack.connect(alice)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setitem(stack.modules["ws_default"].HANDLERS, cmd.Ping, broken)
    capfd.readouterr()
    reply = stack.send(alice, conn, {"action": "ping", "requestId": "p-bug"})
    assert (reply["error"]["code"], reply["error"]["retryable"]) == ("internal", True)
    assert reply["requestId"] == "p-bug"
    assert "retryAfterMs" not in reply["error"]
    assert "boom" in capfd.readouterr().out  # the traceback is logged for the bug


@pytest.mark.parametrize("behaviour", DEAD)
def test_a_connect_that_fails_on_a_dead_dependency_is_refused_and_never_logged_ok(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], behaviour: str
) -> None:
    alice = stack.user("alice")
    from types import SimpleNamespace

    dead = SimpleNamespace(connect=_dead_dynamodb_call(behaviour))
    monkeypatch.setattr(stack.modules["ws_connect"], "SERVICE", dead)
    capfd.readouterr()
    reply = stack.modules["ws_connect"].handler(stack.ws_event("ws_connect", alice, "c-dead"), None)
    assert reply["statusCode"] == 503
    lines = [json.loads(x) for x in capfd.readouterr().out.splitlines() if x.startswith("{")]
    (canonical,) = [line for line in lines if line.get("event") == "invocation"]
    assert canonical["outcome"] == "unavailable"


def test_the_fanout_fails_a_batch_at_its_first_unreadable_record(stack: Stack) -> None:
    """A poison record (a change item this code cannot read) stops the batch there: the record
    before it is delivered, the ones after wait for the retry from it (Lambda's checkpoint)."""
    alice = stack.user("alice")
    room_id = stack.http(alice, "POST /rooms", body={"name": "Poison", "kind": "public"})[1][
        "room"
    ]["roomId"]
    c_alice = stack.connect(alice)
    stack.send(alice, c_alice, {"action": "subscribe", "roomIds": [room_id]})
    stack.fan_out()
    for n in (1, 2):
        frame = {"action": "sendMessage", "roomId": room_id, "text": f"m{n}", "clientId": f"p{n}"}
        stack.send(alice, c_alice, frame)
    records = [r for r in stack.stream.read() if is_change(r)]
    first, second = records[-2:]
    poison = json.loads(json.dumps(second))
    poison["dynamodb"]["SequenceNumber"] = "poison-1"
    del poison["dynamodb"]["NewImage"]["kind"]
    reply = stack.modules["fanout"].handler({"Records": [first, poison, second]}, None)
    assert reply == {"batchItemFailures": [{"itemIdentifier": "poison-1"}]}
    texts = [
        e["message"]["text"] for e in stack.events_for(c_alice) if e["type"] == "message.posted"
    ]
    assert texts.count("m1") == 1
    assert "m2" not in texts
