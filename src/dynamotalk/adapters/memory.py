"""In-memory implementations of every port: for unit tests and `dynamotalk dev --in-memory`.

They keep the exact promises of ports.py (the same contract suite runs against them and the
DynamoDB adapters), and a lock per store so the local gateway's threads can share them.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence

import attrs

from dynamotalk.domain.errors import NotFound, Unauthorized
from dynamotalk.domain.events import Event
from dynamotalk.domain.ids import encode_ulid
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import (
    Connection,
    Invite,
    Membership,
    Message,
    Principal,
    Role,
    Room,
    RoomKind,
    SendReport,
    Subscription,
    UploadForm,
    User,
)
from dynamotalk.domain.rules import check_reaction_caps


@attrs.define
class MemoryMessageStore:
    _messages: dict[str, dict[str, Message]] = attrs.Factory(dict)
    _order: dict[str, list[str]] = attrs.Factory(dict)
    """Per room, message ids kept sorted (ids are time-ordered)."""
    _claims: dict[tuple[str, str, str], str] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def append(self, message: Message) -> tuple[Message, bool]:
        claim = (message.room_id, message.author_id, message.client_id)
        with self._lock:
            existing = self._claims.get(claim)
            if existing is not None:
                return self._messages[message.room_id][existing], False
            self._claims[claim] = message.message_id
            self._messages.setdefault(message.room_id, {})[message.message_id] = message
            bisect.insort(self._order.setdefault(message.room_id, []), message.message_id)
            return message, True

    def get(self, room_id: str, message_id: str) -> Message | None:
        with self._lock:
            return self._messages.get(room_id, {}).get(message_id)

    def _replace(self, message: Message) -> Message:
        self._messages[message.room_id][message.message_id] = message
        return message

    def _live(self, room_id: str, message_id: str) -> Message:
        message = self._messages.get(room_id, {}).get(message_id)
        if message is None or message.deleted:
            raise NotFound("no such message")
        return message

    def edit(self, room_id: str, message_id: str, text: str, edited_at: int) -> Message:
        with self._lock:
            message = self._live(room_id, message_id)
            return self._replace(attrs.evolve(message, text=text, edited_at=edited_at))

    def soft_delete(self, room_id: str, message_id: str, deleted_at: int) -> Message:
        with self._lock:
            message = self._messages.get(room_id, {}).get(message_id)
            if message is None:
                raise NotFound("no such message")
            if message.deleted:
                return message
            return self._replace(
                attrs.evolve(message, text="", attachments=(), reactions={}, deleted_at=deleted_at)
            )

    def set_reaction(
        self, room_id: str, message_id: str, emoji: str, user_id: str, on: bool, limits: Limits
    ) -> Message:
        with self._lock:
            message = self._live(room_id, message_id)
            reactions = dict(message.reactions)
            users = set(reactions.get(emoji, frozenset()))
            if on and user_id not in users:
                check_reaction_caps(message, emoji, user_id, limits)
                users.add(user_id)
            elif on:
                return message
            else:
                users.discard(user_id)
            if users:
                reactions[emoji] = frozenset(users)
            else:
                reactions.pop(emoji, None)
            return self._replace(attrs.evolve(message, reactions=reactions))

    def before(self, room_id: str, before_id: str | None, limit: int) -> list[Message]:
        with self._lock:
            order = self._order.get(room_id, [])
            end = len(order) if before_id is None else bisect.bisect_left(order, before_id)
            ids = order[max(0, end - limit) : end]
            return [self._messages[room_id][i] for i in reversed(ids)]

    def after(self, room_id: str, after_id: str | None, limit: int) -> list[Message]:
        with self._lock:
            order = self._order.get(room_id, [])
            start = 0 if after_id is None else bisect.bisect_right(order, after_id)
            return [self._messages[room_id][i] for i in order[start : start + limit]]

    def count_after(self, room_id: str, after_id: str | None, cap: int) -> int:
        with self._lock:
            order = self._order.get(room_id, [])
            start = 0 if after_id is None else bisect.bisect_right(order, after_id)
            return min(cap, len(order) - start)


@attrs.define
class MemoryRoomStore:
    _rooms: dict[str, Room] = attrs.Factory(dict)
    _members: dict[str, dict[str, Membership]] = attrs.Factory(dict)
    _invites: dict[tuple[str, str], Invite] = attrs.Factory(dict)
    """(room id, invitee) -> pending invite."""
    _blocks: set[tuple[str, str]] = attrs.Factory(set)
    """(user, blocked user)."""
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def create(self, room: Room, members: Sequence[Membership]) -> bool:
        with self._lock:
            if room.room_id in self._rooms:
                return False
            self._rooms[room.room_id] = room
            self._members[room.room_id] = {m.user_id: m for m in members}
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
            return True

    def remove_member(self, room_id: str, user_id: str) -> bool:
        with self._lock:
            return self._members.get(room_id, {}).pop(user_id, None) is not None

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

    def mark_read(self, room_id: str, user_id: str, message_id: str) -> None:
        with self._lock:
            members = self._members.get(room_id, {})
            current = members.get(user_id)
            if current is None:
                return
            if current.last_read_id is None or current.last_read_id < message_id:
                members[user_id] = attrs.evolve(current, last_read_id=message_id)

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
            if user_id in members:
                members[user_id] = attrs.evolve(members[user_id], role=role)

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
            self._members.setdefault(membership.room_id, {})[membership.user_id] = membership
            return True

    def block(self, user_id: str, blocked_user_id: str, at: int) -> None:
        with self._lock:
            self._blocks.add((user_id, blocked_user_id))

    def unblock(self, user_id: str, blocked_user_id: str) -> None:
        with self._lock:
            self._blocks.discard((user_id, blocked_user_id))

    def is_blocked(self, user_id: str, by_user_id: str) -> bool:
        with self._lock:
            return (by_user_id, user_id) in self._blocks


@attrs.define
class MemoryUserStore:
    _users: dict[str, User] = attrs.Factory(dict)
    _names: dict[str, str] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def get(self, user_id: str) -> User | None:
        with self._lock:
            return self._users.get(user_id)

    def get_many(self, user_ids: Sequence[str]) -> list[User]:
        with self._lock:
            return [self._users[u] for u in dict.fromkeys(user_ids) if u in self._users]

    def put(self, user: User) -> bool:
        with self._lock:
            self._users[user.user_id] = user
            holder = self._names.setdefault(user.username.casefold(), user.user_id)
            return holder == user.user_id

    def by_username(self, username: str) -> User | None:
        with self._lock:
            user_id = self._names.get(username.casefold())
            return self._users.get(user_id) if user_id else None

    def set_last_seen(self, user_id: str, at: int) -> None:
        with self._lock:
            user = self._users.get(user_id)
            if user is not None:
                self._users[user_id] = attrs.evolve(user, last_seen=at)


@attrs.define
class MemoryConnectionRegistry:
    _connections: dict[str, Connection] = attrs.Factory(dict)
    _subscriptions: dict[str, dict[str, Subscription]] = attrs.Factory(dict)
    """room id -> connection id -> subscription."""
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def register(self, connection: Connection) -> None:
        with self._lock:
            self._connections[connection.connection_id] = connection

    def get(self, connection_id: str, now_s: int) -> Connection | None:
        with self._lock:
            connection = self._connections.get(connection_id)
        return connection if connection and connection.expires_at > now_s else None

    def _drop(self, connection_id: str) -> Connection | None:
        for subs in self._subscriptions.values():
            subs.pop(connection_id, None)
        return self._connections.pop(connection_id, None)

    def unregister(self, connection_id: str) -> Connection | None:
        with self._lock:
            return self._drop(connection_id)

    def unregister_many(self, connection_ids: Sequence[str]) -> None:
        with self._lock:
            for connection_id in connection_ids:
                self._drop(connection_id)

    def subscribe(self, subscription: Subscription) -> None:
        with self._lock:
            room = self._subscriptions.setdefault(subscription.room_id, {})
            room[subscription.connection_id] = subscription

    def subscribe_many(self, subscriptions: Sequence[Subscription]) -> None:
        for subscription in subscriptions:
            self.subscribe(subscription)

    def unsubscribe(self, connection_id: str, room_id: str) -> None:
        with self._lock:
            self._subscriptions.get(room_id, {}).pop(connection_id, None)

    def rooms_of_connection(self, connection_id: str, now_s: int) -> list[str]:
        with self._lock:
            return sorted(
                room_id
                for room_id, subs in self._subscriptions.items()
                if connection_id in subs and subs[connection_id].expires_at > now_s
            )

    def connections_in_room(self, room_id: str, now_s: int) -> list[Subscription]:
        with self._lock:
            subs = list(self._subscriptions.get(room_id, {}).values())
        return sorted((s for s in subs if s.expires_at > now_s), key=lambda s: s.connection_id)

    def connections_of_user(self, user_id: str, now_s: int) -> list[Connection]:
        with self._lock:
            found = [
                c
                for c in self._connections.values()
                if c.user_id == user_id and c.expires_at > now_s
            ]
        return sorted(found, key=lambda c: c.connection_id)


@attrs.define
class RecordingNotifier:
    """Records every send; connections listed in `gone` are reported gone (410)."""

    sent: list[tuple[tuple[str, ...], Event]] = attrs.Factory(list)
    gone: set[str] = attrs.Factory(set)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def send(self, connection_ids: Sequence[str], event: Event) -> SendReport:
        with self._lock:
            self.sent.append((tuple(connection_ids), event))
            gone = frozenset(c for c in connection_ids if c in self.gone)
        return SendReport(delivered=len(connection_ids) - len(gone), gone=gone)

    def events_for(self, connection_id: str) -> list[Event]:
        with self._lock:
            return [event for ids, event in self.sent if connection_id in ids]


@attrs.define
class StaticIdentity:
    """Token -> principal table; anything else is refused."""

    tokens: dict[str, Principal] = attrs.Factory(dict)

    def add(self, token: str, principal: Principal) -> None:
        self.tokens[token] = principal

    def verify(self, token: str) -> Principal:
        principal = self.tokens.get(token)
        if principal is None:
            raise Unauthorized("invalid token")
        return principal


@attrs.define
class MemoryAttachmentStore:
    objects: dict[str, int] = attrs.Factory(dict)
    """key -> size of what was 'uploaded' (`put`)."""
    referenced: set[str] = attrs.Factory(set)
    """Keys a message or profile has referenced (`mark_referenced`)."""

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> UploadForm:
        fields = {"key": key, "Content-Type": content_type}
        return UploadForm("memory://uploads", fields, key, max_bytes, expires_in)

    def put(self, key: str, size: int) -> None:
        self.objects[key] = size

    def download_url(self, key: str, expires_in: int) -> str:
        return f"memory://download/{key}"

    def size_of(self, key: str) -> int | None:
        return self.objects.get(key)

    def mark_referenced(self, key: str) -> None:
        self.referenced.add(key)


@attrs.define
class ManualClock:
    now: int = 1_700_000_000_000

    def now_ms(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@attrs.define
class SequentialIds:
    """Deterministic ULIDs: strictly increasing, embedding the given time."""

    _counter: int = 0
    _last: int = 0

    def new_id(self, now_ms: int) -> str:
        self._counter += 1
        value = max((now_ms << 80) | self._counter, self._last + 1)
        self._last = value
        return encode_ulid(value)
