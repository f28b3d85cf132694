"""Value objects of the chat. Times are epoch milliseconds (UTC)."""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs


class RoomKind(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    DIRECT = "direct"


class Role(enum.StrEnum):
    """A member's role in a room, highest first (domain/authz.py says what each may do)."""

    OWNER = "owner"
    ADMIN = "admin"
    MODERATOR = "moderator"
    MEMBER = "member"

    @property
    def rank(self) -> int:
        """Higher outranks lower: owner 3, admin 2, moderator 1, member 0."""
        return _RANKS[self]


_RANKS = {Role.OWNER: 3, Role.ADMIN: 2, Role.MODERATOR: 1, Role.MEMBER: 0}


@attrs.frozen
class Principal:
    """Who is calling, as proven by the identity provider."""

    user_id: str
    """Stable user id (the Cognito `sub`)."""
    username: str
    """Sign-in name, shown to other users."""


@attrs.frozen
class User:
    user_id: str
    username: str
    display_name: str
    """Name shown in rooms; defaults to the username."""
    avatar_key: str | None = None
    """Object key of the avatar in the attachments bucket."""
    created_at: int = 0
    last_seen: int | None = None
    """When the user's last connection closed; None while never seen."""


@attrs.frozen
class Room:
    room_id: str
    name: str
    kind: RoomKind
    created_by: str
    created_at: int
    direct_pair: tuple[str, str] | None = None
    """The two user ids of a direct room, sorted; None for other kinds."""
    archived: bool = False
    """Read-only: nobody posts, edits, reacts, invites or joins (issue 17)."""
    slow_mode_seconds: int = 0
    """Slow mode: each member posts at most once per this many seconds (0: off); moderators
    and above are exempt (authz.Act.SLOW_MODE_EXEMPT)."""
    retention_days: int = 0  # days a new message is kept (retention.py); 0: the stage's
    member_count: int = attrs.field(default=0, eq=False)
    """Members of the room, kept by the store in the very write that adds or removes one (an
    ADD on the room's item, never a count query). A statistic, not part of the room's identity
    (eq=False); the value a service builds before storing the room is 0."""


@attrs.frozen
class Membership:
    room_id: str
    user_id: str
    role: Role
    joined_at: int
    last_read_id: str | None = None
    """Read marker: id of the newest message the member has read."""
    muted_until: int | None = None
    """Epoch ms until which the member may read but not post or react (None: not muted)."""


@attrs.frozen
class Attachment:
    key: str
    """Object key in the attachments bucket (scoped to room and uploader)."""
    name: str
    content_type: str
    size: int


@attrs.frozen
class Message:
    message_id: str
    """Time-ordered id (ULID): sorting ids sorts messages by time of posting."""
    room_id: str
    author_id: str
    text: str
    created_at: int
    client_id: str
    """The sender's own id for this message; a retry with the same one is the same message."""
    attachments: tuple[Attachment, ...] = ()
    edited_at: int | None = None
    deleted_at: int | None = None
    """Soft delete: the slot stays in history, text and attachments are cleared."""
    reactions: Mapping[str, frozenset[str]] = attrs.field(factory=dict, hash=False)
    """Emoji -> user ids who reacted with it."""
    seq: int | None = None
    """The room's sequence number of the post (None: stored before sequences existed)."""
    deleted_by: str | None = None
    """Who deleted the message when it was not its author (a moderator: recorded)."""
    hidden: str | None = None
    """Set only on a stub shown to a reader who blocked the author (domain/blocking.py):
    `"blocked"`; never stored."""

    parent_id: str | None = None
    """A reply: the id of the thread's first message (same room; threads are one level deep)."""
    also_in_room: bool = False
    """A reply also shown in the room's timeline (Slack's "also send to channel"); False for a
    reply seen only in its thread, and for every message that is not a reply."""
    reply_count: int = 0
    """A thread's first message: replies posted to it (deleted ones stay counted, as their
    slots stay in the thread)."""
    last_reply_at: int | None = None
    quote: Quote | None = None
    """The quoted message as it was when quoted."""
    mentions: tuple[str, ...] = ()
    """User ids of the room's members the text `@`-mentions, resolved by the server."""
    mentions_all: MentionAll | None = None
    """`@room` or `@here` in the text, from a role allowed to (authz.Act.MENTION_ALL)."""
    expires_at: int | None = None  # retention's end, epoch s (TTL); None: kept (retention.py)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def in_room(self) -> bool:
        """Whether the message shows in the room's timeline (history, sync v1, unread)."""
        return self.parent_id is None or self.also_in_room


class MentionAll(enum.StrEnum):
    """Who a message calls at once: every member (`@room`) or those online (`@here`)."""

    ROOM = "room"
    HERE = "here"


@attrs.frozen
class Quote:
    """A snapshot of a quoted message: later edits and deletes of that message leave it as is."""

    message_id: str
    author_id: str
    author_name: str
    """The author's display name when quoted."""
    created_at: int
    text: str
    """The quoted text, cut to QUOTE_CHARS."""


@attrs.frozen
class ThreadCount:
    """A thread's first message's counts as one reply left them (carried by its post)."""

    parent_id: str
    reply_count: int
    last_reply_at: int


@attrs.frozen
class ThreadPage:
    """A page of a thread: its first message, then replies oldest first."""

    parent: Message
    replies: tuple[Message, ...]
    next_cursor: str | None
    """Opaque; pass back for newer replies. None when the page reached the last reply."""


@attrs.frozen
class Connection:
    connection_id: str
    user_id: str
    username: str
    connected_at: int
    expires_at: int
    """Epoch seconds after which the row is dead even if $disconnect never came (DynamoDB TTL)."""
    session_expires_at: int | None = None
    """Epoch s the socket's token expires (`exp`, moved by `reauth`; closed then: sessions.py)."""


@attrs.frozen
class Subscription:
    """A connection following a room's live events."""

    connection_id: str
    room_id: str
    user_id: str
    expires_at: int


@attrs.frozen
class RoomSummary:
    """A room as the member sees it in the room list."""

    room: Room
    membership: Membership
    unread: int
    """Messages after the read marker, capped at `UNREAD_CAP`."""
    unread_mentions: int = 0
    """Messages after the read marker naming the member, capped (`@room` / `@here` uncounted)."""


@attrs.frozen
class PresenceEntry:
    user_id: str
    username: str
    online: bool
    last_seen: int | None


@attrs.frozen
class HistoryPage:
    messages: tuple[Message, ...]
    """Newest first."""
    next_cursor: str | None
    """Opaque; pass back to get older messages. None at the start of the room."""
    seq: int = 0
    """The room's feed position read just before the page: follow the feed from it."""


@attrs.frozen
class SyncResult:
    messages: tuple[Message, ...]
    """Oldest first: exactly the messages after the given id (up to the limit)."""
    has_more: bool


@attrs.frozen
class UploadForm:
    """A presigned POST: the browser posts `fields` plus the file to `url`."""

    url: str
    fields: Mapping[str, str]
    key: str
    max_bytes: int
    expires_in: int


@attrs.frozen
class SendReport:
    """What a fan-out did: `gone` connections no longer exist (410), `failed` gave up."""

    delivered: int
    gone: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()
    retryable: frozenset[str] = frozenset()
    """Of `failed`, those the endpoint failed (5xx, throttling, timeouts): worth a retry."""


@attrs.frozen
class Invite:
    """A pending invitation: the invitee is not a member until they accept it."""

    room_id: str
    user_id: str
    """The invitee."""
    invited_by: str
    inviter_name: str
    room_name: str
    room_kind: RoomKind
    invited_at: int
    expires_at: int
    """Epoch seconds (DynamoDB TTL); an expired invite is gone."""


@attrs.frozen
class RoomsPage:
    """One page of the caller's rooms, in room id order; unread counts for this page only."""

    rooms: tuple[RoomSummary, ...]
    next_cursor: str | None


@attrs.frozen
class Pin:
    """A pinned message of a room, with the message as it was when pinned (one Query lists
    a room's pins with their text)."""

    room_id: str
    message_id: str
    pinned_by: str
    pinned_at: int
    author_id: str
    text: str
    created_at: int
    expires_at: int | None = None  # the pinned message's retention end: the pin goes with it


@attrs.frozen
class Ban:
    """A user banned from a room: removed, and refused when they try to come back."""

    room_id: str
    user_id: str
    banned_by: str
    banned_at: int
    reason: str = ""


@attrs.frozen
class AuditEntry:
    """One moderation action in a room's audit log (newest first by `entry_id`, a ULID)."""

    room_id: str
    entry_id: str
    actor_id: str
    action: str
    """The authz.Act value of what was done (e.g. `ban`, `changeRoles`)."""
    at: int
    target_user_id: str | None = None
    target_message_id: str | None = None
    detail: str = ""
    """What changed, in words the log shows (a new name, a role, a mute's length...)."""


@attrs.frozen
class AuditPage:
    entries: tuple[AuditEntry, ...]
    """Newest first."""
    next_cursor: str | None


@attrs.frozen
class Block:
    """A user the blocker blocked (issue 13; listed by GET /blocks since issue 17)."""

    user_id: str
    """The blocker."""
    blocked_user_id: str
    blocked_at: int
