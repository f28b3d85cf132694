"""Export my data (issue 18): the job's states, its limits, and the archive's shape.

The archive is one JSON object: the user's profile, their memberships (rooms, roles, joined)
and their own messages in those rooms (never another user's; deleted and expired ones left
out), with the reactions they made on any message they read while paging. Pure: the service
feeds it what the stores returned (service/exports.py)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from dynamotalk.domain.models import Membership, Message, Room, User

ARCHIVE_FORMAT = 1
"""The archive's `format`: bumped when a field changes meaning."""
EXPORTS_PER_DAY = 3
"""Exports one user may request in 24 hours: each reads every message of their rooms."""
EXPORT_STALE_S = 15 * 60
"""A pending export older than this (the worker's timeout is far below) no longer blocks a new
one: its worker died and the dead-letter queue has its job."""
EXPORT_LINK_TTL_S = 15 * 60
"""How long a download link (presigned S3 GET) stays valid; GET the status again for a new
one while the archive is kept."""
EXPORT_KEPT_DAYS = 7
"""The bucket's lifecycle rule deletes archives (`exports/`) this many days after creation;
the job items expire with them (TTL)."""
EXPORT_MAX_MESSAGES_READ = 200_000
"""Messages one job reads across the user's rooms (about 200 MB of items, well inside the
worker's timeout): past it the archive says `truncated: true`."""
EXPORT_PAGE_MESSAGES = 1000
"""Messages per timeline or thread Query while exporting (about 370 KB of items: under the
1 MB a Query returns), so a room of N messages costs N / 1000 round trips."""
EXPORTS_PREFIX = "exports/"
"""The key prefix of every archive in the attachments bucket (its own lifecycle rule)."""


class ExportStatus(enum.StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


@attrs.frozen
class ExportJob:
    user_id: str
    export_id: str
    status: ExportStatus
    created_at: int
    """Epoch ms of the request."""
    finished_at: int | None = None

    @property
    def key(self) -> str:
        return archive_key(self.user_id, self.export_id)

    def running(self, now_ms: int) -> bool:
        return self.status is ExportStatus.PENDING and now_ms - self.created_at < (
            EXPORT_STALE_S * 1000
        )


def archive_key(user_id: str, export_id: str) -> str:
    return f"{EXPORTS_PREFIX}{user_id}/{export_id}.json"


def refusal(jobs: Sequence[ExportJob], now_ms: int) -> str | None:
    """Why a new export is refused (None: allowed): one running at a time, EXPORTS_PER_DAY."""
    if any(job.running(now_ms) for job in jobs):
        return "an export is already running"
    today = [job for job in jobs if now_ms - job.created_at < 86_400_000]
    if len(today) >= EXPORTS_PER_DAY:
        return f"at most {EXPORTS_PER_DAY} exports a day"
    return None


def _message_json(message: Message, user_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messageId": message.message_id,
        "roomId": message.room_id,
        "text": message.text,
        "createdAt": message.created_at,
    }
    if message.edited_at is not None:
        body["editedAt"] = message.edited_at
    if message.parent_id is not None:
        body["threadOf"] = message.parent_id
    if message.attachments:
        body["attachments"] = [
            {"key": a.key, "name": a.name, "contentType": a.content_type, "size": a.size}
            for a in message.attachments
        ]
    mine = sorted(emoji for emoji, users in message.reactions.items() if user_id in users)
    if mine:
        body["myReactions"] = mine
    return body


def own_message(message: Message, user_id: str, now_s: int) -> bool:
    """In the archive: written by the user, not deleted, not past its retention."""
    expired = message.expires_at is not None and message.expires_at <= now_s
    return message.author_id == user_id and not message.deleted and not expired


def reactions_given(message: Message, user_id: str) -> list[str]:
    """The user's reactions on someone else's message: the emoji only, never that message."""
    if message.author_id == user_id or message.deleted:
        return []
    return sorted(emoji for emoji, users in message.reactions.items() if user_id in users)


def build_archive(
    user: User,
    memberships: Iterable[Membership],
    rooms: Mapping[str, Room],
    messages: Iterable[Message],
    reactions: Iterable[tuple[str, str, str]],
    exported_at: int,
    truncated: bool,
) -> dict[str, Any]:
    """The archive: `messages` already chosen by own_message; `reactions` (room, message id,
    emoji) the user gave to others' messages."""
    return {
        "format": ARCHIVE_FORMAT,
        "exportedAt": exported_at,
        "truncated": truncated,
        "profile": {
            "userId": user.user_id,
            "username": user.username,
            "displayName": user.display_name,
            "avatarKey": user.avatar_key,
            "createdAt": user.created_at,
        },
        "memberships": [
            {
                "roomId": m.room_id,
                "roomName": rooms[m.room_id].name if m.room_id in rooms else None,
                "role": str(m.role),
                "joinedAt": m.joined_at,
            }
            for m in memberships
        ],
        "messages": [_message_json(m, user.user_id) for m in messages],
        "reactions": [
            {"roomId": room, "messageId": message, "emoji": emoji}
            for room, message, emoji in reactions
        ],
    }
