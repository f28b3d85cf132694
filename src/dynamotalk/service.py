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

from dynamotalk.domain import bot, budget, identities, rules
from dynamotalk.domain.cursor import (
    decode_cursor,
    decode_rooms_cursor,
    encode_cursor,
    encode_rooms_cursor,
)
from dynamotalk.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
)
from dynamotalk.domain.events import (
    Event,
    InviteReceived,
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PresenceChanged,
    ReactionChanged,
    Typing,
)
from dynamotalk.domain.ids import DIRECT_PREFIX, direct_room_id, is_ulid
from dynamotalk.domain.limits import (
    DOWNLOAD_URL_EXPIRES_S,
    MAX_CLIENT_ID,
    MAX_ID,
    UNREAD_CAP,
    UPLOAD_URL_EXPIRES_S,
    Limits,
)
from dynamotalk.domain.models import (
    Attachment,
    Connection,
    HistoryPage,
    Invite,
    Membership,
    Message,
    PresenceEntry,
    Principal,
    Role,
    Room,
    RoomKind,
    RoomsPage,
    RoomSummary,
    SendReport,
    Subscription,
    SyncResult,
    UploadForm,
    User,
)
from dynamotalk.domain.text import require_clean
from dynamotalk.domain.user_limits import CONNECTIONS_RETRY_AFTER_MS, Action, UserLimits
from dynamotalk.ports import (
    AttachmentStore,
    BotJobs,
    Clock,
    ConnectionRegistry,
    IdGenerator,
    MessageStore,
    Notifier,
    RateLimiter,
    RoomStore,
    UserStore,
)

_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def _check_id(value: str, what: str) -> str:
    if not value or len(value) > MAX_ID or not value.isprintable():
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
    limits: Limits = attrs.Factory(Limits)
    bot_jobs: BotJobs | None = None
    """Set where a bot participant runs: messages for it are queued, never awaited."""
    limiter: RateLimiter | None = None
    """Counts each user's actions against `user_limits`; None (tests) counts nothing."""
    user_limits: UserLimits = attrs.Factory(UserLimits)

    # --- connections and presence -------------------------------------------------------------

    def connect(
        self, connection_id: str, principal: Principal, session_expires_at: int | None = None
    ) -> Connection:
        """Register a new WebSocket connection; within the per-user connection cap.
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
            _check_id(connection_id, "connectionId"), now // 1000
        )
        gone = self.connections.unregister(connection_id)
        if gone is None:
            return
        if not self.connections.connections_of_user(gone.user_id, now // 1000):
            self.users.set_last_seen(gone.user_id, now)
            self._announce_presence(gone.user_id, gone.username, False, now, followed)

    def _announce_presence(
        self,
        user_id: str,
        username: str,
        online: bool,
        last_seen: int | None,
        room_ids: Sequence[str],
        members_only: frozenset[str] = frozenset(),
    ) -> None:
        """Presence goes only to the members of rooms the user is a member of: never to a
        non-member following a public room, never to a room the user is merely invited to.

        `members_only` names rooms already known to have the user as a member and only members
        as subscribers (private and direct rooms the caller just subscribed to): they skip the
        members query. A room followed by nobody else costs one query.
        """
        now_s = self.clock.now_ms() // 1000
        for room_id in room_ids:
            subscribers = [
                s
                for s in self.connections.connections_in_room(room_id, now_s)
                if s.user_id != user_id
            ]
            if not subscribers:
                continue
            if room_id.startswith(DIRECT_PREFIX) and not self._direct_consented(room_id):
                continue
            if room_id in members_only:
                targets = [s.connection_id for s in subscribers]
            else:
                members = {m.user_id for m in self.rooms.members(room_id)}
                if user_id not in members:
                    continue
                targets = [s.connection_id for s in subscribers if s.user_id in members]
            if targets:
                event = PresenceChanged(room_id, user_id, username, online, last_seen)
                report = self.notifier.send(targets, event)
                if report.gone:
                    self.connections.unregister_many(sorted(report.gone))

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
        if self.rooms.add_member(membership):
            self._broadcast(room.room_id, MemberJoined(membership))
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
        if self.users.get(_check_id(user_id, "userId")) is None:
            raise NotFound("no such user")
        existing = self.rooms.member(room.room_id, user_id)
        if existing is not None:
            return existing
        if user_id == bot.BOT.user_id:
            membership = Membership(room.room_id, user_id, Role.MEMBER, self.clock.now_ms())
            if self.rooms.add_member(membership):
                self._broadcast(room.room_id, MemberJoined(membership))
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
        self.rooms.remove_member(room.room_id, user_id)
        # A former member stops receiving the room's live events at once: every subscription
        # of their live connections to it ends (they are told with one last member.left).
        now_s = self.clock.now_ms() // 1000
        event = MemberLeft(room.room_id, user_id)
        own = [c.connection_id for c in self.connections.connections_of_user(user_id, now_s)]
        for connection_id in own:
            self.connections.unsubscribe(connection_id, room.room_id)
        if own:
            self.notifier.send(own, event)
        self._broadcast(room.room_id, event)

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
            self._broadcast(room.room_id, MemberJoined(attrs.evolve(heir, role=Role.OWNER)))
            return
        for invite in self.rooms.invites_to(room.room_id, self.clock.now_ms() // 1000):
            self.rooms.remove_invite(room.room_id, invite.user_id)

    def open_direct(self, principal: Principal, other_user_id: str) -> Room:
        """The one direct room between the caller and another user (created on first open)."""
        if other_user_id == principal.user_id:
            raise InvalidInput("a direct room needs another user")
        other = self.users.get(_check_id(other_user_id, "userId"))
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
        return room

    def open_direct_by_username(self, principal: Principal, username: str) -> Room:
        self._limit(principal.user_id, Action.LOOKUP)
        other = self.users.by_username(username.strip())
        if other is None:
            raise NotFound("no such user")
        return self.open_direct(principal, other.user_id)

    def find_user(self, username: str, principal: Principal | None = None) -> User:
        """A user by name; counted against `principal`'s look-ups when given."""
        if principal is not None:
            self._limit(principal.user_id, Action.LOOKUP)
        user = self.users.by_username(username.strip())
        if user is None:
            raise NotFound("no such user")
        return user

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
        summaries = [
            RoomSummary(
                room=room,
                membership=memberships[room.room_id],
                unread=self.messages.count_after(
                    room.room_id, memberships[room.room_id].last_read_id, UNREAD_CAP
                ),
            )
            for room in rooms
        ]
        return sorted(summaries, key=lambda s: (s.room.name.casefold(), s.room.room_id))

    def mark_read(self, principal: Principal, room_id: str, message_id: str) -> None:
        room = self._room(room_id)
        rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        # Only a message of this room (deleted or not) can be read; an id from the future would
        # hide every later message's unread count for good.
        if self.messages.get(room.room_id, _check_message_id(message_id)) is None:
            raise NotFound("no such message")
        self.rooms.mark_read(room.room_id, principal.user_id, message_id)

    # --- consent: pending invites and blocks (issue 13, M1) ----------------------------------

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

    def _offer_invite(self, principal: Principal, room: Room, user_id: str, quiet: bool) -> Invite:
        """Store a pending invite and tell the invitee's live connections.

        Blocked inviters get the same answer as anyone else and nothing is stored. An invitee
        already holding limits.max_pending_invites invites, or at the room cap, gets nothing
        more and the inviter the same pending answer (nothing to probe: full, blocked and
        stored look alike); the invitee declines some (or all) to receive new ones.
        """
        now = self.clock.now_ms()
        invite = Invite(
            room_id=room.room_id,
            user_id=user_id,
            invited_by=principal.user_id,
            inviter_name=principal.username,
            room_name=room.name,
            room_kind=room.kind,
            invited_at=now,
            expires_at=now // 1000 + self.limits.invite_ttl_seconds,
        )
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
            _check_id(room_id, "roomId"), principal.user_id, self.clock.now_ms() // 1000
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
        existing = self.rooms.member(room.room_id, principal.user_id)
        if existing is not None:
            self.rooms.remove_invite(room.room_id, principal.user_id)
            return existing
        self._require_room_slot(principal.user_id)
        self.ensure_user(principal)
        membership = Membership(room.room_id, principal.user_id, Role.MEMBER, self.clock.now_ms())
        if not self.rooms.accept_invite(invite, membership):
            raise NotFound("no such invite")
        self._broadcast(room.room_id, MemberJoined(membership))
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
        blocked = _check_id(user_id, "userId")
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
        self.rooms.unblock(principal.user_id, _check_id(user_id, "userId"))

    # --- live subscriptions -------------------------------------------------------------------

    def subscribe(
        self, principal: Principal, connection_id: str, room_ids: Sequence[str]
    ) -> list[str]:
        """Follow rooms' live events on one connection; all or nothing."""
        if not room_ids or len(room_ids) > 100:
            raise InvalidInput("roomIds must list 1..100 rooms")
        self._limit(principal.user_id, Action.TYPING)  # shares typing's limit (PROTOCOL.md)
        unique = list(dict.fromkeys(_check_id(room_id, "roomId") for room_id in room_ids))
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
        if not room_ids or len(room_ids) > 100:
            raise InvalidInput("roomIds must list 1..100 rooms")
        self._limit(principal.user_id, Action.TYPING)  # shares typing's limit (PROTOCOL.md)
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
        self._limit(principal.user_id, Action.MESSAGE)
        room = self._room(room_id)
        rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        self._require_not_blocked_in_direct(principal, room)
        if not client_id or len(client_id) > MAX_CLIENT_ID or not client_id.isprintable():
            raise InvalidInput(f"clientId must be 1..{MAX_CLIENT_ID} printable characters")
        if attachments:
            clean_text = require_clean(text.strip(), "message text")
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
        budget.check_message(message, self.limits)
        # A request to the bot is counted before anything is stored: refused, nothing happened.
        for_bot = self.bot_jobs is not None and bot.wants_reply(
            room, message, lambda: self.rooms.member(room.room_id, bot.BOT.user_id) is not None
        )
        if for_bot:
            self._limit(principal.user_id, Action.BOT)
        stored, created = self.messages.append(message)
        if created:
            self.rooms.mark_read(room.room_id, principal.user_id, stored.message_id)
            self._broadcast(room.room_id, MessagePosted(stored))
            if for_bot and self.bot_jobs is not None:
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
        for attachment in checked:  # before the message is stored: a stored one never expires
            self.attachments.mark_referenced(attachment.key)
        return tuple(checked)

    def edit_message(
        self, principal: Principal, room_id: str, message_id: str, text: str
    ) -> Message:
        """Only the author edits, and only while still a member and not deleted."""
        self._limit(principal.user_id, Action.MESSAGE)  # an edit re-sends the whole message
        room = self._room(room_id)
        rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        message = self._message(room.room_id, message_id)
        rules.require_author(message, principal.user_id)
        clean_text = rules.clean_text(text, self.limits)
        budget.check_message(attrs.evolve(message, text=clean_text), self.limits)
        edited = self.messages.edit(
            room.room_id, message.message_id, clean_text, self.clock.now_ms()
        )
        self._broadcast(room.room_id, MessageEdited(edited))
        return edited

    def delete_message(self, principal: Principal, room_id: str, message_id: str) -> Message:
        """The author or a room owner deletes; the slot stays in history (soft delete)."""
        self._limit(principal.user_id, Action.MESSAGE)
        room = self._room(room_id)
        membership = rules.require_member_of(
            room, self.rooms.member(room.room_id, principal.user_id)
        )
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
        """Toggle the caller's reaction with `emoji` on a message, within the reaction caps.

        The caps are checked here for a clear early refusal and again, atomically, by the store.
        """
        self._limit(principal.user_id, Action.REACTION)
        room = self._room(room_id)
        rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
        clean_emoji = rules.clean_emoji(emoji)
        message = self._message(room.room_id, message_id)
        on = principal.user_id not in message.reactions.get(clean_emoji, frozenset())
        if on:
            rules.check_reaction_caps(message, clean_emoji, principal.user_id, self.limits)
        updated = self.messages.set_reaction(
            room.room_id, message.message_id, clean_emoji, principal.user_id, on, self.limits
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
        page = budget.within(found[:size], self.limits.max_page_bytes)
        more = len(found) > len(page)
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
        page = budget.within(found[:size], self.limits.max_sync_bytes)
        return SyncResult(messages=tuple(page), has_more=len(found) > len(page))

    def typing(self, principal: Principal, room_id: str, connection_id: str | None = None) -> None:
        """Tell the room's other connections the caller is typing. Never stored."""
        self._limit(principal.user_id, Action.TYPING)
        room = self._room(room_id)
        rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
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
        if user.last_seen is not None and not self._share_a_room(principal.user_id, user_id):
            user = attrs.evolve(user, last_seen=None)
        return user

    def _share_a_room(self, user_a: str, user_b: str) -> bool:
        """Whether two users are members of one room (bounded: each is in at most
        limits.max_rooms_per_user rooms)."""
        rooms_a = {m.room_id for m in self.rooms.rooms_of(user_a)}
        shared = [m.room_id for m in self.rooms.rooms_of(user_b) if m.room_id in rooms_a]
        # At most one of them is the pair's direct room: it counts once both took part in it.
        return any(not r.startswith(DIRECT_PREFIX) or self._direct_consented(r) for r in shared)

    def _direct_consented(self, room_id: str) -> bool:
        """Whether both members of a direct room took part in it: each posted in it (or marked
        it read). Until then neither sees the other's presence or lastSeen through it, so
        opening a direct room with a stranger reveals nothing about them."""
        members = self.rooms.members(room_id)
        return len(members) == 2 and all(m.last_read_id is not None for m in members)

    def update_profile(
        self, principal: Principal, display_name: str | None = None, avatar_key: str | None = None
    ) -> User:
        user = self.ensure_user(principal)
        if display_name is None and avatar_key is None:
            raise InvalidInput("nothing to update: give displayName or avatarKey")
        if display_name is not None:
            clean_name = rules.clean_display_name(display_name, self.limits)
            if not identities.may_use_name(principal.user_id, clean_name):
                raise InvalidInput("that display name is reserved")
            user = attrs.evolve(user, display_name=clean_name)
        if avatar_key is not None:
            if not avatar_key.startswith(f"avatars/{principal.user_id}/") or ".." in avatar_key:
                raise Forbidden("an avatar must be uploaded by you")
            if self.attachments.size_of(avatar_key) is None:
                raise InvalidInput("avatar has not been uploaded")
            self.attachments.mark_referenced(avatar_key)
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
            rules.require_member_of(room, self.rooms.member(room.room_id, principal.user_id))
            allowed, max_bytes = self.limits.upload_content_types, self.limits.max_upload_bytes
            key = f"rooms/{room.room_id}/{principal.user_id}/{self.ids.new_id(now)}/{name}"
        if content_type not in allowed:
            raise InvalidInput(f"content type {content_type!r} is not allowed")
        if size < 1:
            raise InvalidInput("size must be at least 1 byte")
        if size > max_bytes:
            raise TooLarge(f"files are limited to {max_bytes} bytes")
        self._limit(principal.user_id, Action.UPLOAD, size=size)
        return self.attachments.upload_form(key, content_type, size, UPLOAD_URL_EXPIRES_S)

    def download_url(self, principal: Principal, key: str) -> str:
        """A short-lived URL for an attachment (readers of its room) or an avatar (anyone)."""
        parts = key.split("/")
        if ".." in parts or len(key) > 1024:
            raise InvalidInput("key is not valid")
        if len(parts) >= 4 and parts[0] == "avatars":
            return self.attachments.download_url(key, DOWNLOAD_URL_EXPIRES_S)
        if len(parts) >= 5 and parts[0] == "rooms":
            self._readable_room(principal, parts[1])
            return self.attachments.download_url(key, DOWNLOAD_URL_EXPIRES_S)
        raise InvalidInput("key is not an attachment or avatar key")

    # --- helpers ------------------------------------------------------------------------------

    def _limit(self, user_id: str, action: Action, amount: int = 1, size: int = 0) -> None:
        """Count one action against the user's limits (one conditional update); the bot's own
        actions are not counted (requests to it are, per user)."""
        if self.limiter is None or user_id == bot.BOT.user_id:
            return
        charges = self.user_limits.charges(action, amount, size)
        retry_after_ms = self.limiter.take(user_id, action, charges, self.clock.now_ms())
        if retry_after_ms is not None:
            raise RateLimited(self.user_limits.refusal(action), retry_after_ms=retry_after_ms)

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
