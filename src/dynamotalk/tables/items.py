"""What each item holds: the codec of every item kind, domain value <-> plain item.

Plain Python values, None where an attribute is unset (the DynamoDB codec drops those). The
user item is the one the Pulumi program seeds for the bot, so the cloud and the user store
cannot disagree about its shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from dynamotalk.domain.models import (
    Attachment,
    Block,
    Invite,
    Membership,
    MentionAll,
    Message,
    Quote,
    Role,
    Room,
    RoomKind,
    User,
)
from dynamotalk.tables import keys as k
from dynamotalk.tables.schema import CHAT_TABLE

Item = dict[str, Any]
EXPIRES_AT = CHAT_TABLE.ttl_attribute
"""The table's TTL attribute (epoch seconds), on the items that expire."""


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


# --- users ------------------------------------------------------------------------------------


def user_item(user: User) -> Item:
    """A profile item (plain Python values; None where an attribute is unset)."""
    return {
        "PK": k.user_pk(user.user_id),
        "SK": k.PROFILE,
        "kind": "user",
        "user_id": user.user_id,
        "username": user.username,
        "display_name": user.display_name,
        "avatar_key": user.avatar_key,
        "created_at": user.created_at,
        "last_seen": user.last_seen,
    }


def user_from_item(item: Mapping[str, Any]) -> User:
    return User(
        user_id=item["user_id"],
        username=item["username"],
        display_name=item["display_name"],
        avatar_key=item.get("avatar_key"),
        created_at=int(item.get("created_at", 0)),
        last_seen=_int_or_none(item.get("last_seen")),
    )


def username_claim_item(username: str, user_id: str) -> Item:
    """The item that makes a username (case folded) point to one user id."""
    return {"PK": k.username_pk(username), "SK": k.USERNAME_SK, "user_id": user_id}


# --- messages ---------------------------------------------------------------------------------


def message_item(message: Message) -> Item:
    """A message without its reactions: they live in `r#{emoji}` sets, written by updates."""
    return {
        "PK": k.room_pk(message.room_id),
        "SK": k.message_sk(message.message_id),
        "kind": "message",
        "message_id": message.message_id,
        "room_id": message.room_id,
        "author_id": message.author_id,
        "text": message.text,
        "created_at": message.created_at,
        "client_id": message.client_id,
        "attachments": [attrs.asdict(a) for a in message.attachments] or None,
        "edited_at": message.edited_at,
        "deleted_at": message.deleted_at,
        "seq": message.seq,
        "deleted_by": message.deleted_by,
        # The room's retention (domain/retention.py): DynamoDB's TTL deletes it some day after.
        EXPIRES_AT: message.expires_at,
        **_thread_attributes(message),
    }


def _thread_attributes(message: Message) -> Item:
    """A message's thread, quote and mention attributes (None where unset: not stored)."""
    parent = message.parent_id
    return {
        "parent_id": parent,
        "also_in_room": message.also_in_room if parent else None,
        k.THREAD_ONLY: True if not message.in_room else None,
        "GSI1PK": k.thread_gsi_pk(message.room_id, parent) if parent else None,
        "GSI1SK": k.message_sk(message.message_id) if parent else None,
        "reply_count": message.reply_count or None,
        "last_reply_at": message.last_reply_at,
        "quote": attrs.asdict(message.quote) if message.quote else None,
        "mentions": list(message.mentions) or None,
        "mentions_all": message.mentions_all.value if message.mentions_all else None,
    }


def _quote_from(value: Mapping[str, Any] | None) -> Quote | None:
    if not value:
        return None
    return Quote(
        message_id=str(value["message_id"]),
        author_id=str(value["author_id"]),
        author_name=str(value["author_name"]),
        created_at=int(value["created_at"]),
        text=str(value["text"]),
    )


def message_from_item(item: Mapping[str, Any]) -> Message:
    reactions: dict[str, frozenset[str]] = {}
    for name, value in item.items():
        if name.startswith(k.REACTION_PREFIX) and value:
            reactions[name[len(k.REACTION_PREFIX) :]] = frozenset(value)
    return Message(
        message_id=item["message_id"],
        room_id=item["room_id"],
        author_id=item["author_id"],
        text=item.get("text", ""),
        created_at=int(item["created_at"]),
        client_id=item["client_id"],
        attachments=tuple(
            Attachment(
                key=a["key"], name=a["name"], content_type=a["content_type"], size=int(a["size"])
            )
            for a in item.get("attachments") or ()
        ),
        edited_at=_int_or_none(item.get("edited_at")),
        deleted_at=_int_or_none(item.get("deleted_at")),
        reactions=reactions,
        seq=_int_or_none(item.get("seq")),
        deleted_by=item.get("deleted_by"),
        parent_id=item.get("parent_id"),
        also_in_room=bool(item.get("also_in_room", False)),
        reply_count=int(item.get("reply_count") or 0),
        last_reply_at=_int_or_none(item.get("last_reply_at")),
        quote=_quote_from(item.get("quote")),
        mentions=tuple(item.get("mentions") or ()),
        mentions_all=MentionAll(item["mentions_all"]) if item.get("mentions_all") else None,
        expires_at=_int_or_none(item.get(EXPIRES_AT)),
    )


def mention_item(
    room_id: str, user_id: str, message_id: str, author_id: str, expires_at: int | None = None
) -> Item:
    """A member's mention in a message: counted after their read marker for unreadMentions,
    except where the member blocked its author (`author_id`); it expires with the message."""
    return {
        "PK": k.room_pk(room_id),
        "SK": k.mention_sk(user_id, message_id),
        k.MENTION_AUTHOR: author_id,
        EXPIRES_AT: expires_at,
    }


def client_claim_item(room_id: str, author_id: str, client_id: str, message_id: str) -> Item:
    """The claim that makes (room, author, client id) point to one message."""
    return {
        "PK": k.room_pk(room_id),
        "SK": k.client_sk(author_id, client_id),
        "message_id": message_id,
    }


# --- rooms, memberships, invites and blocks ---------------------------------------------------


def room_item(room: Room) -> Item:
    item: Item = {
        "PK": k.room_pk(room.room_id),
        "SK": k.META,
        "kind": "room",
        "room_id": room.room_id,
        "name": room.name,
        "room_kind": room.kind.value,
        "created_by": room.created_by,
        "created_at": room.created_at,
        "direct_pair": list(room.direct_pair) if room.direct_pair else None,
        "archived": room.archived or None,
        "slow_mode_seconds": room.slow_mode_seconds or None,
        "retention_days": room.retention_days or None,
        k.MEMBER_COUNT: room.member_count,
    }
    if room.kind is RoomKind.PUBLIC:
        item["GSI1PK"] = k.PUBLIC_ROOMS
        item["GSI1SK"] = k.room_pk(room.room_id)
    return item


def room_from_item(item: Mapping[str, Any]) -> Room:
    pair = item.get("direct_pair")
    return Room(
        room_id=item["room_id"],
        name=item["name"],
        kind=RoomKind(item["room_kind"]),
        created_by=item["created_by"],
        created_at=int(item["created_at"]),
        direct_pair=(pair[0], pair[1]) if pair else None,
        archived=bool(item.get("archived", False)),
        slow_mode_seconds=int(item.get("slow_mode_seconds") or 0),
        retention_days=int(item.get("retention_days") or 0),
        member_count=int(item.get(k.MEMBER_COUNT, 0)),
    )


def membership_item(membership: Membership) -> Item:
    return {
        "PK": k.room_pk(membership.room_id),
        "SK": k.member_sk(membership.user_id),
        "GSI1PK": k.user_pk(membership.user_id),
        "GSI1SK": k.room_pk(membership.room_id),
        "kind": "membership",
        "room_id": membership.room_id,
        "user_id": membership.user_id,
        "role": membership.role.value,
        "joined_at": membership.joined_at,
        "last_read_id": membership.last_read_id,
        "muted_until": membership.muted_until,
    }


def membership_from_item(item: Mapping[str, Any]) -> Membership:
    return Membership(
        room_id=item["room_id"],
        user_id=item["user_id"],
        role=Role(item["role"]),
        joined_at=int(item["joined_at"]),
        last_read_id=item.get("last_read_id"),
        muted_until=_int_or_none(item.get("muted_until")),
    )


def invite_item(invite: Invite) -> Item:
    return {
        "PK": k.room_pk(invite.room_id),
        "SK": k.invite_sk(invite.user_id),
        "GSI1PK": k.user_pk(invite.user_id),
        "GSI1SK": k.invite_gsi_sk(invite.room_id),
        "kind": "invite",
        "room_id": invite.room_id,
        "user_id": invite.user_id,
        "invited_by": invite.invited_by,
        "inviter_name": invite.inviter_name,
        "room_name": invite.room_name,
        "room_kind": invite.room_kind.value,
        "invited_at": invite.invited_at,
        "expires_at": invite.expires_at,
    }


def invite_from_item(item: Mapping[str, Any]) -> Invite:
    return Invite(
        room_id=str(item["room_id"]),
        user_id=str(item["user_id"]),
        invited_by=str(item["invited_by"]),
        inviter_name=str(item["inviter_name"]),
        room_name=str(item["room_name"]),
        room_kind=RoomKind(item["room_kind"]),
        invited_at=int(item["invited_at"]),
        expires_at=int(item["expires_at"]),
    )


def block_item(user_id: str, blocked_user_id: str, at: int) -> Item:
    """Under the blocker: their block list (GET /blocks, one Query)."""
    return {
        "PK": k.user_pk(user_id),
        "SK": k.block_sk(blocked_user_id),
        "kind": "block",
        "user_id": user_id,
        "blocked_user_id": blocked_user_id,
        "blocked_at": at,
    }


def blocked_by_item(user_id: str, blocked_user_id: str, at: int) -> Item:
    """The reverse of a block, under the blocked user: the fan-out asks who blocked an author
    with one Query on the table (BLOCKEDBY#{author}), written and deleted with the block."""
    return {
        "PK": k.blocked_by_pk(blocked_user_id),
        "SK": k.user_pk(user_id),
        "kind": "blocked_by",
        "blocked_at": at,
    }


def block_from_item(item: Mapping[str, Any]) -> Block:
    """A block; one stored before issue 17 has only its keys and `blocked_at`."""
    return Block(
        user_id=str(item["PK"]).removeprefix(k.USER_PREFIX),
        blocked_user_id=k.blocked_of_sk(str(item["SK"])),
        blocked_at=int(item.get("blocked_at", 0)),
    )
