"""What the core needs from the outside world, named by what it does for the chat.

Adapters satisfy these structurally (no inheritance): `adapters/memory/` for tests and the
in-memory local stack, `adapters/dynamodb/`, `apigateway.py`, `cognito.py`, `s3.py` on AWS.
Every time argument is epoch milliseconds unless the name says seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from dynamotalk.domain.events import Event, MemberLeft, RoomChange
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import (
    Connection,
    Invite,
    Membership,
    Message,
    Principal,
    Role,
    Room,
    SendReport,
    Subscription,
    UploadForm,
    User,
)
from dynamotalk.domain.user_limits import Charge


class MessageStore(Protocol):
    """Every change a store makes to a room (a post, an edit, a delete, a reaction, a member
    joining or leaving, a role) is numbered by the room's sequence and written to its change
    feed in the same atomic step as the change itself: stored means delivered, eventually."""

    def append(self, message: Message) -> tuple[Message, bool]:
        """Store a new message, exactly once per (room, author, client_id).

        Returns (stored message, created). A retry with the same client id returns the message
        stored the first time and created=False, whatever the retry's text.
        """
        ...

    def get(self, room_id: str, message_id: str) -> Message | None: ...

    def edit(self, room_id: str, message_id: str, text: str, edited_at: int) -> Message:
        """Replace the text of an existing, not deleted message. Raises NotFound otherwise."""
        ...

    def soft_delete(self, room_id: str, message_id: str, deleted_at: int) -> Message:
        """Clear text, attachments and reactions but keep the slot. Raises NotFound if absent."""
        ...

    def set_reaction(
        self, room_id: str, message_id: str, emoji: str, user_id: str, on: bool, limits: Limits
    ) -> Message:
        """Add (on) or remove the user's reaction. Raises NotFound if absent or deleted.

        Adding is atomic with the caps: never more than `limits.max_reaction_kinds` emoji on the
        message nor `limits.max_reactions_per_user` of one user's, however many react at once
        (TooLarge past either). Adding a reaction the user has, or removing one they have not,
        changes nothing.
        """
        ...

    def before(self, room_id: str, before_id: str | None, limit: int) -> list[Message]:
        """Up to `limit` messages with id < before_id (all when None), newest first."""
        ...

    def after(self, room_id: str, after_id: str | None, limit: int) -> list[Message]:
        """Up to `limit` messages with id > after_id (from the start when None), oldest first."""
        ...

    def count_after(self, room_id: str, after_id: str | None, cap: int) -> int:
        """How many messages have id > after_id, counting no further than `cap`."""
        ...


class RoomStore(Protocol):
    def create(self, room: Room, members: Sequence[Membership]) -> bool:
        """Create the room with its first members. False (nothing written) if the id exists."""
        ...

    def get(self, room_id: str) -> Room | None: ...

    def get_many(self, room_ids: Sequence[str]) -> list[Room]:
        """The rooms that exist among `room_ids`, in no particular order."""
        ...

    def public_rooms(self, limit: int) -> list[Room]:
        """Public rooms, newest first, for discovery."""
        ...

    def add_member(self, membership: Membership) -> bool:
        """Add a member; False (unchanged) if already a member."""
        ...

    def remove_member(self, room_id: str, user_id: str) -> MemberLeft | None:
        """The change (with its seq); None if the user was not a member."""
        ...

    def member(self, room_id: str, user_id: str) -> Membership | None: ...

    def members(self, room_id: str) -> list[Membership]: ...

    def rooms_of(self, user_id: str) -> list[Membership]:
        """Every membership of the user."""
        ...

    def mark_read(self, room_id: str, user_id: str, message_id: str) -> bool:
        """Move the read marker forward to message_id; never moves it backwards. True if it
        moved."""
        ...

    # --- bounded membership and consent (issue 13) ---

    def members_among(self, room_id: str, user_ids: Sequence[str]) -> list[Membership]:
        """The memberships of the room held by any of `user_ids` (one batch read)."""
        ...

    def memberships_in(self, user_id: str, room_ids: Sequence[str]) -> list[Membership]:
        """The user's memberships among `room_ids` (one batch read), in no particular order."""
        ...

    def rooms_page(self, user_id: str, after_room_id: str | None, limit: int) -> list[Membership]:
        """Up to `limit` memberships of the user with room id > after_room_id, by room id."""
        ...

    def count_rooms(self, user_id: str, cap: int) -> int:
        """Memberships of the user, counting no further than `cap`."""
        ...

    def count_invites(self, user_id: str, now_s: int, cap: int) -> int:
        """Live pending invites of the user, counting no further than `cap`."""
        ...

    def set_role(self, room_id: str, user_id: str, role: Role) -> None: ...

    def add_invite(self, invite: Invite) -> bool:
        """Store a pending invite; False (unchanged) if one is already pending."""
        ...

    def invite(self, room_id: str, user_id: str, now_s: int) -> Invite | None: ...

    def invites_of(self, user_id: str, now_s: int) -> list[Invite]:
        """The user's live pending invites (bounded by Limits.max_pending_invites)."""
        ...

    def invites_to(self, room_id: str, now_s: int) -> list[Invite]: ...

    def remove_invite(self, room_id: str, user_id: str) -> bool: ...

    def accept_invite(self, invite: Invite, membership: Membership) -> bool:
        """Atomically turn a pending invite into the membership; False if it was not pending."""
        ...

    def block(self, user_id: str, blocked_user_id: str, at: int) -> None: ...

    def unblock(self, user_id: str, blocked_user_id: str) -> None: ...

    def is_blocked(self, user_id: str, by_user_id: str) -> bool:
        """Whether `by_user_id` has blocked invites from `user_id`."""
        ...


class ChangeFeed(Protocol):
    """A room's changes in sequence order (written by the stores, with the change itself)."""

    def head(self, room_id: str) -> int:
        """The room's last seq (0 before its first change)."""
        ...

    def after(self, room_id: str, seq: int, limit: int) -> list[RoomChange]:
        """Up to `limit` changes with seq > `seq`, oldest first (expired ones are gone)."""
        ...

    def get(self, room_id: str, seq: int) -> RoomChange | None: ...


class PageQueue(Protocol):
    """Where the fan-out hands a page of a big room's connections to another worker."""

    def enqueue(
        self,
        room_id: str,
        seq: int,
        connection_ids: Sequence[str],
        delay_s: int = 0,
        attempt: int = 0,
    ) -> None:
        """A page job, delivered after `delay_s`; `attempt` counts its re-queued tries."""
        ...


class EventsOut(Protocol):
    """Where every room change is published for other systems (EventBridge)."""

    def publish(self, changes: Sequence[RoomChange]) -> None:
        """Publish all or raise: the caller retries the whole batch (consumers dedup by
        room and seq)."""
        ...


class UserStore(Protocol):
    def get(self, user_id: str) -> User | None: ...

    def get_many(self, user_ids: Sequence[str]) -> list[User]: ...

    def put(self, user: User) -> bool:
        """Create or replace the profile, and claim its username unless another user holds
        it (first claim wins; a claim never moves). True when `user` holds the claim."""
        ...

    def by_username(self, username: str) -> User | None:
        """Exact, case-insensitive look-up of a username."""
        ...

    def set_last_seen(self, user_id: str, at: int) -> None: ...


class ConnectionRegistry(Protocol):
    """Live WebSocket connections and the rooms they follow.

    Rows carry `expires_at` (epoch seconds, DynamoDB TTL); reads ignore rows expired at `now_s`,
    because DynamoDB deletes expired rows lazily.
    """

    def register(self, connection: Connection) -> None: ...

    def get(self, connection_id: str, now_s: int) -> Connection | None: ...

    def unregister(self, connection_id: str) -> Connection | None:
        """Remove the connection and all its subscriptions; returns what was removed."""
        ...

    def unregister_many(self, connection_ids: Sequence[str]) -> None:
        """Batch removal of connections found gone (410) during a fan-out."""
        ...

    def subscribe(self, subscription: Subscription) -> None: ...

    def subscribe_many(self, subscriptions: Sequence[Subscription]) -> None:
        """subscribe() for many rooms in as few batch writes as the store allows."""
        ...

    def unsubscribe(self, connection_id: str, room_id: str) -> None: ...

    def rooms_of_connection(self, connection_id: str, now_s: int) -> list[str]: ...

    def connections_in_room(self, room_id: str, now_s: int) -> list[Subscription]:
        """Subscriptions of a room: one Query, cost grows with the answer."""
        ...

    def connections_of_user(self, user_id: str, now_s: int) -> list[Connection]: ...


class Notifier(Protocol):
    def send(self, connection_ids: Sequence[str], event: Event) -> SendReport:
        """Deliver one event to many connections. Never raises for a recipient's failure."""
        ...


class AttachmentStore(Protocol):
    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> UploadForm: ...

    def download_url(self, key: str, expires_in: int) -> str: ...

    def size_of(self, key: str) -> int | None:
        """Size of an uploaded object, None if it does not exist."""
        ...

    def mark_referenced(self, key: str, retention_days: int = 0) -> None:
        """Named now: never expire as unreferenced; retention_days expires it with its message."""
        ...


class Assistant(Protocol):
    """A chat bot's brain: given a room's recent messages, answer the request."""

    def reply(self, context: Sequence[Message], request: Message, names: Mapping[str, str]) -> str:
        """The reply text. `context` is oldest first and ends before `request`; `names` maps
        user ids to usernames. Raises any exception on failure (the bot apologises)."""
        ...


class BotJobs(Protocol):
    """Where ChatService hands messages the bot should answer; never waits for the answer."""

    def enqueue(self, room_id: str, message_id: str) -> None: ...


class RateLimiter(Protocol):
    """Per-user counters in fixed windows (domain/user_limits.py), counted atomically."""

    def take(self, user_id: str, group: str, charges: Sequence[Charge], now_ms: int) -> int | None:
        """Count every charge in its current window, all or none, in one atomic step.

        None when every quota had room (all counted); otherwise nothing is counted and the
        answer is the milliseconds until the latest refusing window ends.
        """
        ...


class Clock(Protocol):
    def now_ms(self) -> int: ...


class IdGenerator(Protocol):
    def new_id(self, now_ms: int) -> str:
        """A time-ordered id (ULID) for `now_ms`; strictly increasing per generator."""
        ...


class SessionVerifier(Protocol):
    def verify_session(self, token: str) -> tuple[Principal, int]:
        """The principal a token proves and its `exp` (epoch seconds); raises Unauthorized for
        any bad token (adapters/cognito.py on AWS)."""
        ...


class SessionStore(Protocol):
    """When each socket's session ends, findable by time without a Scan (service/sessions.py).

    Entries live in buckets by expiry minute; a renewed session leaves its old entry behind,
    which the sweeper recognises (the connection's record says later) and forgets.
    """

    def track(self, connection_id: str, expires_at: int) -> None:
        """Note that the connection's session ends at `expires_at` (epoch seconds)."""
        ...

    def renew(self, connection_id: str, user_id: str, expires_at: int, now_s: int) -> bool:
        """Move the session end of the user's live, unexpired connection to `expires_at` (never
        backwards) and track it. False, changing nothing, if the connection is gone, expired or
        another user's."""
        ...

    def due(self, now_s: int, lookback_s: int) -> list[tuple[str, int]]:
        """(connection id, expires_at) of the entries ending in (now_s - lookback_s, now_s]."""
        ...

    def forget(self, connection_id: str, expires_at: int) -> None: ...


class ConnectionCloser(Protocol):
    def close(self, connection_id: str, last_words: bytes | None = None) -> bool:
        """Post `last_words` (if any), then DeleteConnection. False if the socket was gone."""
        ...
