"""Acceptance client for DynamoTalk, written from docs/PROTOCOL.md, README.md and docs/LOCAL.md only.

Every test checks one claim of the documentation against a real `dynamotalk dev` (the session
fixture `stack_url`). Endpoints are discovered the way the docs say a client does: from
`/config.json` on the API origin; Cognito is reached through `POST /cognito`.
"""

from __future__ import annotations

import contextlib
import json
import re
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
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
DM_ID = re.compile(r"^dm-[0-9a-f]{32}$")
PASSWORD = "Corr3ct-Horse-Battery!"
WAIT = 30.0  # generous: the machine is shared and slow


# --------------------------------------------------------------------------------------------
# discovery and sign-in, as the docs describe it


@pytest.fixture(scope="module")
def config(stack_url: str) -> dict[str, Any]:
    """`GET /config.json` on the API origin (endpoints, pool and client ids)."""
    response = httpx.get(f"{stack_url}/config.json", timeout=30)
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def api(config: dict[str, Any]) -> str:
    return config["httpUrl"].rstrip("/")


@pytest.fixture(scope="module")
def cognito(stack_url: str, config: dict[str, Any]) -> Any:
    """`POST /cognito`: Cognito's JSON API forwarded to the emulator; calls need no credentials."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=f"{stack_url}/cognito",
        region_name=config["region"],
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


class User:
    def __init__(self, username: str, email: str, auth: dict[str, Any], user_id: str) -> None:
        self.username = username
        self.email = email
        self.id_token: str = auth["IdToken"]
        self.access_token: str = auth["AccessToken"]
        self.refresh_token: str = auth["RefreshToken"]
        self.user_id = user_id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.id_token}"}


def new_username(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def sign_up(cognito: Any, config: dict[str, Any], username: str, email: str) -> dict[str, Any]:
    return cognito.sign_up(
        ClientId=config["userPoolClientId"],
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )


def sign_in(cognito: Any, config: dict[str, Any], username: str) -> dict[str, Any]:
    result = cognito.initiate_auth(
        ClientId=config["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    return result["AuthenticationResult"]


@pytest.fixture(scope="module")
def make_user(cognito: Any, config: dict[str, Any], api: str) -> Callable[..., User]:
    def make(prefix: str = "u") -> User:
        username = new_username(prefix)
        email = f"{username}@example.com"
        sign_up(cognito, config, username, email)
        auth = sign_in(cognito, config, username)
        me = httpx.get(
            f"{api}/me", headers={"Authorization": f"Bearer {auth['IdToken']}"}, timeout=30
        )
        assert me.status_code == 200, me.text
        return User(username, email, auth, me.json()["user"]["userId"])

    return make


@pytest.fixture(scope="module")
def alice(make_user: Callable[..., User]) -> User:
    return make_user("alice")


@pytest.fixture(scope="module")
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob")


@pytest.fixture(scope="module")
def carol(make_user: Callable[..., User]) -> User:
    return make_user("carol")


# --------------------------------------------------------------------------------------------
# HTTP helpers


def call(method: str, url: str, user: User | None = None, **kwargs: Any) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if user is not None:
        headers.update(user.headers)
    return httpx.request(method, url, headers=headers, timeout=60, **kwargs)


def create_room(api: str, owner: User, kind: str = "private", members: list[User] = ()) -> dict:  # type: ignore[assignment]
    response = call(
        "POST",
        f"{api}/rooms",
        owner,
        json={
            "name": f"room {uuid.uuid4().hex[:8]}",
            "kind": kind,
            "members": [m.user_id for m in members],
        },
    )
    assert response.status_code == 201, response.text
    room: dict = response.json()["room"]  # type: ignore[type-arg]
    for member in members:  # "Invites are pending until the invitee accepts" (PROTOCOL.md)
        accepted = call("POST", f"{api}/invites/{room['roomId']}/accept", member)
        assert accepted.status_code == 200, accepted.text
    return room


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]


# --------------------------------------------------------------------------------------------
# WebSocket helper


class Socket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.events: list[dict[str, Any]] = []
        self.all: list[dict[str, Any]] = []

    def _recv(self, timeout: float) -> dict[str, Any]:
        frame = json.loads(self.connection.recv(timeout=timeout))
        self.all.append(frame)
        return frame

    def request(self, frame: dict[str, Any], timeout: float = WAIT) -> dict[str, Any]:
        """Send a frame with a fresh requestId (unless given) and return its reply."""
        frame = dict(frame)
        if "requestId" not in frame:
            frame["requestId"] = uuid.uuid4().hex
        return self.request_raw(json.dumps(frame), frame["requestId"], timeout)

    def request_raw(
        self, raw: str, request_id: str | None, timeout: float = WAIT
    ) -> dict[str, Any]:
        self.connection.send(raw)
        deadline = time.monotonic() + timeout
        while True:
            frame = self._recv(max(0.1, deadline - time.monotonic()))
            if frame.get("type") in ("ack", "error") and frame.get("requestId") == request_id:
                return frame
            self.events.append(frame)

    def event(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = WAIT
    ) -> dict[str, Any]:
        for frame in self.events:
            if predicate(frame):
                self.events.remove(frame)
                return frame
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching event within {timeout}s; got {self.events}")
            try:
                frame = self._recv(remaining)
            except TimeoutError:
                continue
            if predicate(frame):
                return frame
            self.events.append(frame)

    def subscribe(self, *room_ids: str) -> dict[str, Any]:
        reply = self.request({"action": "subscribe", "roomIds": list(room_ids)})
        assert reply["type"] == "ack", reply
        return reply

    def send_message(self, room_id: str, text: str, **extra: Any) -> dict[str, Any]:
        frame = {
            "action": "sendMessage",
            "roomId": room_id,
            "text": text,
            "clientId": uuid.uuid4().hex,
        }
        frame.update(extra)
        return self.request(frame)

    def post(self, room_id: str, text: str = "hello") -> dict[str, Any]:
        reply = self.send_message(room_id, text)
        assert reply["type"] == "ack", reply
        return reply["message"]


def drain(socket: Socket) -> None:
    """Read until the server closes the connection (raises ConnectionClosed)."""
    for _ in range(10):
        socket.connection.recv(timeout=WAIT)


def ws_url(config: dict[str, Any], token: str | None) -> str:
    url = config["wsUrl"]
    if token is None:
        return url
    return f"{url}?token={urllib.parse.quote(token, safe='')}"


@pytest.fixture
def open_socket(config: dict[str, Any]) -> Iterator[Callable[..., Socket]]:
    with contextlib.ExitStack() as stack:

        def opener(user: User, token: str | None = None) -> Socket:
            connection = stack.enter_context(
                connect(ws_url(config, token or user.id_token), open_timeout=WAIT, close_timeout=5)
            )
            return Socket(connection)

        yield opener


def refused_status(url: str, **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as info, connect(url, open_timeout=WAIT, **kwargs):
        pass
    return info.value.response.status_code


def error_code(reply: dict[str, Any]) -> str:
    assert reply["type"] == "error", reply
    return reply["error"]["code"]


# ============================================================================================
# Endpoints / config.json


def test_config_json_lists_endpoints_pool_and_client(config: dict[str, Any]) -> None:
    assert {"wsUrl", "httpUrl", "region", "userPoolId", "userPoolClientId"} <= set(config)


def test_http_api_is_under_api(config: dict[str, Any], stack_url: str) -> None:
    assert config["httpUrl"].rstrip("/") == f"{stack_url}/api"


def test_websocket_url_is_ws_path(config: dict[str, Any], stack_url: str) -> None:
    assert config["wsUrl"] == stack_url.replace("http://", "ws://") + "/ws"


def test_web_client_is_not_served_on_the_api_origin(stack_url: str) -> None:
    # LOCAL.md: the web client has its own origin (--web-port), as CloudFront serves it;
    # "/config.json on the API origin is local-only".
    response = httpx.get(f"{stack_url}/", timeout=30)
    assert response.status_code == 404
    assert httpx.get(f"{stack_url}/config.json", timeout=30).status_code == 200


# ============================================================================================
# Cognito


def test_sign_up_auto_confirms_on_local_stack(cognito: Any, config: dict[str, Any]) -> None:
    username = new_username()
    result = sign_up(cognito, config, username, f"{username}@example.com")
    assert result["UserConfirmed"] is True


def test_sign_in_returns_id_access_and_refresh_tokens(cognito: Any, config: dict[str, Any]) -> None:
    username = new_username()
    sign_up(cognito, config, username, f"{username}@example.com")
    auth = sign_in(cognito, config, username)
    assert {"IdToken", "AccessToken", "RefreshToken"} <= set(auth)


def test_tokens_expire_after_60_minutes(alice: User, cognito: Any, config: dict[str, Any]) -> None:
    auth = sign_in(cognito, config, alice.username)
    assert auth["ExpiresIn"] == 3600


def test_refresh_token_auth_gives_new_tokens(
    alice: User, cognito: Any, config: dict[str, Any], api: str
) -> None:
    result = cognito.initiate_auth(
        ClientId=config["userPoolClientId"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": alice.refresh_token},
    )
    token = result["AuthenticationResult"]["IdToken"]
    assert call("GET", f"{api}/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_email_is_not_accepted_as_username_until_verified(
    alice: User, cognito: Any, config: dict[str, Any]
) -> None:
    """PROTOCOL.md: auto-confirm (dev) does not verify the e-mail, so it is no alias yet."""
    with pytest.raises(ClientError) as refused:
        cognito.initiate_auth(
            ClientId=config["userPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": alice.email, "PASSWORD": PASSWORD},
        )
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


@pytest.mark.parametrize("bad", ["ab", "_leading", "has space", "x" * 33, "bad!char"])
def test_sign_up_refuses_invalid_usernames(cognito: Any, config: dict[str, Any], bad: str) -> None:
    with pytest.raises(ClientError):
        sign_up(cognito, config, bad, f"{uuid.uuid4().hex[:8]}@example.com")


@pytest.mark.parametrize("shape", ["3-chars", "punctuation", "leading-digit", "32-chars"])
def test_sign_up_accepts_valid_usernames(cognito: Any, config: dict[str, Any], shape: str) -> None:
    tail = uuid.uuid4().hex
    username = {
        "3-chars": "a" + tail[:2],
        "punctuation": "a.b_c-" + tail[:4],
        "leading-digit": "9" + tail[:6],
        "32-chars": "x" + tail[:31],
    }[shape]
    result = sign_up(cognito, config, username, f"{tail[:8]}@example.com")
    assert result["UserConfirmed"] is True


def test_username_is_what_the_chat_shows(alice: User, api: str) -> None:
    assert call("GET", f"{api}/me", alice).json()["user"]["username"] == alice.username


def test_access_token_accepted_by_http_api(alice: User, api: str) -> None:
    response = call("GET", f"{api}/me", headers={"Authorization": f"Bearer {alice.access_token}"})
    assert response.status_code == 200


def test_access_token_accepted_by_websocket(
    alice: User, open_socket: Callable[..., Socket]
) -> None:
    socket = open_socket(alice, alice.access_token)
    assert socket.request({"action": "ping"})["type"] == "ack"


# ============================================================================================
# Opening the WebSocket


def test_ws_without_token_is_refused_401(config: dict[str, Any]) -> None:
    assert refused_status(ws_url(config, None)) == 401


def test_ws_with_invalid_token_is_refused_401(config: dict[str, Any]) -> None:
    assert refused_status(ws_url(config, "not-a-jwt")) == 401


def test_ws_with_forged_token_is_refused_401(config: dict[str, Any], alice: User) -> None:
    header, payload, _signature = alice.id_token.split(".")
    assert refused_status(ws_url(config, f"{header}.{payload}.AAAA")) == 401


def test_ws_token_as_subprotocol_is_refused_401(config: dict[str, Any], alice: User) -> None:
    assert refused_status(ws_url(config, None), subprotocols=[alice.id_token]) == 401  # type: ignore[list-item]


def test_ws_token_in_header_is_refused_401(config: dict[str, Any], alice: User) -> None:
    status = refused_status(
        ws_url(config, None), additional_headers={"Authorization": f"Bearer {alice.id_token}"}
    )
    assert status == 401


def test_ws_server_selects_no_subprotocol(alice: User, open_socket: Callable[..., Socket]) -> None:
    socket = open_socket(alice)
    assert socket.connection.subprotocol is None


# ============================================================================================
# Frames and replies


def test_ping_ack_echoes_request_id(alice: User, open_socket: Callable[..., Socket]) -> None:
    reply = open_socket(alice).request({"action": "ping", "requestId": "r1"})
    assert reply == {"v": 2, "type": "ack", "action": "ping", "requestId": "r1"}


def test_reply_without_request_id_has_null_request_id(
    alice: User, open_socket: Callable[..., Socket]
) -> None:
    socket = open_socket(alice)
    reply = socket.request_raw(json.dumps({"action": "ping"}), None)
    assert reply["requestId"] is None
    assert reply["type"] == "ack"


def test_request_id_of_64_chars_is_accepted(
    alice: User, open_socket: Callable[..., Socket]
) -> None:
    reply = open_socket(alice).request({"action": "ping", "requestId": "r" * 64})
    assert reply["type"] == "ack"


@pytest.mark.parametrize("request_id", ["", "r" * 65])
def test_request_id_out_of_range_is_invalid_input(
    alice: User, open_socket: Callable[..., Socket], request_id: str
) -> None:
    socket = open_socket(alice)
    socket.connection.send(json.dumps({"action": "ping", "requestId": request_id}))
    reply = socket._recv(WAIT)
    assert error_code(reply) == "invalid_input"


def test_unknown_field_is_refused(alice: User, open_socket: Callable[..., Socket]) -> None:
    reply = open_socket(alice).request({"action": "ping", "colour": "blue"})
    assert error_code(reply) == "invalid_input"


def test_unknown_action_is_invalid_input(alice: User, open_socket: Callable[..., Socket]) -> None:
    reply = open_socket(alice).request({"action": "shout"})
    assert error_code(reply) == "invalid_input"


def test_frame_without_action_is_invalid_input(
    alice: User, open_socket: Callable[..., Socket]
) -> None:
    reply = open_socket(alice).request({"roomId": "x"})
    assert error_code(reply) == "invalid_input"


def test_non_json_frame_is_invalid_input(alice: User, open_socket: Callable[..., Socket]) -> None:
    reply = open_socket(alice).request_raw("this is not json", None)
    assert error_code(reply) == "invalid_input"


def test_error_frame_shape(alice: User, open_socket: Callable[..., Socket]) -> None:
    reply = open_socket(alice).request({"action": "shout", "requestId": "e1"})
    assert set(reply) == {"v", "type", "requestId", "error"}
    assert reply["v"] == 2
    assert reply["requestId"] == "e1"
    assert set(reply["error"]) == {"code", "message", "retryable"}
    assert reply["error"]["retryable"] is False


def test_send_message_ack_shape(alice: User, api: str, open_socket: Callable[..., Socket]) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    reply = socket.request(
        {
            "action": "sendMessage",
            "requestId": "r1",
            "roomId": room["roomId"],
            "text": "Hello!",
            "clientId": "c-1",
        }
    )
    assert reply["type"] == "ack"
    assert reply["action"] == "sendMessage"
    assert reply["requestId"] == "r1"
    message = reply["message"]
    assert ULID.match(message["id"])
    assert message["roomId"] == room["roomId"]
    assert message["authorId"] == alice.user_id
    assert message["text"] == "Hello!"
    assert message["clientId"] == "c-1"
    assert isinstance(message["createdAt"], int)
    assert abs(message["createdAt"] - time.time() * 1000) < 3_600_000
    assert message["editedAt"] is None
    assert message["deletedAt"] is None
    assert message["deleted"] is False
    assert message["attachments"] == []
    assert message["reactions"] == {}


def test_send_message_same_client_id_returns_stored_message(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    frame = {"action": "sendMessage", "roomId": room["roomId"], "text": "once", "clientId": "dup-1"}
    first = socket.request(frame)
    second = socket.request(frame)
    assert second["type"] == "ack"
    assert second["message"]["id"] == first["message"]["id"]


def test_send_message_same_client_id_creates_one_message(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    frame = {"action": "sendMessage", "roomId": room["roomId"], "text": "once", "clientId": "dup-2"}
    socket.request(frame)
    socket.request(frame)
    synced = socket.request({"action": "sync", "roomId": room["roomId"]})
    assert [m["text"] for m in synced["messages"] if m["clientId"] == "dup-2"] == ["once"]


def test_message_ids_are_time_ordered(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    ids = [socket.post(room["roomId"], f"m{i}")["id"] for i in range(3)]
    assert ids == sorted(ids)


def test_send_message_not_member_of_private_room_is_not_found(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    reply = open_socket(bob).send_message(room["roomId"], "let me in")
    assert error_code(reply) == "not_found"
    assert reply["error"]["retryable"] is False


def test_send_message_unknown_room_is_not_found(
    alice: User, open_socket: Callable[..., Socket]
) -> None:
    reply = open_socket(alice).send_message("01JD2V5N3Q8Z8Y7X6W5V4T3S2R", "anyone?")
    assert error_code(reply) == "not_found"


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_send_message_empty_text_is_invalid(
    alice: User, api: str, open_socket: Callable[..., Socket], text: str
) -> None:
    room = create_room(api, alice)
    reply = open_socket(alice).send_message(room["roomId"], text)
    assert error_code(reply) == "invalid_input"


def test_send_message_4000_characters_is_accepted(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    reply = open_socket(alice).send_message(room["roomId"], "é" * 4000)
    assert reply["type"] == "ack", reply


def test_send_message_4000_characters_plus_padding_is_accepted(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    reply = open_socket(alice).send_message(room["roomId"], "  " + "a" * 4000 + "  ")
    assert reply["type"] == "ack", reply


def test_send_message_over_4000_characters_is_too_large(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    reply = open_socket(alice).send_message(room["roomId"], "a" * 4001)
    assert error_code(reply) == "too_large"


@pytest.mark.parametrize("client_id", ["", "c" * 65])
def test_client_id_out_of_range_is_invalid(
    alice: User, api: str, open_socket: Callable[..., Socket], client_id: str
) -> None:
    room = create_room(api, alice)
    reply = open_socket(alice).request(
        {"action": "sendMessage", "roomId": room["roomId"], "text": "x", "clientId": client_id}
    )
    assert error_code(reply) == "invalid_input"


def test_edit_message_ack_carries_updated_message(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    message = socket.post(room["roomId"], "Hello!")
    reply = socket.request(
        {
            "action": "editMessage",
            "roomId": room["roomId"],
            "messageId": message["id"],
            "text": "Hello, world!",
        }
    )
    assert reply["type"] == "ack"
    assert reply["action"] == "editMessage"
    assert reply["message"]["text"] == "Hello, world!"
    assert isinstance(reply["message"]["editedAt"], int)


def test_edit_message_by_other_member_is_forbidden(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice, members=[bob])
    message = open_socket(alice).post(room["roomId"], "mine")
    reply = open_socket(bob).request(
        {
            "action": "editMessage",
            "roomId": room["roomId"],
            "messageId": message["id"],
            "text": "yours",
        }
    )
    assert error_code(reply) == "forbidden"


def test_edit_unknown_message_is_not_found(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    reply = open_socket(alice).request(
        {
            "action": "editMessage",
            "roomId": room["roomId"],
            "messageId": "01JD2V7B0000000000000000BB",
            "text": "x",
        }
    )
    assert error_code(reply) == "not_found"


def test_delete_message_ack_carries_deleted_message(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    message = socket.post(room["roomId"], "oops")
    reply = socket.request(
        {"action": "deleteMessage", "roomId": room["roomId"], "messageId": message["id"]}
    )
    assert reply["type"] == "ack"
    assert reply["action"] == "deleteMessage"
    deleted = reply["message"]
    assert deleted["deleted"] is True
    assert deleted["text"] == ""
    assert isinstance(deleted["deletedAt"], int)


def test_delete_message_by_other_member_is_forbidden(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice, members=[bob])
    message = open_socket(alice).post(room["roomId"], "mine")
    reply = open_socket(bob).request(
        {"action": "deleteMessage", "roomId": room["roomId"], "messageId": message["id"]}
    )
    assert error_code(reply) == "forbidden"


def test_react_toggles_reaction(alice: User, api: str, open_socket: Callable[..., Socket]) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    message = socket.post(room["roomId"])
    frame = {"action": "react", "roomId": room["roomId"], "messageId": message["id"], "emoji": "👍"}
    first = socket.request(frame)
    second = socket.request(frame)
    assert first["type"] == "ack"
    assert first["message"]["reactions"] == {"👍": [alice.user_id]}
    assert second["type"] == "ack"
    assert second["message"]["reactions"].get("👍", []) == []


@pytest.mark.parametrize("emoji", ["", "x" * 17])
def test_react_emoji_out_of_range_is_invalid(
    alice: User, api: str, open_socket: Callable[..., Socket], emoji: str
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    message = socket.post(room["roomId"])
    reply = socket.request(
        {"action": "react", "roomId": room["roomId"], "messageId": message["id"], "emoji": emoji}
    )
    assert error_code(reply) == "invalid_input"


def test_typing_ack_carries_nothing_more(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    reply = open_socket(alice).request(
        {"action": "typing", "roomId": room["roomId"], "requestId": "t"}
    )
    assert reply == {"v": 2, "type": "ack", "action": "typing", "requestId": "t"}


def test_mark_read_ack_carries_nothing_more(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    message = socket.post(room["roomId"])
    reply = socket.request(
        {
            "action": "markRead",
            "roomId": room["roomId"],
            "messageId": message["id"],
            "requestId": "mr",
        }
    )
    assert reply == {"v": 2, "type": "ack", "action": "markRead", "requestId": "mr"}


def test_subscribe_ack_carries_room_ids(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    reply = open_socket(alice).request({"action": "subscribe", "roomIds": [room["roomId"]]})
    assert reply["type"] == "ack"
    assert reply["action"] == "subscribe"
    assert reply["roomIds"] == [room["roomId"]]


def test_unsubscribe_ack_carries_room_ids(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    socket.subscribe(room["roomId"])
    reply = socket.request({"action": "unsubscribe", "roomIds": [room["roomId"]]})
    assert reply["type"] == "ack"
    assert reply["action"] == "unsubscribe"
    assert reply["roomIds"] == [room["roomId"]]


def test_subscribe_to_direct_room(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = call("POST", f"{api}/direct", alice, json={"userId": bob.user_id}).json()["room"]
    reply = open_socket(alice).request({"action": "subscribe", "roomIds": [room["roomId"]]})
    assert reply["type"] == "ack"
    assert reply["roomIds"] == [room["roomId"]]


def test_subscribe_zero_rooms_is_invalid(alice: User, open_socket: Callable[..., Socket]) -> None:
    reply = open_socket(alice).request({"action": "subscribe", "roomIds": []})
    assert error_code(reply) == "invalid_input"


def test_subscribe_101_rooms_is_invalid(alice: User, open_socket: Callable[..., Socket]) -> None:
    ids = [f"01JD2V5N3Q8Z8Y7X6W5V4T{i:04d}" for i in range(101)]
    reply = open_socket(alice).request({"action": "subscribe", "roomIds": ids})
    assert error_code(reply) == "invalid_input"


def test_subscribe_100_rooms_is_accepted(
    make_user: Callable[..., User], api: str, open_socket: Callable[..., Socket]
) -> None:
    user = make_user("many")
    ids = [create_room(api, user)["roomId"] for _ in range(100)]
    reply = open_socket(user).request({"action": "subscribe", "roomIds": ids})
    assert reply["type"] == "ack", reply
    assert sorted(reply["roomIds"]) == sorted(ids)


def test_sync_pages_oldest_first(alice: User, api: str, open_socket: Callable[..., Socket]) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    posted = [socket.post(room["roomId"], f"m{i}")["id"] for i in range(3)]
    first = socket.request(
        {"action": "sync", "requestId": "r7", "roomId": room["roomId"], "limit": 2}
    )
    assert first["type"] == "ack"
    assert first["action"] == "sync"
    assert first["requestId"] == "r7"
    assert [m["id"] for m in first["messages"]] == posted[:2]
    assert first["hasMore"] is True
    rest = socket.request(
        {"action": "sync", "roomId": room["roomId"], "afterId": first["messages"][-1]["id"]}
    )
    assert [m["id"] for m in rest["messages"]] == posted[2:]
    assert rest["hasMore"] is False


def test_sync_after_newest_is_empty(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    newest = socket.post(room["roomId"])
    reply = socket.request(
        {"action": "sync", "roomId": room["roomId"], "afterId": newest["id"], "limit": 100}
    )
    assert reply["messages"] == []
    assert reply["hasMore"] is False


def test_sync_default_limit_is_50(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    for i in range(51):
        socket.post(room["roomId"], f"n{i}")
    reply = socket.request({"action": "sync", "roomId": room["roomId"]})
    assert len(reply["messages"]) == 50
    assert reply["hasMore"] is True


@pytest.mark.parametrize("limit", [0, 101])
def test_sync_limit_out_of_range_is_invalid(
    alice: User, api: str, open_socket: Callable[..., Socket], limit: int
) -> None:
    room = create_room(api, alice)
    reply = open_socket(alice).request({"action": "sync", "roomId": room["roomId"], "limit": limit})
    assert error_code(reply) == "invalid_input"


def test_sync_not_member_of_private_room_is_not_found(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    reply = open_socket(bob).request({"action": "sync", "roomId": room["roomId"]})
    assert error_code(reply) == "not_found"


def test_every_ws_outbound_object_carries_v2(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    socket.subscribe(room["roomId"])
    message = socket.post(room["roomId"])
    socket.request(
        {"action": "react", "roomId": room["roomId"], "messageId": message["id"], "emoji": "🎉"}
    )
    socket.request({"action": "shout"})
    socket.event(lambda f: f.get("type") == "reaction.changed")
    assert socket.all
    assert all(frame.get("v") == 2 for frame in socket.all)


# ============================================================================================
# Limits: frame sizes and close codes


def test_frame_over_32kb_closes_with_1009(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    socket = open_socket(alice)
    socket.connection.send(json.dumps({"action": "ping", "requestId": "big", "pad": "x" * 40_000}))
    with pytest.raises(ConnectionClosed) as info:
        drain(socket)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1009


def test_message_over_128kb_in_small_frames_closes_with_1009(
    alice: User, open_socket: Callable[..., Socket]
) -> None:
    socket = open_socket(alice)
    raw = json.dumps({"action": "ping", "pad": "x" * 140_000})
    chunks = [raw[i : i + 30_000] for i in range(0, len(raw), 30_000)]

    def send_and_drain() -> None:
        # The server may close before the last fragment is out: then sending raises already.
        socket.connection.send(chunks)
        drain(socket)

    with pytest.raises(ConnectionClosed) as info:
        send_and_drain()
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1009


def test_message_under_128kb_in_small_frames_is_read(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    raw = json.dumps(
        {
            "action": "sendMessage",
            "requestId": "frag",
            "roomId": room["roomId"],
            "text": "y" * 90_000,
            "clientId": "f",
        }
    )
    socket.connection.send([raw[i : i + 30_000] for i in range(0, len(raw), 30_000)])
    reply = socket._recv(WAIT)
    assert reply["requestId"] == "frag"
    assert error_code(reply) == "too_large"


# ============================================================================================
# Events delivered to another user in the same room


@pytest.fixture
def pair(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> tuple[dict[str, Any], Socket, Socket]:
    room = create_room(api, alice, members=[bob])
    a = open_socket(alice)
    b = open_socket(bob)
    a.subscribe(room["roomId"])
    b.subscribe(room["roomId"])
    return room, a, b


def test_message_posted_event_reaches_other_member(
    pair: tuple[dict[str, Any], Socket, Socket],
) -> None:
    room, a, b = pair
    message = a.post(room["roomId"], "Hello!")
    event = b.event(lambda f: f.get("type") == "message.posted")
    # The post is a change: its event carries the seq the message was posted at.
    assert event == {
        "v": 2,
        "type": "message.posted",
        "roomId": room["roomId"],
        "seq": message["seq"],
        "message": message,
    }


def test_message_posted_event_reaches_sender_subscribed_connection(
    pair: tuple[dict[str, Any], Socket, Socket],
) -> None:
    room, a, _b = pair
    message = a.post(room["roomId"], "echo")
    event = a.event(lambda f: f.get("type") == "message.posted")
    assert event["message"]["id"] == message["id"]


def test_message_edited_event(pair: tuple[dict[str, Any], Socket, Socket]) -> None:
    room, a, b = pair
    message = a.post(room["roomId"], "Hello!")
    a.request(
        {
            "action": "editMessage",
            "roomId": room["roomId"],
            "messageId": message["id"],
            "text": "Hello, world!",
        }
    )
    event = b.event(lambda f: f.get("type") == "message.edited")
    assert event["roomId"] == room["roomId"]
    assert event["message"]["id"] == message["id"]
    assert event["message"]["text"] == "Hello, world!"
    assert isinstance(event["message"]["editedAt"], int)


def test_message_deleted_event(pair: tuple[dict[str, Any], Socket, Socket]) -> None:
    room, a, b = pair
    message = a.post(room["roomId"], "secret")
    a.request({"action": "deleteMessage", "roomId": room["roomId"], "messageId": message["id"]})
    event = b.event(lambda f: f.get("type") == "message.deleted")
    assert event["message"]["id"] == message["id"]
    assert event["message"]["deleted"] is True
    assert event["message"]["text"] == ""
    assert isinstance(event["message"]["deletedAt"], int)


def test_reaction_changed_event(bob: User, pair: tuple[dict[str, Any], Socket, Socket]) -> None:
    room, a, b = pair
    message = a.post(room["roomId"], "react to me")
    reply = b.request(
        {"action": "react", "roomId": room["roomId"], "messageId": message["id"], "emoji": "👍"}
    )
    assert reply["type"] == "ack"
    event = a.event(lambda f: f.get("type") == "reaction.changed")
    assert event["roomId"] == room["roomId"]
    assert event["messageId"] == message["id"]
    assert event["emoji"] == "👍"
    assert event["userId"] == bob.user_id
    assert event["added"] is True
    assert event["message"]["reactions"] == {"👍": [bob.user_id]}


def test_reaction_removed_event_has_added_false(
    pair: tuple[dict[str, Any], Socket, Socket],
) -> None:
    room, a, b = pair
    message = a.post(room["roomId"], "react twice")
    frame = {"action": "react", "roomId": room["roomId"], "messageId": message["id"], "emoji": "🔥"}
    b.request(frame)
    a.event(lambda f: f.get("type") == "reaction.changed" and f.get("added") is True)
    b.request(frame)
    event = a.event(lambda f: f.get("type") == "reaction.changed" and f.get("added") is False)
    assert event["message"]["reactions"].get("🔥", []) == []


def test_typing_event_reaches_others(
    bob: User, pair: tuple[dict[str, Any], Socket, Socket]
) -> None:
    room, a, b = pair
    b.request({"action": "typing", "roomId": room["roomId"]})
    event = a.event(lambda f: f.get("type") == "typing")
    assert event == {
        "v": 2,
        "type": "typing",
        "roomId": room["roomId"],
        "userId": bob.user_id,
        "username": bob.username,
    }


def test_typing_event_not_sent_to_typist(pair: tuple[dict[str, Any], Socket, Socket]) -> None:
    room, a, b = pair
    b.request({"action": "typing", "roomId": room["roomId"]})
    a.event(lambda f: f.get("type") == "typing")
    b.post(room["roomId"], "after typing")  # a later event that the typist does receive
    b.event(lambda f: f.get("type") == "message.posted")
    assert not [f for f in b.all if f.get("type") == "typing"]


def test_unsubscribed_connection_gets_no_events(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    quiet = create_room(api, alice, members=[bob])
    loud = create_room(api, alice, members=[bob])
    a = open_socket(alice)
    b = open_socket(bob)
    b.subscribe(quiet["roomId"], loud["roomId"])
    b.request({"action": "unsubscribe", "roomIds": [quiet["roomId"]]})
    a.post(quiet["roomId"], "not for you")
    a.post(loud["roomId"], "for you")
    b.event(lambda f: f.get("type") == "message.posted" and f["roomId"] == loud["roomId"])
    assert not [
        f for f in b.all if f.get("roomId") == quiet["roomId"] and f.get("type") == "message.posted"
    ]


def test_presence_offline_event_when_other_disconnects(
    alice: User, bob: User, api: str, config: dict[str, Any], open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice, members=[bob])
    a = open_socket(alice)
    a.subscribe(room["roomId"])
    with connect(ws_url(config, bob.id_token), open_timeout=WAIT) as connection:
        b = Socket(connection)
        b.subscribe(room["roomId"])
    event = a.event(
        lambda f: (
            f.get("type") == "presence.changed"
            and f.get("userId") == bob.user_id
            and f.get("online") is False
        ),
        timeout=60,
    )
    assert event["roomId"] == room["roomId"]
    assert event["username"] == bob.username
    assert isinstance(event["lastSeen"], int)


def test_member_joined_event(
    alice: User, carol: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice, kind="public")
    a = open_socket(alice)
    a.subscribe(room["roomId"])
    assert call("POST", f"{api}/rooms/{room['roomId']}/join", carol).status_code == 200
    event = a.event(lambda f: f.get("type") == "member.joined")
    membership = event["membership"]
    assert event["roomId"] == room["roomId"]
    assert membership["userId"] == carol.user_id
    assert membership["role"] == "member"
    assert membership["lastReadId"] is None
    assert isinstance(membership["joinedAt"], int)


def test_member_left_event(
    alice: User, carol: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice, kind="public")
    assert call("POST", f"{api}/rooms/{room['roomId']}/join", carol).status_code == 200
    a = open_socket(alice)
    a.subscribe(room["roomId"])
    assert call("POST", f"{api}/rooms/{room['roomId']}/leave", carol).status_code == 200
    event = a.event(lambda f: f.get("type") == "member.left")
    assert event == {
        "v": 2,
        "type": "member.left",
        "roomId": room["roomId"],
        "seq": event["seq"],
        "userId": carol.user_id,
    }
    assert isinstance(event["seq"], int)
    assert event["seq"] > 0


def test_reconnect_and_sync_catches_up(
    alice: User, bob: User, api: str, config: dict[str, Any], open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice, members=[bob])
    a = open_socket(alice)
    last = a.post(room["roomId"], "seen")
    missed = [a.post(room["roomId"], f"missed {i}")["id"] for i in range(2)]
    b = open_socket(bob)  # "on reconnect call sync per room with the newest message id you have"
    reply = b.request({"action": "sync", "roomId": room["roomId"], "afterId": last["id"]})
    assert [m["id"] for m in reply["messages"]] == missed


def test_dropped_connection_is_removed_from_connection_list(
    alice: User, stack_url: str, open_socket: Callable[..., Socket], api: str
) -> None:
    before = set(_connection_ids(stack_url))
    socket = open_socket(alice)
    socket.request({"action": "ping"})
    mine = set(_connection_ids(stack_url)) - before
    assert len(mine) == 1
    (connection_id,) = mine
    assert (
        httpx.post(f"{stack_url}/_local/connections/{connection_id}/drop", timeout=30).status_code
        < 300
    )
    assert connection_id not in _connection_ids(stack_url)


def _connection_ids(stack_url: str) -> list[str]:
    response = httpx.get(f"{stack_url}/_local/connections", timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    items = body.get("connections", body) if isinstance(body, dict) else body
    return [
        item if isinstance(item, str) else item.get("connectionId", item.get("id"))
        for item in items
    ]


# ============================================================================================
# HTTP API


def test_health_needs_no_token(api: str) -> None:
    response = call("GET", f"{api}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


PROTECTED = [
    ("GET", "/rooms"),
    ("POST", "/rooms"),
    ("GET", "/rooms/public"),
    ("GET", "/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R"),
    ("POST", "/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R/join"),
    ("POST", "/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R/leave"),
    ("GET", "/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R/members"),
    ("POST", "/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R/members"),
    ("DELETE", "/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R/members/u-2"),
    ("GET", "/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R/messages"),
    ("GET", "/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R/presence"),
    ("POST", "/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R/read"),
    ("POST", "/direct"),
    ("GET", "/me"),
    ("PATCH", "/me"),
    ("GET", "/users/u-2"),
    ("POST", "/uploads"),
    ("GET", "/attachments?key=x"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_route_without_token_is_401(api: str, method: str, path: str) -> None:
    response = call(method, f"{api}{path}")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_route_with_invalid_token_is_401(api: str) -> None:
    response = call("GET", f"{api}/me", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_unknown_route_is_404_not_found(alice: User, api: str) -> None:
    # PROTOCOL.md: an HTTP route that does not exist is answered by API Gateway itself: 404
    # with the body {"message": "Not Found"}, no error object.
    response = call("GET", f"{api}/no/such/route", alice)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_get_rooms_pages_rooms_in_creation_order(
    alice: User, make_user: Callable[..., User], api: str
) -> None:
    user = make_user("lister")
    names = ["Zulu", "alpha", "Mike"]
    for name in names:
        assert (
            call(
                "POST", f"{api}/rooms", user, json={"name": name, "kind": "private", "members": []}
            ).status_code
            == 201
        )
    body = call("GET", f"{api}/rooms", user).json()
    assert all({"room", "membership", "unread"} <= set(entry) for entry in body["rooms"])
    listed = [entry["room"]["name"] for entry in body["rooms"]]
    assert listed == names  # a page is in room id order (ULIDs: creation order)
    assert body["nextCursor"] is None


def test_create_room_returns_201_room(alice: User, bob: User, api: str) -> None:
    response = call(
        "POST",
        f"{api}/rooms",
        alice,
        json={"name": "Design", "kind": "private", "members": [bob.user_id]},
    )
    assert response.status_code == 201
    room = response.json()["room"]
    assert ULID.match(room["roomId"])
    assert room["name"] == "Design"
    assert room["kind"] == "private"


def test_create_room_members_are_members(alice: User, bob: User, api: str) -> None:
    room = create_room(api, alice, members=[bob])
    members = call("GET", f"{api}/rooms/{room['roomId']}/members", alice).json()["members"]
    assert {m["userId"] for m in members} == {alice.user_id, bob.user_id}


def test_room_creator_is_owner(alice: User, api: str) -> None:
    room = create_room(api, alice)
    members = call("GET", f"{api}/rooms/{room['roomId']}/members", alice).json()["members"]
    assert [m["role"] for m in members if m["userId"] == alice.user_id] == ["owner"]


@pytest.mark.parametrize("name", ["", "n" * 81, "bad\u0000name"])
def test_create_room_bad_name_is_400(alice: User, api: str, name: str) -> None:
    response = call(
        "POST", f"{api}/rooms", alice, json={"name": name, "kind": "private", "members": []}
    )
    assert_error(response, 400, "invalid_input")


def test_create_room_80_char_name_is_accepted(alice: User, api: str) -> None:
    response = call(
        "POST", f"{api}/rooms", alice, json={"name": "n" * 80, "kind": "private", "members": []}
    )
    assert response.status_code == 201


def test_create_room_unknown_field_is_400(alice: User, api: str) -> None:
    response = call(
        "POST",
        f"{api}/rooms",
        alice,
        json={"name": "x", "kind": "private", "members": [], "colour": "red"},
    )
    assert_error(response, 400, "invalid_input")


def test_create_room_malformed_json_is_400(alice: User, api: str) -> None:
    response = call(
        "POST",
        f"{api}/rooms",
        alice,
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, "invalid_input")


def test_create_room_bad_kind_is_400(alice: User, api: str) -> None:
    response = call(
        "POST", f"{api}/rooms", alice, json={"name": "x", "kind": "secret", "members": []}
    )
    assert_error(response, 400, "invalid_input")


def test_body_over_64kb_is_413(alice: User, api: str) -> None:
    response = call(
        "POST",
        f"{api}/rooms",
        alice,
        json={"name": "x", "kind": "private", "members": [], "p": "x" * 70_000},
    )
    assert_error(response, 413, "too_large")


def test_public_rooms_newest_first(alice: User, api: str) -> None:
    older = create_room(api, alice, kind="public")
    newer = create_room(api, alice, kind="public")
    rooms = call("GET", f"{api}/rooms/public?limit=100", alice).json()["rooms"]
    ids = [r["roomId"] for r in rooms]
    assert ids.index(newer["roomId"]) < ids.index(older["roomId"])


def test_public_rooms_limit(alice: User, api: str) -> None:
    create_room(api, alice, kind="public")
    create_room(api, alice, kind="public")
    rooms = call("GET", f"{api}/rooms/public?limit=1", alice).json()["rooms"]
    assert len(rooms) == 1


def test_public_rooms_exclude_private(alice: User, api: str) -> None:
    private = create_room(api, alice, kind="private")
    rooms = call("GET", f"{api}/rooms/public?limit=100", alice).json()["rooms"]
    assert private["roomId"] not in [r["roomId"] for r in rooms]


@pytest.mark.parametrize("limit", ["0", "101", "abc"])
def test_public_rooms_bad_limit_is_400(alice: User, api: str, limit: str) -> None:
    assert_error(call("GET", f"{api}/rooms/public?limit={limit}", alice), 400, "invalid_input")


def test_lobby_exists(alice: User, api: str) -> None:
    rooms = call("GET", f"{api}/rooms/public?limit=100", alice).json()["rooms"]
    assert "lobby" in [r["name"] for r in rooms]


def test_get_room(alice: User, api: str) -> None:
    room = create_room(api, alice)
    response = call("GET", f"{api}/rooms/{room['roomId']}", alice)
    assert response.status_code == 200
    assert response.json()["room"]["roomId"] == room["roomId"]


def test_get_unknown_room_is_404(alice: User, api: str) -> None:
    assert_error(call("GET", f"{api}/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R", alice), 404, "not_found")


def test_join_public_room_returns_membership(alice: User, bob: User, api: str) -> None:
    room = create_room(api, alice, kind="public")
    response = call("POST", f"{api}/rooms/{room['roomId']}/join", bob)
    assert response.status_code == 200
    membership = response.json()["membership"]
    assert membership["roomId"] == room["roomId"]
    assert membership["userId"] == bob.user_id


def test_join_private_room_is_not_found(alice: User, bob: User, api: str) -> None:
    room = create_room(api, alice, kind="private")
    assert_error(call("POST", f"{api}/rooms/{room['roomId']}/join", bob), 404, "not_found")


def test_join_unknown_room_is_404(bob: User, api: str) -> None:
    assert_error(
        call("POST", f"{api}/rooms/01JD2V5N3Q8Z8Y7X6W5V4T3S2R/join", bob), 404, "not_found"
    )


def test_leave_returns_left_true(alice: User, bob: User, api: str) -> None:
    room = create_room(api, alice, kind="public")
    call("POST", f"{api}/rooms/{room['roomId']}/join", bob)
    response = call("POST", f"{api}/rooms/{room['roomId']}/leave", bob)
    assert response.status_code == 200
    assert response.json() == {"left": True}


def test_members_of_private_room_not_found_for_non_member(alice: User, bob: User, api: str) -> None:
    room = create_room(api, alice)
    assert_error(call("GET", f"{api}/rooms/{room['roomId']}/members", bob), 404, "not_found")


def test_add_member_by_username(alice: User, carol: User, api: str) -> None:
    room = create_room(api, alice)
    response = call(
        "POST", f"{api}/rooms/{room['roomId']}/members", alice, json={"username": carol.username}
    )
    assert response.status_code == 202
    assert response.json()["pending"] is True
    assert response.json()["invite"]["userId"] == carol.user_id


def test_add_unknown_username_is_404(alice: User, api: str) -> None:
    room = create_room(api, alice)
    response = call(
        "POST",
        f"{api}/rooms/{room['roomId']}/members",
        alice,
        json={"username": "nobody-" + uuid.uuid4().hex[:6]},
    )
    assert_error(response, 404, "not_found")


def test_add_member_by_non_member_is_not_found(
    alice: User, bob: User, carol: User, api: str
) -> None:
    room = create_room(api, alice)
    response = call(
        "POST", f"{api}/rooms/{room['roomId']}/members", bob, json={"username": carol.username}
    )
    assert_error(response, 404, "not_found")


def test_remove_member_returns_removed_true(alice: User, bob: User, api: str) -> None:
    room = create_room(api, alice, members=[bob])
    response = call("DELETE", f"{api}/rooms/{room['roomId']}/members/{bob.user_id}", alice)
    assert response.status_code == 200
    assert response.json() == {"removed": True}


def test_remove_member_by_non_owner_is_forbidden(
    alice: User, bob: User, carol: User, api: str
) -> None:
    room = create_room(api, alice, members=[bob, carol])
    response = call("DELETE", f"{api}/rooms/{room['roomId']}/members/{carol.user_id}", bob)
    assert_error(response, 403, "forbidden")


def test_messages_newest_first_with_cursor(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    ids = [socket.post(room["roomId"], f"h{i}")["id"] for i in range(3)]
    first = call("GET", f"{api}/rooms/{room['roomId']}/messages?limit=2", alice).json()
    assert [m["id"] for m in first["messages"]] == [ids[2], ids[1]]
    assert first["nextCursor"]
    cursor = urllib.parse.quote(first["nextCursor"], safe="")
    second = call(
        "GET", f"{api}/rooms/{room['roomId']}/messages?limit=2&cursor={cursor}", alice
    ).json()
    assert [m["id"] for m in second["messages"]] == [ids[0]]


def test_messages_last_page_has_null_cursor(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    open_socket(alice).post(room["roomId"])
    body = call("GET", f"{api}/rooms/{room['roomId']}/messages?limit=50", alice).json()
    assert "nextCursor" in body
    assert not body["nextCursor"]


def test_cursor_from_another_room_is_invalid(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    one = create_room(api, alice)
    two = create_room(api, alice)
    socket = open_socket(alice)
    for _ in range(2):
        socket.post(one["roomId"])
    cursor = call("GET", f"{api}/rooms/{one['roomId']}/messages?limit=1", alice).json()[
        "nextCursor"
    ]
    response = call(
        "GET",
        f"{api}/rooms/{two['roomId']}/messages?limit=1&cursor={urllib.parse.quote(cursor, safe='')}",
        alice,
    )
    assert_error(response, 400, "invalid_input")


def test_garbage_cursor_is_invalid(alice: User, api: str) -> None:
    room = create_room(api, alice)
    assert_error(
        call("GET", f"{api}/rooms/{room['roomId']}/messages?cursor=garbage", alice),
        400,
        "invalid_input",
    )


@pytest.mark.parametrize("limit", ["0", "101"])
def test_messages_bad_limit_is_400(alice: User, api: str, limit: str) -> None:
    room = create_room(api, alice)
    assert_error(
        call("GET", f"{api}/rooms/{room['roomId']}/messages?limit={limit}", alice),
        400,
        "invalid_input",
    )


def test_messages_of_private_room_not_found_for_non_member(
    alice: User, bob: User, api: str
) -> None:
    room = create_room(api, alice)
    assert_error(call("GET", f"{api}/rooms/{room['roomId']}/messages", bob), 404, "not_found")


def test_presence_lists_members_online(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice, members=[bob])
    open_socket(bob).request({"action": "ping"})
    members = call("GET", f"{api}/rooms/{room['roomId']}/presence", alice).json()["members"]
    assert all({"userId", "username", "online", "lastSeen"} <= set(m) for m in members)
    by_id = {m["userId"]: m for m in members}
    assert by_id[bob.user_id]["online"] is True
    assert by_id[bob.user_id]["username"] == bob.username


def test_mark_read_over_http_and_unread_count(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice, members=[bob])
    socket = open_socket(alice)
    ids = [socket.post(room["roomId"], f"u{i}")["id"] for i in range(3)]

    def unread() -> int:
        rooms = call("GET", f"{api}/rooms", bob).json()["rooms"]
        return next(e["unread"] for e in rooms if e["room"]["roomId"] == room["roomId"])

    assert unread() == 3
    response = call("POST", f"{api}/rooms/{room['roomId']}/read", bob, json={"messageId": ids[0]})
    assert response.status_code == 200
    assert response.json() == {"read": ids[0]}
    assert unread() == 2


def test_unread_count_capped_at_100(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice, members=[bob])
    socket = open_socket(alice)
    for i in range(101):
        socket.post(room["roomId"], f"c{i}")
    rooms = call("GET", f"{api}/rooms", bob).json()["rooms"]
    assert next(e["unread"] for e in rooms if e["room"]["roomId"] == room["roomId"]) == 100


def test_mark_read_unknown_message_is_404(alice: User, api: str) -> None:
    room = create_room(api, alice)
    response = call(
        "POST",
        f"{api}/rooms/{room['roomId']}/read",
        alice,
        json={"messageId": "01JD2V7B0000000000000000BB"},
    )
    assert_error(response, 404, "not_found")


def test_mark_read_far_future_message_is_404(alice: User, api: str) -> None:
    room = create_room(api, alice)
    response = call(
        "POST",
        f"{api}/rooms/{room['roomId']}/read",
        alice,
        json={"messageId": "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"},
    )
    assert_error(response, 404, "not_found")


def test_ws_mark_read_unknown_message_is_not_found(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    reply = open_socket(alice).request(
        {"action": "markRead", "roomId": room["roomId"], "messageId": "01JD2V7B0000000000000000BB"}
    )
    assert error_code(reply) == "not_found"


def test_messages_default_page_is_50(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    socket = open_socket(alice)
    for i in range(51):
        socket.post(room["roomId"], f"p{i}")
    body = call("GET", f"{api}/rooms/{room['roomId']}/messages", alice).json()
    assert len(body["messages"]) == 50
    assert body["nextCursor"]


def test_attachment_link_not_found_for_non_member(alice: User, bob: User, api: str) -> None:
    room = create_room(api, alice)
    upload = request_upload(
        api,
        alice,
        purpose="attachment",
        roomId=room["roomId"],
        filename="cat.png",
        contentType="image/png",
        size=len(PNG),
    ).json()["upload"]
    presigned_post(upload, PNG, "image/png", "cat.png")
    response = call(
        "GET", f"{api}/attachments?key={urllib.parse.quote(upload['key'], safe='')}", bob
    )
    assert_error(response, 404, "not_found")


def test_upload_max_bytes_is_declared_size(alice: User, api: str) -> None:
    room = create_room(api, alice)
    upload = request_upload(
        api,
        alice,
        purpose="attachment",
        roomId=room["roomId"],
        filename="cat.png",
        contentType="image/png",
        size=len(PNG),
    ).json()["upload"]
    assert upload["maxBytes"] == len(PNG)
    assert upload["expiresIn"] > 0


def test_lobby_has_welcome_message(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    # LOCAL.md: "[lobby] dynamotalk: Welcome to DynamoTalk! Say hi 👋 To talk to the bot, ..."
    lobby = next(
        r
        for r in call("GET", f"{api}/rooms/public?limit=100", alice).json()["rooms"]
        if r["name"] == "lobby"
    )
    call("POST", f"{api}/rooms/{lobby['roomId']}/join", alice)
    first = open_socket(alice).request({"action": "sync", "roomId": lobby["roomId"], "limit": 1})[
        "messages"
    ][0]
    assert first["text"].startswith("Welcome to DynamoTalk! Say hi 👋 To talk to the bot")


def test_open_direct_is_stable_and_shaped(alice: User, bob: User, api: str) -> None:
    first = call("POST", f"{api}/direct", alice, json={"userId": bob.user_id})
    second = call("POST", f"{api}/direct", alice, json={"userId": bob.user_id})
    other_side = call("POST", f"{api}/direct", bob, json={"userId": alice.user_id})
    assert first.status_code == 200
    assert DM_ID.match(first.json()["room"]["roomId"])
    assert (
        first.json()["room"]["roomId"]
        == second.json()["room"]["roomId"]
        == other_side.json()["room"]["roomId"]
    )


def test_open_direct_with_unknown_user_is_404(alice: User, api: str) -> None:
    assert_error(
        call("POST", f"{api}/direct", alice, json={"userId": "no-such-user"}), 404, "not_found"
    )


def test_direct_room_carries_messages(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = call("POST", f"{api}/direct", alice, json={"userId": bob.user_id}).json()["room"]
    b = open_socket(bob)
    b.subscribe(room["roomId"])
    message = open_socket(alice).post(room["roomId"], "psst")
    assert b.event(lambda f: f.get("type") == "message.posted")["message"]["id"] == message["id"]


def test_get_me(alice: User, api: str) -> None:
    user = call("GET", f"{api}/me", alice).json()["user"]
    assert user["userId"] == alice.user_id
    assert user["username"] == alice.username


def test_patch_me_display_name(make_user: Callable[..., User], api: str) -> None:
    user = make_user("patch")
    response = call("PATCH", f"{api}/me", user, json={"displayName": "Alice Liddell"})
    assert response.status_code == 200
    assert response.json()["user"]["displayName"] == "Alice Liddell"


@pytest.mark.parametrize("name", ["", "d" * 65, "tab\tname"])
def test_patch_me_bad_display_name_is_400(alice: User, api: str, name: str) -> None:
    assert_error(
        call("PATCH", f"{api}/me", alice, json={"displayName": name}), 400, "invalid_input"
    )


def test_patch_me_64_char_display_name_is_accepted(
    make_user: Callable[..., User], api: str
) -> None:
    user = make_user("dn")
    assert call("PATCH", f"{api}/me", user, json={"displayName": "d" * 64}).status_code == 200


def test_get_user(alice: User, bob: User, api: str) -> None:
    response = call("GET", f"{api}/users/{bob.user_id}", alice)
    assert response.status_code == 200
    assert response.json()["user"]["username"] == bob.username


def test_get_unknown_user_is_404(alice: User, api: str) -> None:
    assert_error(call("GET", f"{api}/users/no-such-user", alice), 404, "not_found")


# ============================================================================================
# Uploads


def request_upload(api: str, user: User, **body: Any) -> httpx.Response:
    return call("POST", f"{api}/uploads", user, json=body)


def presigned_post(
    upload: dict[str, Any], data: bytes, content_type: str, filename: str
) -> httpx.Response:
    return httpx.post(
        upload["url"],
        data=upload["fields"],
        files={"file": (filename, data, content_type)},
        timeout=60,
    )


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def test_upload_attachment_end_to_end(
    alice: User, bob: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice, members=[bob])
    response = request_upload(
        api,
        alice,
        purpose="attachment",
        roomId=room["roomId"],
        filename="cat.png",
        contentType="image/png",
        size=len(PNG),
    )
    assert response.status_code == 201, response.text
    upload = response.json()["upload"]
    assert {"url", "fields", "key", "maxBytes", "expiresIn"} <= set(upload)
    stored = presigned_post(upload, PNG, "image/png", "cat.png")
    assert stored.status_code in (200, 201, 204), stored.text
    reply = open_socket(alice).request(
        {
            "action": "sendMessage",
            "roomId": room["roomId"],
            "text": "",
            "clientId": uuid.uuid4().hex,
            "attachments": [
                {
                    "key": upload["key"],
                    "name": "cat.png",
                    "contentType": "image/png",
                    "size": len(PNG),
                }
            ],
        }
    )
    assert reply["type"] == "ack", reply
    assert reply["message"]["attachments"][0]["key"] == upload["key"]
    link = call("GET", f"{api}/attachments?key={urllib.parse.quote(upload['key'], safe='')}", bob)
    assert link.status_code == 200, link.text
    assert httpx.get(link.json()["url"], timeout=60).content == PNG


def test_upload_larger_than_declared_is_refused_by_storage(alice: User, api: str) -> None:
    room = create_room(api, alice)
    upload = request_upload(
        api,
        alice,
        purpose="attachment",
        roomId=room["roomId"],
        filename="cat.png",
        contentType="image/png",
        size=100,
    ).json()["upload"]
    stored = presigned_post(upload, PNG * 20, "image/png", "cat.png")
    assert 400 <= stored.status_code < 500


def test_upload_other_content_type_is_refused_by_storage(alice: User, api: str) -> None:
    room = create_room(api, alice)
    upload = request_upload(
        api,
        alice,
        purpose="attachment",
        roomId=room["roomId"],
        filename="cat.png",
        contentType="image/png",
        size=len(PNG),
    ).json()["upload"]
    upload["fields"] = {**upload["fields"], "Content-Type": "application/pdf"}
    stored = presigned_post(upload, PNG, "application/pdf", "cat.png")
    assert 400 <= stored.status_code < 500


def test_upload_attachment_over_10mb_is_413(alice: User, api: str) -> None:
    room = create_room(api, alice)
    response = request_upload(
        api,
        alice,
        purpose="attachment",
        roomId=room["roomId"],
        filename="big.zip",
        contentType="application/zip",
        size=10 * 1024 * 1024 + 1,
    )
    assert_error(response, 413, "too_large")


def test_upload_unsupported_type_is_400(alice: User, api: str) -> None:
    room = create_room(api, alice)
    response = request_upload(
        api,
        alice,
        purpose="attachment",
        roomId=room["roomId"],
        filename="x.exe",
        contentType="application/x-msdownload",
        size=10,
    )
    assert_error(response, 400, "invalid_input")


@pytest.mark.parametrize(
    "content_type",
    [
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "application/zip",
        "audio/mpeg",
        "video/mp4",
    ],
)
def test_upload_documented_types_are_accepted(alice: User, api: str, content_type: str) -> None:
    room = create_room(api, alice)
    response = request_upload(
        api,
        alice,
        purpose="attachment",
        roomId=room["roomId"],
        filename="f.bin",
        contentType=content_type,
        size=10,
    )
    assert response.status_code == 201, response.text


def test_upload_attachment_not_member_is_not_found(alice: User, bob: User, api: str) -> None:
    room = create_room(api, alice)
    response = request_upload(
        api,
        bob,
        purpose="attachment",
        roomId=room["roomId"],
        filename="cat.png",
        contentType="image/png",
        size=10,
    )
    assert_error(response, 404, "not_found")


def test_avatar_upload_and_patch_me(make_user: Callable[..., User], api: str) -> None:
    user = make_user("avatar")
    response = request_upload(
        api, user, purpose="avatar", filename="me.png", contentType="image/png", size=len(PNG)
    )
    assert response.status_code == 201, response.text
    upload = response.json()["upload"]
    assert presigned_post(upload, PNG, "image/png", "me.png").status_code in (200, 201, 204)
    patched = call(
        "PATCH", f"{api}/me", user, json={"displayName": "Me", "avatarKey": upload["key"]}
    )
    assert patched.status_code == 200
    assert patched.json()["user"]["avatarKey"] == upload["key"]


def test_avatar_over_2mb_is_413(alice: User, api: str) -> None:
    response = request_upload(
        api,
        alice,
        purpose="avatar",
        filename="me.png",
        contentType="image/png",
        size=2 * 1024 * 1024 + 1,
    )
    assert_error(response, 413, "too_large")


def test_avatar_gif_is_refused(alice: User, api: str) -> None:
    response = request_upload(
        api, alice, purpose="avatar", filename="me.gif", contentType="image/gif", size=10
    )
    assert_error(response, 400, "invalid_input")


def test_eleven_attachments_are_refused(
    alice: User, api: str, open_socket: Callable[..., Socket]
) -> None:
    room = create_room(api, alice)
    attachment = {
        "key": f"rooms/{room['roomId']}/x/01JD2V6A0000000000000000AA/cat.png",
        "name": "cat.png",
        "contentType": "image/png",
        "size": 10,
    }
    reply = open_socket(alice).send_message(room["roomId"], "many", attachments=[attachment] * 11)
    assert error_code(reply) in ("invalid_input", "too_large")


# ============================================================================================
# Local-stack conveniences (LOCAL.md / PROTOCOL.md "The local stack")


def test_management_api_posts_to_connection_without_sigv4(
    alice: User, stack_url: str, open_socket: Callable[..., Socket]
) -> None:
    before = set(_connection_ids(stack_url))
    socket = open_socket(alice)
    socket.request({"action": "ping"})
    (connection_id,) = set(_connection_ids(stack_url)) - before
    payload = {"v": 1, "type": "custom.test", "hello": "world"}
    response = httpx.post(
        f"{stack_url}/@connections/{connection_id}", content=json.dumps(payload), timeout=30
    )
    assert response.status_code < 300, response.text
    assert socket.event(lambda f: f.get("type") == "custom.test") == payload


def test_management_api_answers_410_for_dropped_connection(
    alice: User, stack_url: str, open_socket: Callable[..., Socket]
) -> None:
    before = set(_connection_ids(stack_url))
    socket = open_socket(alice)
    socket.request({"action": "ping"})
    (connection_id,) = set(_connection_ids(stack_url)) - before
    httpx.post(f"{stack_url}/_local/connections/{connection_id}/drop", timeout=30)
    response = httpx.post(f"{stack_url}/@connections/{connection_id}", content=b"{}", timeout=30)
    assert response.status_code == 410
