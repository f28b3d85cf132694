"""Push settings, the HTTP API's use cases (lambdas/http_push.py): a user's push subscriptions
(one per device, at most MAX_DEVICES) and their per-room notification mute.

A subscription's endpoint is where push_sender will POST: only a push service's host is
accepted (domain/push.allowed_endpoint), so nobody can point our function at another URL.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from dynamotalk.domain import push
from dynamotalk.domain.errors import InvalidInput, NotFound, TooLarge
from dynamotalk.domain.models import Principal
from dynamotalk.domain.push import PushSubscription, RoomNotify
from dynamotalk.ports import Clock, RoomStore
from dynamotalk.ports_push import PushStore
from dynamotalk.service.core import check_id

MAX_BODY_BYTES = 4096
"""A PushSubscription's JSON (endpoint up to MAX_ENDPOINT_CHARS and two keys) fits in 4 KB."""
MAX_MUTE_MS = 10 * 365 * 24 * 3600 * 1000
"""`untilMs` at most ten years ahead (further: mute with no end)."""


def _json_object(raw: str | bytes | None) -> dict[str, Any]:
    if raw is None or raw in ("", b""):
        raise InvalidInput("request body required")
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge(f"the body may be at most {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidInput("the body must be JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


@attrs.define
class PushSettings:
    store: PushStore
    rooms: RoomStore
    clock: Clock
    public_key: str | None
    """The stage's VAPID public key (base64url), the browser's `applicationServerKey`; None
    where the stage has push off."""
    local_origin: str | None = None
    """The local stack's push-service emulator (loopback); None on AWS."""

    def vapid_key(self) -> str:
        if not self.public_key:
            raise NotFound("push notifications are off on this stage")
        return self.public_key

    def subscribe(self, principal: Principal, device_id: str, raw: str | bytes | None) -> bool:
        """Store the device's subscription (replacing its old one); True if it is new."""
        self.vapid_key()
        push.check_device_id(device_id)
        body = _json_object(raw)
        endpoint, keys = body.get("endpoint"), body.get("keys")
        if not isinstance(endpoint, str) or not isinstance(keys, dict):
            raise InvalidInput("expected {endpoint, keys: {p256dh, auth}}")
        p256dh, auth = keys.get("p256dh"), keys.get("auth")
        if not isinstance(p256dh, str) or not isinstance(auth, str):
            raise InvalidInput("keys.p256dh and keys.auth must be strings")
        if not push.allowed_endpoint(endpoint, self.local_origin):
            raise InvalidInput("endpoint must be an https URL of a known push service")
        push.check_keys(p256dh, auth)
        mine = self.store.subscriptions(principal.user_id)
        new = all(s.device_id != device_id for s in mine)
        if new and len(mine) >= push.MAX_DEVICES:
            raise InvalidInput(
                f"at most {push.MAX_DEVICES} devices receive pushes; remove one first"
            )
        now = self.clock.now_ms()
        self.store.put_subscription(
            PushSubscription(principal.user_id, device_id, endpoint, p256dh, auth, now)
        )
        return new

    def unsubscribe(self, principal: Principal, device_id: str) -> None:
        push.check_device_id(device_id)
        if not self.store.delete_subscription(principal.user_id, device_id):
            raise NotFound("no push subscription for that device")

    def subscriptions(self, principal: Principal) -> list[PushSubscription]:
        return self.store.subscriptions(principal.user_id)

    def _member(self, principal: Principal, room_id: str) -> str:
        room_id = check_id(room_id, "roomId")
        if self.rooms.member(room_id, principal.user_id) is None:
            raise NotFound("no such room")  # the same answer for a room one cannot see
        return room_id

    def set_room_notify(
        self, principal: Principal, room_id: str, raw: str | bytes | None
    ) -> RoomNotify | None:
        """Mute the room's pushes (until `untilMs`, or with no end) or unmute them."""
        room_id = self._member(principal, room_id)
        body = _json_object(raw)
        muted, until = body.get("muted"), body.get("untilMs")
        if not isinstance(muted, bool):
            raise InvalidInput("muted must be true or false")
        if until is not None and (
            not isinstance(until, int) or isinstance(until, bool) or until <= 0
        ):
            raise InvalidInput("untilMs must be a positive whole number of epoch ms")
        if not muted:
            self.store.clear_room_notify(principal.user_id, room_id)
            return None
        now = self.clock.now_ms()
        if until is not None and not now < until <= now + MAX_MUTE_MS:
            raise InvalidInput("untilMs must be in the future, at most ten years ahead")
        setting = RoomNotify(principal.user_id, room_id, until)
        self.store.set_room_notify(setting)
        return setting

    def room_notify(self, principal: Principal, room_id: str) -> RoomNotify | None:
        """The caller's setting, None when pushes are on (or a timed mute has ended)."""
        room_id = self._member(principal, room_id)
        setting = self.store.room_notify(principal.user_id, room_id)
        return setting if setting is not None and setting.muted(self.clock.now_ms()) else None


def subscription_json(subscription: PushSubscription) -> dict[str, object]:
    """What GET /push/subscriptions lists: never the keys (the browser holds them)."""
    return {
        "deviceId": subscription.device_id,
        "endpoint": subscription.endpoint,
        "createdAt": subscription.created_at,
        "lastSuccessAt": subscription.last_success_at,
    }


def notify_json(room_id: str, setting: RoomNotify | None) -> dict[str, object]:
    return {
        "roomId": room_id,
        "muted": setting is not None,
        "untilMs": setting.until_ms if setting is not None else None,
    }
