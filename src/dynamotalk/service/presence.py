"""Presence and live subscriptions: connecting, following rooms, who is online."""

from __future__ import annotations

from collections.abc import Sequence

from dynamotalk.domain import rules
from dynamotalk.domain.errors import InvalidInput, NotFound, RateLimited
from dynamotalk.domain.limits import MAX_ROOM_IDS
from dynamotalk.domain.models import (
    Connection,
    Membership,
    PresenceEntry,
    Principal,
    Room,
    RoomKind,
    Subscription,
)
from dynamotalk.domain.user_limits import CONNECTIONS_RETRY_AFTER_MS, Action
from dynamotalk.service.core import check_id
from dynamotalk.service.fanout import Fanout


class Presence(Fanout):
    def connect(
        self, connection_id: str, principal: Principal, session_expires_at: int | None = None
    ) -> Connection:
        """Register a new WebSocket connection; within the per-user connection cap.
        `session_expires_at`: the token's `exp`, when the session ends (service/sessions.py)."""
        now = self.clock.now_ms()
        connection = Connection(
            connection_id=check_id(connection_id, "connectionId"),
            user_id=principal.user_id,
            username=principal.username,
            connected_at=now,
            expires_at=now // 1000 + self.limits.connection_ttl_seconds,
            session_expires_at=session_expires_at,
        )
        self.ensure_user(principal)
        self.connections.register(connection)
        live = self.connections.connections_of_user(principal.user_id, now // 1000)
        if self.limiter is not None and len(live) > self.user_limits.connections_per_user:
            # Counted after registering, with the query $connect makes anyway: racing connects
            # each see the others, so the cap is never exceeded (it may refuse one too many).
            self.connections.unregister(connection_id)
            raise RateLimited(
                f"at most {self.user_limits.connections_per_user} connections per user",
                retry_after_ms=CONNECTIONS_RETRY_AFTER_MS,
            )
        # No presence fan-out here: a connection announces the user online in the rooms it
        # subscribes to (at most 100 per frame), so $connect costs the same in 1 or 500 rooms.
        return connection

    def disconnect(self, connection_id: str) -> None:
        """Forget a connection; when it was the user's last one, set lastSeen and go offline
        in the rooms this connection followed."""
        now = self.clock.now_ms()
        followed = self.connections.rooms_of_connection(
            check_id(connection_id, "connectionId"), now // 1000
        )
        gone = self.connections.unregister(connection_id)
        if gone is None:
            return
        if not self.connections.connections_of_user(gone.user_id, now // 1000):
            self.users.set_last_seen(gone.user_id, now)
            self._announce_presence(gone.user_id, gone.username, False, now, followed)

    def presence(self, principal: Principal, room_id: str) -> list[PresenceEntry]:
        """Members of a room with online state (>= 1 live connection) and lastSeen: for the
        room's members only (presence never reaches someone who shares no room)."""
        room = self._room(room_id)
        rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        now_s = self.clock.now_ms() // 1000
        members = self.rooms.members(room.room_id)
        profiles = {u.user_id: u for u in self.users.get_many([m.user_id for m in members])}
        entries = []
        # A direct room shows the other member only once both took part (_direct_consented).
        shared = room.kind is not RoomKind.DIRECT or self._direct_consented(room.room_id)
        for member in members:
            profile = profiles.get(member.user_id)
            if not shared and member.user_id != principal.user_id:
                name = profile.username if profile else member.user_id
                entries.append(PresenceEntry(member.user_id, name, False, None))
                continue
            online = bool(self.connections.connections_of_user(member.user_id, now_s))
            entries.append(
                PresenceEntry(
                    user_id=member.user_id,
                    username=profile.username if profile else member.user_id,
                    online=online,
                    last_seen=profile.last_seen if profile else None,
                )
            )
        return entries

    def subscribe(
        self, principal: Principal, connection_id: str, room_ids: Sequence[str]
    ) -> list[str]:
        """Follow rooms' live events on one connection; all or nothing."""
        if not room_ids or len(room_ids) > MAX_ROOM_IDS:
            raise InvalidInput(f"roomIds must list 1..{MAX_ROOM_IDS} rooms")
        self._limit(principal.user_id, Action.TYPING)  # shares typing's limit (PROTOCOL.md)
        unique = list(dict.fromkeys(check_id(room_id, "roomId") for room_id in room_ids))
        # Two batch reads for up to 100 rooms (rooms, then the caller's memberships of them).
        found = {room.room_id: room for room in self.rooms.get_many(unique)}
        mine = {m.room_id: m for m in self.rooms.memberships_in(principal.user_id, unique)}
        readable: list[tuple[Room, Membership | None]] = []
        for room_id in unique:
            room = found.get(room_id)
            if room is None:
                raise NotFound(rules.NO_SUCH_ROOM)
            rules.require_read(room, mine.get(room_id))
            readable.append((room, mine.get(room_id)))
        rooms = [room for room, _ in readable]
        now_s = self.clock.now_ms() // 1000
        followed = set(self.connections.rooms_of_connection(connection_id, now_s))
        expires_at = self.clock.now_ms() // 1000 + self.limits.connection_ttl_seconds
        self.connections.subscribe_many(
            [Subscription(connection_id, r.room_id, principal.user_id, expires_at) for r in rooms]
        )
        # Presence is announced where the user follows a room they are a member of: bounded by
        # this frame's 100 rooms, whatever the number of rooms the user is in.
        # A room this connection already follows has heard it online: not announced again.
        member_of = [
            room.room_id
            for room, membership in readable
            if membership is not None and room.room_id not in followed
        ]
        closed = frozenset(
            room.room_id
            for room, membership in readable
            if membership is not None and room.kind is not RoomKind.PUBLIC
        )
        self._announce_presence(
            principal.user_id, principal.username, True, None, member_of, closed
        )
        return [room.room_id for room in rooms]

    def unsubscribe(
        self, principal: Principal, connection_id: str, room_ids: Sequence[str]
    ) -> list[str]:
        if not room_ids or len(room_ids) > MAX_ROOM_IDS:
            raise InvalidInput(f"roomIds must list 1..{MAX_ROOM_IDS} rooms")
        self._limit(principal.user_id, Action.TYPING)  # shares typing's limit (PROTOCOL.md)
        unique = list(dict.fromkeys(check_id(r, "roomId") for r in room_ids))
        for room_id in unique:
            self.connections.unsubscribe(connection_id, room_id)
        return unique
