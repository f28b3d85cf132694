"""ModerationStore in memory (ports_moderation.py): the moderation half of MemoryRoomStore,
which inherits it and holds the rooms, members, lock and feed it works on."""

from __future__ import annotations

import threading

import attrs

from dynamotalk.adapters.memory.feed import MemoryChangeFeed
from dynamotalk.domain.errors import NotFound, TooLarge
from dynamotalk.domain.events import MemberJoined, MessagePinned, MessageUnpinned, RoomUpdated
from dynamotalk.domain.models import AuditEntry, Ban, Invite, Membership, Pin, Room


@attrs.define
class ModerationState:
    bans: dict[tuple[str, str], Ban] = attrs.Factory(dict)
    mutes: dict[tuple[str, str], int] = attrs.Factory(dict)
    """(room, user) -> end of the mute (epoch ms)."""
    slow: dict[tuple[str, str], int] = attrs.Factory(dict)
    """(room, user) -> when they last posted in slow mode (epoch ms)."""
    pins: dict[str, dict[str, Pin]] = attrs.Factory(dict)
    audit: dict[str, list[AuditEntry]] = attrs.Factory(dict)


class MemoryModeration:
    """Each change and its audit entry under the store's one lock: one atomic step."""

    _rooms: dict[str, Room]
    _members: dict[str, dict[str, Membership]]
    _invites: dict[tuple[str, str], Invite]
    _lock: threading.Lock
    _moderation: ModerationState
    feed: MemoryChangeFeed

    def _log(self, entry: AuditEntry | None) -> None:
        if entry is not None:
            self._moderation.audit.setdefault(entry.room_id, []).append(entry)

    def update_room(self, room: Room, audit: AuditEntry) -> RoomUpdated:
        with self._lock:
            current = self._rooms.get(room.room_id)
            if current is None:
                raise NotFound("no such room")
            stored = attrs.evolve(
                current,
                name=room.name,
                archived=room.archived,
                slow_mode_seconds=room.slow_mode_seconds,
                retention_days=room.retention_days,
            )
            self._rooms[room.room_id] = stored
            self._log(audit)
            change = self.feed.append(room.room_id, lambda seq: RoomUpdated(stored, seq))
        assert isinstance(change, RoomUpdated)
        return change

    def set_mute(
        self, room_id: str, user_id: str, until: int | None, audit: AuditEntry
    ) -> MemberJoined | None:
        with self._lock:
            members = self._members.get(room_id, {})
            if user_id not in members:
                return None
            changed = attrs.evolve(members[user_id], muted_until=until)
            members[user_id] = changed
            if until is None:
                self._moderation.mutes.pop((room_id, user_id), None)
            else:
                self._moderation.mutes[(room_id, user_id)] = until
            self._log(audit)
            change = self.feed.append(room_id, lambda seq: MemberJoined(changed, seq))
        assert isinstance(change, MemberJoined)
        return change

    def sanctions(self, room_id: str, user_id: str) -> tuple[Ban | None, int | None]:
        with self._lock:
            key = (room_id, user_id)
            return self._moderation.bans.get(key), self._moderation.mutes.get(key)

    def add_ban(self, ban: Ban, audit: AuditEntry) -> bool:
        with self._lock:
            key = (ban.room_id, ban.user_id)
            if key in self._moderation.bans:
                return False
            self._moderation.bans[key] = ban
            self._invites.pop(key, None)
            self._log(audit)
            return True

    def remove_ban(self, room_id: str, user_id: str, audit: AuditEntry) -> bool:
        with self._lock:
            if self._moderation.bans.pop((room_id, user_id), None) is None:
                return False
            self._log(audit)
            return True

    def bans(self, room_id: str, limit: int) -> list[Ban]:
        with self._lock:
            found = [b for (r, _), b in self._moderation.bans.items() if r == room_id]
        return sorted(found, key=lambda b: b.user_id)[:limit]

    def take_slow_turn(self, room_id: str, user_id: str, now_ms: int, interval_ms: int) -> int:
        with self._lock:
            last = self._moderation.slow.get((room_id, user_id))
            if last is not None and now_ms - last < interval_ms:
                return last + interval_ms - now_ms
            self._moderation.slow[(room_id, user_id)] = now_ms
            return 0

    def pin(self, pin: Pin, audit: AuditEntry, max_pins: int) -> MessagePinned | None:
        with self._lock:
            pins = self._moderation.pins.setdefault(pin.room_id, {})
            if pin.message_id in pins:
                return None
            if len(pins) >= max_pins:
                raise TooLarge(f"a room holds at most {max_pins} pins: unpin one first")
            pins[pin.message_id] = pin
            self._log(audit)
            change = self.feed.append(pin.room_id, lambda seq: MessagePinned(pin, seq))
        assert isinstance(change, MessagePinned)
        return change

    def unpin(
        self, room_id: str, message_id: str, audit: AuditEntry | None
    ) -> MessageUnpinned | None:
        with self._lock:
            if self._moderation.pins.get(room_id, {}).pop(message_id, None) is None:
                return None
            self._log(audit)
            change = self.feed.append(
                room_id, lambda seq: MessageUnpinned(room_id, message_id, seq)
            )
        assert isinstance(change, MessageUnpinned)
        return change

    def pins(self, room_id: str) -> list[Pin]:
        with self._lock:
            found = list(self._moderation.pins.get(room_id, {}).values())
        return sorted(found, key=lambda p: (p.pinned_at, p.message_id), reverse=True)

    def add_audit(self, entry: AuditEntry) -> None:
        with self._lock:
            self._log(entry)

    def audit_page(self, room_id: str, before_id: str | None, limit: int) -> list[AuditEntry]:
        with self._lock:
            found = list(self._moderation.audit.get(room_id, []))
        found = [e for e in found if before_id is None or e.entry_id < before_id]
        return sorted(found, key=lambda e: e.entry_id, reverse=True)[:limit]
