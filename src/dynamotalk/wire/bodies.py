"""The JSON bodies the HTTP API takes (rooms, members, profile, uploads, read marks).

Bounds are checked after parsing like the commands' (domain/commands.py); names and display
names are bounded loosely here and cleaned by the service's own rules.
"""

from __future__ import annotations

from typing import Literal

import attrs

from dynamotalk.domain.commands import (
    MAX_CONTENT_TYPE_CHARS,
    MAX_FILENAME_CHARS,
    MAX_KEY_CHARS,
    MAX_SIZE_BYTES,
    bounded_number,
    bounded_text,
    optional_text,
)
from dynamotalk.domain.limits import MAX_ID

MAX_RAW_NAME = 200
"""Characters of a room or display name before the service trims and checks it."""
MAX_INITIAL_MEMBERS = 100
"""Members a room may be created with (the service refuses more with its own message)."""


@attrs.frozen
class CreateRoom:
    name: str = bounded_text(MAX_RAW_NAME)
    kind: Literal["public", "private"] = "public"
    members: tuple[str, ...] = attrs.field(
        default=(), metadata={"max": MAX_ID, "items": MAX_INITIAL_MEMBERS}
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


Body = CreateRoom | AddMember | OpenDirect | UpdateProfile | RequestUpload | MarkReadBody
EXACTLY_ONE_USER = (AddMember, OpenDirect)
"""Bodies that name a user by exactly one of userId or username."""
