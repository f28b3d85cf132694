"""ChatService: the use cases of the chat, the only entry to the core.

Every method takes the caller's Principal (proven by the identity provider at the edge), checks
the rules, talks to the ports and emits events to the room's subscribed connections. It raises
only ChatError subclasses for refusals; the entrypoints turn them into error frames or 4xx.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import attrs

from dynamotalk.domain import bot, rules
from dynamotalk.domain.cursor import decode_cursor, encode_cursor
from dynamotalk.domain.errors import Forbidden, InvalidInput, NotFound, TooLarge
from dynamotalk.domain.events import (
    Event,
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PresenceChanged,
    ReactionChanged,
    Typing,
)
from dynamotalk.domain.ids import direct_room_id, is_ulid
from dynamotalk.domain.models import (
    Attachment,
    Connection,
    HistoryPage,
    Membership,
    Message,
    PresenceEntry,
    Principal,
    Role,
    Room,
    RoomKind,
    RoomSummary,
    SendReport,
    Subscription,
    SyncResult,
    UploadForm,
    User,
)
from dynamotalk.ports import (
    AttachmentStore,
    BotJobs,
    Clock,
    ConnectionRegistry,
    IdGenerator,
    MessageStore,
    Notifier,
    RoomStore,
    UserStore,
)

_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_ID = 128
_MAX_CLIENT_ID = 64
_UPLOAD_EXPIRES_S = 300
_DOWNLOAD_EXPIRES_S = 900


def _check_id(value: str, what: str) -> str:
    if not value or len(value) > _MAX_ID or not value.isprintable():
        raise InvalidInput(f"{what} is not valid")
    return value


def _check_message_id(value: str) -> str:
    if not is_ulid(value):
        raise InvalidInput("messageId is not a valid message id")
    return value


def safe_filename(name: str) -> str:
    """The last path segment of `name` with anything but [A-Za-z0-9._-] replaced, 1..100 chars."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_FILENAME.sub("_", base).strip("._") or "file"
    return cleaned[-100:]


@attrs.define
class ChatService:
    messages: MessageStore
    rooms: RoomStore
    users: UserStore
    connections: ConnectionRegistry
    notifier: Notifier
    attachments: AttachmentStore
    clock: Clock
    ids: IdGenerator
    limits: rules.Limits = attrs.Factory(rules.Limits)
    bot_jobs: BotJobs | None = None
    """Set where a bot participant runs: messages for it are queued, never awaited."""

    # --- connections and presence -------------------------------------------------------------

    def connect(
        self, connection_id: str, principal: Principal, session_expires_at: int | None = None
    ) -> Connection:
        """Register a new WebSocket connection; the user comes online on the first one.
        `session_expires_at`: the token's `exp`, when the session ends (sessions.py)."""
        now = self.clock.now_ms()
        connection = Connection(
            connection_id=_check_id(connection_id, "connectionId"),
            user_id=principal.user_id,
            username=principal.username,
            connected_at=now,
            expires_at=now // 1000 + self.limits.connection_ttl_seconds,
            session_expires_at=session_expires_at,
        )
        self.ensure_user(principal)
        self.connections.register(connection)
        live = self.connections.connections_of_user(principal.user_id, now // 1000)
        if all(c.connection_id == connection_id for c in live):
            self._announce_presence(principal.user_id, principal.username, True, None)
        return connection

    def disconnect(self, connection_id: str) -> None:
        """Forget a connection; when it was the user's last one, set lastSeen and go offline."""
        gone = self.connections.unregister(connection_id)
        if gone is None:
            return
        now = self.clock.now_ms()
        if not self.connections.connections_of_user(gone.user_id, now // 1000):
            self.users.set_last_seen(gone.user_id, now)
            self._announce_presence(gone.user_id, gone.username, False, now)

    def _announce_presence(
        self, user_id: str, username: str, online: bool, last_seen: int | None
    ) -> None:
        for membership in self.rooms.rooms_of(user_id):
            event = PresenceChanged(membership.room_id, user_id, username, online, last_seen)
            self._broadcast(membership.room_id, event)

    def presence(self, principal: Principal, room_id: str) -> list[PresenceEntry]:
        """Members of a room with online state (>= 1 live connection) and lastSeen."""
        room, _ = self._readable_room(principal, room_id)
        now_s = self.clock.now_ms() // 1000
        members = self.rooms.members(room.room_id)
        profiles = {u.user_id: u for u in self.users.get_many([m.user_id for m in members])}
        entries = []
        for member in members:
            profile = profiles.get(member.user_id)
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

    # --- rooms and membership -----------------------------------------------------------------

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
        invited = sorted({_check_id(m, "member") for m in members} - {principal.user_id})
        if len(invited) > 100:
            raise InvalidInput("a room can be created with at most 100 members")
        found = {u.user_id for u in self.users.get_many(invited)}
        missing = [m for m in invited if m not in found]
        if missing:
            raise NotFound(f"no such user: {missing[0]}")
        now = self.clock.now_ms()
        room = Room(
            room_id=self.ids.new_id(now),
            name=clean_name,
            kind=kind,
            created_by=principal.user_id,
            created_at=now,
        )
        memberships = [Membership(room.room_id, principal.user_id, Role.OWNER, now)]
        memberships += [Membership(room.room_id, m, Role.MEMBER, now) for m in invited]
        self.ensure_user(principal)
        self.rooms.create(room, memberships)
        return room

    def get_room(self, principal: Principal, room_id: str) -> Room:
        room, _ = self._readable_room(principal, room_id)
        return room

    def public_rooms(self, principal: Principal, limit: int | None = None) -> list[Room]:
        return self.rooms.public_rooms(rules.clean_page_size(limit, self.limits))

    def members(self, principal: Principal, room_id: str) -> list[Membership]:
        room, _ = self._readable_room(principal, room_id)
        return self.rooms.members(room.room_id)

    def join_room(self, principal: Principal, room_id: str) -> Membership:
        """Anyone may join a public room; joining twice is harmless."""
        room = self._room(room_id)
        existing = self.rooms.member(room.room_id, principal.user_id)
        if existing is not None:
            return existing
        if room.kind is not RoomKind.PUBLIC:
            raise Forbidden("this room is joined by invitation only")
        membership = Membership(room.room_id, principal.user_id, Role.MEMBER, self.clock.now_ms())
        self.ensure_user(principal)
        if self.rooms.add_member(membership):
            self._broadcast(room.room_id, MemberJoined(membership))
        return membership

    def leave_room(self, principal: Principal, room_id: str) -> None:
        room = self._room(room_id)
        if room.kind is RoomKind.DIRECT:
            raise Forbidden("a direct room cannot be left")
        rules.require_member(self.rooms.member(room.room_id, principal.user_id))
        self._remove(room, principal.user_id)

    def invite(self, principal: Principal, room_id: str, user_id: str) -> Membership:
        """Owners add members to private rooms; any member may add people to a public room."""
        room = self._room(room_id)
        actor = self.rooms.member(room.room_id, principal.user_id)
        if room.kind is RoomKind.DIRECT:
            raise Forbidden("a direct room has exactly two members")
        if room.kind is RoomKind.PRIVATE:
            rules.require_owner(actor)
        else:
            rules.require_member(actor)
        if self.users.get(_check_id(user_id, "userId")) is None:
            raise NotFound("no such user")
        existing = self.rooms.member(room.room_id, user_id)
        if existing is not None:
            return existing
        membership = Membership(room.room_id, user_id, Role.MEMBER, self.clock.now_ms())
        if self.rooms.add_member(membership):
            self._broadcast(room.room_id, MemberJoined(membership))
        return membership

    def remove_member(self, principal: Principal, room_id: str, user_id: str) -> None:
        """Owners remove members; removing yourself is leaving."""
        if user_id == principal.user_id:
            self.leave_room(principal, room_id)
            return
        room = self._room(room_id)
        if room.kind is RoomKind.DIRECT:
            raise Forbidden("a direct room has exactly two members")
        rules.require_owner(self.rooms.member(room.room_id, principal.user_id))
        if self.rooms.member(room.room_id, user_id) is None:
            raise NotFound("that user is not a member of this room")
        self._remove(room, user_id)

    def _remove(self, room: Room, user_id: str) -> None:
        self.rooms.remove_member(room.room_id, user_id)
        # A former member of a private room must stop receiving its live events at once.
        if room.kind is not RoomKind.PUBLIC:
            now_s = self.clock.now_ms() // 1000
            for connection in self.connections.connections_of_user(user_id, now_s):
                self.connections.unsubscribe(connection.connection_id, room.room_id)
        self._broadcast(room.room_id, MemberLeft(room.room_id, user_id))

    def open_direct(self, principal: Principal, other_user_id: str) -> Room:
        """The one direct room between the caller and another user (created on first open)."""
        if other_user_id == principal.user_id:
            raise InvalidInput("a direct room needs another user")
        other = self.users.get(_check_id(other_user_id, "userId"))
        if other is None:
            raise NotFound("no such user")
        room_id = direct_room_id(principal.user_id, other.user_id)
        existing = self.rooms.get(room_id)
        if existing is not None:
            return existing
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
        return room

    def open_direct_by_username(self, principal: Principal, username: str) -> Room:
        other = self.users.by_username(username.strip())
        if other is None:
            raise NotFound("no such user")
        return self.open_direct(principal, other.user_id)

    def find_user(self, username: str) -> User:
        user = self.users.by_username(username.strip())
        if user is None:
            raise NotFound("no such user")
        return user

    def my_rooms(self, principal: Principal) -> list[RoomSummary]:
        """The caller's rooms with unread counts (capped at rules.UNREAD_CAP), by name."""
        memberships = {m.room_id: m for m in self.rooms.rooms_of(principal.user_id)}
        rooms = self.rooms.get_many(list(memberships))
        summaries = [
            RoomSummary(
                room=room,
                membership=memberships[room.room_id],
                unread=self.messages.count_after(
                    room.room_id, memberships[room.room_id].last_read_id, rules.UNREAD_CAP
                ),
            )
            for room in rooms
        ]
        return sorted(summaries, key=lambda s: (s.room.name.casefold(), s.room.room_id))

    def mark_read(self, principal: Principal, room_id: str, message_id: str) -> None:
        room = self._room(room_id)
        rules.require_member(self.rooms.member(room.room_id, principal.user_id))
        # Only a message of this room (deleted or not) can be read; an id from the future would
        # hide every later message's unread count for good.
        if self.messages.get(room.room_id, _check_message_id(message_id)) is None:
            raise NotFound("no such message")
        self.rooms.mark_read(room.room_id, principal.user_id, message_id)

    # --- live subscriptions -------------------------------------------------------------------

    def subscribe(
        self, principal: Principal, connection_id: str, room_ids: Sequence[str]
    ) -> list[str]:
        """Follow rooms' live events on one connection; all or nothing."""
        if not room_ids or len(room_ids) > 100:
            raise InvalidInput("roomIds must list 1..100 rooms")
        rooms = [self._readable_room(principal, room_id)[0] for room_id in dict.fromkeys(room_ids)]
        expires_at = self.clock.now_ms() // 1000 + self.limits.connection_ttl_seconds
        for room in rooms:
            self.connections.subscribe(
                Subscription(connection_id, room.room_id, principal.user_id, expires_at)
            )
        return [room.room_id for room in rooms]

    def unsubscribe(
        self, principal: Principal, connection_id: str, room_ids: Sequence[str]
    ) -> list[str]:
        if not room_ids or len(room_ids) > 100:
            raise InvalidInput("roomIds must list 1..100 rooms")
        unique = list(dict.fromkeys(_check_id(r, "roomId") for r in room_ids))
        for room_id in unique:
            self.connections.unsubscribe(connection_id, room_id)
        return unique

    # --- messages -----------------------------------------------------------------------------

    def post_message(
        self,
        principal: Principal,
        room_id: str,
        text: str,
        client_id: str,
        attachments: Sequence[Attachment] = (),
    ) -> Message:
        """Store a message exactly once per client id, then fan it out.

        Storing comes first: if the fan-out fails the message is not lost, clients catch up
        with sync. A retry with the same client id returns the stored message and sends nothing.
        """
        room = self._room(room_id)
        rules.require_member(self.rooms.member(room.room_id, principal.user_id))
        if not client_id or len(client_id) > _MAX_CLIENT_ID or not client_id.isprintable():
            raise InvalidInput(f"clientId must be 1..{_MAX_CLIENT_ID} printable characters")
        if attachments:
            clean_text = text.strip()
            if len(clean_text) > self.limits.max_text:
                raise TooLarge(f"message text is longer than {self.limits.max_text} characters")
        else:
            clean_text = rules.clean_text(text, self.limits)
        stored_attachments = self._check_attachments(principal, room.room_id, attachments)
        now = self.clock.now_ms()
        message = Message(
            message_id=self.ids.new_id(now),
            room_id=room.room_id,
            author_id=principal.user_id,
            text=clean_text,
            created_at=now,
            client_id=client_id,
            attachments=stored_attachments,
        )
        stored, created = self.messages.append(message)
        if created:
            self.rooms.mark_read(room.room_id, principal.user_id, stored.message_id)
            self._broadcast(room.room_id, MessagePosted(stored))
            if self.bot_jobs is not None and bot.wants_reply(
                room, stored, lambda: self.rooms.member(room.room_id, bot.BOT.user_id) is not None
            ):
                self.bot_jobs.enqueue(room.room_id, stored.message_id)
        return stored

    def _check_attachments(
        self, principal: Principal, room_id: str, attachments: Sequence[Attachment]
    ) -> tuple[Attachment, ...]:
        if len(attachments) > self.limits.max_attachments:
            raise InvalidInput(f"at most {self.limits.max_attachments} attachments per message")
        prefix = f"rooms/{room_id}/{principal.user_id}/"
        checked = []
        for attachment in attachments:
            if not attachment.key.startswith(prefix) or ".." in attachment.key:
                raise Forbidden("attachments must be uploaded by you to this room")
            size = self.attachments.size_of(attachment.key)
            if size is None:
                raise InvalidInput("attachment has not been uploaded")
            checked.append(attrs.evolve(attachment, name=safe_filename(attachment.name), size=size))
        return tuple(checked)

    def edit_message(
        self, principal: Principal, room_id: str, message_id: str, text: str
    ) -> Message:
        """Only the author edits, and only while still a member and not deleted."""
        room = self._room(room_id)
        rules.require_member(self.rooms.member(room.room_id, principal.user_id))
        message = self._message(room.room_id, message_id)
        rules.require_author(message, principal.user_id)
        clean_text = rules.clean_text(text, self.limits)
        edited = self.messages.edit(
            room.room_id, message.message_id, clean_text, self.clock.now_ms()
        )
        self._broadcast(room.room_id, MessageEdited(edited))
        return edited

    def delete_message(self, principal: Principal, room_id: str, message_id: str) -> Message:
        """The author or a room owner deletes; the slot stays in history (soft delete)."""
        room = self._room(room_id)
        membership = rules.require_member(self.rooms.member(room.room_id, principal.user_id))
        message = self.messages.get(room.room_id, _check_message_id(message_id))
        if message is None:
            raise NotFound("no such message")
        rules.require_author_or_owner(message, membership)
        if message.deleted:
            return message
        deleted = self.messages.soft_delete(room.room_id, message.message_id, self.clock.now_ms())
        self._broadcast(room.room_id, MessageDeleted(deleted))
        return deleted

    def react(self, principal: Principal, room_id: str, message_id: str, emoji: str) -> Message:
        """Toggle the caller's reaction with `emoji` on a message."""
        room = self._room(room_id)
        rules.require_member(self.rooms.member(room.room_id, principal.user_id))
        clean_emoji = rules.clean_emoji(emoji)
        message = self._message(room.room_id, message_id)
        on = principal.user_id not in message.reactions.get(clean_emoji, frozenset())
        updated = self.messages.set_reaction(
            room.room_id, message.message_id, clean_emoji, principal.user_id, on
        )
        self._broadcast(room.room_id, ReactionChanged(updated, clean_emoji, principal.user_id, on))
        return updated

    def history(
        self, principal: Principal, room_id: str, cursor: str | None, limit: int | None
    ) -> HistoryPage:
        """A page of messages, newest first; `next_cursor` pages further back."""
        room, _ = self._readable_room(principal, room_id)
        size = rules.clean_page_size(limit, self.limits)
        before = decode_cursor(cursor, room.room_id) if cursor else None
        found = self.messages.before(room.room_id, before, size + 1)
        page = found[:size]
        more = len(found) > size
        next_cursor = encode_cursor(room.room_id, page[-1].message_id) if more else None
        return HistoryPage(messages=tuple(page), next_cursor=next_cursor)

    def sync(
        self, principal: Principal, room_id: str, after_id: str | None, limit: int | None
    ) -> SyncResult:
        """Exactly the messages after `after_id` (oldest first): catch-up after a reconnect."""
        room, _ = self._readable_room(principal, room_id)
        size = rules.clean_page_size(limit, self.limits)
        after = _check_message_id(after_id) if after_id else None
        found = self.messages.after(room.room_id, after, size + 1)
        return SyncResult(messages=tuple(found[:size]), has_more=len(found) > size)

    def typing(self, principal: Principal, room_id: str, connection_id: str | None = None) -> None:
        """Tell the room's other connections the caller is typing. Never stored."""
        room = self._room(room_id)
        rules.require_member(self.rooms.member(room.room_id, principal.user_id))
        event = Typing(room.room_id, principal.user_id, principal.username)
        self._broadcast(room.room_id, event, exclude=connection_id)

    # --- profiles and files -------------------------------------------------------------------

    def ensure_user(self, principal: Principal) -> User:
        """The caller's profile, created from the token's claims on first sight."""
        user = self.users.get(principal.user_id)
        if user is None:
            user = User(
                user_id=principal.user_id,
                username=principal.username,
                display_name=principal.username,
                created_at=self.clock.now_ms(),
            )
            self.users.put(user)
        return user

    def get_profile(self, principal: Principal, user_id: str | None = None) -> User:
        if user_id is None or user_id == principal.user_id:
            return self.ensure_user(principal)
        user = self.users.get(_check_id(user_id, "userId"))
        if user is None:
            raise NotFound("no such user")
        return user

    def update_profile(
        self, principal: Principal, display_name: str | None = None, avatar_key: str | None = None
    ) -> User:
        user = self.ensure_user(principal)
        if display_name is None and avatar_key is None:
            raise InvalidInput("nothing to update: give displayName or avatarKey")
        if display_name is not None:
            user = attrs.evolve(
                user, display_name=rules.clean_display_name(display_name, self.limits)
            )
        if avatar_key is not None:
            if not avatar_key.startswith(f"avatars/{principal.user_id}/") or ".." in avatar_key:
                raise Forbidden("an avatar must be uploaded by you")
            if self.attachments.size_of(avatar_key) is None:
                raise InvalidInput("avatar has not been uploaded")
            user = attrs.evolve(user, avatar_key=avatar_key)
        self.users.put(user)
        return user

    def request_upload(
        self,
        principal: Principal,
        purpose: Literal["attachment", "avatar"],
        filename: str,
        content_type: str,
        size: int,
        room_id: str | None = None,
    ) -> UploadForm:
        """A presigned POST for one file: type and size enforced by the storage itself."""
        now = self.clock.now_ms()
        name = safe_filename(filename)
        if purpose == "avatar":
            allowed, max_bytes = self.limits.avatar_content_types, self.limits.max_avatar_bytes
            key = f"avatars/{principal.user_id}/{self.ids.new_id(now)}/{name}"
        else:
            if room_id is None:
                raise InvalidInput("roomId is required for an attachment")
            room = self._room(room_id)
            rules.require_member(self.rooms.member(room.room_id, principal.user_id))
            allowed, max_bytes = self.limits.upload_content_types, self.limits.max_upload_bytes
            key = f"rooms/{room.room_id}/{principal.user_id}/{self.ids.new_id(now)}/{name}"
        if content_type not in allowed:
            raise InvalidInput(f"content type {content_type!r} is not allowed")
        if size < 1:
            raise InvalidInput("size must be at least 1 byte")
        if size > max_bytes:
            raise TooLarge(f"files are limited to {max_bytes} bytes")
        return self.attachments.upload_form(key, content_type, size, _UPLOAD_EXPIRES_S)

    def download_url(self, principal: Principal, key: str) -> str:
        """A short-lived URL for an attachment (readers of its room) or an avatar (anyone)."""
        parts = key.split("/")
        if ".." in parts or len(key) > 1024:
            raise InvalidInput("key is not valid")
        if len(parts) >= 4 and parts[0] == "avatars":
            return self.attachments.download_url(key, _DOWNLOAD_EXPIRES_S)
        if len(parts) >= 5 and parts[0] == "rooms":
            self._readable_room(principal, parts[1])
            return self.attachments.download_url(key, _DOWNLOAD_EXPIRES_S)
        raise InvalidInput("key is not an attachment or avatar key")

    # --- helpers ------------------------------------------------------------------------------

    def _room(self, room_id: str) -> Room:
        room = self.rooms.get(_check_id(room_id, "roomId"))
        if room is None:
            raise NotFound("no such room")
        return room

    def _readable_room(self, principal: Principal, room_id: str) -> tuple[Room, Membership | None]:
        room = self._room(room_id)
        membership = self.rooms.member(room.room_id, principal.user_id)
        rules.require_read(room, membership)
        return room, membership

    def _message(self, room_id: str, message_id: str) -> Message:
        message = self.messages.get(room_id, _check_message_id(message_id))
        if message is None or message.deleted:
            raise NotFound("no such message")
        return message

    def _broadcast(self, room_id: str, event: Event, exclude: str | None = None) -> SendReport:
        """Send an event to the room's live connections; forget the ones found gone."""
        now_s = self.clock.now_ms() // 1000
        targets = [
            s.connection_id
            for s in self.connections.connections_in_room(room_id, now_s)
            if s.connection_id != exclude
        ]
        if not targets:
            return SendReport(delivered=0)
        report = self.notifier.send(targets, event)
        if report.gone:
            self.connections.unregister_many(sorted(report.gone))
        return report
