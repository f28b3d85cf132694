"""Roles and moderation's use cases (issue 17): changing a member's role, the room's settings
(name, slow mode, archive), mutes, bans, pins, and reading the audit log.

Every check goes through the permission table (domain/authz.py); every action is written to the
room's audit log, in the same atomic step as its change where the store makes one (settings,
mutes, bans, pins), right after it otherwise (role changes: set_role is the hand-over's too).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import structlog

from dynamotalk.domain import authz, retention, rules
from dynamotalk.domain.authz import Act
from dynamotalk.domain.cursor import decode_cursor, encode_cursor
from dynamotalk.domain.errors import Forbidden, InvalidInput, NotFound
from dynamotalk.domain.limits import MAX_MUTE_S, MAX_PIN_TEXT, MAX_PINS, MAX_SLOW_MODE_S
from dynamotalk.domain.models import AuditPage, Ban, Membership, Pin, Principal, Role, Room
from dynamotalk.domain.user_limits import Action
from dynamotalk.service.core import check_id, check_message_id
from dynamotalk.service.membership import Members

_log = structlog.get_logger("dynamotalk.moderation")


class Moderation(Members):
    def _acting(self, principal: Principal, room_id: str) -> tuple[Room, Membership]:
        """The room and the caller's membership (hidden rooms answer 404 like missing ones)."""
        room = self._room(room_id)
        actor = rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        return room, actor

    def _changing(self, principal: Principal, room_id: str) -> tuple[Room, Membership]:
        """`_acting` for an action that changes the room: counted against the caller's message
        limit, as each is a change every subscriber receives (or a ban's kick)."""
        self._limit(principal.user_id, Action.MESSAGE)
        return self._acting(principal, room_id)

    def _target(self, room: Room, user_id: str) -> Membership:
        target = self.rooms.member(room.room_id, check_id(user_id, "userId"))
        if target is None:
            raise NotFound("that user is not a member of this room")
        return target

    def change_role(
        self, principal: Principal, room_id: str, user_id: str, role: Role
    ) -> Membership:
        """Give a member another role: admins and owners (Act.CHANGE_ROLES), over a member they
        outrank, up to what they may give (authz.may_give). The room hears `member.joined`."""
        room, actor = self._changing(principal, room_id)
        target = self._target(room, user_id)
        authz.require_give(actor, room.kind, target, role)
        if target.role is role:
            return target
        self.rooms.set_role(room.room_id, target.user_id, role)
        self._audit(
            room.room_id,
            principal.user_id,
            Act.CHANGE_ROLES,
            user_id=target.user_id,
            detail=f"{target.role} -> {role}",
        )
        return attrs.evolve(target, role=role)

    def update_room(
        self,
        principal: Principal,
        room_id: str,
        name: str | None = None,
        slow_mode_seconds: int | None = None,
        archived: bool | None = None,
        retention_days: int | None = None,
    ) -> Room:
        """Rename (Act.RENAME), set slow mode (Act.SLOW_MODE, 0 = off) or archive / unarchive
        (Act.ARCHIVE). Every field given is checked before any is stored; each one that
        changes is its own `room.updated` change and audit entry."""
        if (
            name is None
            and slow_mode_seconds is None
            and archived is None
            and retention_days is None
        ):
            raise InvalidInput(
                "nothing to update: give name, slowModeSeconds, archived or retentionDays"
            )
        room, actor = self._changing(principal, room_id)
        wanted: list[tuple[Act, Callable[[Room], Room], str]] = []
        if name is not None:
            authz.require(actor, Act.RENAME, room.kind)
            clean = rules.clean_room_name(name, self.limits)
            wanted.append((Act.RENAME, lambda r: attrs.evolve(r, name=clean), clean))
        if slow_mode_seconds is not None:
            authz.require(actor, Act.SLOW_MODE, room.kind)
            if not 0 <= slow_mode_seconds <= MAX_SLOW_MODE_S:
                raise InvalidInput(f"slowModeSeconds must be between 0 and {MAX_SLOW_MODE_S}")
            detail = f"{slow_mode_seconds} s" if slow_mode_seconds else "off"
            slow = slow_mode_seconds
            wanted.append(
                (Act.SLOW_MODE, lambda r: attrs.evolve(r, slow_mode_seconds=slow), detail)
            )
        if archived is not None:
            authz.require(actor, Act.ARCHIVE, room.kind)
            detail = "archived" if archived else "unarchived"
            archive = archived
            wanted.append((Act.ARCHIVE, lambda r: attrs.evolve(r, archived=archive), detail))
        if retention_days is not None:  # issue 18: applies to messages posted from now on
            authz.require(actor, Act.RETENTION, room.kind)
            keep = retention.check_room_days(retention_days, self.limits.message_retention_days)
            detail = f"{keep} days" if keep else "server default"
            wanted.append((Act.RETENTION, lambda r: attrs.evolve(r, retention_days=keep), detail))
        for act, change, detail in wanted:
            after = change(room)
            if after == room:
                continue
            entry = self._audit_entry(room.room_id, principal.user_id, act, detail=detail)
            room = self.moderation.update_room(after, entry).room
        return room

    def mute(self, principal: Principal, room_id: str, user_id: str, seconds: int) -> Membership:
        """A moderator or above mutes a member they outrank for `seconds` (at most
        MAX_MUTE_S): they read, but neither post nor react, until it ends. The room hears the
        membership as it now is (`member.joined` with `mutedUntil`)."""
        if not 1 <= seconds <= MAX_MUTE_S:
            raise InvalidInput(f"seconds must be between 1 and {MAX_MUTE_S}")
        room, actor = self._changing(principal, room_id)
        target = self._target(room, user_id)
        authz.require_over(actor, Act.MUTE, room.kind, target)
        until = self.clock.now_ms() + seconds * 1000
        entry = self._audit_entry(
            room.room_id, principal.user_id, Act.MUTE, user_id=target.user_id, detail=f"{seconds} s"
        )
        changed = self.moderation.set_mute(room.room_id, target.user_id, until, entry)
        if changed is None:
            raise NotFound("that user is not a member of this room")
        return changed.membership

    def unmute(self, principal: Principal, room_id: str, user_id: str) -> Membership:
        room, actor = self._changing(principal, room_id)
        target = self._target(room, user_id)
        authz.require_over(actor, Act.MUTE, room.kind, target)
        if target.muted_until is None:
            return target
        entry = self._audit_entry(
            room.room_id, principal.user_id, Act.MUTE, user_id=target.user_id, detail="unmuted"
        )
        changed = self.moderation.set_mute(room.room_id, target.user_id, None, entry)
        if changed is None:
            raise NotFound("that user is not a member of this room")
        return changed.membership

    def ban(self, principal: Principal, room_id: str, user_id: str, reason: str = "") -> Ban:
        """A moderator or above bans a user they outrank (or who is not a member): removed
        (told with `member.left`, their subscriptions to the room ended), their pending invite
        withdrawn, refused when they try to join, accept or be invited again. Each of their live
        connections that followed only this room is closed (DeleteConnection)."""
        room, actor = self._changing(principal, room_id)
        authz.require(actor, Act.BAN, room.kind)
        banned = check_id(user_id, "userId")
        if banned == principal.user_id:
            raise InvalidInput("you cannot ban yourself")
        target = self.rooms.member(room.room_id, banned)
        if target is not None:
            authz.require_over(actor, Act.BAN, room.kind, target)
        elif self.users.get(banned) is None:
            raise NotFound("no such user")
        ban = Ban(room.room_id, banned, principal.user_id, self.clock.now_ms(), reason.strip())
        entry = self._audit_entry(
            room.room_id, principal.user_id, Act.BAN, user_id=banned, detail=ban.reason
        )
        if not self.moderation.add_ban(ban, entry):
            existing, _ = self.moderation.sanctions(room.room_id, banned)
            return existing or ban
        if target is not None:
            closing = self._close_only_room(room.room_id, banned)
            self._remove(room, banned)
            # Told with member.left first (_remove); DeleteConnection's $disconnect forgets
            # the connection, and one already gone is forgotten here.
            self._close(closing)
        return ban

    def _close(self, connection_ids: list[str]) -> None:
        """DeleteConnection, each socket on its own: one that fails stays open, following
        nothing of the room (its subscriptions ended with the membership)."""
        closer = self.closer
        for connection_id in connection_ids if closer is not None else []:
            try:
                if closer is not None and not closer.close(connection_id):
                    self.connections.unregister(connection_id)
            except Exception as error:  # noqa: BLE001 - the ban stands whatever a socket does
                _log.warning("ban_close_failed", connection_id=connection_id, error=str(error))

    def unban(self, principal: Principal, room_id: str, user_id: str) -> None:
        room, actor = self._changing(principal, room_id)
        authz.require(actor, Act.BAN, room.kind)
        banned = check_id(user_id, "userId")
        ban, _ = self.moderation.sanctions(room.room_id, banned)
        banner = None if ban is None else self.rooms.member(room.room_id, ban.banned_by)
        if banner is not None and not authz.may_lift(actor.role, banner.role):
            raise Forbidden(f"a ban by a room {banner.role} stays until a {banner.role} lifts it")
        entry = self._audit_entry(room.room_id, principal.user_id, Act.BAN, user_id=banned)
        entry = attrs.evolve(entry, detail="unbanned")
        if not self.moderation.remove_ban(room.room_id, banned, entry):
            raise NotFound("that user is not banned from this room")

    def bans(self, principal: Principal, room_id: str) -> list[Ban]:
        room, actor = self._acting(principal, room_id)
        authz.require(actor, Act.BAN_LIST, room.kind)
        return self.moderation.bans(room.room_id, self.limits.page_size_max)

    def pin(self, principal: Principal, room_id: str, message_id: str) -> Pin:
        """Pin a message (Act.PIN), at most MAX_PINS a room; pinning it again is harmless. The
        pin keeps the message's first MAX_PIN_TEXT characters as they were when pinned."""
        room, actor = self._changing(principal, room_id)
        authz.require(actor, Act.PIN, room.kind)
        rules.require_not_archived(room)
        message = self._message(room.room_id, message_id)
        pin = Pin(
            room_id=room.room_id,
            message_id=message.message_id,
            pinned_by=principal.user_id,
            pinned_at=self.clock.now_ms(),
            author_id=message.author_id,
            text=message.text[:MAX_PIN_TEXT],
            created_at=message.created_at,
            expires_at=message.expires_at,
        )
        entry = self._audit_entry(
            room.room_id, principal.user_id, Act.PIN, message_id=message.message_id
        )
        if self.moderation.pin(pin, entry, MAX_PINS) is None:
            found = [
                p for p in self.moderation.pins(room.room_id) if p.message_id == pin.message_id
            ]
            return found[0] if found else pin
        return pin

    def unpin(self, principal: Principal, room_id: str, message_id: str) -> None:
        room, actor = self._changing(principal, room_id)
        authz.require(actor, Act.PIN, room.kind)
        rules.require_not_archived(room)
        mid = check_message_id(message_id)
        entry = self._audit_entry(room.room_id, principal.user_id, Act.PIN, message_id=mid)
        entry = attrs.evolve(entry, detail="unpinned")
        if self.moderation.unpin(room.room_id, mid, entry) is None:
            raise NotFound("that message is not pinned")

    def pins(self, principal: Principal, room_id: str) -> list[Pin]:
        """The room's pins, newest first: for anyone who may read the room."""
        room, _ = self._readable_room(principal, room_id)
        now_s = self.clock.now_ms() / 1000
        return [
            p for p in self.moderation.pins(room.room_id) if not retention.pin_expired(p, now_s)
        ]

    def audit_log(
        self, principal: Principal, room_id: str, cursor: str | None, limit: int | None
    ) -> AuditPage:
        """The room's audit log, newest first (Act.MODERATE: admins and owners)."""
        room, actor = self._acting(principal, room_id)
        authz.require(actor, Act.MODERATE, room.kind)
        size = rules.clean_page_size(limit, self.limits)
        before = decode_cursor(cursor, room.room_id) if cursor else None
        found = self.moderation.audit_page(room.room_id, before, size + 1)
        page = found[:size]
        more = len(found) > size
        next_cursor = encode_cursor(room.room_id, page[-1].entry_id) if more else None
        return AuditPage(entries=tuple(page), next_cursor=next_cursor)
