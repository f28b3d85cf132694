"""The commands a client sends over the WebSocket, as plain values (routes.py names each one).

Each field carries its bounds in `metadata` (min/max length or value, most list entries), read
by the wire's validation after parsing; every bound comes from domain/limits.py.
"""

from __future__ import annotations

from typing import Any

import attrs

from dynamotalk.domain.limits import (
    MAX_CLIENT_ID,
    MAX_CONTENT_TYPE_CHARS,
    MAX_EMOJI_CHARS,
    MAX_FILENAME_CHARS,
    MAX_ID,
    MAX_KEY_CHARS,
    MAX_RAW_TEXT,
    MAX_ROOM_IDS,
    MAX_SEQ,
    MAX_SIZE_BYTES,
    MAX_TOKEN_CHARS,
    Limits,
)

_LIMITS = Limits()


def bounded_text(max_len: int, min_len: int = 1, *, content: bool = False) -> Any:
    """A string field with length limits checked after structuring.

    Too long is `too_large` for content (a message's text) and `invalid_input` for every other
    field (ids, names, emoji): a bad field, as docs/PROTOCOL.md's error table says.
    """
    return attrs.field(metadata={"min": min_len, "max": max_len, "content": content})


def optional_text(max_len: int, min_len: int = 1) -> Any:
    """An optional string field (None when absent) with the same limits when present."""
    return attrs.field(default=None, metadata={"min": min_len, "max": max_len})


def bounded_number(min_value: int, max_value: int, default: int | None = None) -> Any:
    """A whole-number field within [min_value, max_value]."""
    meta = {"min": min_value, "max": max_value}
    if default is None:
        return attrs.field(metadata=meta)
    return attrs.field(default=default, metadata=meta)


def id_list(max_items: int) -> Any:
    """A non-empty list of ids, at most `max_items` of them."""
    return attrs.field(metadata={"min": 1, "max": MAX_ID, "items": max_items})


@attrs.frozen
class AttachmentRef:
    key: str = bounded_text(MAX_KEY_CHARS)
    name: str = bounded_text(MAX_FILENAME_CHARS)
    content_type: str = bounded_text(MAX_CONTENT_TYPE_CHARS)
    size: int = bounded_number(0, MAX_SIZE_BYTES, default=0)


@attrs.frozen
class QuoteRef:
    """The message a post quotes (same room): the server keeps a snapshot of it."""

    message_id: str = bounded_text(MAX_ID)


@attrs.frozen
class SendMessage:
    room_id: str = bounded_text(MAX_ID)
    text: str = bounded_text(MAX_RAW_TEXT, 0, content=True)
    client_id: str = bounded_text(MAX_CLIENT_ID)
    attachments: tuple[AttachmentRef, ...] = attrs.field(
        default=(), metadata={"items": _LIMITS.max_attachments}
    )
    parent_id: str | None = optional_text(MAX_ID)
    """A reply: its thread's first message."""
    also_in_room: bool | None = None
    """A reply also shown in the room's timeline (absent: false)."""
    quote: QuoteRef | None = None


@attrs.frozen
class EditMessage:
    room_id: str = bounded_text(MAX_ID)
    message_id: str = bounded_text(MAX_ID)
    text: str = bounded_text(MAX_RAW_TEXT, 0, content=True)


@attrs.frozen
class DeleteMessage:
    room_id: str = bounded_text(MAX_ID)
    message_id: str = bounded_text(MAX_ID)


@attrs.frozen
class React:
    room_id: str = bounded_text(MAX_ID)
    message_id: str = bounded_text(MAX_ID)
    emoji: str = bounded_text(MAX_EMOJI_CHARS)


@attrs.frozen
class TypingCommand:
    room_id: str = bounded_text(MAX_ID)


@attrs.frozen
class Subscribe:
    room_ids: tuple[str, ...] = id_list(MAX_ROOM_IDS)


@attrs.frozen
class Unsubscribe:
    room_ids: tuple[str, ...] = id_list(MAX_ROOM_IDS)


@attrs.frozen
class Sync:
    """v2 (`after_seq`): every change after that seq; v1 (`after_id` or neither): new posts."""

    room_id: str = bounded_text(MAX_ID)
    after_id: str | None = optional_text(MAX_ID)
    limit: int | None = attrs.field(default=None, metadata={"min": 1, "max": _LIMITS.page_size_max})
    after_seq: int | None = attrs.field(default=None, metadata={"min": 0, "max": MAX_SEQ})


@attrs.frozen
class MarkRead:
    room_id: str = bounded_text(MAX_ID)
    message_id: str = bounded_text(MAX_ID)


@attrs.frozen
class Ping:
    pass


@attrs.frozen
class Reauth:
    """Renew the socket's session with a fresh token of the same user (sessions.py)."""

    token: str = bounded_text(MAX_TOKEN_CHARS)


Command = (
    SendMessage
    | EditMessage
    | DeleteMessage
    | React
    | TypingCommand
    | Subscribe
    | Unsubscribe
    | Sync
    | MarkRead
    | Ping
    | Reauth
)
