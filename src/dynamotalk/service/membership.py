"""Membership: joining, leaving, inviting and removing members, and handing a room over."""

from __future__ import annotations

from dynamotalk.domain import bot, rules
from dynamotalk.domain.errors import Forbidden, NotFound
from dynamotalk.domain.models import Invite, Membership, Principal, Role, Room, RoomKind
from dynamotalk.domain.user_limits import Action
from dynamotalk.service.access import Access
from dynamotalk.service.core import check_id


class Members(Access):
    def join_room(self, principal: Principal, room_id: str) -> Membership:
        """Anyone may join a public room; joining twice is harmless. Joining a room one is
        invited to accepts the invite."""
        self._limit(principal.user_id, Action.JOIN)
        room = self._room(room_id)
        existing = self.rooms.member(room.room_id, principal.user_id)
        if existing is not None:
            return existing
        if self.rooms.invite(room.room_id, principal.user_id, self.clock.now_ms() // 1000):
            return self.accept_invite(principal, room.room_id)
        if room.kind is not RoomKind.PUBLIC:
            raise NotFound(rules.NO_SUCH_ROOM)
        self._require_room_slot(principal.user_id)
        membership = Membership(room.room_id, principal.user_id, Role.MEMBER, self.clock.now_ms())
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
        if membership.role is Role.OWNER:
            self._hand_over(room)

    def invite(self, principal: Principal, room_id: str, user_id: str) -> Membership | Invite:
        """Owners invite people to private rooms; any member may invite people to a public room.

        The invitee is not a member until they accept (a pending Invite is returned); only the
        bot, which is not a person, joins at once. An invite to someone who blocked the caller
        is dropped silently: the caller gets the same pending answer.
        """
        self._limit(principal.user_id, Action.INVITE)
        room = self._room(room_id)
        actor = rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        if room.kind is RoomKind.DIRECT:
            raise Forbidden("a direct room has exactly two members")
        if room.kind is RoomKind.PRIVATE:
            rules.require_owner(actor)
        if self.users.get(check_id(user_id, "userId")) is None:
            raise NotFound("no such user")
        existing = self.rooms.member(room.room_id, user_id)
        if existing is not None:
            return existing
        if user_id == bot.BOT.user_id:
            membership = Membership(room.room_id, user_id, Role.MEMBER, self.clock.now_ms())
            self.rooms.add_member(membership)
            return membership
        return self._offer_invite(principal, room, user_id, quiet=False)

    def remove_member(self, principal: Principal, room_id: str, user_id: str) -> None:
        """Owners remove members; removing yourself is leaving."""
        if user_id == principal.user_id:
            self.leave_room(principal, room_id)
            return
        room = self._room(room_id)
        actor = rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        if room.kind is RoomKind.DIRECT:
            raise Forbidden("a direct room has exactly two members")
        rules.require_owner(actor)
        if self.rooms.member(room.room_id, user_id) is None:
            # Removing someone still invited withdraws the invite.
            if self.rooms.remove_invite(room.room_id, user_id):
                return
            raise NotFound("that user is not a member of this room")
        self._remove(room, user_id)

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
        """An owner left: the longest-standing remaining member owns the room. With nobody
        left, the room stays empty (archived) and its pending invites are withdrawn, so no
        room is ever left with members and no owner."""
        members = self.rooms.members(room.room_id)
        if any(m.role is Role.OWNER for m in members):
            return
        people = [m for m in members if m.user_id != bot.BOT.user_id]
        if people:
            heir = min(people, key=lambda m: (m.joined_at, m.user_id))
            self.rooms.set_role(room.room_id, heir.user_id, Role.OWNER)
            return
        for invite in self.rooms.invites_to(room.room_id, self.clock.now_ms() // 1000):
            self.rooms.remove_invite(room.room_id, invite.user_id)
