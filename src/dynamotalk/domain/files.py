"""The attachments bucket's key layout, once: the service builds and checks keys here, and the
IAM permissions (permissions.py) grant exactly these prefixes.

    rooms/{roomId}/{uploaderId}/{fileId}/{name}   a message attachment, readable by the room
    avatars/{userId}/{fileId}/{name}              a profile picture, readable by anyone
"""

from __future__ import annotations

import re

import attrs

from dynamotalk.domain.limits import MAX_FILENAME_OUT, MAX_KEY_CHARS

ROOMS_PREFIX = "rooms/"
AVATARS_PREFIX = "avatars/"
PREFIXES = (ROOMS_PREFIX, AVATARS_PREFIX)
"""Every prefix the bucket holds objects under."""

_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """The last path segment of `name`, anything but [A-Za-z0-9._-] replaced, 1..MAX_FILENAME_OUT
    characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_FILENAME.sub("_", base).strip("._") or "file"
    return cleaned[-MAX_FILENAME_OUT:]


def attachment_key(room_id: str, uploader_id: str, file_id: str, name: str) -> str:
    return f"{attachments_of(room_id, uploader_id)}{file_id}/{safe_filename(name)}"


def attachments_of(room_id: str, uploader_id: str) -> str:
    """The prefix of every attachment `uploader_id` uploads to `room_id`."""
    return f"{ROOMS_PREFIX}{room_id}/{uploader_id}/"


def avatar_key(user_id: str, file_id: str, name: str) -> str:
    return f"{avatars_of(user_id)}{file_id}/{safe_filename(name)}"


def avatars_of(user_id: str) -> str:
    """The prefix of every avatar `user_id` uploads."""
    return f"{AVATARS_PREFIX}{user_id}/"


@attrs.frozen
class FileKey:
    """A key a client names, read back: an attachment (with its room) or an avatar."""

    kind: str
    """`attachment` or `avatar`."""
    room_id: str | None = None


def parse_key(key: str) -> FileKey | None:
    """What `key` is, or None when it is no attachment or avatar key (or tries `..`)."""
    parts = key.split("/")
    if ".." in parts or len(key) > MAX_KEY_CHARS:
        return None
    if len(parts) >= 4 and key.startswith(AVATARS_PREFIX):
        return FileKey("avatar")
    if len(parts) >= 5 and key.startswith(ROOMS_PREFIX):
        return FileKey("attachment", room_id=parts[1])
    return None
