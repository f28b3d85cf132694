"""The JSON bodies the HTTP API takes (rooms, members, profile, uploads, read marks).

Bounds are checked after parsing like the commands' (domain/commands.py); names and display
names are bounded loosely here and cleaned by the service's own rules.
"""

from __future__ import annotations

from typing import Literal

import attrs

from dynamotalk.domain.commands import (
    bounded_number,
    bounded_text,
    optional_text,
)
from dynamotalk.domain.limits import (
    MAX_BAN_REASON,
    MAX_CONTENT_TYPE_CHARS,
    MAX_FILENAME_CHARS,
    MAX_ID,
    MAX_KEY_CHARS,
    MAX_MEMBERS_AT_CREATION,
    MAX_MUTE_S,
    MAX_RAW_NAME,
    MAX_REPORT_NOTE,
    MAX_SIZE_BYTES,
    MAX_SLOW_MODE_S,
)
from dynamotalk.domain.retention import RETENTION_CHOICES_DAYS

MAX_REASON_CHARS = 32
"""A report's reason or a resolution's outcome, before the domain checks it is a known one."""


@attrs.frozen
class CreateRoom:
    name: str = bounded_text(MAX_RAW_NAME)
    kind: Literal["public", "private"] = "public"
    members: tuple[str, ...] = attrs.field(
        default=(), metadata={"max": MAX_ID, "items": MAX_MEMBERS_AT_CREATION}
    )


@attrs.frozen
class AddMember:
    user_id: str | None = optional_text(MAX_ID)
    username: str | None = optional_text(MAX_ID)


@attrs.frozen
class OpenDirect:
    user_id: str | None = optional_text(MAX_ID)
    username: str | None = optional_text(MAX_ID)


@attrs.frozen
class UpdateProfile:
    display_name: str | None = optional_text(MAX_RAW_NAME, 0)
    avatar_key: str | None = optional_text(MAX_KEY_CHARS)


@attrs.frozen
class RequestUpload:
    filename: str = bounded_text(MAX_FILENAME_CHARS)
    content_type: str = bounded_text(MAX_CONTENT_TYPE_CHARS)
    size: int = bounded_number(0, MAX_SIZE_BYTES)
    purpose: Literal["attachment", "avatar"] = "attachment"
    room_id: str | None = optional_text(MAX_ID)


@attrs.frozen
class MarkReadBody:
    message_id: str = bounded_text(MAX_ID)


@attrs.frozen
class UpdateRoom:
    """PATCH /rooms/{roomId}: any of the room's settings (at least one)."""

    name: str | None = optional_text(MAX_RAW_NAME)
    slow_mode_seconds: int | None = attrs.field(
        default=None, metadata={"min": 0, "max": MAX_SLOW_MODE_S}
    )
    archived: bool | None = None
    retention_days: int | None = attrs.field(
        default=None, metadata={"min": 0, "max": max(RETENTION_CHOICES_DAYS)}
    )
    """Issue 18: one of domain/retention.RETENTION_CHOICES_DAYS (0: the server's default)."""


@attrs.frozen
class ChangeRole:
    role: Literal["owner", "admin", "moderator", "member"] = bounded_text(16)


@attrs.frozen
class MuteBody:
    user_id: str = bounded_text(MAX_ID)
    seconds: int = bounded_number(1, MAX_MUTE_S)


@attrs.frozen
class BanBody:
    user_id: str = bounded_text(MAX_ID)
    reason: str = attrs.field(default="", metadata={"min": 0, "max": MAX_BAN_REASON})


@attrs.frozen
class PinBody:
    message_id: str = bounded_text(MAX_ID)


@attrs.frozen
class ReportBody:
    """POST /rooms/{roomId}/messages/{messageId}/report (domain/reports.py cleans both)."""

    reason: str = bounded_text(MAX_REASON_CHARS)
    note: str | None = optional_text(MAX_REPORT_NOTE, 0)


@attrs.frozen
class ResolveReportBody:
    """POST /rooms/{roomId}/reports/{reportId}/resolve."""

    outcome: str = bounded_text(MAX_REASON_CHARS)
    note: str | None = optional_text(MAX_REPORT_NOTE, 0)


Body = (
    CreateRoom
    | AddMember
    | OpenDirect
    | UpdateProfile
    | RequestUpload
    | MarkReadBody
    | UpdateRoom
    | ChangeRole
    | MuteBody
    | BanBody
    | PinBody
    | ReportBody
    | ResolveReportBody
)
EXACTLY_ONE_USER = (AddMember, OpenDirect)
"""Bodies that name a user by exactly one of userId or username."""
