"""The change item: one room change under ROOM#{room} / SEQ#{seq}, holding the change as it was
made (a message's whole state after it, or the membership), so the fan-out sends it without
reading anything else and sync returns it as delivered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynamotalk.domain.events import (
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePinned,
    MessagePosted,
    MessageUnpinned,
    ReactionChanged,
    RoomChange,
    RoomUpdated,
    room_of,
)
from dynamotalk.domain.limits import CHANGE_LOG_DAYS
from dynamotalk.domain.models import Message, ThreadCount
from dynamotalk.tables import keys as k
from dynamotalk.tables.items import (
    Item,
    membership_from_item,
    membership_item,
    message_from_item,
    message_item,
    room_from_item,
)
from dynamotalk.tables.moderation_items import pin_from_item, pin_item, room_state

CHANGE_TTL_S = CHANGE_LOG_DAYS * 24 * 3600

_KINDS: dict[type, str] = {
    MessagePosted: "posted",
    MessageEdited: "edited",
    MessageDeleted: "deleted",
    ReactionChanged: "reaction",
    MemberJoined: "joined",
    MemberLeft: "left",
    RoomUpdated: "room",
    MessagePinned: "pinned",
    MessageUnpinned: "unpinned",
}
_MESSAGE_EVENTS: dict[str, type[MessagePosted | MessageEdited | MessageDeleted]] = {
    "posted": MessagePosted,
    "edited": MessageEdited,
    "deleted": MessageDeleted,
}


def _message_state(message: Message) -> Item:
    """The message with its reactions (as `r#{emoji}` sets, the way the message item has them)."""
    state = {n: v for n, v in message_item(message).items() if v is not None}
    for emoji, users in message.reactions.items():
        if users:
            state[k.reaction_attribute(emoji)] = set(users)
    return state


def change_item(change: RoomChange, now_s: int) -> Item:
    """The change's item; it expires CHANGE_LOG_DAYS after `now_s` (DynamoDB TTL)."""
    item: Item = {
        "PK": k.room_pk(room_of(change)),
        "SK": k.seq_sk(change.seq),
        "kind": _KINDS[type(change)],
        "seq": change.seq,
        "expires_at": now_s + CHANGE_TTL_S,
    }
    if isinstance(change, MemberJoined):
        item["membership"] = {
            n: v for n, v in membership_item(change.membership).items() if v is not None
        }
    elif isinstance(change, MemberLeft):
        item["user_id"] = change.user_id
    elif isinstance(change, RoomUpdated):
        item["room"] = room_state(change.room)
    elif isinstance(change, MessagePinned):
        item["pin"] = {n: v for n, v in pin_item(change.pin).items() if n not in ("PK", "SK")}
    elif isinstance(change, MessageUnpinned):
        item["message_id"] = change.message_id
    else:
        item["message"] = _message_state(change.message)
        if isinstance(change, ReactionChanged):
            item.update(emoji=change.emoji, user_id=change.user_id, added=change.added)
        if isinstance(change, MessagePosted) and change.thread is not None:
            item["thread"] = {
                "parent_id": change.thread.parent_id,
                "reply_count": change.thread.reply_count,
                "last_reply_at": change.thread.last_reply_at,
            }
    return item


def change_from_item(item: Mapping[str, Any]) -> RoomChange:
    kind, seq = str(item["kind"]), int(item["seq"])
    if kind == "joined":
        return MemberJoined(membership_from_item(item["membership"]), seq)
    if kind == "left":
        return MemberLeft(k.room_of_pk(str(item["PK"])), str(item["user_id"]), seq)
    if kind == "room":
        return RoomUpdated(room_from_item(item["room"]), seq)
    if kind == "pinned":
        return MessagePinned(pin_from_item(item["pin"]), seq)
    if kind == "unpinned":
        return MessageUnpinned(k.room_of_pk(str(item["PK"])), str(item["message_id"]), seq)
    message = message_from_item(item["message"])
    if kind == "reaction":
        return ReactionChanged(
            message, str(item["emoji"]), str(item["user_id"]), bool(item["added"]), seq
        )
    thread = item.get("thread")
    if kind == "posted" and thread:
        counts = ThreadCount(
            str(thread["parent_id"]), int(thread["reply_count"]), int(thread["last_reply_at"])
        )
        return MessagePosted(message, seq, counts)
    return _MESSAGE_EVENTS[kind](message, seq)
