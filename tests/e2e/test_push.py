"""Web Push end to end (issue 18) on a real `dynamotalk dev` with DynamoDB Local: users
subscribe over HTTP with keys this test makes, go offline, and a DM, a mention and a thread
reply reach the local push service encrypted; this test decrypts them with its own RFC 8291
code (tests/support/webpush_rfc8291.py) and reads the payload. Someone online, or who muted the
room, gets none; a subscription the push service calls gone (410) is deleted; an endpoint
outside the push services is refused."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dynamotalk.client import frames
from dynamotalk.local.emulators import free_port
from tests.e2e.client import Socket, User, eventually
from tests.support.dev_stack import start_dev, stop, wait_healthy
from tests.support.webpush_rfc8291 import decrypt, new_subscription, unb64url

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = start_dev(port, tmp_path_factory.mktemp("push-dev"))
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process)
    yield url
    stop(process)


def local_push(base: str) -> dict[str, Any]:
    reply = httpx.get(f"{base}/_local/push", timeout=10)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


@pytest.fixture(scope="module")
def alice(base: str) -> Iterator[tuple[User, Socket]]:
    user = User(base, "alice")
    socket = user.socket()
    yield user, socket
    socket.close()


class Device:
    """A browser's push subscription for one user: its keys stay here."""

    def __init__(self, base: str, user: User) -> None:
        self.user, self.base = user, base
        self.device_id = uuid.uuid4().hex[:10]
        origin = local_push(base)["origin"]
        self.body, self.key, self.auth = new_subscription(f"{origin}/push/{uuid.uuid4().hex}")
        reply = user.request("PUT", f"/push/subscriptions/{self.device_id}", self.body)
        assert reply.status_code == 201, reply.text

    @property
    def endpoint(self) -> str:
        return str(self.body["endpoint"])

    def pushes(self) -> list[dict[str, Any]]:
        """What the push service got for this device, decrypted."""
        found = []
        for entry in local_push(self.base)["received"]:
            if entry["endpoint"] == self.endpoint and entry["status"] == 201:
                plain = decrypt(base64.b64decode(entry["body"]), self.key, self.auth)
                found.append({**json.loads(plain), "_headers": entry["headers"]})
        return found


def job_done(base: str, message_id: str) -> bool:
    return any(json.loads(body)["messageId"] == message_id for body in local_push(base)["doneJobs"])


def post(socket: Socket, room_id: str, text: str, parent_id: str | None = None) -> dict[str, Any]:
    reply = socket.call(frames.send_message(room_id, text, parent_id=parent_id))
    assert reply["type"] == "ack", reply
    message: dict[str, Any] = reply["message"]
    return message


def direct(alice: User, other: User) -> str:
    room_id: str = alice.post("/direct", {"userId": other.id})["room"]["roomId"]
    return room_id


def test_a_dm_to_an_offline_user_arrives_encrypted_and_signed(
    base: str, alice: tuple[User, Socket]
) -> None:
    sender, socket = alice
    bob = User(base, "bob")
    device = Device(base, bob)
    room_id = direct(sender, bob)
    message = post(socket, room_id, "lunch at noon? " + "x" * 300)
    eventually(lambda: len(device.pushes()) == 1, 30, "the push")
    (payload,) = device.pushes()
    assert payload["type"] == "message"
    assert payload["reason"] == "direct"
    assert payload["roomId"] == room_id
    assert payload["messageId"] == message["id"]
    assert payload["seq"] == message["seq"]
    assert payload["author"] == sender.get("/me")["user"]["displayName"]
    assert payload["preview"].startswith("lunch at noon?")
    assert len(payload["preview"]) == 120
    headers = payload["_headers"]
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["urgency"] == "high"
    assert int(headers["ttl"]) > 0
    public_key = bob.get("/push/key")["publicKey"]
    assert headers["authorization"].endswith(f"k={public_key}")
    assert bob.get("/push/subscriptions")["subscriptions"][0]["lastSuccessAt"] is not None


def test_mentions_and_thread_replies_push_and_online_or_muted_users_get_none(
    base: str, alice: tuple[User, Socket]
) -> None:
    sender, socket = alice
    carol = User(base, "carol")
    device = Device(base, carol)
    room_id = sender.room("push-room")
    carol.post(f"/rooms/{room_id}/join")
    mention = post(socket, room_id, f"@{carol.name} can you check?")
    eventually(lambda: len(device.pushes()) == 1, 30, "the mention's push")
    carols_socket = carol.socket()
    parent = post(carols_socket, room_id, "a question for the thread")
    carols_socket.close()
    eventually(lambda: not online(carol, room_id), 30, "carol's disconnect")
    reply = post(socket, room_id, "here is the answer", parent_id=parent["id"])
    eventually(lambda: len(device.pushes()) == 2, 30, "the reply's push")
    first, second = device.pushes()
    assert (first["reason"], first["messageId"]) == ("mention", mention["id"])
    assert (second["reason"], second["messageId"]) == ("reply", reply["id"])
    assert second["parentId"] == parent["id"]
    assert second["_headers"]["urgency"] == "normal"
    # Muted: no push for the next mention, though its job ran.
    muted = carol.request("PUT", f"/rooms/{room_id}/notifications", {"muted": True})
    assert muted.status_code == 200, muted.text
    assert carol.get(f"/rooms/{room_id}/notifications")["notifications"]["muted"] is True
    quiet = post(socket, room_id, f"@{carol.name} again")
    eventually(lambda: job_done(base, quiet["id"]), 30, "the muted mention's job")
    # Online: seen live, so no push either.
    carol.request("PUT", f"/rooms/{room_id}/notifications", {"muted": False})
    live_socket = carol.socket()
    eventually(lambda: online(carol, room_id), 30, "carol's connection")
    live = post(socket, room_id, f"@{carol.name} are you there?")
    eventually(lambda: job_done(base, live["id"]), 30, "the online mention's job")
    live_socket.close()
    assert [p["messageId"] for p in device.pushes()] == [mention["id"], reply["id"]]


def online(user: User, room_id: str) -> bool:
    """Whether the user has a live connection in the registry (the room's presence)."""
    members = user.get(f"/rooms/{room_id}/presence")["members"]
    return any(m["userId"] == user.id and m["online"] for m in members)


def test_a_gone_subscription_is_removed(base: str, alice: tuple[User, Socket]) -> None:
    sender, socket = alice
    dave = User(base, "dave")
    device = Device(base, dave)
    gone = httpx.post(f"{base}/_local/push", json={"endpoint": device.endpoint, "status": 410})
    assert gone.status_code == 204
    post(socket, direct(sender, dave), "are you still there?")
    eventually(lambda: dave.get("/push/subscriptions")["subscriptions"] == [], 30, "removal")
    assert device.pushes() == []


def test_subscriptions_are_validated_listed_and_revoked(base: str) -> None:
    erin = User(base, "erin")
    good, _, _ = new_subscription("https://fcm.googleapis.com/fcm/send/abc")
    for endpoint in (
        "https://attacker.example/collect",
        "http://169.254.169.254/latest/meta-data/",
        "https://fcm.googleapis.com.attacker.example/x",
        f"http://127.0.0.1:{free_port()}/push/x",
    ):
        reply = erin.request("PUT", "/push/subscriptions/d1", {**good, "endpoint": endpoint})
        assert reply.status_code == 400, (endpoint, reply.text)
        assert reply.json()["error"]["code"] == "invalid_input"
    bad_keys = {**good, "keys": {"p256dh": "AAAA", "auth": "AAAA"}}
    assert erin.request("PUT", "/push/subscriptions/d1", bad_keys).status_code == 400
    assert erin.request("PUT", "/push/subscriptions/d1", good).status_code == 201
    assert erin.request("PUT", "/push/subscriptions/d1", good).status_code == 200
    listed = erin.get("/push/subscriptions")["subscriptions"]
    assert [(s["deviceId"], s["endpoint"]) for s in listed] == [("d1", good["endpoint"])]
    assert "keys" not in listed[0]
    assert erin.request("DELETE", "/push/subscriptions/d1").status_code == 200
    assert erin.request("DELETE", "/push/subscriptions/d1").status_code == 404
    assert erin.request("GET", "/rooms/not-a-room/notifications").status_code == 404
    assert len(unb64url(erin.get("/push/key")["publicKey"])) == 65  # a raw P-256 point
