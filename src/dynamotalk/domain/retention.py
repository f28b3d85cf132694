"""Message retention (issue 18): how long a room keeps its messages, and whether one is gone.

A stage has a default (`messageRetentionDays`, 0: keep forever); a room's owners and admins
may choose a shorter one from RETENTION_CHOICES_DAYS (Act.RETENTION). A message is stamped
when posted with `expires_at` = posted + the retention then in force (epoch seconds, the
table's TTL attribute), so a change of a room's retention applies to messages posted after it;
those already stored keep the date they were posted with.

DynamoDB deletes an expired item "typically within a few days" of its TTL, not at it, so
every read hides a message whose `expires_at` has passed (`expired`), whatever the table
still holds.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from dynamotalk.domain.errors import InvalidInput
from dynamotalk.domain.events import (
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionChanged,
    RoomChange,
)
from dynamotalk.domain.models import Message, Pin

RETENTION_CHOICES_DAYS: tuple[int, ...] = (0, 1, 7, 30, 90, 365)
"""The retentions a stage or a room may have, in days; 0: keep forever (a room's 0: the
stage's default)."""
HIDDEN_EXPIRED = "expired"
"""The `hidden` of an expired message's stub in a page of changes (sync v2)."""


def check_stage_days(days: int) -> int:
    """The stage default, one of RETENTION_CHOICES_DAYS (checked at cold start and by infra)."""
    if days not in RETENTION_CHOICES_DAYS:
        raise ValueError(f"messageRetentionDays must be one of {RETENTION_CHOICES_DAYS}")
    return days


def check_room_days(days: int, stage_days: int) -> int:
    """A room's retention: 0 (the stage's default) or a choice no longer than the stage's."""
    if days not in RETENTION_CHOICES_DAYS:
        choices = ", ".join(str(d) for d in RETENTION_CHOICES_DAYS)
        raise InvalidInput(f"retentionDays must be one of {choices}")
    if days and stage_days and days > stage_days:
        raise InvalidInput(f"retentionDays may not exceed this server's {stage_days} days")
    return days


def effective_days(room_days: int, stage_days: int) -> int:
    """The retention a new message of the room gets (0: kept forever)."""
    return room_days or stage_days


def expires_at(created_at_ms: int, days: int, day_s: int) -> int | None:
    """When a message posted at `created_at_ms` expires (epoch seconds); None: never.
    `day_s` is Limits.retention_day_s (a day, but in the local stack's tests)."""
    return created_at_ms // 1000 + days * day_s if days else None


def earliest(one: int | None, other: int | None) -> int | None:
    """The sooner of two expiry dates (None: never)."""
    dates = [d for d in (one, other) if d is not None]
    return min(dates) if dates else None


def expired(message: Message, now_s: float) -> bool:
    """Whether a message's retention has passed (DynamoDB may not have deleted it yet)."""
    return message.expires_at is not None and message.expires_at <= now_s


def pin_expired(pin: Pin, now_s: float) -> bool:
    """Whether a pin's message is past its retention (the pin keeps the message's date)."""
    return pin.expires_at is not None and pin.expires_at <= now_s


def live(messages: Iterable[Message], now_s: float) -> list[Message]:
    """The messages whose retention has not passed, in their order."""
    return [m for m in messages if not expired(m, now_s)]


def hide_expired_changes(changes: tuple[RoomChange, ...], now_s: float) -> tuple[RoomChange, ...]:
    """A page of changes with expired messages as stubs (none dropped: clients count seqs)."""
    kinds = MessagePosted | MessageEdited | MessageDeleted | ReactionChanged
    return tuple(
        attrs.evolve(c, message=_stub(c.message))
        if isinstance(c, kinds) and expired(c.message, now_s)
        else c
        for c in changes
    )


def _stub(message: Message) -> Message:
    return attrs.evolve(
        message, text="", attachments=(), reactions={}, quote=None, hidden=HIDDEN_EXPIRED
    )
