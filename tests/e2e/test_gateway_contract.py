"""The local gateway keeps API Gateway's WebSocket and HTTP contracts (issue 12, items 3 and 4,
the slow reader of item 9), through real sockets and HTTP against the real handlers.

Each behaviour cites the AWS page it follows in docs/LOCAL.md; where AWS is silent the gateway is
the stricter of the plausible choices.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from dynamotalk import quotas
from dynamotalk.routes import FUNCTION_BY_MODULE
from tests.e2e import gateway_stack
from tests.e2e.client import User
from tests.e2e.gateway_stack import GatewayStack
from tests.support.raw_ws import stalled_socket

pytestmark = pytest.mark.timeout(180)
EVENTS = Path(__file__).resolve().parents[1] / "events"
QUEUE_MESSAGES = 8
QUEUE_BYTES = 2 * quotas.WS_MESSAGE_BYTES
AGENT = "contract-test/1.0"
BOUND = 600


@pytest.fixture(scope="module")
def gw(
    dynamodb_local: str, moto_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayStack]:
    yield from gateway_stack.start(
        dynamodb_local,
        moto_server,
        tmp_path_factory.mktemp("gateway"),
        outbound_max_messages=QUEUE_MESSAGES,
        outbound_max_bytes=QUEUE_BYTES,
        timeouts={"ws_default": 5.0, "http_api": 5.0},
    )


@pytest.fixture(scope="module")
def short(
    dynamodb_local: str, moto_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayStack]:
    """Idle timeout and maximum life shortened; frames handled in order (the debug mode)."""
    yield from gateway_stack.start(
        dynamodb_local,
        moto_server,
        tmp_path_factory.mktemp("gateway-short"),
        idle_timeout_s=1.0,
        max_connection_s=4.0,
        ordered=True,
    )


@pytest.fixture(scope="module")
def user(gw: GatewayStack) -> User:
    return User(gw.api, "gwc")


def management(gw: GatewayStack) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gw.api,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def open_socket(gw: GatewayStack, user: User, tag: str, query: str = "") -> ClientConnection:
    return connect(
        f"{gw.ws}?token={user.token}{query}",
        additional_headers={"X-Test-Tag": tag, "X-MiXeD-Case": "kept"},
        user_agent_header=AGENT,
        open_timeout=15,
        max_size=None,
    ).__enter__()


def recorded(gw: GatewayStack, module: str, tag: str) -> list[dict[str, Any]]:
    """The events `module` received for the connection opened with X-Test-Tag `tag`."""
    events = gw.recorded()["events"]
    ids = {
        e["event"]["requestContext"]["connectionId"]
        for e in events
        if e["module"] == "ws_connect" and e["event"]["headers"].get("X-Test-Tag") == tag
    }
    return [
        e["event"]
        for e in events
        if e["module"] == module and e["event"]["requestContext"]["connectionId"] in ids
    ]


def disconnect_of(gw: GatewayStack, tag: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # $disconnect runs after the socket closed
        found = recorded(gw, "ws_disconnect", tag)
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no $disconnect recorded for {tag}")


def drain(ws: ClientConnection, ping: bool = False) -> None:
    """Read until the gateway closes; with `ping`, keep sending frames every 0.2 s."""
    for n in range(400):
        if ping:
            ws.send(json.dumps({"action": "ping", "requestId": f"p{n}"}))
        ws.recv(timeout=30)
        if ping:
            time.sleep(0.2)


def closed_code(ws: ClientConnection, ping: bool = False) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        drain(ws, ping)
    assert closed.value.rcvd is not None, "the gateway must send a close frame"
    return closed.value.rcvd.code


def tag() -> str:
    return uuid.uuid4().hex[:10]


# --- WebSocket limits -------------------------------------------------------------------------


def test_a_message_over_128_kb_closes_with_1009(gw: GatewayStack, user: User) -> None:
    t = tag()
    ws = open_socket(gw, user, t)
    fragments = ["x" * quotas.WS_FRAME_BYTES] * (quotas.WS_MESSAGE_BYTES // quotas.WS_FRAME_BYTES)
    ws.send([*fragments, "y"])  # every frame within 32 KB, the message one byte over 128 KB
    assert closed_code(ws) == 1009
    assert disconnect_of(gw, t)["requestContext"]["disconnectStatusCode"] == 1009


def test_a_frame_over_32_kb_closes_with_1009(gw: GatewayStack, user: User) -> None:
    t = tag()
    ws = open_socket(gw, user, t)
    ws.send("z" * (quotas.WS_FRAME_BYTES + 1))  # one frame, far under the message limit
    assert closed_code(ws) == 1009
    assert disconnect_of(gw, t)["requestContext"]["disconnectStatusCode"] == 1009


def test_a_128_kb_message_in_32_kb_frames_is_accepted(gw: GatewayStack, user: User) -> None:
    ws = open_socket(gw, user, tag())
    body = json.dumps({"action": "ping", "requestId": "big1", "pad": ""})
    pad = quotas.WS_MESSAGE_BYTES - len(body)
    text = body[:-2] + "x" * pad + '"}'
    assert len(text.encode()) == quotas.WS_MESSAGE_BYTES
    ws.send([text[i : i + quotas.WS_FRAME_BYTES] for i in range(0, len(text), 32768)])
    reply = json.loads(ws.recv(timeout=20))
    assert reply["requestId"] == "big1"
    ws.close()


def test_a_binary_frame_closes_with_1003(gw: GatewayStack, user: User) -> None:
    t = tag()
    ws = open_socket(gw, user, t)
    ws.send(b'{"action":"ping"}')
    assert closed_code(ws) == 1003
    assert disconnect_of(gw, t)["requestContext"]["disconnectStatusCode"] == 1003


# --- event shapes -----------------------------------------------------------------------------


def test_connect_headers_keep_their_case_and_disconnect_reports_code_reason_headers(
    gw: GatewayStack, user: User
) -> None:
    t = tag()
    ws = open_socket(gw, user, t)
    ws.close(code=1000, reason="bye now")
    (connect_event,) = recorded(gw, "ws_connect", t)
    headers = connect_event["headers"]
    for name in ("Sec-WebSocket-Key", "Sec-WebSocket-Version", "User-Agent", "X-MiXeD-Case"):
        assert name in headers, sorted(headers)
    assert "X-Forwarded-For" in headers
    assert connect_event["requestContext"]["identity"] == {
        "sourceIp": "127.0.0.1",
        "userAgent": AGENT,
    }
    sample = json.loads((EVENTS / "ws_disconnect.json").read_text())
    gone = disconnect_of(gw, t)
    context = gone["requestContext"]
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (1000, "bye now")
    assert set(gone["headers"]) == set(sample["headers"])
    assert set(context) >= set(sample["requestContext"]) - {"authorizer"}
    assert context["identity"]["userAgent"] == AGENT


def test_get_connection_reports_the_real_user_agent_and_source_ip(
    gw: GatewayStack, user: User
) -> None:
    before = set(httpx.get(f"{gw.api}/_local/connections").json()["connections"])
    ws = open_socket(gw, user, tag())
    (connection_id,) = set(httpx.get(f"{gw.api}/_local/connections").json()["connections"]) - before
    info = management(gw).get_connection(ConnectionId=connection_id)
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": AGENT}
    assert info["ConnectedAt"] <= info["LastActiveAt"]
    ws.close()


def test_post_to_connection_over_128_kb_is_payload_too_large(gw: GatewayStack, user: User) -> None:
    before = set(httpx.get(f"{gw.api}/_local/connections").json()["connections"])
    ws = open_socket(gw, user, tag())
    (connection_id,) = set(httpx.get(f"{gw.api}/_local/connections").json()["connections"]) - before
    client = management(gw)
    with pytest.raises(ClientError) as refused:
        client.post_to_connection(
            ConnectionId=connection_id, Data=b"x" * (quotas.WS_MESSAGE_BYTES + 1)
        )
    assert refused.value.response["Error"]["Code"] == "PayloadTooLargeException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    client.post_to_connection(ConnectionId=connection_id, Data=b"y" * quotas.WS_MESSAGE_BYTES)
    assert ws.recv(timeout=20) == "y" * quotas.WS_MESSAGE_BYTES
    ws.close()
    with pytest.raises(ClientError) as gone:
        client.post_to_connection(ConnectionId=connection_id, Data=b"{}")
    assert gone.value.response["Error"]["Code"] == "GoneException"


# --- invocation ---------------------------------------------------------------------------------


def test_a_connections_frames_are_invoked_concurrently(gw: GatewayStack, user: User) -> None:
    ws = open_socket(gw, user, tag())
    ws.send(json.dumps({"stub": "first"}))  # its handler waits until the second one has started
    ws.send(json.dumps({"stub": "second"}))
    replies = [json.loads(ws.recv(timeout=40)) for _ in range(2)]
    # The first handler could only finish because the second had started beside it; which
    # reply reaches the socket first is a race, as on AWS.
    by_stub = {reply["stub"]: reply for reply in replies}
    assert by_stub == {"second": {"stub": "second"}, "first": {"stub": "first", "sawSecond": True}}
    ws.close()


def test_ordered_debug_mode_runs_frames_one_at_a_time(short: GatewayStack) -> None:
    user = User(short.api, "ord")
    ws = open_socket(short, user, tag())
    names = [f"seq{n}" for n in range(4)]
    for name in names:
        ws.send(json.dumps({"stub": name}))
    assert [json.loads(ws.recv(timeout=20))["stub"] for _ in names] == names
    order = [step for step in short.recorded()["order"] if step.split()[1] in names]
    assert order == [f"{step} {name}" for name in names for step in ("enter", "exit")]
    ws.close()


def test_a_frame_whose_handler_times_out_gets_api_gateways_error(
    gw: GatewayStack, user: User
) -> None:
    ws = open_socket(gw, user, tag())
    try:
        ws.send(json.dumps({"stub": "hang"}))
        reply = json.loads(ws.recv(timeout=30))
        assert reply["message"] == "Internal server error"
        assert reply["connectionId"]
        assert reply["requestId"]
    finally:
        httpx.post(f"{gw.api}/_test/release")
    ws.close()
    assert "lambda_timeout" in gw.log.read_text()


# --- refused upgrades ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ws_authorizer", "ws_connect"])
def test_a_crashing_authorizer_or_connect_handler_refuses_with_json(
    gw: GatewayStack, user: User, who: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{gw.ws}?token={user.token}&stub=crash_{who}", open_timeout=15)
    response = refused.value.response
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == {"message": "Internal server error"}


# --- timers -------------------------------------------------------------------------------------


def test_an_idle_connection_is_closed_going_away(short: GatewayStack) -> None:
    user = User(short.api, "idle")
    t = tag()
    ws = open_socket(short, user, t)
    assert closed_code(ws) == 1001
    context = disconnect_of(short, t)["requestContext"]
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (1001, "Going away")


def test_a_busy_connection_is_closed_at_its_maximum_life(short: GatewayStack) -> None:
    user = User(short.api, "busy")
    t = tag()
    ws = open_socket(short, user, t)
    assert closed_code(ws, ping=True) == 1001  # never idle for the 1 s idle timeout
    assert disconnect_of(short, t)["requestContext"]["disconnectStatusCode"] == 1001


# --- slow readers -------------------------------------------------------------------------------


def test_a_reader_that_stops_reading_is_dropped_and_stalls_nobody(
    gw: GatewayStack, user: User
) -> None:
    alice, bob, carol = user, User(gw.api, "bobsr"), User(gw.api, "carolsr")
    room_id = alice.room(f"slow {tag()}")
    bob.post(f"/rooms/{room_id}/join")
    carol.post(f"/rooms/{room_id}/join")
    b = bob.socket()
    b.call({"action": "subscribe", "roomIds": [room_id]})
    before = set(httpx.get(f"{gw.api}/_local/connections").json()["connections"])
    stalled = stalled_socket(gw.api, carol.token, room_id)
    (carol_id,) = set(httpx.get(f"{gw.api}/_local/connections").json()["connections"]) - before
    a = alice.socket()
    # 10 KB a message out (31 KB in: the client escapes each emoji to 12 bytes, under 32 KB)
    text = "\N{GRINNING FACE}" * 2600
    posted: list[str] = []
    for n in range(BOUND):  # carol must be dropped within this many messages
        posted.append(a.post(room_id, f"{n} {text}")["id"])  # every ack arrives
        if (
            n % 10 == 9
            and carol_id not in httpx.get(f"{gw.api}/_local/connections").json()["connections"]
        ):
            break
    assert carol_id not in httpx.get(f"{gw.api}/_local/connections").json()["connections"]
    dropped_after = len(posted)
    for n in range(10):  # the room goes on without her
        posted.append(a.post(room_id, f"after {n}")["id"])
    last = posted[-1]
    b.wait(lambda f: f.get("type") == "message.posted" and f["message"]["id"] == last, 30)
    seen = {f["message"]["id"] for f in b.events("message.posted")}
    assert set(posted) <= seen
    outbound = httpx.get(f"{gw.api}/_local/outbound").json()
    assert outbound["highWater"]["messages"] <= QUEUE_MESSAGES
    assert outbound["highWater"]["bytes"] <= QUEUE_BYTES
    assert outbound["slowReadersDropped"] >= 1
    with pytest.raises(ClientError) as gone:
        management(gw).post_to_connection(ConnectionId=carol_id, Data=b"{}")
    assert gone.value.response["Error"]["Code"] == "GoneException"
    assert dropped_after < BOUND
    stalled.close()
    a.close()
    b.close()


# --- HTTP API -----------------------------------------------------------------------------------


def test_the_jwt_is_accepted_with_or_without_bearer(gw: GatewayStack, user: User) -> None:
    for header in (f"Bearer {user.token}", user.token):
        reply = httpx.get(f"{gw.api}/api/me", headers={"authorization": header})
        assert reply.status_code == 200, reply.text
    for header in ("", "Bearer", "Bearer garbage", f"Basic {user.token}"):
        reply = httpx.get(f"{gw.api}/api/me", headers={"authorization": header})
        assert (reply.status_code, reply.json()) == (401, {"message": "Unauthorized"})


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/nope"), ("PUT", "/api/me"), ("DELETE", "/api/rooms"), ("HEAD", "/api/me"),
     ("GET", "/"), ("POST", "/index.html")],
)  # fmt: skip
def test_an_unknown_route_or_method_is_json_404(gw: GatewayStack, method: str, path: str) -> None:
    reply = httpx.request(method, f"{gw.api}{path}")
    assert reply.status_code == 404
    if method != "HEAD":
        assert reply.json() == {"message": "Not Found"}
        assert reply.headers["content-type"] == "application/json"


def test_cors_allows_the_web_origin_only(gw: GatewayStack, user: User) -> None:
    auth = {"authorization": f"Bearer {user.token}"}
    allowed = httpx.get(f"{gw.api}/api/me", headers={**auth, "origin": gw.web})
    assert allowed.headers["access-control-allow-origin"] == gw.web
    other = httpx.get(f"{gw.api}/api/me", headers={**auth, "origin": "http://evil.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    ok = httpx.options(f"{gw.api}/api/rooms", headers={**preflight, "origin": gw.web})
    assert ok.headers["access-control-allow-origin"] == gw.web
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "authorization" in ok.headers["access-control-allow-headers"]
    refused = httpx.options(
        f"{gw.api}/api/rooms", headers={**preflight, "origin": "http://evil.example"}
    )
    assert not any(h.startswith("access-control-") for h in refused.headers)
    # Cognito's public endpoint answers browsers from any origin.
    cognito = httpx.options(f"{gw.api}/cognito", headers={**preflight, "origin": gw.web})
    assert cognito.headers["access-control-allow-origin"] == "*"


def test_the_event_is_payload_format_2_0(gw: GatewayStack, user: User) -> None:
    sample = json.loads((EVENTS / "http_api_v2.json").read_text())
    reply = httpx.get(
        f"{gw.api}/api/rooms/r1/messages?limit=5&tag=a&tag=b&stub=event",
        headers={"authorization": f"Bearer {user.token}", "cookie": "a=1; b=2",
                 "x-dup": "one", "user-agent": AGENT},
    )  # fmt: skip
    event = json.loads(reply.text)
    assert set(event) == set(sample)
    assert set(event["requestContext"]) == set(sample["requestContext"])
    assert set(event["requestContext"]["http"]) == set(sample["requestContext"]["http"])
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == user.id
    assert event["requestContext"]["authorizer"]["jwt"]["scopes"] is None
    assert event["routeKey"] == "GET /rooms/{roomId}/messages"
    assert event["pathParameters"] == {"roomId": "r1"}
    assert event["queryStringParameters"]["tag"] == "a,b"
    assert event["rawQueryString"] == "limit=5&tag=a&tag=b&stub=event"
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert all(name == name.lower() for name in event["headers"])
    assert event["requestContext"]["http"]["userAgent"] == AGENT
    assert {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-port"} <= set(event["headers"])


def test_handlers_get_a_lambda_context_with_their_functions_memory_and_deadline(
    gw: GatewayStack,
) -> None:
    facts = httpx.get(f"{gw.api}/api/health?stub=context").json()
    assert facts["functionName"].endswith("-http-api")
    assert facts["memoryLimitInMb"] == str(FUNCTION_BY_MODULE["http_api"].memory_mb)
    assert 0 < facts["remainingMs"] <= 5000  # this gateway's http_api timeout
    assert facts["currentFunction"] == "http_api"
    assert facts["awsRequestId"]


def test_a_handler_over_its_timeout_is_answered_as_api_gateway_does(gw: GatewayStack) -> None:
    try:
        reply = httpx.get(f"{gw.api}/api/health?stub=hang", timeout=30)
    finally:
        httpx.post(f"{gw.api}/_test/release")
    assert (reply.status_code, reply.json()) == (500, {"message": "Internal Server Error"})
    assert "lambda_timeout" in gw.log.read_text()


def test_a_response_over_6_mb_is_refused(gw: GatewayStack) -> None:
    reply = httpx.get(f"{gw.api}/api/health?stub=huge", timeout=30)
    assert (reply.status_code, reply.json()) == (500, {"message": "Internal Server Error"})
    assert "lambda_response_too_large" in gw.log.read_text()


def test_a_result_lambda_cannot_serialise_is_a_function_error(gw: GatewayStack) -> None:
    """Lambda's runtime fails such an invocation (Runtime.MarshalError): API Gateway answers its
    500, never a body made of the value's str()."""
    reply = httpx.get(f"{gw.api}/api/health?stub=not_json", timeout=30)
    assert (reply.status_code, reply.json()) == (500, {"message": "Internal Server Error"})
    assert "lambda_marshal_error" in gw.log.read_text()


# --- the web origin -----------------------------------------------------------------------------


def test_the_web_client_has_its_own_origin(gw: GatewayStack) -> None:
    page = httpx.get(f"{gw.web}/")
    assert page.status_code == 200
    assert "DynamoTalk" in page.text
    config = httpx.get(f"{gw.web}/config.json").json()
    assert config["httpUrl"] == f"{gw.api}/api"
    assert config["wsUrl"] == gw.ws
    assert config["cognitoUrl"] == f"{gw.api}/cognito"
    assert httpx.get(f"{gw.api}/index.html").status_code == 404  # not on the API origin
