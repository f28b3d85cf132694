"""Opaque history cursors, bound to the room they were issued for.

A cursor is base64url("v1|{room_id}|{message_id}"). Clients must not build them; the service
refuses a cursor from another room (so a cursor can never be replayed against a room the caller
was not paging) and any cursor that does not decode.
"""

from __future__ import annotations

import base64
import binascii

from dynamotalk.domain.errors import InvalidInput
from dynamotalk.domain.ids import is_ulid

_VERSION = "v1"


def _pack(version: str, scope: str, value: str) -> str:
    raw = f"{version}|{scope}|{value}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unpack(cursor: str) -> tuple[str, str, str]:
    """(version, scope, value) of a cursor; InvalidInput if it does not decode."""
    if len(cursor) > 512:
        raise InvalidInput("cursor is not valid")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidInput("cursor is not valid") from None
    version, _, rest = raw.partition("|")
    scope, _, value = rest.rpartition("|")
    return version, scope, value


def encode_cursor(room_id: str, message_id: str) -> str:
    return _pack(_VERSION, room_id, message_id)


def decode_cursor(cursor: str, room_id: str) -> str:
    """The message id to page before; raises InvalidInput for a foreign or broken cursor."""
    version, cursor_room, message_id = _unpack(cursor)
    if version != _VERSION or not is_ulid(message_id):
        raise InvalidInput("cursor is not valid")
    if cursor_room != room_id:
        raise InvalidInput("cursor belongs to another room")
    return message_id


_ROOMS_VERSION = "r1"


def encode_rooms_cursor(user_id: str, room_id: str) -> str:
    """A cursor into one user's room list: the last room id of the page it follows."""
    return _pack(_ROOMS_VERSION, user_id, room_id)


def decode_rooms_cursor(cursor: str, user_id: str) -> str:
    """The room id to page after; refuses a cursor issued to another user or that won't decode."""
    version, owner, room_id = _unpack(cursor)
    if version != _ROOMS_VERSION or owner != user_id or not room_id or not room_id.isprintable():
        raise InvalidInput("cursor is not valid")
    return room_id
