"""Domain errors. Each carries a stable code that clients may branch on; what the edge answers
for each code (an HTTP status, an error frame) is dynamotalk.edge.replies'."""

from __future__ import annotations

import enum
from typing import ClassVar


class ErrorCode(enum.StrEnum):
    INVALID_INPUT = "invalid_input"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    # A change feed read from a seq older than the feed keeps (limits.CHANGE_LOG_DAYS): reload
    # the room's history and follow the feed from the seq that page names.
    FEED_EXPIRED = "feed_expired"
    # A dependency (the database, an AWS API) cannot be reached. Not retryable at once: the
    # reply carries a retryAfterMs hint instead of inviting a tight retry loop.
    UNAVAILABLE = "unavailable"
    # Moderation (issue 17): the room is read-only; the caller is muted (retryAfterMs: until
    # when); slow mode allows the caller's next post in retryAfterMs.
    ROOM_ARCHIVED = "room_archived"
    MUTED = "muted"
    SLOW_MODE = "slow_mode"
    # Never raised on purpose: what an unexpected bug is reported as, so a client still
    # gets a well-formed error. Tests assert it never shows up.
    INTERNAL = "internal"


# Codes a client should retry (with backoff) with the same client message id.
RETRYABLE: frozenset[ErrorCode] = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.INTERNAL})


class ChatError(Exception):
    """Base of every refusal the core makes. `message` is safe to show to the user."""

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def retry_after_ms(self) -> int | None:
        """How long a client should wait before trying again, when the error knows."""
        return None

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE


class InvalidInput(ChatError):
    code = ErrorCode.INVALID_INPUT


class Unauthorized(ChatError):
    code = ErrorCode.UNAUTHORIZED


class Forbidden(ChatError):
    code = ErrorCode.FORBIDDEN


class NotFound(ChatError):
    code = ErrorCode.NOT_FOUND


class FeedExpired(ChatError):
    code = ErrorCode.FEED_EXPIRED


class Conflict(ChatError):
    code = ErrorCode.CONFLICT


class TooLarge(ChatError):
    code = ErrorCode.TOO_LARGE


class _WithRetryAfter(ChatError):
    """A refusal that says how long to wait before trying again."""

    DEFAULT_RETRY_AFTER_MS: ClassVar[int] = 1000

    def __init__(self, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(message)
        self._retry_after_ms = (
            self.DEFAULT_RETRY_AFTER_MS if retry_after_ms is None else retry_after_ms
        )

    @property
    def retry_after_ms(self) -> int | None:
        return self._retry_after_ms


class RateLimited(_WithRetryAfter):
    """Too many requests: the storage is throttling, or the caller exceeded a per-user limit
    (domain/user_limits.py). Carries how long to wait, like Unavailable."""

    code = ErrorCode.RATE_LIMITED


class Unavailable(_WithRetryAfter):
    """A dependency is down: retrying at once cannot help, retrying after a pause may."""

    code = ErrorCode.UNAVAILABLE
    DEFAULT_RETRY_AFTER_MS: ClassVar[int] = 5000


class RoomArchived(ChatError):
    """The room is archived (read-only): reading works, changing it does not."""

    code = ErrorCode.ROOM_ARCHIVED


class Muted(_WithRetryAfter):
    """The caller is muted in the room: `retry_after_ms` is how long the mute still lasts."""

    code = ErrorCode.MUTED


class SlowMode(_WithRetryAfter):
    """Slow mode: the caller's next post in this room is allowed in `retry_after_ms`."""

    code = ErrorCode.SLOW_MODE
