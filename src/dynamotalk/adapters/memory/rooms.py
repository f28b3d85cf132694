"""RoomStore in memory: rooms, memberships, pending invites and blocks."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import attrs

from dynamotalk.adapters.memory.feed import MemoryChangeFeed
from dynamotalk.adapters.memory.moderation import MemoryModeration, ModerationState
from dynamotalk.adapters.memory.reports import MemoryReportStore
from dynamotalk.domain.events import MemberJoined, MemberLeft
from dynamotalk.domain.models import Block, Invite, Membership, Role, Room, RoomKind


@attrs.define
class MemoryRoomStore(MemoryModeration):
    _rooms: dict[str, Room] = attrs.Factory(dict)
    _members: dict[str, dict[str, Membership]] = attrs.Factory(dict)
    _invites: dict[tuple[str, str], Invite] = attrs.Factory(dict)
    """(room id, invitee) -> pending invite."""
    _blocks: set[tuple[str, str]] = attrs.Factory(set)
    """(user, blocked user)."""
    _blocked_at: dict[tuple[str, str], int] = attrs.Factory(dict)
    """(user, blocked user) -> when (GET /blocks)."""
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    _reports: MemoryReportStore = attrs.Factory(MemoryReportStore)
    """The rooms' reports (report_store)."""
    feed: MemoryChangeFeed = attrs.Factory(MemoryChangeFeed)
    """The room's change feed, shared with the message store."""
    _moderation: ModerationState = attrs.Factory(ModerationState)
    """Bans, mutes, slow mode turns, pins and the audit log (moderation.py)."""

    def _joined(self, membership: Membership) -> None:
        self.feed.append(membership.room_id, lambda seq: MemberJoined(membership, seq))

    def _count(self, room_id: str, delta: int) -> None:
        """Move the room's member count with the membership write, as DynamoDB's ADD does."""
        room = self._rooms.get(room_id)
        if room is not None:
            self._rooms[room_id] = attrs.evolve(room, member_count=room.member_count + delta)

    def create(self, room: Room, members: Sequence[Membership]) -> bool:
        with self._lock:
            if room.room_id in self._rooms:
                return False
            self._members[room.room_id] = {m.user_id: m for m in members}
            counted = len(self._members[room.room_id])
            self._rooms[room.room_id] = attrs.evolve(room, member_count=counted)
            return True

    def get(self, room_id: str) -> Room | None:
        with self._lock:
            return self._rooms.get(room_id)

    def get_many(self, room_ids: Sequence[str]) -> list[Room]:
        with self._lock:
            return [self._rooms[r] for r in dict.fromkeys(room_ids) if r in self._rooms]

    def public_rooms(self, limit: int) -> list[Room]:
        with self._lock:
            public = [r for r in self._rooms.values() if r.kind is RoomKind.PUBLIC]
        return sorted(public, key=lambda r: r.room_id, reverse=True)[:limit]

    def add_member(self, membership: Membership) -> bool:
        with self._lock:
            members = self._members.setdefault(membership.room_id, {})
            if membership.user_id in members:
                return False
            members[membership.user_id] = membership
            self._count(membership.room_id, +1)
            self._joined(membership)
            return True

    def remove_member(self, room_id: str, user_id: str) -> MemberLeft | None:
        with self._lock:
            if self._members.get(room_id, {}).pop(user_id, None) is None:
                return None
            self._count(room_id, -1)
            left = self.feed.append(room_id, lambda seq: MemberLeft(room_id, user_id, seq))
            assert isinstance(left, MemberLeft)
            return left

    def member(self, room_id: str, user_id: str) -> Membership | None:
        with self._lock:
            return self._members.get(room_id, {}).get(user_id)

    def members(self, room_id: str) -> list[Membership]:
        with self._lock:
            return sorted(self._members.get(room_id, {}).values(), key=lambda m: m.user_id)

    def rooms_of(self, user_id: str) -> list[Membership]:
        with self._lock:
            found = [m[user_id] for m in self._members.values() if user_id in m]
        return sorted(found, key=lambda m: m.room_id)

    def mark_read(self, room_id: str, user_id: str, message_id: str) -> bool:
        with self._lock:
            members = self._members.get(room_id, {})
            current = members.get(user_id)
            if current is None:
                return False
            if current.last_read_id is None or current.last_read_id < message_id:
                members[user_id] = attrs.evolve(current, last_read_id=message_id)
                return True
            return False

    def members_among(self, room_id: str, user_ids: Sequence[str]) -> list[Membership]:
        with self._lock:
            members = self._members.get(room_id, {})
            return [members[u] for u in dict.fromkeys(user_ids) if u in members]

    def memberships_in(self, user_id: str, room_ids: Sequence[str]) -> list[Membership]:
        with self._lock:
            found = [self._members.get(r, {}).get(user_id) for r in dict.fromkeys(room_ids)]
        return [m for m in found if m is not None]

    def rooms_page(self, user_id: str, after_room_id: str | None, limit: int) -> list[Membership]:
        found = [
            m for m in self.rooms_of(user_id) if after_room_id is None or m.room_id > after_room_id
        ]
        return found[:limit]

    def count_rooms(self, user_id: str, cap: int) -> int:
        return min(cap, len(self.rooms_of(user_id)))

    def count_invites(self, user_id: str, now_s: int, cap: int) -> int:
        return min(cap, len(self.invites_of(user_id, now_s)))

    def set_role(self, room_id: str, user_id: str, role: Role) -> None:
        with self._lock:
            members = self._members.get(room_id, {})
            if user_id in members and members[user_id].role is not role:
                members[user_id] = attrs.evolve(members[user_id], role=role)
                self._joined(members[user_id])

    def add_invite(self, invite: Invite) -> bool:
        with self._lock:
            key = (invite.room_id, invite.user_id)
            if key in self._invites and self._invites[key].expires_at > invite.invited_at // 1000:
                return False
            self._invites[key] = invite
            return True

    def invite(self, room_id: str, user_id: str, now_s: int) -> Invite | None:
        with self._lock:
            found = self._invites.get((room_id, user_id))
        return found if found is not None and found.expires_at > now_s else None

    def invites_of(self, user_id: str, now_s: int) -> list[Invite]:
        with self._lock:
            found = [i for i in self._invites.values() if i.user_id == user_id]
        return sorted((i for i in found if i.expires_at > now_s), key=lambda i: i.room_id)

    def invites_to(self, room_id: str, now_s: int) -> list[Invite]:
        with self._lock:
            found = [i for i in self._invites.values() if i.room_id == room_id]
        return sorted((i for i in found if i.expires_at > now_s), key=lambda i: i.user_id)

    def remove_invite(self, room_id: str, user_id: str) -> bool:
        with self._lock:
            return self._invites.pop((room_id, user_id), None) is not None

    def accept_invite(self, invite: Invite, membership: Membership) -> bool:
        with self._lock:
            if self._invites.pop((invite.room_id, invite.user_id), None) is None:
                return False
            members = self._members.setdefault(membership.room_id, {})
            if membership.user_id not in members:
                self._count(membership.room_id, +1)
            members[membership.user_id] = membership
            self._joined(membership)
            return True

    def block(self, user_id: str, blocked_user_id: str, at: int) -> None:
        with self._lock:
            self._blocks.add((user_id, blocked_user_id))
            self._blocked_at[(user_id, blocked_user_id)] = at

    def unblock(self, user_id: str, blocked_user_id: str) -> None:
        with self._lock:
            self._blocks.discard((user_id, blocked_user_id))
            self._blocked_at.pop((user_id, blocked_user_id), None)

    def is_blocked(self, user_id: str, by_user_id: str) -> bool:
        with self._lock:
            return (by_user_id, user_id) in self._blocks

    def blocks_of(self, user_id: str) -> list[Block]:
        with self._lock:
            found = [(b, at) for (u, b), at in self._blocked_at.items() if u == user_id]
        return [Block(user_id, blocked, at) for blocked, at in sorted(found)]

    def blockers_of(self, user_id: str) -> list[str]:
        with self._lock:
            return sorted(u for (u, blocked) in self._blocks if blocked == user_id)

    def report_store(self) -> MemoryReportStore:
        return self._reports
