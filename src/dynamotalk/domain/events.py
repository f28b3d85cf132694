"""Events the service emits to a room's subscribed connections (wire shapes: wire/convert.py)."""

from __future__ import annotations

import attrs

from dynamotalk.domain.models import Invite, Membership, Message


@attrs.frozen
class MessagePosted:
    message: Message


@attrs.frozen
class MessageEdited:
    message: Message


@attrs.frozen
class MessageDeleted:
    message: Message


@attrs.frozen
class ReactionChanged:
    message: Message
    emoji: str
    user_id: str
    added: bool


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
    membership: Membership


@attrs.frozen
class MemberLeft:
    room_id: str
    user_id: str


@attrs.frozen
class InviteReceived:
    """Sent to the invitee's own connections only (never to the room)."""

    invite: Invite


Event = (
    MessagePosted
    | MessageEdited
    | MessageDeleted
    | ReactionChanged
    | Typing
    | PresenceChanged
    | MemberJoined
    | MemberLeft
    | InviteReceived
)
