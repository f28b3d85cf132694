"""Consent: pending invites, blocks, and the room cap that accepting an invite must respect."""

from __future__ import annotations

from dynamotalk.domain import blocking, rules
from dynamotalk.domain.errors import Conflict, InvalidInput, NotFound
from dynamotalk.domain.events import InviteReceived
from dynamotalk.domain.models import Block, Invite, Membership, Principal, Role, Room, RoomKind
from dynamotalk.service.core import check_id
from dynamotalk.service.fanout import Fanout


class Access(Fanout):
    def _require_room_slot(self, user_id: str) -> None:
        """Refuse when the user already holds limits.max_rooms_per_user rooms. Pending invites
        do not count: others' invites never stop a user creating, joining or accepting."""
        cap = self.limits.max_rooms_per_user
        if self.rooms.count_rooms(user_id, cap) >= cap:
            raise Conflict(f"at most {cap} rooms per user: leave a room first")

    def _invites_full(self, user_id: str) -> bool:
        """Whether the user already holds limits.max_pending_invites pending invites."""
        cap = self.limits.max_pending_invites
        return self.rooms.count_invites(user_id, self.clock.now_ms() // 1000, cap) >= cap

    def _new_invite(self, principal: Principal, room: Room, user_id: str) -> Invite:
        """An invite from the caller to `user_id`, as of now (not stored)."""
        now = self.clock.now_ms()
        return Invite(
            room_id=room.room_id,
            user_id=user_id,
            invited_by=principal.user_id,
            inviter_name=principal.username,
            room_name=room.name,
            room_kind=room.kind,
            invited_at=now,
            expires_at=now // 1000 + self.limits.invite_ttl_seconds,
        )

    def _offer_invite(self, principal: Principal, room: Room, user_id: str, quiet: bool) -> Invite:
        """Store a pending invite and tell the invitee's live connections.

        Blocked inviters get the same answer as anyone else and nothing is stored. An invitee
        already holding limits.max_pending_invites invites, or at the room cap, gets nothing
        more and the inviter the same pending answer (nothing to probe: full, blocked and
        stored look alike); the invitee declines some (or all) to receive new ones.
        """
        invite = self._new_invite(principal, room, user_id)
        now = invite.invited_at
        if self.rooms.is_blocked(principal.user_id, by_user_id=user_id):
            return invite
        pending = self.rooms.invite(room.room_id, user_id, now // 1000)
        if pending is not None:
            return pending
        if self._invites_full(user_id):
            return invite
        if self.rooms.add_invite(invite):
            targets = [
                c.connection_id for c in self.connections.connections_of_user(user_id, now // 1000)
            ]
            if targets:
                self.notifier.send(targets, InviteReceived(invite))
        return invite

    def invites(self, principal: Principal) -> list[Invite]:
        """The caller's pending invites, oldest first."""
        found = self.rooms.invites_of(principal.user_id, self.clock.now_ms() // 1000)
        return sorted(found, key=lambda i: (i.invited_at, i.room_id))

    def _pending(self, principal: Principal, room_id: str) -> Invite:
        invite = self.rooms.invite(
            check_id(room_id, "roomId"), principal.user_id, self.clock.now_ms() // 1000
        )
        if invite is None:
            raise NotFound("no such invite")
        return invite

    def accept_invite(self, principal: Principal, room_id: str) -> Membership:
        """Become a member of the room one is invited to, within the room cap. An invite whose
        sender is no longer a member of the room is void (404) and withdrawn."""
        invite = self._pending(principal, room_id)
        room = self.rooms.get(invite.room_id)
        inviter = None if room is None else self.rooms.member(room.room_id, invite.invited_by)
        if room is None or inviter is None:
            self.rooms.remove_invite(invite.room_id, principal.user_id)
            raise NotFound("no such invite")
        rules.require_not_archived(room)  # an invite from before the archive waits for it to end
        existing = self.rooms.member(room.room_id, principal.user_id)
        if existing is not None:
            self.rooms.remove_invite(room.room_id, principal.user_id)
            return existing
        self._require_room_slot(principal.user_id)
        self.ensure_user(principal)
        membership = Membership(room.room_id, principal.user_id, Role.MEMBER, self.clock.now_ms())
        if not self.rooms.accept_invite(invite, membership):
            raise NotFound("no such invite")
        return membership

    def decline_invite(self, principal: Principal, room_id: str) -> None:
        invite = self._pending(principal, room_id)
        self.rooms.remove_invite(invite.room_id, principal.user_id)

    def decline_all_invites(self, principal: Principal) -> int:
        """Decline every pending invite of the caller at once; returns how many."""
        found = self.rooms.invites_of(principal.user_id, self.clock.now_ms() // 1000)
        return sum(1 for i in found if self.rooms.remove_invite(i.room_id, principal.user_id))

    def block_inviter(self, principal: Principal, room_id: str) -> str:
        """Decline an invite and drop, silently and for good, every invite from its sender
        (their other pending invites to the caller included). Returns the blocked user id."""
        invite = self._pending(principal, room_id)
        self.block_user(principal, invite.invited_by)
        self.rooms.remove_invite(invite.room_id, principal.user_id)
        return invite.invited_by

    def block_user(self, principal: Principal, user_id: str) -> str:
        """Block a user without an invite: their invites are dropped (pending ones withdrawn),
        and they can neither open a direct room with the caller nor post in one (404).
        Whether `user_id` exists is not checked, so the answer reveals nothing."""
        blocked = check_id(user_id, "userId")
        if blocked == principal.user_id:
            raise InvalidInput("you cannot block yourself")
        self.rooms.block(principal.user_id, blocked, self.clock.now_ms())
        for other in self.rooms.invites_of(principal.user_id, self.clock.now_ms() // 1000):
            if other.invited_by == blocked:
                self.rooms.remove_invite(other.room_id, principal.user_id)
        return blocked

    def _require_not_blocked_in_direct(self, principal: Principal, room: Room) -> None:
        """In a direct room, a user the other member blocked is answered as for no room."""
        if room.kind is not RoomKind.DIRECT or room.direct_pair is None:
            return
        other = next((u for u in room.direct_pair if u != principal.user_id), None)
        if other is not None and self.rooms.is_blocked(principal.user_id, by_user_id=other):
            raise NotFound(rules.NO_SUCH_ROOM)

    def unblock(self, principal: Principal, user_id: str) -> None:
        self.rooms.unblock(principal.user_id, check_id(user_id, "userId"))

    def blocks(self, principal: Principal) -> list[Block]:
        """Everyone the caller blocked (one Query): only the caller ever sees their list."""
        return [] if self.block_list is None else self.block_list.blocks_of(principal.user_id)

    def _hidden_authors(self, principal: Principal) -> frozenset[str]:
        """The authors whose messages the caller reads as stubs (domain/blocking.py): the
        users the caller blocked. One Query per read of history, sync or changes."""
        return blocking.blocked_ids(self.blocks(principal))
