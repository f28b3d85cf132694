"""Reports: a member puts a message in the room's moderation queue; the room's admins resolve it.

A report keeps a snapshot of the message (and of the few before it) taken when it was made, so
what was reported stays readable after an edit or a delete. One open report per reporter and
message: reporting again while it is open answers the same report. Who may report and who may
read the queue is the permission table's (authz.Act.REPORT, authz.Act.MODERATE); the reporter
sees only their own report, and the reported author is never told.
"""

from __future__ import annotations

import enum
from typing import TypeVar

import attrs

from dynamotalk.domain.errors import InvalidInput
from dynamotalk.domain.limits import MAX_REPORT_NOTE
from dynamotalk.domain.models import Message

E = TypeVar("E", bound=enum.StrEnum)


class Reason(enum.StrEnum):
    SPAM = "spam"
    HARASSMENT = "harassment"
    HATE = "hate"
    VIOLENCE = "violence"
    SEXUAL = "sexual"
    OTHER = "other"


class Status(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Outcome(enum.StrEnum):
    DISMISSED = "dismissed"
    """Nothing to do."""
    ACTIONED = "actioned"
    """A moderator acted on it (the action itself is in the audit log)."""


@attrs.frozen
class AttachmentSnapshot:
    name: str
    key: str


@attrs.frozen
class MessageSnapshot:
    """A message as it was when reported."""

    message_id: str
    author_id: str
    text: str
    created_at: int
    edited_at: int | None = None
    attachments: tuple[AttachmentSnapshot, ...] = ()


@attrs.frozen
class Resolution:
    outcome: Outcome
    resolved_by: str
    resolved_at: int
    note: str | None = None


@attrs.frozen
class Report:
    report_id: str
    """Time-ordered (ULID): the queue is newest first by it."""
    room_id: str
    message_id: str
    reporter_id: str
    reason: Reason
    created_at: int
    message: MessageSnapshot
    context: tuple[MessageSnapshot, ...] = ()
    """The messages just before the reported one, oldest first (up to limits.REPORT_CONTEXT)."""
    note: str | None = None
    resolution: Resolution | None = None

    @property
    def status(self) -> Status:
        return Status.OPEN if self.resolution is None else Status.RESOLVED


@attrs.frozen
class ReportsPage:
    reports: tuple[Report, ...]
    """Newest first."""
    next_cursor: str | None


def snapshot(message: Message) -> MessageSnapshot:
    return MessageSnapshot(
        message_id=message.message_id,
        author_id=message.author_id,
        text=message.text,
        created_at=message.created_at,
        edited_at=message.edited_at,
        attachments=tuple(AttachmentSnapshot(a.name, a.key) for a in message.attachments),
    )


def _choice(kind: type[E], value: str, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(str(v) for v in kind)
        raise InvalidInput(f"{what} must be one of: {names}") from None


def clean_reason(value: str) -> Reason:
    return _choice(Reason, value, "reason")


def clean_outcome(value: str) -> Outcome:
    return _choice(Outcome, value, "outcome")


def clean_status(value: str | None) -> Status:
    return Status.OPEN if value is None else _choice(Status, value, "status")


def clean_note(note: str | None) -> str | None:
    """An optional short note: printable text (new lines allowed), trimmed; empty is none."""
    if note is None:
        return None
    text = note.strip()
    if len(text) > MAX_REPORT_NOTE:
        raise InvalidInput(f"note must be at most {MAX_REPORT_NOTE} characters")
    if any(not (c.isprintable() or c == "\n") for c in text):
        raise InvalidInput("note must be printable text")
    return text or None
