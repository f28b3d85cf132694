"""Web Push to offline users: who is told of a stored message, what the push says, and which
subscriptions we accept. Pure rules; the sending is adapters/webpush.py's (RFC 8291 + 8292).

A new message tells, by push, at most these members: the other member of a direct room, each
member it mentions, and the author of the thread's first message it replies to; never its
author. The service (service/push.py) then drops whoever blocked the author, has a live
connection (they see it live) or muted the room's notifications.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
import urllib.parse

import attrs

from dynamotalk.domain.errors import InvalidInput
from dynamotalk.domain.ids import DIRECT_PREFIX
from dynamotalk.domain.models import Message

MAX_DEVICES = 10
"""Push subscriptions one user keeps (one per browser/device); an 11th is refused."""
MAX_ENDPOINT_CHARS = 2048
"""Longest push endpoint URL accepted (FCM's are ~200 characters, WNS's ~400)."""
DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A device id, chosen by the client (the web client: a random id kept in localStorage)."""
PREVIEW_CHARS = 120
"""A push shows the first 120 characters of the text (then `…`): a preview, not the message."""
NAME_CHARS = 64
"""Room and author names in a push are cut to this many characters."""
RECORD_SIZE = 4096
"""RFC 8291 section 4: a push message is one aes128gcm record of at most 4096 bytes."""
MAX_PAYLOAD_BYTES = RECORD_SIZE - 86 - 17
"""The plaintext that fits that record: 4096 minus the 86-byte header (salt, rs, idlen, key)
and the 16-byte tag with the 1-byte padding delimiter: 3993 bytes (RFC 8291 section 4)."""
TTL_S = 24 * 3600
"""The `TTL` header (RFC 8030 section 5.2): the push service keeps an undelivered push a day."""
TOPIC_CHARS = 32
"""RFC 8030 section 5.4: a Topic header is at most 32 base64url characters."""
VAPID_EXPIRY_S = 12 * 3600
"""A VAPID JWT's `exp` (RFC 8292 section 2: at most 24 hours ahead)."""
MUTE_FOREVER: None = None
"""`until_ms` of a mute without an end."""

PUSH_HOSTS = frozenset(
    {"fcm.googleapis.com", "updates.push.services.mozilla.com", "web.push.apple.com"}
)
"""Push services a subscription's endpoint may name (Chrome/Edge: FCM; Firefox: Mozilla
autopush; Safari: Apple), exactly."""
PUSH_HOST_SUFFIXES = (".notify.windows.com", ".push.apple.com")
"""Push services by domain (Windows WNS: `wns2-par02p.notify.windows.com`; Apple's regional
hosts). An SSRF guard: push_sender POSTs to the endpoint, so a user must not pick where."""


class Reason(enum.StrEnum):
    """Why a member is told of a message."""

    DIRECT = "direct"
    MENTION = "mention"
    REPLY = "reply"


def could_notify(message: Message) -> bool:
    """Whether a new message might push to someone: the fan-out queues a job only then."""
    return (
        not message.deleted
        and message.hidden is None
        and (
            message.room_id.startswith(DIRECT_PREFIX)
            or bool(message.mentions)
            or message.parent_id is not None
        )
    )


def recipients(
    message: Message, direct_pair: tuple[str, str] | None, parent_author: str | None
) -> dict[str, Reason]:
    """Who may be told of `message`, and why (a direct room's member first, then mentions, then
    the thread's author): never its author, nobody for a deleted or hidden message."""
    if message.deleted or message.hidden is not None:
        return {}
    found: dict[str, Reason] = {}
    for member in direct_pair or ():
        found.setdefault(member, Reason.DIRECT)
    for member in message.mentions:
        found.setdefault(member, Reason.MENTION)
    if parent_author is not None:
        found.setdefault(parent_author, Reason.REPLY)
    found.pop(message.author_id, None)
    return found


def cut(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters (the last one `…` when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def payload(
    message: Message, room_name: str, author_name: str, reason: Reason
) -> dict[str, object]:
    """What the service worker gets (web/sw.js shows it): small, and no more of the text than
    PREVIEW_CHARS; an attachment-only message says so."""
    preview = message.text or ("📎 attachment" if message.attachments else "")
    return {
        "type": "message",
        "reason": str(reason),
        "roomId": message.room_id,
        "roomName": cut(room_name, NAME_CHARS),
        "messageId": message.message_id,
        "seq": message.seq,
        "parentId": message.parent_id,
        "author": cut(author_name, NAME_CHARS),
        "preview": cut(preview, PREVIEW_CHARS),
    }


def urgency(reason: Reason) -> str:
    """RFC 8030 section 5.3: a DM or a mention is `high`, a thread reply `normal`."""
    return "normal" if reason is Reason.REPLY else "high"


def topic(message_id: str) -> str:
    """RFC 8030 section 5.4: a retried push replaces the one still queued for the same message."""
    return message_id[-TOPIC_CHARS:]


@attrs.frozen
class PushSubscription:
    """One browser's push subscription (the PushSubscription JSON, keys decoded once)."""

    user_id: str
    device_id: str
    endpoint: str
    p256dh: str
    """The browser's P-256 ECDH public key, base64url (65 bytes, uncompressed point)."""
    auth: str
    """The 16-byte authentication secret, base64url."""
    created_at: int
    last_success_at: int | None = None


@attrs.frozen
class RoomNotify:
    """A member's notification setting for one room: muted until `until_ms`, or for ever."""

    user_id: str
    room_id: str
    until_ms: int | None = MUTE_FOREVER

    def muted(self, now_ms: int) -> bool:
        return self.until_ms is None or self.until_ms > now_ms


def b64url_decode(value: str) -> bytes:
    """base64url with or without padding (browsers send it without)."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def check_device_id(device_id: str) -> str:
    if not DEVICE_ID.fullmatch(device_id):
        raise InvalidInput("deviceId must be 1-64 letters, digits, '-' or '_'")
    return device_id


def allowed_endpoint(endpoint: str, local_origin: str | None = None) -> bool:
    """Whether push_sender may POST to `endpoint`: https on a push service's host (PUSH_HOSTS,
    PUSH_HOST_SUFFIXES), default port, no credentials; or, on the local stack only, under its
    push-service emulator's loopback origin (`local_origin`)."""
    if len(endpoint) > MAX_ENDPOINT_CHARS:
        return False
    if local_origin and endpoint.startswith(local_origin.rstrip("/") + "/"):
        return True
    try:
        parts = urllib.parse.urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return (
        parts.scheme == "https"
        and port in (None, 443)
        and parts.username is None
        and parts.password is None
        and (host in PUSH_HOSTS or host.endswith(PUSH_HOST_SUFFIXES))
    )


def check_keys(p256dh: str, auth: str) -> None:
    """The subscription's keys as RFC 8291 needs them: a P-256 point and a 16-byte secret."""
    try:
        point, secret = b64url_decode(p256dh), b64url_decode(auth)
    except (binascii.Error, ValueError):
        raise InvalidInput("keys.p256dh and keys.auth must be base64url") from None
    if len(point) != 65 or point[0] != 4 or not on_p256(point):
        raise InvalidInput("keys.p256dh must be an uncompressed P-256 public key (65 bytes)")
    if len(secret) != 16:
        raise InvalidInput("keys.auth must be 16 bytes")


_P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
"""NIST P-256's field prime and curve constant b (a = -3): FIPS 186-4, D.1.2.3."""


def on_p256(point: bytes) -> bool:
    """Whether an uncompressed point (0x04 || x || y) lies on P-256: a key that does not can
    encrypt nothing, and every push to its device would fail (and be retried) for good."""
    x, y = int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:65], "big")
    if not (0 <= x < _P256_P and 0 <= y < _P256_P):
        return False
    return (y * y - (x * x * x - 3 * x + _P256_B)) % _P256_P == 0
