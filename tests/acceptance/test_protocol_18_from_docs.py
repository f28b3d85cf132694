"""A client of issue 18's user-facing features written from docs/PROTOCOL.md alone.

It follows the doc's sections "Push notifications (Web Push, issue 18)", "Search" and
"Retention and your data (issue 18)", and docs/LOCAL.md's "Web Push" rows for the local
push-service emulator: plain JSON over real HTTP (`httpx`) and a real WebSocket
(`websockets`). A push is received by the emulator and decrypted here with this file's own
RFC 8291 (`aes128gcm`) code, written from the RFC; its VAPID header (RFC 8292) is verified
with the key `GET /push/key` hands out. Nothing here imports the server's code: one stack of
its own per module (`dynamotalk dev --in-memory`), with a stage retention of 30 days and a
short local retention "day" (docs/LOCAL.md "Retention") so expiry is observable.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from websockets.sync.client import connect

from tests.acceptance.test_protocol_17_from_docs import (
    Api,
    Frame,
    Socket,
    User,
    discover,
    same_shape,
    user_maker,
)

WAIT = 30.0  # generous: the machine is shared
DOC = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"
PUSH = "Push notifications (Web Push, issue 18)"
SEARCH = "Search"
RETENTION = "Retention and your data (issue 18)"
STAGE_RETENTION_DAYS = 30  # "when the stage keeps 30 days, `90` and `365` are refused"
DAY_S = 15  # a local retention "day" (DYNAMOTALK_LOCAL_RETENTION_DAY_S); the reads first fit


def section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def tagged(title: str, tag: str) -> Frame:
    """The ```json block after `<!-- tag -->` in a section."""
    found = re.search(rf"<!-- {tag} -->\n```json\n(.*?)\n```", section(title), flags=re.S)
    assert found, f"no {tag} example in {title!r}"
    block: Frame = json.loads(found.group(1))
    return block


def examples(title: str) -> list[Frame]:
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)\n```", section(title), re.S)]


def eventually(probe: Callable[[], Any], what: str) -> Any:
    """Poll until `probe()` is truthy (indexing and pushes are asynchronous)."""
    deadline = time.monotonic() + WAIT
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {WAIT}s: {what}"
        time.sleep(0.1)


# --------------------------------------------------------------------------------------------
# one stack for the module


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from dynamotalk.local.emulators import free_port
    from tests.support.dev_stack import start_dev, stop, wait_healthy

    port = free_port()
    process = start_dev(
        port,
        tmp_path_factory.mktemp("dev18"),
        "--in-memory",
        "--quiet",
        env={
            "DYNAMOTALK_MESSAGE_RETENTION_DAYS": str(STAGE_RETENTION_DAYS),
            "DYNAMOTALK_LOCAL_RETENTION_DAY_S": str(DAY_S),
        },
    )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, process)
    yield base
    stop(process)


@pytest.fixture(scope="module")
def config(stack: str) -> Frame:
    return discover(stack)


@pytest.fixture(scope="module")
def api(config: Frame) -> Api:
    return Api(str(config["httpUrl"]).rstrip("/"))


@pytest.fixture(scope="module")
def make_user(stack: str, config: Frame, api: Api) -> Callable[[str], User]:
    return user_maker(stack, config, api)


@pytest.fixture
def open_socket(config: Frame) -> Iterator[Callable[[User], Socket]]:
    with contextlib.ExitStack() as exits:

        def opener(user: User) -> Socket:
            url = f"{config['wsUrl']}?token={urllib.parse.quote(user.token, safe='')}"
            return Socket(exits.enter_context(connect(url, open_timeout=WAIT, close_timeout=5)))

        yield opener


@contextlib.contextmanager
def online(config: Frame, user: User) -> Iterator[Socket]:
    url = f"{config['wsUrl']}?token={urllib.parse.quote(user.token, safe='')}"
    with connect(url, open_timeout=WAIT, close_timeout=5) as connection:
        yield Socket(connection)


def post(config: Frame, author: User, room_id: str, text: str, **fields: Any) -> Frame:
    """Post as `author` on a socket that is closed again at once (so only the author is online
    for the moment of the post, and not even the author afterwards)."""
    with online(config, author) as socket:
        return socket.post(room_id, text, **fields)


def new_room(api: Api, owner: User, kind: str, *members: User) -> str:
    body = {"name": f"i18 {uuid.uuid4().hex[:8]}", "kind": kind, "members": []}
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


# --------------------------------------------------------------------------------------------
# RFC 8291 from the RFC: a user agent's keys and the decryption of one aes128gcm record


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """RFC 5869 s2.2."""
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 s2.3, one block (every length here is at most 32)."""
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:length]


def rfc8291_decrypt(ua_key: ec.EllipticCurvePrivateKey, auth: bytes, body: bytes) -> bytes:
    """The plaintext of one `aes128gcm` push message body (RFC 8291 s3.3-3.4, s4; RFC 8188)."""
    ua_public = ua_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    # RFC 8188 s2.1: salt(16) | rs(4) | idlen(1) | keyid(idlen) | records
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    as_public = body[21 : 21 + idlen]
    ciphertext = body[21 + idlen :]
    assert idlen == 65, "RFC 8291 s4: keyid is the sender's public key"
    assert as_public[0] == 4, "an uncompressed P-256 point"
    assert len(ciphertext) <= rs, "RFC 8291 s4: a push message is one record"
    sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    ecdh_secret = ua_key.exchange(ec.ECDH(), sender)
    prk_key = hkdf_extract(auth, ecdh_secret)
    ikm = hkdf_expand(prk_key, b"WebPush: info\x00" + ua_public + as_public, 32)
    prk = hkdf_extract(salt, ikm)
    cek = hkdf_expand(prk, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = hkdf_expand(prk, b"Content-Encoding: nonce\x00", 12)
    plain = AESGCM(cek).decrypt(nonce, ciphertext, None)
    # RFC 8188 s2: the last record's content ends with the delimiter 0x02, then zero padding
    unpadded = plain.rstrip(b"\x00")
    assert unpadded.endswith(b"\x02"), "the one record is the last (delimiter 2)"
    return unpadded[:-1]


class Browser:
    """What `pushManager.subscribe` makes: a P-256 key pair and a 16-byte auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint

    @property
    def public(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def subscription(self) -> Frame:
        keys = {"p256dh": b64url(self.public), "auth": b64url(self.auth)}
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": keys}

    def decrypt(self, body: bytes) -> Frame:
        payload: Frame = json.loads(rfc8291_decrypt(self.key, self.auth, body).decode())
        return payload


class PushService:
    """The local stack's push-service emulator (docs/LOCAL.md "Web Push")."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self.origin = str(self.state()["origin"])

    def state(self) -> Frame:
        response = httpx.get(f"{self.stack}/_local/push", timeout=30)
        assert response.status_code == 200, response.text
        state: Frame = response.json()
        return state

    def browser(self) -> Browser:
        return Browser(f"{self.origin}/push/{uuid.uuid4().hex}")

    def received(self, browser: Browser, message_id: str) -> Frame:
        def find() -> Frame | None:
            for request in self.state()["received"]:
                if request["endpoint"] == browser.endpoint and (
                    request["headers"].get("topic") == message_id
                ):
                    found: Frame = request
                    return found
            return None

        request: Frame = eventually(find, f"a push of {message_id} to {browser.endpoint}")
        return request

    def handled(self, message_id: str) -> None:
        """Wait until the push queue's job of `message_id` is done (GET /_local/push
        `doneJobs`)."""
        eventually(
            lambda: any(message_id in job for job in self.state()["doneJobs"]),
            f"the push job of {message_id}",
        )

    def pushes_to(self, browser: Browser) -> list[Frame]:
        return [r for r in self.state()["received"] if r["endpoint"] == browser.endpoint]


@pytest.fixture(scope="module")
def push_service(stack: str) -> PushService:
    return PushService(stack)


def subscribe_browser(api: Api, push: PushService, user: User) -> Browser:
    browser = push.browser()
    device = uuid.uuid4().hex[:12]
    body = api.ok("PUT", f"/push/subscriptions/{device}", user, 201, json=browser.subscription())
    assert body == {"deviceId": device, "subscribed": True}
    return browser


def check_push_request(request: Frame, public_key: str, origin: str, urgency: str) -> None:
    """The headers the doc promises ("Each push request carries `TTL: 86400`, `Urgency: high`
    (a DM or a mention) or `normal` (a thread reply), and `Topic: <message id>`") and a VAPID
    `Authorization` (RFC 8292) by the stage's key."""
    headers = request["headers"]
    assert headers["ttl"] == "86400"
    assert headers["urgency"] == urgency
    assert headers["content-encoding"] == "aes128gcm"
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.split("=", 1) for part in params.split(","))
    assert fields["k"] == public_key
    point = unb64url(fields["k"])
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    claims = jwt.decode(fields["t"], key=key, algorithms=["ES256"], audience=origin)
    assert claims["exp"] <= time.time() + 24 * 3600 + 60
    assert str(claims["sub"]).startswith(("mailto:", "https:"))


def payload_of(browser: Browser, request: Frame) -> Frame:
    body = base64.b64decode(request["body"])
    return browser.decrypt(body)


# --------------------------------------------------------------------------------------------
# Push notifications


def test_rfc8291_decryption_here_matches_the_rfcs_own_example() -> None:
    """This file's decryption, checked against RFC 8291 Appendix A (whose user agent keys the
    doc's subscription example shows), so the push tests below rest on a known-good decoder."""
    private = unb64url("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")
    browser = Browser("https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV")
    browser.key = ec.derive_private_key(int.from_bytes(private, "big"), ec.SECP256R1())
    browser.auth = unb64url("BTBZMqHH6r4Tts7J_aSIgg")
    example = tagged(PUSH, "push: subscription")["keys"]
    assert example == {"p256dh": b64url(browser.public), "auth": b64url(browser.auth)}
    body = unb64url(
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml"
        "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT"
        "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
    )
    plain = rfc8291_decrypt(browser.key, browser.auth, body)
    assert plain == b"When I grow up, I want to be a watermelon"


def test_the_vapid_key_and_a_devices_subscription_lifecycle(
    api: Api, make_user: Callable[[str], User], push_service: PushService
) -> None:
    user = make_user("sub")
    # "`{"publicKey"}` the stage's VAPID public key, base64url (65-byte P-256 point)"
    key = api.ok("GET", "/push/key", user)
    assert set(key) == {"publicKey"}
    point = unb64url(key["publicKey"])
    assert len(point) == 65
    assert point[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)  # on the curve
    assert "=" not in key["publicKey"]
    assert "+" not in key["publicKey"]

    # "Every route but `GET /health` needs `Authorization`": 401 {"message": "Unauthorized"}
    for method, path in (("GET", "/push/key"), ("GET", "/push/subscriptions")):
        response = httpx.request(method, f"{api.base}{path}", timeout=30)
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized"}

    browser = push_service.browser()
    # "`201 {"deviceId", "subscribed": true}` a new device; `200` the same device re-subscribed"
    first = api.ok("PUT", "/push/subscriptions/laptop-1", user, 201, json=browser.subscription())
    assert first == {"deviceId": "laptop-1", "subscribed": True}
    again = api.ok("PUT", "/push/subscriptions/laptop-1", user, 200, json=browser.subscription())
    assert again == {"deviceId": "laptop-1", "subscribed": True}
    # the doc's own example (FCM, RFC 8291's keys) is a valid subscription
    example = tagged(PUSH, "push: subscription")
    api.ok("PUT", "/push/subscriptions/phone_2", user, 201, json=example)

    # "`{"subscriptions": [{"deviceId", "endpoint", "createdAt", "lastSuccessAt"}]}` yours
    # (never the keys)"
    listed = api.ok("GET", "/push/subscriptions", user)
    assert set(listed) == {"subscriptions"}
    by_device = {s["deviceId"]: s for s in listed["subscriptions"]}
    assert set(by_device) == {"laptop-1", "phone_2"}
    for item in by_device.values():
        assert set(item) == {"deviceId", "endpoint", "createdAt", "lastSuccessAt"}
        assert isinstance(item["createdAt"], int)
        assert item["lastSuccessAt"] is None  # nothing pushed yet
    assert by_device["laptop-1"]["endpoint"] == browser.endpoint
    assert by_device["phone_2"]["endpoint"] == example["endpoint"]
    assert "keys" not in json.dumps(listed)
    assert b64url(browser.auth) not in json.dumps(listed)
    # another user sees none of them, and cannot delete them
    other = make_user("oth")
    assert api.ok("GET", "/push/subscriptions", other) == {"subscriptions": []}
    api.fails("DELETE", "/push/subscriptions/laptop-1", other, 404, "not_found")

    # "`{"deviceId", "subscribed": false}`; `404` none for that device"
    gone = api.ok("DELETE", "/push/subscriptions/laptop-1", user)
    assert gone == {"deviceId": "laptop-1", "subscribed": False}
    api.fails("DELETE", "/push/subscriptions/laptop-1", user, 404, "not_found")
    left = api.ok("GET", "/push/subscriptions", user)["subscriptions"]
    assert [s["deviceId"] for s in left] == ["phone_2"]


def test_subscriptions_are_refused_as_the_error_table_says(
    api: Api, make_user: Callable[[str], User], push_service: PushService
) -> None:
    user = make_user("bad")
    good = push_service.browser().subscription()

    def refused(device: str, body: Any, status: int = 400, code: str = "invalid_input") -> None:
        api.fails("PUT", f"/push/subscriptions/{device}", user, status, code, json=body)

    def with_endpoint(endpoint: str) -> Frame:
        return {**good, "endpoint": endpoint}

    # "the endpoint is not `https://` on a known push service's host ... default port, no
    # credentials, at most 2,048 characters"
    for endpoint in (
        "http://fcm.googleapis.com/fcm/send/abc",
        "https://push.evil.example/fcm/send/abc",
        "https://fcm.googleapis.com.evil.example/x",
        "https://fcm.googleapis.com:8443/fcm/send/abc",
        "https://user:pw@fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com/" + "a" * 2048,
        "not a url",
    ):
        refused("dev", with_endpoint(endpoint))
    # each named service is accepted
    for n, endpoint in enumerate(
        (
            "https://fcm.googleapis.com/fcm/send/abc",
            "https://updates.push.services.mozilla.com/wpush/v2/abc",
            "https://db5p.notify.windows.com/w/?token=abc",
            "https://web.push.apple.com/QGm4",
            "https://api.push.apple.com/3/device/abc",
        )
    ):
        api.ok("PUT", f"/push/subscriptions/ok{n}", user, 201, json=with_endpoint(endpoint))
    # "`keys.p256dh` is not a 65-byte uncompressed P-256 point or `keys.auth` not 16 bytes"
    point = unb64url(good["keys"]["p256dh"])
    compressed = bytes([2 + point[-1] % 2]) + point[1:33]
    off_curve = point[:-1] + bytes([point[-1] ^ 1])  # 65 bytes, 0x04, but not a P-256 point
    for p256dh in (
        b64url(compressed),
        b64url(point[:64]),
        b64url(b"\x05" + point[1:]),
        b64url(off_curve),
        "!!!",
    ):
        refused("dev", {**good, "keys": {**good["keys"], "p256dh": p256dh}})
    for auth in (b64url(os.urandom(15)), b64url(os.urandom(17))):
        refused("dev", {**good, "keys": {**good["keys"], "auth": auth}})
    refused("dev", {"endpoint": good["endpoint"]})
    # "a bad `deviceId`" (1..64 of `A-Z a-z 0-9 - _`)
    for device in ("x" * 65, "dev.1", "d%C3%A9v"):
        refused(device, good)
    api.ok("PUT", f"/push/subscriptions/{'x' * 64}", user, 201, json=good)
    # "`too_large` | a body over 4 KB"
    big = {**good, "padding": "p" * 4200}
    refused("dev", big, 413, "too_large")
    # "an 11th device (at most 10: remove one first)": six so far, four more fit
    for n in range(4):
        api.ok("PUT", f"/push/subscriptions/more{n}", user, 201, json=good)
    assert len(api.ok("GET", "/push/subscriptions", user)["subscriptions"]) == 10
    refused("eleventh", good)
    api.ok("PUT", "/push/subscriptions/more0", user, 200, json=good)  # a re-subscribe still is
    api.ok("DELETE", "/push/subscriptions/more0", user)
    api.ok("PUT", "/push/subscriptions/eleventh", user, 201, json=good)


def test_an_offline_user_gets_an_encrypted_push_of_a_direct_message(
    api: Api, make_user: Callable[[str], User], push_service: PushService, config: Frame
) -> None:
    ann, bob = make_user("ann"), make_user("bob")
    browser = subscribe_browser(api, push_service, bob)
    room = api.ok("POST", "/direct", ann, json={"userId": bob.user_id})["room"]
    text = "hello bob, " + "long words " * 30
    message = post(config, ann, room["roomId"], text)
    request = push_service.received(browser, message["id"])
    assert request["status"] == 201
    public_key = api.ok("GET", "/push/key", bob)["publicKey"]
    check_push_request(request, public_key, push_service.origin, "high")

    payload = payload_of(browser, request)
    same_shape(tagged(PUSH, "push: payload"), payload)
    assert payload["type"] == "message"
    assert payload["reason"] == "direct"
    assert payload["roomId"] == room["roomId"]
    assert payload["messageId"] == message["id"]
    assert payload["seq"] == message["seq"]
    assert payload["parentId"] is None
    # "a preview of at most 120 characters (`…` when cut)"
    assert len(payload["preview"]) <= 120
    assert payload["preview"].endswith("…")
    assert text.startswith(payload["preview"][:-1].rstrip())
    assert payload["author"]
    assert len(payload["author"]) <= 64
    assert len(payload["roomName"]) <= 64
    # the subscription's `lastSuccessAt` is set once a push went through
    listed = api.ok("GET", "/push/subscriptions", bob)["subscriptions"]
    assert isinstance(listed[0]["lastSuccessAt"], int)


def test_mentions_and_replies_to_your_thread_are_pushed(
    api: Api, make_user: Callable[[str], User], push_service: PushService, config: Frame
) -> None:
    ann, bob = make_user("ann"), make_user("bob")
    room = new_room(api, ann, "private", bob)
    long_name = "R" * 80  # "names cut to 64"
    api.ok("PATCH", f"/rooms/{room}", ann, json={"name": long_name})
    browser = subscribe_browser(api, push_service, bob)
    public_key = api.ok("GET", "/push/key", bob)["publicKey"]

    mention = post(config, ann, room, f"@{bob.username} can you check?")
    assert mention["mentions"] == [bob.user_id]
    request = push_service.received(browser, mention["id"])
    check_push_request(request, public_key, push_service.origin, "high")
    payload = payload_of(browser, request)
    assert payload["reason"] == "mention"
    assert payload["roomId"] == room
    assert payload["preview"] == f"@{bob.username} can you check?"
    assert long_name.startswith(payload["roomName"].rstrip("…"))
    assert len(payload["roomName"]) <= 64

    started = post(config, bob, room, "a thread of mine")
    reply = post(config, ann, room, "an answer", parentId=started["id"])
    request = push_service.received(browser, reply["id"])
    check_push_request(request, public_key, push_service.origin, "normal")
    payload = payload_of(browser, request)
    assert payload["reason"] == "reply"
    assert payload["parentId"] == started["id"]
    assert payload["messageId"] == reply["id"]


def test_no_push_while_online_for_your_own_a_muted_room_or_a_blocked_author(
    api: Api, make_user: Callable[[str], User], push_service: PushService, config: Frame
) -> None:
    ann, bob = make_user("ann"), make_user("bob")
    dm = api.ok("POST", "/direct", ann, json={"userId": bob.user_id})["room"]["roomId"]
    browser = subscribe_browser(api, push_service, bob)
    ann_browser = subscribe_browser(api, push_service, ann)

    def not_pushed(message_id: str) -> None:
        push_service.handled(message_id)
        topics = [r["headers"].get("topic") for r in push_service.pushes_to(browser)]
        assert message_id not in topics
        own = [r["headers"].get("topic") for r in push_service.pushes_to(ann_browser)]
        assert message_id not in own  # "Nobody is pushed their own message"

    # "or anything while they have a live connection": checked when the push would be sent,
    # so the socket stays open until the job is done; a connection without `subscribe` counts
    with online(config, bob) as socket:
        live = post(config, ann, dm, "you are here")
        not_pushed(live["id"])
        socket.subscribe(dm)
        subscribed = post(config, ann, dm, "you are here and subscribed")
        not_pushed(subscribed["id"])

    # per-room mute: "`{"muted": true, "untilMs"?}` or `{"muted": false}`"
    path = f"/rooms/{dm}/notifications"
    assert api.ok("GET", path, bob) == {
        "notifications": {"roomId": dm, "muted": False, "untilMs": None}
    }
    muted = api.ok("PUT", path, bob, json={"muted": True})
    assert muted == {"notifications": {"roomId": dm, "muted": True, "untilMs": None}}
    assert api.ok("GET", path, bob) == muted
    quiet = post(config, ann, dm, "while muted")
    not_pushed(quiet["id"])
    unmuted = api.ok("PUT", path, bob, json={"muted": False})
    assert unmuted["notifications"]["muted"] is False
    heard = post(config, ann, dm, "after unmute")
    push_service.received(browser, heard["id"])

    # a timed mute ends: "`muted: false` once a timed mute has ended"
    until = int(time.time() * 1000) + 5000  # room for a slow PUT on a loaded machine
    timed = api.ok("PUT", path, bob, json={"muted": True, "untilMs": until})
    assert timed["notifications"] == {"roomId": dm, "muted": True, "untilMs": until}
    eventually(
        lambda: api.ok("GET", path, bob)["notifications"]["muted"] is False, "the mute to end"
    )

    # a blocked author: bob blocks carol, who mentions him in a room they share
    carol = make_user("car")
    room = new_room(api, carol, "public", bob)
    api.ok("POST", f"/blocks/{carol.user_id}", bob)
    blocked = post(config, carol, room, f"@{bob.username} hi")
    not_pushed(blocked["id"])


def test_notification_settings_are_validated_and_for_members_only(
    api: Api, make_user: Callable[[str], User]
) -> None:
    owner, stranger = make_user("own"), make_user("str")
    private = new_room(api, owner, "private")
    public = new_room(api, owner, "public")
    path = f"/rooms/{private}/notifications"
    now = int(time.time() * 1000)
    # `muted` not a boolean; `untilMs` not a future epoch-ms at most ten years ahead
    for body in (
        {"muted": "yes"},
        {"muted": 1},
        {},
        {"muted": True, "untilMs": now - 1000},
        {"muted": True, "untilMs": now + 11 * 366 * 86_400_000},
        {"muted": True, "untilMs": "soon"},
    ):
        api.fails("PUT", path, owner, 400, "invalid_input", json=body)
    api.ok("PUT", path, owner, json={"muted": True, "untilMs": now + 9 * 365 * 86_400_000})
    # "members only (`404` otherwise)": a private room and a public room not joined
    for room in (private, public, "01JD2V5N3Q8Z8Y7X6W5V4T3S2R"):
        api.fails("GET", f"/rooms/{room}/notifications", stranger, 404, "not_found")
        api.fails(
            "PUT", f"/rooms/{room}/notifications", stranger, 404, "not_found", json={"muted": True}
        )


def test_a_subscription_the_push_service_calls_gone_is_deleted(
    api: Api, make_user: Callable[[str], User], push_service: PushService, config: Frame
) -> None:
    ann, bob = make_user("ann"), make_user("bob")
    browser = subscribe_browser(api, push_service, bob)
    # docs/LOCAL.md: "404/410 for an endpoint marked gone with `POST /_local/push
    # {"endpoint", "status"}`"
    marked = httpx.post(
        f"{push_service.stack}/_local/push",
        json={"endpoint": browser.endpoint, "status": 410},
        timeout=30,
    )
    assert marked.status_code in (200, 201, 204), marked.text
    dm = api.ok("POST", "/direct", ann, json={"userId": bob.user_id})["room"]["roomId"]
    message = post(config, ann, dm, "are you there?")
    request = push_service.received(browser, message["id"])
    assert request["status"] == 410
    eventually(
        lambda: api.ok("GET", "/push/subscriptions", bob)["subscriptions"] == [],
        "the gone subscription to be deleted",
    )


# --------------------------------------------------------------------------------------------
# Search


def search(api: Api, user: User, **params: Any) -> Frame:
    return api.ok("GET", "/search", user, params=params)


def found_ids(api: Api, user: User, **params: Any) -> list[str]:
    return [r["messageId"] for r in search(api, user, **params)["results"]]


def searchable(api: Api, user: User, message_id: str, **params: Any) -> None:
    """ "Indexing follows each post ... usually within a second; a message is not searchable
    before that.\""""
    eventually(lambda: message_id in found_ids(api, user, **params), f"{message_id} found")


def test_search_matches_every_word_whole_normalised_and_answers_as_documented(
    api: Api, make_user: Callable[[str], User], config: Frame
) -> None:
    ann = make_user("ann")
    room = new_room(api, ann, "private")
    word = f"zq{uuid.uuid4().hex[:8]}"  # a word nobody else's message has
    older = post(config, ann, room, f"Friday DEPLOY {word} worked")
    newer = post(
        config, ann, room, f"\uff24\uff45\uff50\uff4c\uff4f\uff59 on friday, {word}!"
    )  # full-width
    only_one = post(config, ann, room, f"deploy {word} monday")
    street = post(config, ann, room, f"Straße {word}_x {word}")
    searchable(api, ann, street["id"], q=word)

    reply = search(api, ann, q=f"deploy FRIDAY {word}", limit=2)
    # the doc's example answer, field by field
    doc = next(e for e in examples(SEARCH) if "results" in e)
    same_shape(doc, reply, optional=frozenset({"parentId"}))
    assert reply["terms"] == ["deploy", "friday", word]
    # "newest first within a room"; every word must match
    assert [r["messageId"] for r in reply["results"]] == [newer["id"], older["id"]]
    for result in reply["results"]:
        assert result["roomId"] == room
        assert result["message"]["id"] == result["messageId"]
        assert result["message"]["roomId"] == room
    assert only_one["id"] not in [r["messageId"] for r in reply["results"]]
    # "`Straße` matches `strasse`"; "`_` and punctuation split words"
    assert found_ids(api, ann, q=f"strasse {word}") == [street["id"]]
    assert street["id"] in found_ids(api, ann, q=f"{word} x")
    # "There is no prefix, phrase or fuzzy matching"
    assert found_ids(api, ann, q=word[:-1]) == []
    assert found_ids(api, ann, q=f"deplo {word}") == []
    # words "shorter than 2 characters" and stop words are dropped, not required
    assert only_one["id"] in found_ids(api, ann, q=f"the {word} a deploy")
    # "words longer than 32 characters match by their first 32"
    long_word = "l" + uuid.uuid4().hex + "tail"
    long_post = post(config, ann, room, f"{long_word[:32]}different")
    searchable(api, ann, long_post["id"], q=long_word)


def test_search_pages_until_the_cursor_is_null_and_cursors_are_bound(
    api: Api, make_user: Callable[[str], User], config: Frame
) -> None:
    ann, bob = make_user("ann"), make_user("bob")
    word = f"pg{uuid.uuid4().hex[:8]}"
    rooms = sorted(new_room(api, ann, "private", bob) for _ in range(2))
    posted: dict[str, list[str]] = {room: [] for room in rooms}
    for room in rooms:
        for n in range(3):
            posted[room].append(post(config, ann, room, f"{word} number {n}")["id"])
    searchable(api, ann, posted[rooms[1]][-1], q=word, roomId=rooms[1])
    searchable(api, ann, posted[rooms[0]][-1], q=word, roomId=rooms[0])

    seen: list[tuple[str, str]] = []
    cursor = None
    pages = 0
    while True:
        params: Frame = {"q": word, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = search(api, ann, **params)
        assert len(page["results"]) <= 2
        seen.extend((r["roomId"], r["messageId"]) for r in page["results"])
        cursor = page["nextCursor"]
        pages += 1
        if cursor is None:
            break
        assert isinstance(cursor, str)
        assert pages < 20
    # "newest first within a room; rooms in room id order"
    expected = [(room, m) for room in rooms for m in reversed(posted[room])]
    assert seen == expected

    first = search(api, ann, q=word, limit=1)
    cursor = first["nextCursor"]
    assert cursor
    # "(it is bound to you, the room filter and the query's words)"
    api.fails("GET", "/search", bob, 400, "invalid_input", params={"q": word, "cursor": cursor})
    api.fails(
        "GET",
        "/search",
        ann,
        400,
        "invalid_input",
        params={"q": f"{word} number", "cursor": cursor},
    )
    api.fails(
        "GET",
        "/search",
        ann,
        400,
        "invalid_input",
        params={"q": word, "roomId": rooms[0], "cursor": cursor},
    )
    api.fails("GET", "/search", ann, 400, "invalid_input", params={"q": word, "cursor": "x!y"})
    # the same query, same user: the cursor goes on
    assert search(api, ann, q=word, limit=1, cursor=cursor)["results"]


def test_search_refuses_bad_parameters_as_the_error_table_says(
    api: Api, make_user: Callable[[str], User]
) -> None:
    ann, other = make_user("ann"), make_user("oth")
    for params in (
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 201},
        {"q": "alpha bravo charlie delta echo foxtrot"},
        {"q": "the and for"},
        {"q": "a b c"},
        {"q": "deploy", "limit": 0},
        {"q": "deploy", "limit": 51},
        {"q": "deploy", "limit": "ten"},
    ):
        body = api.fails("GET", "/search", ann, 400, "invalid_input", params=params)
        assert body["error"]["message"]
    six = api.fails("GET", "/search", ann, 400, "invalid_input", params={"q": "a1 b2 c3 d4 e5 f6"})
    # the doc's example error message for more than 5 words
    doc = next(e for e in examples(SEARCH) if "error" in e)
    assert six == doc
    # 1..200 characters and 5 words are fine; limit 1 and 50 are fine
    assert search(api, ann, q="w" * 200)["results"] == []
    assert search(api, ann, q="one two three four five", limit=50)["results"] == []
    assert search(api, ann, q="alpha", limit=1)["nextCursor"] is None
    # "`roomId` names a room that does not exist or that you may not read"
    private = new_room(api, other, "private")
    for room in (private, "01JD2V5N3Q8Z8Y7X6W5V4T3S2R"):
        api.fails("GET", "/search", ann, 404, "not_found", params={"q": "deploy", "roomId": room})
    response = httpx.get(f"{api.base}/search", params={"q": "deploy"}, timeout=30)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_search_sees_only_readable_rooms_and_live_messages(
    api: Api, make_user: Callable[[str], User], config: Frame
) -> None:
    ann, bob, eve = make_user("ann"), make_user("bob"), make_user("eve")
    word = f"au{uuid.uuid4().hex[:8]}"
    private = new_room(api, ann, "private", bob)
    public = new_room(api, ann, "public", eve)
    secret = post(config, ann, private, f"{word} secret")
    open_post = post(config, ann, public, f"{word} open")
    by_eve = post(config, eve, public, f"{word} from eve")
    searchable(api, ann, secret["id"], q=word)
    searchable(api, ann, by_eve["id"], q=word)

    # a non-member: nothing of the private room, and public rooms not joined are not searched
    # without `roomId`, but are with it ("anyone for a public room: as history")
    assert found_ids(api, eve, q=word, roomId=public) == [by_eve["id"], open_post["id"]]
    assert secret["id"] not in found_ids(api, eve, q=word)
    outsider = make_user("out")
    assert found_ids(api, outsider, q=word) == []
    assert set(found_ids(api, outsider, q=word, roomId=public)) == {open_post["id"], by_eve["id"]}
    api.fails("GET", "/search", outsider, 404, "not_found", params={"q": word, "roomId": private})

    # "the messages of authors you blocked are not results (not even as stubs)"
    api.ok("POST", f"/blocks/{eve.user_id}", ann)
    assert by_eve["id"] not in found_ids(api, ann, q=word)
    assert by_eve["id"] not in found_ids(api, ann, q=word, roomId=public)

    # a deleted message is not found; "an edited message is found by its new words only"
    edit_word = f"ed{uuid.uuid4().hex[:8]}"
    with online(config, ann) as socket:
        socket.ack({"action": "deleteMessage", "roomId": private, "messageId": secret["id"]})
        socket.ack(
            {
                "action": "editMessage",
                "roomId": public,
                "messageId": open_post["id"],
                "text": f"{edit_word} changed",
            }
        )
    searchable(api, ann, open_post["id"], q=edit_word)
    eventually(lambda: secret["id"] not in found_ids(api, bob, q=word), "the delete to show")
    assert open_post["id"] not in found_ids(api, ann, q=word)
    assert found_ids(api, bob, q=word, roomId=private) == []

    # "A room you left ... is skipped": bob leaves, and finds nothing of it any more
    bob_post = post(config, bob, private, f"{word} bob was here")
    searchable(api, bob, bob_post["id"], q=word)
    api.ok("POST", f"/rooms/{private}/leave", bob)
    assert found_ids(api, bob, q=word) == []
    api.fails("GET", "/search", bob, 404, "not_found", params={"q": word, "roomId": private})


def test_a_search_page_may_be_empty_and_still_go_on(
    api: Api, make_user: Callable[[str], User], config: Frame
) -> None:
    """ "One request looks in at most 20 of your rooms ... So a page may hold fewer than
    `limit` results, even none, and still have a `nextCursor`: keep paging until it is
    `null`" (docs/PROTOCOL.md, "Search")."""
    ann = make_user("ann")
    word = f"bd{uuid.uuid4().hex[:8]}"
    rooms = sorted(new_room(api, ann, "private") for _ in range(21))
    last = post(config, ann, rooms[-1], f"{word} only in the last room")
    searchable(api, ann, last["id"], q=word, roomId=rooms[-1])
    first = search(api, ann, q=word)
    assert first["results"] == []
    assert isinstance(first["nextCursor"], str)
    second = search(api, ann, q=word, cursor=first["nextCursor"])
    assert [r["messageId"] for r in second["results"]] == [last["id"]]
    assert second["nextCursor"] is None


# --------------------------------------------------------------------------------------------
# Retention


def test_room_retention_is_set_by_admins_within_the_servers_and_shown(
    api: Api, make_user: Callable[[str], User], config: Frame
) -> None:
    owner, admin, member, stranger = (make_user(p) for p in ("own", "adm", "mem", "str"))
    room = new_room(api, owner, "private", admin, member)
    api.ok("PUT", f"/rooms/{room}/members/{admin.user_id}/role", owner, json={"role": "admin"})
    path = f"/rooms/{room}"
    # "`room.retentionDays` shows the room's own choice (absent when it follows the server's
    # default), on `GET /rooms/{roomId}` too"
    assert "retentionDays" not in api.ok("GET", path, owner)["room"]
    set_to = api.ok("PATCH", path, owner, json={"retentionDays": 7})
    assert set(set_to) == {"room"}
    assert set_to["room"]["retentionDays"] == 7
    assert api.ok("GET", path, member)["room"]["retentionDays"] == 7
    assert api.ok("PATCH", path, admin, json={"retentionDays": 30})["room"]["retentionDays"] == 30
    assert api.ok("PATCH", path, owner, json={"retentionDays": 1})["room"]["retentionDays"] == 1
    # "`0` means "the server's default"": the field is absent again
    assert "retentionDays" not in api.ok("PATCH", path, owner, json={"retentionDays": 0})["room"]
    assert "retentionDays" not in api.ok("GET", path, owner)["room"]
    # "not one of the choices, or longer than the server's" (the stage keeps 30 days)
    for days in (90, 365, 2, -1, 31, "7", 7.5, None, True):
        api.fails("PATCH", path, owner, 400, "invalid_input", json={"retentionDays": days})
    assert "retentionDays" not in api.ok("GET", path, owner)["room"]
    # "not an admin or owner of the room": 403 for a member, 404 for a non-member
    api.fails("PATCH", path, member, 403, "forbidden", json={"retentionDays": 7})
    api.fails("PATCH", path, stranger, 404, "not_found", json={"retentionDays": 7})
    # a direct room has no retention of its own (`retention` is `null` for `direct` in the
    # permission table): 403 for either member
    dm = api.ok("POST", "/direct", owner, json={"userId": member.user_id})["room"]["roomId"]
    assert config["permissions"]["lowestRole"]["retention"]["direct"] is None
    api.fails("PATCH", f"/rooms/{dm}", owner, 403, "forbidden", json={"retentionDays": 7})
    assert "retentionDays" not in api.ok("GET", path, owner)["room"]


def test_the_doc_and_config_agree_on_the_retention_choices(config: Frame) -> None:
    text = section(RETENTION)
    listed = re.search(r"`retentionDays` is one of `([0-9, ]+)`", text)
    assert listed
    choices = [int(x) for x in listed.group(1).split(",")]
    assert choices == [0, 1, 7, 30, 90, 365]
    assert config["limits"]["retentionChoices"] == choices


def test_an_expired_message_is_gone_from_reads_and_a_stub_in_sync_v2(
    api: Api, make_user: Callable[[str], User], config: Frame
) -> None:
    owner, reader = make_user("own"), make_user("rdr")
    room = new_room(api, owner, "private", reader)
    word = f"rt{uuid.uuid4().hex[:8]}"
    before = post(config, owner, room, f"{word} posted before the change")
    api.ok("PATCH", f"/rooms/{room}", owner, json={"retentionDays": 1})
    doomed = post(config, owner, room, f"{word} kept one day, @{reader.username}")
    reply = post(config, owner, room, "a reply to it", parentId=doomed["id"])
    # "A message quoting another expires no later than the quoted one": the room goes back to
    # the server's default (30 days) before the quote is posted
    api.ok("PATCH", f"/rooms/{room}", owner, json={"retentionDays": 0})
    quoting = post(config, owner, room, "quoting it", quote={"messageId": doomed["id"]})
    api.ok("POST", f"/rooms/{room}/pins", owner, json={"messageId": doomed["id"]})
    searchable(api, owner, doomed["id"], q=word)
    thread = f"/rooms/{room}/messages/{doomed['id']}/thread"
    assert api.ok("GET", thread, owner)["replies"][0]["id"] == reply["id"]

    def history_ids() -> list[str]:
        messages = api.ok("GET", f"/rooms/{room}/messages", reader)["messages"]
        return [m["id"] for m in messages]

    def room_entry() -> Frame:
        rooms = api.ok("GET", "/rooms", reader, params={"limit": 100})["rooms"]
        entry: Frame = next(r for r in rooms if r["room"]["roomId"] == room)
        return entry

    def mentions(entry: Frame) -> int:
        count = entry.get("unreadMentions", entry["membership"].get("unreadMentions"))
        assert isinstance(count, int), entry
        return count

    assert {doomed["id"], quoting["id"], before["id"]} <= set(history_ids())
    unread_before = room_entry()["unread"]
    assert mentions(room_entry()) == 1
    assert [p["messageId"] for p in api.ok("GET", f"/rooms/{room}/pins", reader)["pins"]] == [
        doomed["id"]
    ]

    # one local "day" later, "a message is gone from every read"
    eventually(lambda: doomed["id"] not in history_ids(), "the 1-day message to expire")
    assert quoting["id"] not in history_ids()
    # "A change applies to messages posted after it": the earlier message stays
    assert before["id"] in history_ids()
    # "a thread whose first message expired (`404 not_found`)"
    api.fails("GET", thread, reader, 404, "not_found")
    # "pins, unread and mention counts"
    assert api.ok("GET", f"/rooms/{room}/pins", reader)["pins"] == []
    entry = room_entry()
    assert entry["unread"] == unread_before - 2  # the expired message and the quote
    assert mentions(entry) == 0
    # search hydrates from the store: not found any more; the older one is
    assert found_ids(api, reader, q=word) == [before["id"]]
    # "in sync v2 (`afterSeq`) its changes stay ... with the message as a stub: `"text": ""` and
    # `"hidden": "expired"`"
    with online(config, reader) as socket:
        changes = socket.sync_all(room, 0)
    for gone in (doomed, quoting, reply):
        posted = [c for c in changes if c.get("message", {}).get("id") == gone["id"]]
        assert posted, (gone, changes)
        for change in posted:
            assert change["message"]["text"] == ""
            assert change["message"]["hidden"] == "expired"
    kept = [c for c in changes if c.get("message", {}).get("id") == before["id"]]
    assert kept
    assert kept[0]["message"]["text"] == f"{word} posted before the change"
    assert "hidden" not in kept[0]["message"]
