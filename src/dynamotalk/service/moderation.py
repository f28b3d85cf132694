"""Moderation's shared half: the checks every write to a room passes (archived, the permission
table, mute, slow mode) and the room's audit log (issue 17).

`require_may_write` is what post, edit and react call first; `Audited._audit` is the one way a
moderation action is written to the audit log (reports call it too). The use cases (roles,
settings, mutes, bans, pins, reading the log) are in service/moderating.py.
"""

from __future__ import annotations

import attrs

from dynamotalk.domain import authz, rules
from dynamotalk.domain.authz import Act
from dynamotalk.domain.errors import Forbidden, Muted, SlowMode
from dynamotalk.domain.models import AuditEntry, Membership, Message, Principal, Room
from dynamotalk.service.access import Access
from dynamotalk.service.core import ChatCore


def require_may_write(
    core: ChatCore, principal: Principal, room: Room, act: Act, slow: bool = False
) -> Membership:
    """The caller's membership if they may `act` (post, react) in the room now: a member (a
    hidden room answers 404 like a missing one), the room not archived, the table allowing it,
    not muted, and with `slow` (a new post) the slow mode turn taken, atomically, unless their
    role is exempt. Refusals: forbidden, room_archived, muted and slow_mode (both with
    retryAfterMs)."""
    membership = rules.require_member_of(room, core.rooms.member(room.room_id, principal.user_id))
    rules.require_not_archived(room)
    authz.require(membership, act, room.kind)
    now = core.clock.now_ms()
    if membership.muted_until is not None and membership.muted_until > now:
        raise Muted("you are muted in this room", retry_after_ms=membership.muted_until - now)
    if (
        slow
        and room.slow_mode_seconds > 0
        and not authz.may(membership.role, Act.SLOW_MODE_EXEMPT, room.kind)
    ):
        wait = core.moderation.take_slow_turn(
            room.room_id, principal.user_id, now, room.slow_mode_seconds * 1000
        )
        if wait > 0:
            raise SlowMode(
                f"slow mode: one message every {room.slow_mode_seconds} s in this room",
                retry_after_ms=wait,
            )
    return membership


def require_may_delete(
    core: ChatCore, room: Room, membership: Membership, message: Message
) -> str | None:
    """Who deletes `message` for the record: None for its author; the caller when they may
    delete others' messages (Act.DELETE_OTHERS) and outrank the author, or the author left."""
    if message.author_id == membership.user_id:
        return None
    authz.require(membership, Act.DELETE_OTHERS, room.kind)
    author = core.rooms.member(room.room_id, message.author_id)
    if author is not None and not authz.outranks(membership.role, author.role):
        raise Forbidden(f"a {membership.role} cannot delete a {author.role}'s message")
    return membership.user_id


def after_delete(core: ChatCore, room: Room, principal: Principal, deleted: Message) -> None:
    """A moderator's delete goes in the audit log; a deleted message is unpinned."""
    if deleted.deleted_by is not None:
        write_audit(
            core,
            room.room_id,
            principal.user_id,
            Act.DELETE_OTHERS,
            user_id=deleted.author_id,
            message_id=deleted.message_id,
        )
    if any(p.message_id == deleted.message_id for p in core.moderation.pins(room.room_id)):
        core.moderation.unpin(room.room_id, deleted.message_id, None)


def new_audit_entry(
    core: ChatCore,
    room_id: str,
    actor_id: str,
    act: Act,
    *,
    user_id: str | None = None,
    message_id: str | None = None,
    detail: str = "",
) -> AuditEntry:
    """An entry of the room's audit log (newest first by its ULID), not yet written: the
    stores that change the room write it with the change."""
    now = core.clock.now_ms()
    return AuditEntry(
        room_id=room_id,
        entry_id=core.ids.new_id(now),
        actor_id=actor_id,
        action=act.value,
        at=now,
        target_user_id=user_id,
        target_message_id=message_id,
        detail=detail,
    )


def write_audit(
    core: ChatCore,
    room_id: str,
    actor_id: str,
    act: Act,
    *,
    user_id: str | None = None,
    message_id: str | None = None,
    detail: str = "",
) -> AuditEntry:
    """Write an audit entry on its own (one PutItem), for a use case outside Audited's
    classes; `Audited._audit` is the same."""
    entry = new_audit_entry(
        core, room_id, actor_id, act, user_id=user_id, message_id=message_id, detail=detail
    )
    core.moderation.add_audit(entry)
    return entry


class Audited(Access):
    def _audit_entry(
        self,
        room_id: str,
        actor_id: str,
        act: Act,
        *,
        user_id: str | None = None,
        message_id: str | None = None,
        detail: str = "",
    ) -> AuditEntry:
        return new_audit_entry(
            self, room_id, actor_id, act, user_id=user_id, message_id=message_id, detail=detail
        )

    def _audit(
        self,
        room_id: str,
        actor_id: str,
        act: Act,
        *,
        user_id: str | None = None,
        message_id: str | None = None,
        detail: str = "",
    ) -> AuditEntry:
        """Write an audit entry on its own, right after a change stored without it (a kick, a
        role change, a moderator's delete, a report's resolution): one PutItem."""
        return write_audit(
            self, room_id, actor_id, act, user_id=user_id, message_id=message_id, detail=detail
        )

    def _banned(self, room_id: str, user_id: str) -> bool:
        ban, _ = self.moderation.sanctions(room_id, user_id)
        return ban is not None

    def _carry_mute(self, membership: Membership) -> Membership:
        """A new membership keeps a mute still running in the room (leaving lifts none)."""
        _, until = self.moderation.sanctions(membership.room_id, membership.user_id)
        if until is not None and until > self.clock.now_ms():
            return attrs.evolve(membership, muted_until=until)
        return membership

    def _close_only_room(self, room_id: str, user_id: str) -> list[str]:
        """The user's live connections whose only subscription is this room (a ban closes
        them with DeleteConnection once they are told)."""
        now_s = self.clock.now_ms() // 1000
        return [
            c.connection_id
            for c in self.connections.connections_of_user(user_id, now_s)
            if self.connections.rooms_of_connection(c.connection_id, now_s) == [room_id]
        ]
