"""The push worker (lambdas/push_sender.py): one job per stored message that might push
(domain/push.could_notify), queued by the fan-out; this decides who gets a push and sends it.

Each recipient of domain/push.recipients is dropped when they left the room, blocked the
author, have a live connection (they see the message live), or muted the room; each of the
others' subscriptions gets the payload, encrypted for that browser (WebPush port). A push
service's 404/410 means the subscription is gone: it is deleted. A 429 or 5xx (or no answer)
fails the job, which SQS delivers again later and, after its receives, dead-letters; a repeat
may reach a device twice, which shows one notification (the Topic header and the service
worker's tag are the message id).
"""

from __future__ import annotations

import json
from typing import Protocol

import attrs
import structlog

from dynamotalk.domain import push
from dynamotalk.domain.models import RoomKind
from dynamotalk.domain.push import PushSubscription
from dynamotalk.ports import Clock, ConnectionRegistry, MessageStore, RoomStore, UserStore
from dynamotalk.ports_push import PushStore

_log = structlog.get_logger("dynamotalk.push")

GONE = frozenset({404, 410})
"""RFC 8030 section 7.3 (410) and what push services answer for an unknown one (404)."""


class WebPush(Protocol):
    """Encrypts for one subscription (RFC 8291), signs (RFC 8292) and POSTs (RFC 8030)."""

    def send(
        self, subscription: PushSubscription, data: bytes, ttl_s: int, urgency: str, topic: str
    ) -> int:
        """The push service's HTTP status; raises OSError when it could not be reached."""
        ...


@attrs.frozen
class Outcome:
    sent: int = 0
    failed: int = 0
    gone: int = 0
    skipped: int = 0
    """Recipients left out: offline rules (live connection, mute, block, no subscription)."""


class PushRetry(Exception):
    """A push service asked us to come back later (429, 5xx) or did not answer."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(f"push to retry: {outcome}")
        self.outcome = outcome


@attrs.define
class PushSender:
    messages: MessageStore
    rooms: RoomStore
    users: UserStore
    connections: ConnectionRegistry
    store: PushStore
    webpush: WebPush
    clock: Clock

    def handle(self, room_id: str, message_id: str) -> Outcome:
        """Push one stored message to whoever should hear of it; PushRetry to try again later
        (after sending what could be sent: the job's repeat is deduplicated by the browser)."""
        message = self.messages.get(room_id, message_id)
        room = self.rooms.get(room_id)
        if message is None or room is None or not push.could_notify(message):
            return Outcome()
        parent_author = None
        if message.parent_id is not None:
            parent = self.messages.get(room_id, message.parent_id)
            parent_author = parent.author_id if parent is not None else None
        pair = room.direct_pair if room.kind is RoomKind.DIRECT else None
        found = push.recipients(message, pair, parent_author)
        if not found:
            return Outcome()
        author = self.users.get(message.author_id)
        author_name = author.display_name if author is not None else "Someone"
        room_name = author_name if room.kind is RoomKind.DIRECT else room.name
        sent = failed = gone = skipped = 0
        retry = False
        for user_id, reason in found.items():
            targets = self._subscriptions_to_push(user_id, message.author_id, room_id)
            if not targets:
                skipped += 1
                continue
            data = json.dumps(
                push.payload(message, room_name, author_name, reason),
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode()
            urgency, topic = push.urgency(reason), push.topic(message.message_id)
            for subscription in targets:
                try:
                    status = self.webpush.send(subscription, data, push.TTL_S, urgency, topic)
                except OSError as error:
                    _log.warning("push_unreachable", error=type(error).__name__)
                    failed, retry = failed + 1, True
                    continue
                except ValueError:  # keys nothing can encrypt for (stored before the curve check)
                    _log.warning("push_subscription_unusable", device=subscription.device_id)
                    gone += 1
                    self.store.delete_subscription(user_id, subscription.device_id)
                    continue
                if 200 <= status < 300:
                    sent += 1
                    self.store.mark_success(user_id, subscription.device_id, self.clock.now_ms())
                elif status in GONE:
                    gone += 1
                    self.store.delete_subscription(user_id, subscription.device_id)
                else:
                    failed += 1
                    retry = retry or status == 429 or status >= 500
                    _log.warning("push_refused", status=status, device=subscription.device_id)
        outcome = Outcome(sent, failed, gone, skipped)
        if retry:
            raise PushRetry(outcome)
        return outcome

    def _subscriptions_to_push(
        self, user_id: str, author_id: str, room_id: str
    ) -> list[PushSubscription]:
        """The member's subscriptions if a push is due, else none: cheapest checks first."""
        if self.rooms.member(room_id, user_id) is None:
            return []
        if self.connections.connections_of_user(user_id, self.clock.now_ms() // 1000):
            return []  # online: the fan-out showed it live
        setting = self.store.room_notify(user_id, room_id)
        if setting is not None and setting.muted(self.clock.now_ms()):
            return []
        if self.rooms.is_blocked(author_id, by_user_id=user_id):
            return []
        return self.store.subscriptions(user_id)
