"""Sessions outlive their tokens: attacks through the real local stack (sessions.py).

A stack of its own, because its tokens must expire within a test: the local Cognito issues
tokens valid TOKEN_LIFETIME_S (DYNAMOTALK_LOCAL_TOKEN_LIFETIME_S), and the sweeper's schedule is
set far out so each test runs it when it means to (POST /_local/schedules/session_sweeper).
Everything else is the stage as it runs: the authorizer, the gateway, DynamoDB Local, moto.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import boto3
import httpx
import pytest

from dynamotalk.settings import LOCAL_TOKEN_LIFETIME_ENV
from tests.e2e.client import PASSWORD, Socket, cognito

TOKEN_LIFETIME_S = 12


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from dynamotalk.local.emulators import free_port
    from tests.support.dev_stack import start_dev, stop, wait_healthy

    knobs = {LOCAL_TOKEN_LIFETIME_ENV: str(TOKEN_LIFETIME_S), "DYNAMOTALK_SESSION_SWEEP_S": "3600"}
    saved = {name: os.environ.get(name) for name in knobs}
    os.environ.update(knobs)
    try:
        port = free_port()
        data_dir = tmp_path_factory.mktemp("sessions")
        # In memory: DynamoDB's side of sessions is covered by tests/integration/test_sessions.py,
        # and the stack starts without Java.
        process = start_dev(port, data_dir, "--in-memory")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, process)
    log = Path(data_dir / "dev.log").read_text()
    aws = re.search(r"S3\s+(http://127\.0\.0\.1:\d+)", log)
    assert aws is not None, log
    yield {"base": base, "aws": aws.group(1)}
    stop(process)


class Person:
    """A user who signed up and in through the Cognito front door, keeping every token."""

    def __init__(self, stack: dict[str, str], prefix: str) -> None:
        self.base = stack["base"]
        self.config = httpx.get(f"{self.base}/config.json").json()
        self.name = f"{prefix}{uuid.uuid4().hex[:6]}"
        self.client = cognito(self.base)
        self.client.sign_up(
            ClientId=self.config["userPoolClientId"],
            Username=self.name,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": f"{self.name}@example.com"}],
        )
        tokens = self.sign_in("USER_PASSWORD_AUTH", {"USERNAME": self.name, "PASSWORD": PASSWORD})
        self.refresh_token: str = tokens["RefreshToken"]

    def sign_in(self, flow: str, parameters: dict[str, str]) -> dict[str, Any]:
        tokens: dict[str, Any] = self.client.initiate_auth(
            ClientId=self.config["userPoolClientId"], AuthFlow=flow, AuthParameters=parameters
        )["AuthenticationResult"]
        self.id_token: str = tokens["IdToken"]
        self.access_token: str = tokens["AccessToken"]
        return tokens

    def refresh(self) -> str:
        self.sign_in("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": self.refresh_token})
        return self.id_token

    def socket(self) -> Socket:
        return Socket(f"{self.config['wsUrl']}?token={self.id_token}")


def expiry_of(token: str) -> int:
    import jwt

    return int(jwt.decode(token, options={"verify_signature": False})["exp"])


def wait_past(epoch_s: int) -> None:
    time.sleep(max(0.0, epoch_s + 1.2 - time.time()))


def sweep(stack: dict[str, str]) -> int:
    reply = httpx.post(f"{stack['base']}/_local/schedules/session_sweeper", timeout=30)
    assert reply.status_code == 200, reply.text
    closed: int = reply.json()["closed"]
    return closed


def wait_closed(socket: Socket, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    with socket.changed:
        while not socket.closed:
            left = deadline - time.monotonic()
            assert left > 0, "the socket is still open"
            socket.changed.wait(left)


def unauthorized(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "error" and frame["error"]["code"] == "unauthorized"


@attrs.define
class Timeline:
    """One token lifetime shared by the expiry tests (each would otherwise wait its own):
    everything time-sensitive happens here, in order; the tests check what was recorded."""

    late_frame: dict[str, Any]
    """mallory's frame after her token expired."""
    mallory: Socket
    foreign_reauths: list[dict[str, Any]]
    """thief's reauth with the victim's tokens and with junk, before expiry."""
    thief_late_ping: dict[str, Any]
    thief: Socket
    first_expiry: int
    fresh_token: str
    reauth_reply: dict[str, Any]
    renewed_pings: list[dict[str, Any]]
    """alice's pings after her first token expired (before and after a sweep)."""
    alice: Socket
    idle: Socket
    fresh: Socket
    """A socket opened after the others' tokens expired."""
    swept: int


@pytest.fixture(scope="module")
def timeline(stack: dict[str, str]) -> Timeline:
    mallory, thief, victim = Person(stack, "exp"), Person(stack, "thief"), Person(stack, "victim")
    alice, idle = Person(stack, "reauth"), Person(stack, "idle")
    sockets = {
        name: person.socket()
        for name, person in (
            ("mallory", mallory),
            ("thief", thief),
            ("alice", alice),
            ("idle", idle),
        )
    }
    assert sockets["mallory"].call({"action": "ping"})["type"] == "ack"
    foreign = [
        sockets["thief"].call({"action": "reauth", "token": token})
        for token in (victim.id_token, victim.access_token, "not-a-token", thief.id_token + "x")
    ]
    first_expiry = max(expiry_of(p.id_token) for p in (mallory, thief, alice, idle))
    alice_expiry = expiry_of(alice.id_token)
    time.sleep(max(0.0, alice_expiry - 3 - time.time()))
    fresh = alice.refresh()  # about 3 s before the first token expires
    reauth = sockets["alice"].call({"action": "reauth", "token": fresh})
    wait_past(first_expiry)  # and before the fresh token's expiry

    late = sockets["mallory"].call(
        {"action": "sendMessage", "roomId": "x", "text": "hi", "clientId": "c1"}
    )
    thief_late = sockets["thief"].call({"action": "ping"})
    pings = [sockets["alice"].call({"action": "ping"})]
    fresh_socket = Person(stack, "fresh").socket()
    swept = sweep(stack)
    pings.append(sockets["alice"].call({"action": "ping"}))
    return Timeline(
        late, sockets["mallory"], foreign, thief_late, sockets["thief"], alice_expiry,
        fresh, reauth, pings, sockets["alice"], sockets["idle"], fresh_socket, swept,
    )  # fmt: skip


def test_a_frame_after_the_token_expired_is_refused_and_the_socket_closed(
    timeline: Timeline,
) -> None:
    assert unauthorized(timeline.late_frame), timeline.late_frame
    assert "sign in again" in timeline.late_frame["error"]["message"]
    wait_closed(timeline.mallory)
    assert timeline.mallory.connection.close_code == 1000


def test_an_idle_socket_is_closed_by_the_sweeper_when_its_token_expires(
    timeline: Timeline,
) -> None:
    assert timeline.swept >= 1
    wait_closed(timeline.idle)
    assert unauthorized(timeline.idle.frames[-1]), timeline.idle.frames
    assert timeline.fresh.call({"action": "ping"})["type"] == "ack"  # its session is still on


def test_reauth_with_a_fresh_token_keeps_the_socket_open(timeline: Timeline) -> None:
    assert timeline.reauth_reply["type"] == "ack", timeline.reauth_reply
    assert timeline.reauth_reply["expiresAt"] == expiry_of(timeline.fresh_token)
    assert timeline.reauth_reply["expiresAt"] > timeline.first_expiry
    assert [p["type"] for p in timeline.renewed_pings] == ["ack", "ack"], timeline.renewed_pings
    assert not timeline.alice.closed


def test_reauth_with_another_users_token_is_refused_and_changes_nothing(
    timeline: Timeline,
) -> None:
    assert all(unauthorized(reply) for reply in timeline.foreign_reauths), timeline.foreign_reauths
    assert unauthorized(timeline.thief_late_ping)  # the old expiry still held
    wait_closed(timeline.thief)


def test_global_sign_out_closes_every_socket_of_the_user(stack: dict[str, str]) -> None:
    alice, bob = Person(stack, "signout"), Person(stack, "bystander")
    sockets = [alice.socket(), alice.socket()]
    bystander = bob.socket()

    alice.client.global_sign_out(AccessToken=alice.access_token)  # unsigned, as a browser

    for socket in sockets:
        wait_closed(socket)
        assert unauthorized(socket.frames[-1]), socket.frames
    assert bystander.call({"action": "ping"})["type"] == "ack"
    with pytest.raises(Exception, match=r"NotAuthorized|revoked"):
        alice.refresh()  # and no fresh token to come back with


def test_disabling_a_user_closes_their_sockets(stack: dict[str, str]) -> None:
    mallory = Person(stack, "disabled")
    socket = mallory.socket()
    # An administrator's signed call, straight to the emulated Cognito (the front door serves
    # only the public operations, as Cognito's public endpoint does).
    admin = boto3.client("cognito-idp", endpoint_url=stack["aws"], region_name="us-east-1")

    admin.admin_disable_user(UserPoolId=mallory.config["userPoolId"], Username=mallory.name)

    wait_closed(socket)
    assert unauthorized(socket.frames[-1]), socket.frames
    with pytest.raises(Exception, match=r"NotAuthorized|disabled"):
        mallory.refresh()


def test_the_test_hook_runs_only_scheduled_functions(stack: dict[str, str]) -> None:
    reply = httpx.post(f"{stack['base']}/_local/schedules/ws_default", timeout=10)
    assert reply.status_code == 404
