"""What the moderation items hold (issue 17): bans, mutes, pins and audit log entries, all
under their room's partition (keys.py's header), so each read is one GetItem or Query."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynamotalk.domain.models import AuditEntry, Ban, Pin, Room
from dynamotalk.tables import keys as k
from dynamotalk.tables.items import EXPIRES_AT, Item, room_item


def ban_item(ban: Ban) -> Item:
    return {
        "PK": k.room_pk(ban.room_id),
        "SK": k.ban_sk(ban.user_id),
        "kind": "ban",
        "room_id": ban.room_id,
        "user_id": ban.user_id,
        "banned_by": ban.banned_by,
        "banned_at": ban.banned_at,
        "reason": ban.reason or None,
    }


def ban_from_item(item: Mapping[str, Any]) -> Ban:
    return Ban(
        room_id=str(item["room_id"]),
        user_id=str(item["user_id"]),
        banned_by=str(item["banned_by"]),
        banned_at=int(item["banned_at"]),
        reason=str(item.get("reason") or ""),
    )


def mute_item(room_id: str, user_id: str, until_ms: int) -> Item:
    """The mute beside the membership, so leaving and rejoining does not lift it; DynamoDB's
    TTL removes it after it ends."""
    return {
        "PK": k.room_pk(room_id),
        "SK": k.mute_sk(user_id),
        "kind": "mute",
        "until": until_ms,
        "expires_at": until_ms // 1000 + 1,
    }


def pin_item(pin: Pin) -> Item:
    return {
        "PK": k.room_pk(pin.room_id),
        "SK": k.pin_sk(pin.message_id),
        "kind": "pin",
        "room_id": pin.room_id,
        "message_id": pin.message_id,
        "pinned_by": pin.pinned_by,
        "pinned_at": pin.pinned_at,
        "author_id": pin.author_id,
        "text": pin.text,
        "created_at": pin.created_at,
        EXPIRES_AT: pin.expires_at,
    }


def pin_from_item(item: Mapping[str, Any]) -> Pin:
    return Pin(
        room_id=str(item["room_id"]),
        message_id=str(item["message_id"]),
        pinned_by=str(item["pinned_by"]),
        pinned_at=int(item["pinned_at"]),
        author_id=str(item["author_id"]),
        text=str(item.get("text", "")),
        created_at=int(item["created_at"]),
        expires_at=int(item[EXPIRES_AT]) if item.get(EXPIRES_AT) is not None else None,
    )


def audit_item(entry: AuditEntry) -> Item:
    return {
        "PK": k.room_pk(entry.room_id),
        "SK": k.audit_sk(entry.entry_id),
        "kind": "audit",
        "room_id": entry.room_id,
        "entry_id": entry.entry_id,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "at": entry.at,
        "target_user_id": entry.target_user_id,
        "target_message_id": entry.target_message_id,
        "detail": entry.detail or None,
    }


def audit_from_item(item: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        room_id=str(item["room_id"]),
        entry_id=str(item["entry_id"]),
        actor_id=str(item["actor_id"]),
        action=str(item["action"]),
        at=int(item["at"]),
        target_user_id=item.get("target_user_id"),
        target_message_id=item.get("target_message_id"),
        detail=str(item.get("detail") or ""),
    )


def room_state(room: Room) -> Item:
    """A room as a change item holds it: its item without keys."""
    skip = {"PK", "SK", "GSI1PK", "GSI1SK"}
    return {n: v for n, v in room_item(room).items() if v is not None and n not in skip}
