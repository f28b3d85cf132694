"""Which connections hear of what is not stored, and the table of what a use case sets off.

Room changes are not sent from here: a store records each in the room's change feed with the
change itself, and the feed drives their delivery (service/delivery.py). What is sent from
here happens only now: typing, presence, read receipts and invites. PUBLISHED maps what a use
case publishes to its handlers (a message for the bot to the bot's queue). Nothing is wired
after construction: the handlers reach only ports ChatService was built with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from dynamotalk import metrics
from dynamotalk.domain.events import Event, PresenceChanged
from dynamotalk.domain.ids import DIRECT_PREFIX
from dynamotalk.domain.limits import RECEIPT_AUDIENCE
from dynamotalk.domain.models import Room, RoomKind, SendReport
from dynamotalk.service.core import ChatCore


@attrs.frozen
class BotAsked:
    """A stored message the bot should answer: queued for it, never sent to connections."""

    room_id: str
    message_id: str


def queue_for_bot(chat: Fanout, event: BotAsked) -> None:
    """The bot answers later (bot.py); the sender never waits for it."""
    if chat.bot_jobs is not None:
        chat.bot_jobs.enqueue(event.room_id, event.message_id)


PUBLISHED: Mapping[type, tuple[Callable[[Any, Any], None], ...]] = {
    BotAsked: (queue_for_bot,),
}
"""What each published event sets off, in order."""


class Fanout(ChatCore):
    def _publish(self, *events: BotAsked) -> None:
        for event in events:
            for handle in PUBLISHED[type(event)]:
                handle(self, event)

    def _broadcast(self, room_id: str, event: Event, exclude: str | None = None) -> None:
        """Send an event to the room's live connections; forget the ones found gone."""
        now_s = self.clock.now_ms() // 1000
        targets = [
            s.connection_id
            for s in self.connections.connections_in_room(room_id, now_s)
            if s.connection_id != exclude
        ]
        if targets:
            self._forget_gone(self.notifier.send(targets, event))

    def _to_members(self, room: Room, event: Event) -> None:
        """An event for the room's members only (a read receipt): never to a non-member
        following a public room, and not at all in a room with more than RECEIPT_AUDIENCE live
        connections (one batch read of the subscribers' memberships, then one fan-out)."""
        now_s = self.clock.now_ms() // 1000
        subscribers = self.connections.connections_in_room(room.room_id, now_s)
        if not subscribers or len(subscribers) > RECEIPT_AUDIENCE:
            return
        if room.kind is RoomKind.PUBLIC:
            users = sorted({s.user_id for s in subscribers})
            members = {m.user_id for m in self.rooms.members_among(room.room_id, users)}
            subscribers = [s for s in subscribers if s.user_id in members]
        if subscribers:
            self._forget_gone(self.notifier.send([s.connection_id for s in subscribers], event))

    def _forget_gone(self, report: SendReport) -> None:
        if report.gone:
            metrics.record(metrics.Metric.GONE_CONNECTIONS, len(report.gone))
            self.connections.unregister_many(sorted(report.gone))

    def _announce_presence(
        self,
        user_id: str,
        username: str,
        online: bool,
        last_seen: int | None,
        room_ids: Sequence[str],
        members_only: frozenset[str] = frozenset(),
    ) -> None:
        """Presence goes only to the members of rooms the user is a member of: never to a
        non-member following a public room, never to a room the user is merely invited to.

        `members_only` names rooms already known to have the user as a member and only members
        as subscribers (private and direct rooms the caller just subscribed to): they skip the
        members query. A room followed by nobody else costs one query.
        """
        now_s = self.clock.now_ms() // 1000
        for room_id in room_ids:
            subscribers = [
                s
                for s in self.connections.connections_in_room(room_id, now_s)
                if s.user_id != user_id
            ]
            if not subscribers:
                continue
            if room_id.startswith(DIRECT_PREFIX) and not self._direct_consented(room_id):
                continue
            if room_id in members_only:
                targets = [s.connection_id for s in subscribers]
            else:
                members = {m.user_id for m in self.rooms.members(room_id)}
                if user_id not in members:
                    continue
                targets = [s.connection_id for s in subscribers if s.user_id in members]
            if targets:
                event = PresenceChanged(room_id, user_id, username, online, last_seen)
                self._forget_gone(self.notifier.send(targets, event))
