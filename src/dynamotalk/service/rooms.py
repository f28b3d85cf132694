"""Rooms: creating them, opening direct rooms, and listing a user's rooms with unread counts."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from dynamotalk.domain import blocking, bot, rules
from dynamotalk.domain.cursor import decode_rooms_cursor, encode_rooms_cursor
from dynamotalk.domain.errors import InvalidInput, NotFound
from dynamotalk.domain.events import ReadMoved
from dynamotalk.domain.ids import direct_room_id
from dynamotalk.domain.limits import MAX_MEMBERS_AT_CREATION, UNREAD_CAP
from dynamotalk.domain.models import (
    Membership,
    Principal,
    Role,
    Room,
    RoomKind,
    RoomsPage,
    RoomSummary,
)
from dynamotalk.domain.user_limits import Action
from dynamotalk.service.core import check_id, check_message_id
from dynamotalk.service.moderating import Moderation
from dynamotalk.service.threads import threads_of


class Rooms(Moderation):
    def create_room(
        self,
        principal: Principal,
        name: str,
        kind: RoomKind,
        members: Sequence[str] = (),
    ) -> Room:
        """A public or private room owned by its creator, with optional first members."""
        if kind is RoomKind.DIRECT:
            raise InvalidInput("direct rooms are opened with open_direct, not created")
        clean_name = rules.clean_room_name(name, self.limits)
        invited = sorted({check_id(m, "member") for m in members} - {principal.user_id})
        if len(invited) > MAX_MEMBERS_AT_CREATION:
            raise InvalidInput(
                f"a room can be created with at most {MAX_MEMBERS_AT_CREATION} members"
            )
        self._limit(principal.user_id, Action.ROOM)
        if invited:
            self._limit(principal.user_id, Action.INVITE, amount=len(invited))
        found = {u.user_id for u in self.users.get_many(invited)}
        missing = [m for m in invited if m not in found]
        if missing:
            raise NotFound(f"no such user: {missing[0]}")
        self._require_room_slot(principal.user_id)
        now = self.clock.now_ms()
        room = Room(
            room_id=self.ids.new_id(now),
            name=clean_name,
            kind=kind,
            created_by=principal.user_id,
            created_at=now,
        )
        memberships = [Membership(room.room_id, principal.user_id, Role.OWNER, now)]
        # Only the bot joins at once (it is not a person); people get a pending invite.
        memberships += [
            Membership(room.room_id, m, Role.MEMBER, now) for m in invited if m == bot.BOT.user_id
        ]
        self.ensure_user(principal)
        self.rooms.create(room, memberships)
        for user_id in invited:
            if user_id != bot.BOT.user_id:
                self._offer_invite(principal, room, user_id, quiet=True)
        return room

    def get_room(self, principal: Principal, room_id: str) -> Room:
        room, _ = self._readable_room(principal, room_id)
        return room

    def public_rooms(self, principal: Principal, limit: int | None = None) -> list[Room]:
        return self.rooms.public_rooms(rules.clean_page_size(limit, self.limits))

    def members(self, principal: Principal, room_id: str) -> list[Membership]:
        room, _ = self._readable_room(principal, room_id)
        return self.rooms.members(room.room_id)

    def open_direct(self, principal: Principal, other_user_id: str) -> Room:
        """The one direct room between the caller and another user (created on first open)."""
        if other_user_id == principal.user_id:
            raise InvalidInput("a direct room needs another user")
        other = self.users.get(check_id(other_user_id, "userId"))
        if other is None or self.rooms.is_blocked(principal.user_id, by_user_id=other.user_id):
            # Blocked by the other user: the same answer as for nobody (the block stays hidden).
            raise NotFound("no such user")
        room_id = direct_room_id(principal.user_id, other.user_id)
        existing = self.rooms.get(room_id)
        if existing is not None:
            return existing
        self._require_room_slot(principal.user_id)
        self.ensure_user(principal)
        now = self.clock.now_ms()
        low, high = sorted((principal.user_id, other.user_id))
        names = sorted((principal.username, other.username))
        room = Room(
            room_id=room_id,
            name=" & ".join(names),
            kind=RoomKind.DIRECT,
            created_by=principal.user_id,
            created_at=now,
            direct_pair=(low, high),
        )
        members = [Membership(room_id, uid, Role.MEMBER, now) for uid in (low, high)]
        if not self.rooms.create(room, members):
            raced = self.rooms.get(room_id)
            if raced is None:  # pragma: no cover - the create said it exists
                raise NotFound("direct room vanished")
            return raced
        return attrs.evolve(room, member_count=len(members))  # as every later open answers

    def open_direct_by_username(self, principal: Principal, username: str) -> Room:
        self._limit(principal.user_id, Action.LOOKUP)
        other = self.users.by_username(username.strip())
        if other is None:
            raise NotFound("no such user")
        return self.open_direct(principal, other.user_id)

    def my_rooms(self, principal: Principal) -> list[RoomSummary]:
        """Every room of the caller, by name: in-process callers only (the bot, tests); the
        API pages with rooms_page, whose cost does not grow with the number of rooms."""
        memberships = {m.room_id: m for m in self.rooms.rooms_of(principal.user_id)}
        return self._summaries(memberships)

    def rooms_page(
        self, principal: Principal, cursor: str | None = None, limit: int | None = None
    ) -> RoomsPage:
        """One page of the caller's rooms in room id order, unread counts for this page only."""
        size = rules.clean_page_size(limit, self.limits)
        after = decode_rooms_cursor(cursor, principal.user_id) if cursor else None
        found = self.rooms.rooms_page(principal.user_id, after, size + 1)
        page = found[:size]
        summaries = self._summaries({m.room_id: m for m in page})
        summaries.sort(key=lambda s: s.room.room_id)
        more = len(found) > size
        next_cursor = encode_rooms_cursor(principal.user_id, page[-1].room_id) if more else None
        return RoomsPage(rooms=tuple(summaries), next_cursor=next_cursor)

    def _summaries(self, memberships: dict[str, Membership]) -> list[RoomSummary]:
        rooms = self.rooms.get_many(list(memberships))
        summaries = self._mentions_unblocked(
            [
                RoomSummary(
                    room=room,
                    membership=memberships[room.room_id],
                    unread=self.messages.count_after(
                        room.room_id, memberships[room.room_id].last_read_id, UNREAD_CAP
                    ),
                    unread_mentions=threads_of(self.messages).count_mentions(
                        room.room_id,
                        memberships[room.room_id].user_id,
                        memberships[room.room_id].last_read_id,
                        UNREAD_CAP,
                    ),
                )
                for room in rooms
            ]
        )
        return sorted(summaries, key=lambda s: (s.room.name.casefold(), s.room.room_id))

    def _mentions_unblocked(self, summaries: list[RoomSummary]) -> list[RoomSummary]:
        """Mentions by users the member blocked do not count: where a room has some, its
        count is taken again without them (the caller's blocks read once, only then)."""
        mentioned = [s for s in summaries if s.unread_mentions]
        if not mentioned or self.block_list is None:
            return summaries
        hidden = blocking.blocked_ids(self.block_list.blocks_of(mentioned[0].membership.user_id))
        if not hidden:
            return summaries
        return [
            attrs.evolve(
                s,
                unread_mentions=threads_of(self.messages).count_mentions(
                    s.room.room_id,
                    s.membership.user_id,
                    s.membership.last_read_id,
                    UNREAD_CAP,
                    hidden,
                ),
            )
            if s.unread_mentions
            else s
            for s in summaries
        ]

    def mark_read(self, principal: Principal, room_id: str, message_id: str) -> None:
        room = self._room(room_id)
        rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        # Only a message of this room (deleted or not) can be read; an id from the future would
        # hide every later message's unread count for good.
        message = self.messages.get(room.room_id, check_message_id(message_id))
        if message is None:
            raise NotFound("no such message")
        if self.rooms.mark_read(room.room_id, principal.user_id, message.message_id):
            # A read receipt, only when the marker moved: re-reading costs the room nothing.
            receipt = ReadMoved(room.room_id, principal.user_id, message.message_id, message.seq)
            self._to_members(room, receipt)
