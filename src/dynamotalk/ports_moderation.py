"""The moderation ports (issue 17): what the room and message stores also do for roles and
moderation. Their own module, so ports.py stays one a reader can hold; ChatCore reaches them
through its `moderation` and `moderated_messages` fields, which default to its room and message
stores (every adapter implements both halves)."""

from __future__ import annotations

from typing import Protocol

from dynamotalk.domain.events import MemberJoined, MessagePinned, MessageUnpinned, RoomUpdated
from dynamotalk.domain.models import AuditEntry, Ban, Message, Pin, Room


class ModerationStore(Protocol):
    """A room's settings, mutes, bans, slow mode, pins and audit log (issue 17; the room
    stores implement it). Each method taking `audit` writes that audit log entry in the same
    atomic step as its change; a change in the room's feed is numbered like every other."""

    def update_room(self, room: Room, audit: AuditEntry) -> RoomUpdated:
        """Store the room's settings (name, archived, slow mode) as `room` has them. Raises
        NotFound if the room does not exist."""
        ...

    def set_mute(
        self, room_id: str, user_id: str, until: int | None, audit: AuditEntry
    ) -> MemberJoined | None:
        """Mute the member until `until` (epoch ms; None lifts it): the membership as it now
        is, as a change; None (nothing written) if the user is not a member. The mute also
        outlives the membership (a muted member who leaves and rejoins is still muted)."""
        ...

    def sanctions(self, room_id: str, user_id: str) -> tuple[Ban | None, int | None]:
        """The user's ban from the room and the end of their mute there (one batch read)."""
        ...

    def add_ban(self, ban: Ban, audit: AuditEntry) -> bool:
        """Ban the user from the room (their pending invite withdrawn); False if already."""
        ...

    def remove_ban(self, room_id: str, user_id: str, audit: AuditEntry) -> bool:
        """Lift the ban; False (no audit written) if there was none."""
        ...

    def bans(self, room_id: str, limit: int) -> list[Ban]:
        """Up to `limit` bans of the room, by user id."""
        ...

    def take_slow_turn(self, room_id: str, user_id: str, now_ms: int, interval_ms: int) -> int:
        """Slow mode: 0 when the member may post now (their turn taken, atomically), else
        the milliseconds until they may."""
        ...

    def pin(self, pin: Pin, audit: AuditEntry, max_pins: int) -> MessagePinned | None:
        """Pin a message; None if it is pinned already. TooLarge when the room has `max_pins`
        pins (counted atomically with the pin)."""
        ...

    def unpin(
        self, room_id: str, message_id: str, audit: AuditEntry | None
    ) -> MessageUnpinned | None:
        """Unpin a message; None if it was not pinned (nothing written)."""
        ...

    def pins(self, room_id: str) -> list[Pin]:
        """The room's pins, newest pin first (one Query, at most MAX_PINS)."""
        ...

    def add_audit(self, entry: AuditEntry) -> None:
        """Write an audit log entry on its own (for changes stored by another method)."""
        ...

    def audit_page(self, room_id: str, before_id: str | None, limit: int) -> list[AuditEntry]:
        """Up to `limit` entries with id < before_id (all when None), newest first."""
        ...


class MessageModeration(Protocol):
    def soft_delete_by(
        self, room_id: str, message_id: str, deleted_at: int, deleted_by: str | None
    ) -> Message:
        """MessageStore.soft_delete, recording who deleted the message when it was not its
        author (`deleted_by`: a moderator), on the message and in its change."""
        ...
