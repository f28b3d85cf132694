"""Web Push's rules (domain/push.py) and its worker (service/push_sender.py) over the in-memory
adapters: who gets a push for a DM, a mention and a thread reply, who never does (the author,
a blocker, anyone online, anyone who muted the room), what the payload holds, which endpoints a
subscription may name, and what a push service's answers do to a subscription."""

from __future__ import annotations

import base64
import json

import attrs
import pytest

from dynamotalk.adapters.memory.push import MemoryPushStore
from dynamotalk.domain import push
from dynamotalk.domain.errors import InvalidInput, NotFound
from dynamotalk.domain.models import RoomKind
from dynamotalk.domain.push import PushSubscription, Reason, RoomNotify
from dynamotalk.service.push import PushSettings
from dynamotalk.service.push_sender import PushRetry, PushSender
from tests.unit.world import ALICE, BOB, CAROL, World, make_world

P256DH = push.b64url(
    bytes.fromhex(
        "04"  # P-256's base point G (FIPS 186-4, D.1.2.3): a public key on the curve
        "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"
        "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5"
    )
)
AUTH = push.b64url(bytes(16))
FCM = "https://fcm.googleapis.com/fcm/send/abc"


@attrs.define
class FakePushService:
    """Answers every push with `status`; keeps (endpoint, payload, urgency)."""

    status: int = 201
    sent: list[tuple[str, dict[str, object], str]] = attrs.Factory(list)
    unusable: set[str] = attrs.Factory(set)
    """Devices whose keys nothing can encrypt for (the real encryption raises ValueError)."""

    def send(
        self, subscription: PushSubscription, data: bytes, ttl_s: int, urgency: str, topic: str
    ) -> int:
        if subscription.device_id in self.unusable:
            raise ValueError("not a point on the curve")
        assert ttl_s == push.TTL_S
        assert len(data) <= push.MAX_PAYLOAD_BYTES
        self.sent.append((subscription.endpoint, json.loads(data), urgency))
        return self.status


@attrs.define
class Pushing:
    world: World
    store: MemoryPushStore
    service: FakePushService
    sender: PushSender
    settings: PushSettings


@pytest.fixture
def pushing() -> Pushing:
    world = make_world()
    chat = world.service
    store, service = MemoryPushStore(), FakePushService()
    sender = PushSender(
        chat.messages, chat.rooms, chat.users, chat.connections, store, service, chat.clock
    )
    return Pushing(world, store, service, sender, PushSettings(store, chat.rooms, chat.clock, "K"))


def subscribe(p: Pushing, user_id: str, device: str = "d1") -> None:
    p.store.put_subscription(
        PushSubscription(user_id, device, f"{FCM}/{user_id}/{device}", P256DH, AUTH, 1)
    )


def test_a_direct_message_pushes_to_the_other_member_only(pushing: Pushing) -> None:
    chat = pushing.world.service
    room = chat.open_direct(ALICE, BOB.user_id)
    subscribe(pushing, BOB.user_id)
    subscribe(pushing, ALICE.user_id)
    message = chat.post_message(ALICE, room.room_id, "x" * 500, "c1")
    outcome = pushing.sender.handle(room.room_id, message.message_id)
    assert outcome.sent == 1
    ((endpoint, payload, urgency),) = pushing.service.sent
    assert endpoint.startswith(f"{FCM}/{BOB.user_id}/")
    assert urgency == "high"
    assert payload["reason"] == "direct"
    assert payload["messageId"] == message.message_id
    assert payload["seq"] == message.seq
    assert payload["roomId"] == room.room_id
    assert len(str(payload["preview"])) == push.PREVIEW_CHARS
    assert str(payload["preview"]).endswith("…")
    assert pushing.store.subscriptions(BOB.user_id)[0].last_success_at is not None


def test_mentions_and_thread_replies_push_and_the_author_never_gets_one(pushing: Pushing) -> None:
    chat = pushing.world.service
    room = chat.create_room(ALICE, "team", RoomKind.PRIVATE, [BOB.user_id, CAROL.user_id])
    for who in (ALICE, BOB, CAROL):
        if who is not ALICE:
            chat.accept_invite(who, room.room_id)
        subscribe(pushing, who.user_id)
    parent = chat.post_message(CAROL, room.room_id, "plans?", "c1")
    plain = chat.post_message(ALICE, room.room_id, "nothing to see", "c2")
    assert not push.could_notify(plain)
    assert pushing.sender.handle(room.room_id, plain.message_id).sent == 0
    reply = chat.post_message(ALICE, room.room_id, "@bob look", "c3", parent_id=parent.message_id)
    assert pushing.sender.handle(room.room_id, reply.message_id).sent == 2
    reasons = {endpoint.split("/")[-2]: p["reason"] for endpoint, p, _ in pushing.service.sent}
    assert reasons == {BOB.user_id: "mention", CAROL.user_id: "reply"}


def test_no_push_to_someone_online_muted_or_blocking(pushing: Pushing) -> None:
    chat = pushing.world.service
    room = chat.open_direct(ALICE, BOB.user_id)
    subscribe(pushing, BOB.user_id)
    pushing.world.online(BOB, "conn-bob")
    first = chat.post_message(ALICE, room.room_id, "hi", "c1")
    assert pushing.sender.handle(room.room_id, first.message_id).skipped == 1
    chat.disconnect("conn-bob")
    pushing.settings.set_room_notify(BOB, room.room_id, b'{"muted": true}')
    assert pushing.sender.handle(room.room_id, first.message_id).skipped == 1
    until = pushing.world.clock.now_ms() + 1000
    pushing.settings.set_room_notify(
        BOB, room.room_id, json.dumps({"muted": True, "untilMs": until})
    )
    assert pushing.sender.handle(room.room_id, first.message_id).skipped == 1
    pushing.world.clock.advance(1001)  # the mute ended
    assert pushing.settings.room_notify(BOB, room.room_id) is None
    assert pushing.sender.handle(room.room_id, first.message_id).sent == 1
    chat.block_user(BOB, ALICE.user_id)
    assert pushing.sender.handle(room.room_id, first.message_id).skipped == 1


def test_a_gone_subscription_is_deleted_and_a_throttled_one_retried(pushing: Pushing) -> None:
    chat = pushing.world.service
    room = chat.open_direct(ALICE, BOB.user_id)
    subscribe(pushing, BOB.user_id)
    message = chat.post_message(ALICE, room.room_id, "hi", "c1")
    pushing.service.status = 429
    with pytest.raises(PushRetry):
        pushing.sender.handle(room.room_id, message.message_id)
    assert pushing.store.subscriptions(BOB.user_id)
    pushing.service.status = 410
    assert pushing.sender.handle(room.room_id, message.message_id).gone == 1
    assert pushing.store.subscriptions(BOB.user_id) == []


def test_a_subscription_nothing_can_encrypt_for_is_dropped_and_the_others_still_pushed(
    pushing: Pushing,
) -> None:
    chat = pushing.world.service
    room = chat.open_direct(ALICE, BOB.user_id)
    subscribe(pushing, BOB.user_id, "broken")
    subscribe(pushing, BOB.user_id, "phone")
    pushing.service.unusable.add("broken")
    message = chat.post_message(ALICE, room.room_id, "hi", "c1")
    outcome = pushing.sender.handle(room.room_id, message.message_id)  # no retry for it
    assert (outcome.sent, outcome.gone) == (1, 1)
    assert [s.device_id for s in pushing.store.subscriptions(BOB.user_id)] == ["phone"]


def test_a_key_off_the_p256_curve_is_refused() -> None:
    good = base64.urlsafe_b64decode(P256DH + "=" * (-len(P256DH) % 4))
    assert push.on_p256(good)
    off = good[:-1] + bytes([good[-1] ^ 1])
    with pytest.raises(InvalidInput):
        push.check_keys(base64.urlsafe_b64encode(off).rstrip(b"=").decode(), AUTH)


def test_a_deleted_message_pushes_nothing(pushing: Pushing) -> None:
    chat = pushing.world.service
    room = chat.open_direct(ALICE, BOB.user_id)
    subscribe(pushing, BOB.user_id)
    message = chat.post_message(ALICE, room.room_id, "oops", "c1")
    chat.delete_message(ALICE, room.room_id, message.message_id)
    assert pushing.sender.handle(room.room_id, message.message_id).sent == 0
    assert pushing.service.sent == []


@pytest.mark.parametrize(
    ("endpoint", "allowed"),
    [
        (FCM, True),
        ("https://updates.push.services.mozilla.com/wpush/v2/x", True),
        ("https://wns2-par02p.notify.windows.com/w/?token=x", True),
        ("https://web.push.apple.com/QGx", True),
        ("http://fcm.googleapis.com/fcm/send/abc", False),
        ("https://fcm.googleapis.com:8443/fcm/send/abc", False),
        ("https://user:pw@fcm.googleapis.com/x", False),
        ("https://fcm.googleapis.com.evil.example/x", False),
        ("https://169.254.169.254/latest/meta-data", False),
        ("https://evilnotify.windows.com/x", False),
        ("http://127.0.0.1:9/push/x", False),
        ("https://fcm.googleapis.com/" + "a" * push.MAX_ENDPOINT_CHARS, False),
    ],
)
def test_only_push_services_are_allowed_endpoints(endpoint: str, allowed: bool) -> None:
    assert push.allowed_endpoint(endpoint) is allowed


def test_the_local_emulator_is_allowed_only_where_named() -> None:
    local = "http://127.0.0.1:9"
    assert push.allowed_endpoint(f"{local}/push/x", local)
    assert not push.allowed_endpoint("http://127.0.0.1:10/push/x", local)


def test_subscriptions_are_validated_and_capped(pushing: Pushing) -> None:
    settings = pushing.settings

    def body(endpoint: str = FCM, p256dh: str = P256DH, auth: str = AUTH) -> str:
        return json.dumps({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})

    assert settings.subscribe(BOB, "d0", body()) is True
    assert settings.subscribe(BOB, "d0", body()) is False  # the same device again: replaced
    for bad in (
        body("https://example.com/x"),
        body(p256dh=push.b64url(b"\x04" * 10)),
        body(auth="!!"),
        "[]",
        "{",
    ):
        with pytest.raises(InvalidInput):
            settings.subscribe(BOB, "d1", bad)
    with pytest.raises(InvalidInput):
        settings.subscribe(BOB, "../x", body())
    for n in range(1, push.MAX_DEVICES):
        settings.subscribe(BOB, f"d{n}", body())
    with pytest.raises(InvalidInput, match="at most 10"):
        settings.subscribe(BOB, "one-too-many", body())
    with pytest.raises(NotFound):
        settings.unsubscribe(BOB, "never-there")
    with pytest.raises(NotFound):  # not a member: the room stays unseen
        settings.set_room_notify(CAROL, "dm-none", b'{"muted": true}')


def test_recipients_and_payload_rules() -> None:
    world = make_world()
    message = world.service.post_message(
        ALICE, world.service.open_direct(ALICE, BOB.user_id).room_id, "hi", "c"
    )
    assert push.recipients(message, (ALICE.user_id, BOB.user_id), None) == {
        BOB.user_id: Reason.DIRECT
    }
    hidden = attrs.evolve(message, hidden="blocked")
    assert push.recipients(hidden, (ALICE.user_id, BOB.user_id), None) == {}
    assert push.cut("a\n  b", 10) == "a b"
    assert RoomNotify("u", "r", None).muted(10**15)
    assert push.MAX_PAYLOAD_BYTES == 3993
