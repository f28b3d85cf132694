"""Real clients for end-to-end tests: Cognito through the gateway, httpx, and WebSockets.

A thin layer over dynamotalk.client (its config check, Cognito session and token auth), with
the assertions and raw replies the tests want."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from dynamotalk.client import frames
from dynamotalk.client.api import TIMEOUT_S, TokenAuth
from dynamotalk.client.config import load_config
from dynamotalk.client.session import Session, cognito_client
from dynamotalk.local.events import REGION

PASSWORD = "e2e-password-1"


def cognito(base: str) -> Any:
    return cognito_client(f"{base}/cognito", REGION)


def auto_confirmed(email: str) -> str:
    raise AssertionError("the local stage auto-confirms sign-ups")


class User:
    """A signed-up user with an HTTP client and any number of WebSocket connections.

    Its HTTP client sends the user's token as it is: a 401 comes back to the test."""

    def __init__(self, base: str, prefix: str) -> None:
        self.name = f"{prefix}{uuid.uuid4().hex[:6]}"
        self.session = Session(load_config(base, None), self.name)
        email = f"{self.name}@example.com"
        assert self.session.sign_up(self.session.cognito(), PASSWORD, email, auto_confirmed)
        self.session.sign_in(PASSWORD, None)
        self.ws_url = self.session.config["wsUrl"]
        self.http = httpx.Client(
            base_url=self.session.config["httpUrl"],
            auth=TokenAuth(self.session, retry=False),
            timeout=TIMEOUT_S,
        )
        self.id: str = self.get("/me")["user"]["userId"]

    @property
    def token(self) -> str:
        return self.session.id_token

    def request(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return self.http.request(method, path, json=body, params=params or None)

    def get(self, path: str, **params: Any) -> Any:
        reply = self.request("GET", path, **params)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def post(self, path: str, body: Any = None) -> Any:
        reply = self.request("POST", path, body)
        assert reply.status_code in (200, 201), reply.text
        return reply.json()

    def room(self, name: str, kind: str = "public", members: list[str] | None = None) -> str:
        room_id: str = self.post("/rooms", {"name": name, "kind": kind, "members": members or []})[
            "room"
        ]["roomId"]
        return room_id

    def socket(self) -> Socket:
        return Socket(f"{self.ws_url}?token={self.token}")


class Socket:
    """A WebSocket whose frames are collected by a reader thread."""

    def __init__(self, url: str) -> None:
        self.connection: ClientConnection = connect(url, open_timeout=10).__enter__()
        self.frames: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.connection:
                with self.changed:
                    self.frames.append(json.loads(raw))
                    self.changed.notify_all()
        except Exception:
            pass
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def wait(self, match: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for frame in self.frames:
                    if match(frame):
                        return frame
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no matching frame within {timeout}s; got {self.frames[-5:]}"
                    )
                self.changed.wait(left)

    def call(self, frame: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        request_id = uuid.uuid4().hex[:12]
        self.connection.send(json.dumps({**frame, "requestId": request_id}))
        return self.wait(
            lambda f: f.get("requestId") == request_id and f["type"] in ("ack", "error"), timeout
        )

    def events(self, kind: str) -> list[dict[str, Any]]:
        with self.changed:
            return [f for f in self.frames if f.get("type") == kind]

    def post(self, room_id: str, text: str, client_id: str | None = None) -> dict[str, Any]:
        reply = self.call(frames.send_message(room_id, text, client_id))
        assert reply["type"] == "ack", reply
        message: dict[str, Any] = reply["message"]
        return message

    def close(self) -> None:
        self.connection.close()


def eventually(check: Callable[[], bool], timeout: float = 10, what: str = "condition") -> None:
    """Wait until `check()` holds: what the fan-out does happens after the sender's ack."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        time.sleep(0.05)
