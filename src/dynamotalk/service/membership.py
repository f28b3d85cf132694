"""Membership: joining, leaving, inviting and removing members, and handing a room over."""

from __future__ import annotations

import attrs

from dynamotalk.domain import authz, bot, rules
from dynamotalk.domain.authz import Act
from dynamotalk.domain.errors import Forbidden, NotFound
from dynamotalk.domain.models import Invite, Membership, Principal, Role, Room, RoomKind
from dynamotalk.domain.user_limits import Action
from dynamotalk.service.core import check_id
from dynamotalk.service.moderation import Audited

BANNED = "you are banned from this room"


class Members(Audited):
    def join_room(self, principal: Principal, room_id: str) -> Membership:
        """Anyone may join a public room; joining twice is harmless. Joining a room one is
        invited to accepts the invite. Nobody joins an archived room, nor one they are banned
        from (a room they may not see answers 404 as ever); a mute still running is kept."""
        self._limit(principal.user_id, Action.JOIN)
        room = self._room(room_id)
        existing = self.rooms.member(room.room_id, principal.user_id)
        if existing is not None:
            return existing
        invited = self.rooms.invite(room.room_id, principal.user_id, self.clock.now_ms() // 1000)
        if room.kind is not RoomKind.PUBLIC and invited is None:
            raise NotFound(rules.NO_SUCH_ROOM)
        ban, muted_until = self.moderation.sanctions(room.room_id, principal.user_id)
        if ban is not None:
            raise Forbidden(BANNED)
        rules.require_not_archived(room)
        if invited is not None:
            return self.accept_invite(principal, room.room_id)
        self._require_room_slot(principal.user_id)
        now = self.clock.now_ms()
        membership = Membership(room.room_id, principal.user_id, Role.MEMBER, now)
        if muted_until is not None and muted_until > now:
            membership = attrs.evolve(membership, muted_until=muted_until)
        self.ensure_user(principal)
        self.rooms.add_member(membership)
        return membership

    def leave_room(self, principal: Principal, room_id: str) -> None:
        room = self._room(room_id)
        membership = rules.require_member_of(
            room, self.rooms.member(room.room_id, principal.user_id)
        )
        if room.kind is RoomKind.DIRECT:
            raise Forbidden("a direct room cannot be left")
        self._remove(room, principal.user_id)
        if authz.keeps_room(membership.role):
            self._hand_over(room)

    def invite(self, principal: Principal, room_id: str, user_id: str) -> Membership | Invite:
        """Who may invite is the table's (Act.INVITE: any member of a public room, admins of a
        private one, nobody in a direct room); nobody invites to an archived room.

        The invitee is not a member until they accept (a pending Invite is returned); only the
        bot, which is not a person, joins at once. An invite to someone who blocked the caller,
        or who is banned from the room, is dropped silently: the caller gets the same pending
        answer.
        """
        self._limit(principal.user_id, Action.INVITE)
        room = self._room(room_id)
        actor = rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        authz.require(actor, Act.INVITE, room.kind)
        rules.require_not_archived(room)
        if self.users.get(check_id(user_id, "userId")) is None:
            raise NotFound("no such user")
        existing = self.rooms.member(room.room_id, user_id)
        if existing is not None:
            return existing
        if self._banned(room.room_id, user_id):
            return self._new_invite(principal, room, user_id)  # a banned invitee: nothing stored
        if user_id == bot.BOT.user_id:
            membership = Membership(room.room_id, user_id, Role.MEMBER, self.clock.now_ms())
            self.rooms.add_member(membership)
            return membership
        return self._offer_invite(principal, room, user_id, quiet=False)

    def remove_member(self, principal: Principal, room_id: str, user_id: str) -> None:
        """Kick: a moderator or above removes a member they outrank (Act.REMOVE), whose live
        subscriptions to the room end at once; it goes in the audit log. Removing yourself is
        leaving."""
        if user_id == principal.user_id:
            self.leave_room(principal, room_id)
            return
        room = self._room(room_id)
        actor = rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        authz.require(actor, Act.REMOVE, room.kind)
        target = self.rooms.member(room.room_id, check_id(user_id, "userId"))
        if target is None:
            # Removing someone still invited withdraws the invite.
            if self.rooms.remove_invite(room.room_id, user_id):
                return
            raise NotFound("that user is not a member of this room")
        authz.require_over(actor, Act.REMOVE, room.kind, target)
        self._remove(room, user_id)
        self._audit(room.room_id, principal.user_id, Act.REMOVE, user_id=user_id)

    def _remove(self, room: Room, user_id: str) -> None:
        left = self.rooms.remove_member(room.room_id, user_id)
        # A former member stops receiving the room's live events at once: every subscription
        # of their live connections to it ends, and they are told with the change itself (the
        # room hears of it from the feed, where it may reach them too: the same seq, once).
        now_s = self.clock.now_ms() // 1000
        own = [c.connection_id for c in self.connections.connections_of_user(user_id, now_s)]
        for connection_id in own:
            self.connections.unsubscribe(connection_id, room.room_id)
        if own and left is not None:
            self._forget_gone(self.notifier.send(own, left))

    def _hand_over(self, room: Room) -> None:
        """An owner left: unless another owner remains, the remaining member of highest role
        who has been there longest owns the room. With nobody left, the room stays empty and
        its pending invites are withdrawn, so no room is ever left with members and no owner."""
        members = self.rooms.members(room.room_id)
        if any(authz.keeps_room(m.role) for m in members):
            return
        people = [m for m in members if m.user_id != bot.BOT.user_id]
        if people:
            heir = min(people, key=lambda m: (-m.role.rank, m.joined_at, m.user_id))
            self.rooms.set_role(room.room_id, heir.user_id, Role.OWNER)
            return
        for invite in self.rooms.invites_to(room.room_id, self.clock.now_ms() // 1000):
            self.rooms.remove_invite(room.room_id, invite.user_id)
