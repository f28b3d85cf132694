"""Events the service emits to a room's subscribed connections (wire shapes: wire/convert.py).

Room changes (RoomChange) are stored with the change itself, numbered by the room's sequence
(`seq`: 1, 2, 3... per room, gap-free) and delivered from the room's change feed; the others
(typing, presence, receipts, invites) are sent as they happen and never stored."""

from __future__ import annotations

import typing

import attrs

from dynamotalk.domain.models import Invite, Membership, Message, Pin, Room, ThreadCount


@attrs.frozen
class MessagePosted:
    message: Message
    seq: int = 0
    thread: ThreadCount | None = None
    """A reply: its thread's first message's counts as this reply left them."""


@attrs.frozen
class MessageEdited:
    message: Message
    seq: int = 0


@attrs.frozen
class MessageDeleted:
    message: Message
    seq: int = 0


@attrs.frozen
class ReactionChanged:
    message: Message
    emoji: str
    user_id: str
    added: bool
    seq: int = 0


@attrs.frozen
class Typing:
    room_id: str
    user_id: str
    username: str


@attrs.frozen
class PresenceChanged:
    room_id: str
    user_id: str
    username: str
    online: bool
    last_seen: int | None


@attrs.frozen
class MemberJoined:
    """A member joined, or a member's role changed (the membership as it now is)."""

    membership: Membership
    seq: int = 0


@attrs.frozen
class MemberLeft:
    room_id: str
    user_id: str
    seq: int = 0


@attrs.frozen
class ReadMoved:
    """A member's read marker moved forward (a read receipt): never stored as a change."""

    room_id: str
    user_id: str
    message_id: str
    up_to: int | None
    """The seq the message was posted at (None for a message from before sequences)."""


@attrs.frozen
class InviteReceived:
    """Sent to the invitee's own connections only (never to the room)."""

    invite: Invite


@attrs.frozen
class RoomUpdated:
    """The room's settings changed (name, slow mode, archived): the room as it now is."""

    room: Room
    seq: int = 0


@attrs.frozen
class MessagePinned:
    pin: Pin
    seq: int = 0


@attrs.frozen
class MessageUnpinned:
    room_id: str
    message_id: str
    seq: int = 0


@attrs.frozen
class Mentioned:
    """Sent to a mentioned member's own connections (subscribed to the room or not) when the
    fan-out delivers the post that mentions them; never stored as a change."""

    room_id: str
    message_id: str
    seq: int
    author_id: str
    user_id: str
    """The member mentioned (whose connections get it)."""


RoomChange = (
    MessagePosted
    | MessageEdited
    | MessageDeleted
    | ReactionChanged
    | MemberJoined
    | MemberLeft
    | RoomUpdated
    | MessagePinned
    | MessageUnpinned
)
"""What a room's change feed holds: each stored with its `seq`."""


def room_of(change: RoomChange) -> str:
    if isinstance(change, MemberJoined):
        return change.membership.room_id
    if isinstance(change, MemberLeft | MessageUnpinned):
        return change.room_id
    if isinstance(change, RoomUpdated):
        return change.room.room_id
    if isinstance(change, MessagePinned):
        return change.pin.room_id
    return change.message.room_id


Event = (
    MessagePosted
    | MessageEdited
    | MessageDeleted
    | ReactionChanged
    | Typing
    | PresenceChanged
    | MemberJoined
    | MemberLeft
    | ReadMoved
    | InviteReceived
    | RoomUpdated
    | MessagePinned
    | MessageUnpinned
    | Mentioned
)


@attrs.frozen
class ChangePage:
    """A page of a room's change feed (sync v2): oldest first."""

    room_id: str
    changes: tuple[RoomChange, ...]
    seq: int
    """Where the page ends: the next page starts after it."""
    has_more: bool


FRAME_TYPE: dict[type, str] = {
    MessagePosted: "message.posted",
    MessageEdited: "message.edited",
    MessageDeleted: "message.deleted",
    ReactionChanged: "reaction.changed",
    Typing: "typing",
    PresenceChanged: "presence.changed",
    MemberJoined: "member.joined",
    MemberLeft: "member.left",
    ReadMoved: "read",
    InviteReceived: "invite.received",
    Mentioned: "mention",
    RoomUpdated: "room.updated",
    MessagePinned: "message.pinned",
    MessageUnpinned: "message.unpinned",
}
"""Every event's frame `type`: the one place each is spelled (wire's EVENT_TYPE is this table;
config.json's `changeTypes` tells the web client which are room changes)."""

ROOM_CHANGE_TYPES: tuple[str, ...] = tuple(FRAME_TYPE[t] for t in typing.get_args(RoomChange))
"""The room changes' frame types (RoomChange, in its order): what a client follows by `seq`."""
