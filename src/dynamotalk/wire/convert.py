"""The one cattrs converter of the wire: strict camelCase in, camelCase out.

Inbound classes (commands, bodies) are structured strictly: no type coercion, no extra keys.
Outbound, every domain object the protocol shows goes through the same converter: plain
classes by generated camelCase hooks, messages, pages and tagged events by the hooks below.
"""

from __future__ import annotations

from typing import Any, get_args

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from dynamotalk import routes
from dynamotalk.domain import events as ev
from dynamotalk.domain.budget import reaction_sample
from dynamotalk.domain.commands import AttachmentRef, QuoteRef
from dynamotalk.domain.identities import author_kind
from dynamotalk.domain.models import (
    Attachment,
    HistoryPage,
    Invite,
    Membership,
    Message,
    PresenceEntry,
    Room,
    RoomsPage,
    RoomSummary,
    SyncResult,
    UploadForm,
    User,
)
from dynamotalk.wire import bodies

VERSION = 2
"""The protocol's version, the `"v"` of every outbound frame."""


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _strict_str(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _strict_int(value: object, _: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected a whole number")
    return value


def _strict_bool(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _strict_tuple(converter: cattrs.Converter) -> Any:
    def hook(value: object, type_: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise TypeError("expected a list")
        (item_type, _) = get_args(type_)
        return tuple(converter.structure(item, item_type) for item in value)

    return hook


INBOUND: frozenset[Any] = frozenset(
    (AttachmentRef, QuoteRef, *routes.WS_ACTIONS.values(), *get_args(bodies.Body))
)
_OUTBOUND: frozenset[Any] = frozenset(
    (Room, Membership, Attachment, User, PresenceEntry, UploadForm, Invite)
)


def make_converter() -> cattrs.Converter:
    """The converter for the wire, with every hook registered."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook_func(
        lambda t: getattr(t, "__origin__", None) is tuple and len(get_args(t)) == 2,
        _strict_tuple(converter),
    )
    # Hooks are generated on first use of each class (cached by cattrs), not at import: a
    # Lambda invocation touches one or two classes, and generating all of them costs cold start.
    outbound = INBOUND | _OUTBOUND

    def renames(cls: Any) -> dict[str, Any]:
        return {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls)}

    converter.register_structure_hook_factory(
        lambda t: t in INBOUND or t is Attachment,
        lambda cls: make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=True, **renames(cls)
        ),
    )
    converter.register_unstructure_hook_factory(
        lambda t: t in outbound,
        lambda cls: make_dict_unstructure_fn(cls, converter, **renames(cls)),
    )
    converter.register_unstructure_hook(frozenset, lambda s: sorted(s))
    for cls, hook in _HOOKS.items():
        converter.register_unstructure_hook(cls, hook)
    return converter


def _message(message: Message) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "roomId": message.room_id,
        "authorId": message.author_id,
        # Derived from the author id by the server; no frame field can set it.
        "authorKind": str(author_kind(message.author_id)),
        "text": message.text,
        "clientId": message.client_id,
        "createdAt": message.created_at,
        "editedAt": message.edited_at,
        "deletedAt": message.deleted_at,
        "deleted": message.deleted,
        "attachments": [CONVERTER.unstructure(a) for a in message.attachments],
        # A few reactor ids and the exact count: the JSON does not grow with the room.
        "reactions": {e: reaction_sample(users) for e, users in sorted(message.reactions.items())},
        "reactionCounts": {e: len(users) for e, users in sorted(message.reactions.items())},
        "seq": message.seq,
        # Only when set: who deleted it, if not its author; a blocker's stub (domain/blocking.py).
        **{k: v for k, v in (("deletedBy", message.deleted_by), ("hidden", message.hidden)) if v},
        **_thread_fields(message),
    }


def _thread_fields(message: Message) -> dict[str, Any]:
    """Threads, quotes and mentions: each key only where it says something (docs/PROTOCOL.md,
    "Threads, quotes and mentions"), so a plain message's JSON is as it was."""
    fields: dict[str, Any] = {}
    if message.parent_id is not None:
        fields.update(parentId=message.parent_id, alsoInRoom=message.also_in_room)
    if message.reply_count:
        fields.update(replyCount=message.reply_count, lastReplyAt=message.last_reply_at)
    if message.quote is not None:
        q = message.quote
        fields["quote"] = {
            "messageId": q.message_id,
            "authorId": q.author_id,
            "authorName": q.author_name,
            "createdAt": q.created_at,
            "text": q.text,
        }
    if message.mentions:
        fields["mentions"] = list(message.mentions)
    if message.mentions_all is not None:
        fields["mentionsAll"] = str(message.mentions_all)
    return fields


def _room_summary(summary: RoomSummary) -> dict[str, Any]:
    return {
        "room": CONVERTER.unstructure(summary.room),
        "membership": CONVERTER.unstructure(summary.membership),
        "unread": summary.unread,
        "unreadMentions": summary.unread_mentions,
    }


def _rooms_page(page: RoomsPage) -> dict[str, Any]:
    return {"rooms": [_room_summary(r) for r in page.rooms], "nextCursor": page.next_cursor}


def _history_page(page: HistoryPage) -> dict[str, Any]:
    return {
        "messages": [_message(m) for m in page.messages],
        "nextCursor": page.next_cursor,
        "seq": page.seq,
    }


def _sync(result: SyncResult) -> dict[str, Any]:
    return {"messages": [_message(m) for m in result.messages], "hasMore": result.has_more}


EVENT_TYPE: dict[type[Any], str] = dict(ev.FRAME_TYPE)
"""Every event's frame `type`, from its home `domain/events.FRAME_TYPE` (clients read it here)."""


def _message_event(tag: str) -> Any:
    def hook(event: ev.MessagePosted | ev.MessageEdited | ev.MessageDeleted) -> dict[str, Any]:
        m = event.message
        frame = {
            "v": VERSION,
            "type": tag,
            "roomId": m.room_id,
            "seq": event.seq,
            "message": _message(m),
        }
        if isinstance(event, ev.MessagePosted) and event.thread is not None:
            frame["thread"] = {
                "parentId": event.thread.parent_id,
                "replyCount": event.thread.reply_count,
                "lastReplyAt": event.thread.last_reply_at,
            }
        return frame

    return hook


def _reaction_changed(event: ev.ReactionChanged) -> dict[str, Any]:
    m = event.message
    return {
        "v": VERSION,
        "type": EVENT_TYPE[ev.ReactionChanged],
        "roomId": m.room_id,
        "seq": event.seq,
        "messageId": m.message_id,
        "emoji": event.emoji,
        "userId": event.user_id,
        "added": event.added,
        "message": _message(m),
    }


def _typing(event: ev.Typing) -> dict[str, Any]:
    return {
        "v": VERSION,
        "type": EVENT_TYPE[ev.Typing],
        "roomId": event.room_id,
        "userId": event.user_id,
        "username": event.username,
    }


def _presence_changed(event: ev.PresenceChanged) -> dict[str, Any]:
    return {
        "v": VERSION,
        "type": EVENT_TYPE[ev.PresenceChanged],
        "roomId": event.room_id,
        "userId": event.user_id,
        "username": event.username,
        "online": event.online,
        "lastSeen": event.last_seen,
    }


def _member_joined(event: ev.MemberJoined) -> dict[str, Any]:
    membership = event.membership
    return {
        "v": VERSION,
        "type": EVENT_TYPE[ev.MemberJoined],
        "roomId": membership.room_id,
        "seq": event.seq,
        "membership": CONVERTER.unstructure(membership),
    }


def _member_left(event: ev.MemberLeft) -> dict[str, Any]:
    return {
        "v": VERSION,
        "type": EVENT_TYPE[ev.MemberLeft],
        "roomId": event.room_id,
        "seq": event.seq,
        "userId": event.user_id,
    }


def _read_moved(event: ev.ReadMoved) -> dict[str, Any]:
    return {
        "v": VERSION,
        "type": EVENT_TYPE[ev.ReadMoved],
        "roomId": event.room_id,
        "userId": event.user_id,
        "messageId": event.message_id,
        "upTo": event.up_to,
    }


def _change_page(page: ev.ChangePage) -> dict[str, Any]:
    return {
        "roomId": page.room_id,
        "changes": [CONVERTER.unstructure(change) for change in page.changes],
        "seq": page.seq,
        "hasMore": page.has_more,
    }


def _invite_received(event: ev.InviteReceived) -> dict[str, Any]:
    invite = event.invite
    return {
        "v": VERSION,
        "type": EVENT_TYPE[ev.InviteReceived],
        "roomId": invite.room_id,
        "invite": CONVERTER.unstructure(invite),
    }


def _mentioned(event: ev.Mentioned) -> dict[str, Any]:
    return {
        "v": VERSION,
        "type": EVENT_TYPE[ev.Mentioned],
        "roomId": event.room_id,
        "messageId": event.message_id,
        "seq": event.seq,
        "authorId": event.author_id,
    }


_HOOKS: dict[type[Any], Any] = {
    Message: _message,
    RoomSummary: _room_summary,
    RoomsPage: _rooms_page,
    HistoryPage: _history_page,
    SyncResult: _sync,
    # Events: versioned and tagged with their `type`, as docs/PROTOCOL.md shows each one.
    ev.MessagePosted: _message_event(EVENT_TYPE[ev.MessagePosted]),
    ev.MessageEdited: _message_event(EVENT_TYPE[ev.MessageEdited]),
    ev.MessageDeleted: _message_event(EVENT_TYPE[ev.MessageDeleted]),
    ev.ReactionChanged: _reaction_changed,
    ev.Typing: _typing,
    ev.PresenceChanged: _presence_changed,
    ev.MemberJoined: _member_joined,
    ev.MemberLeft: _member_left,
    ev.ReadMoved: _read_moved,
    ev.InviteReceived: _invite_received,
    ev.ChangePage: _change_page,
    ev.Mentioned: _mentioned,
}

CONVERTER = make_converter()


def attachments_of(refs: tuple[AttachmentRef, ...]) -> tuple[Attachment, ...]:
    """The attachments a message command names, as the domain's Attachment values."""
    return tuple(CONVERTER.structure(CONVERTER.unstructure(ref), Attachment) for ref in refs)
