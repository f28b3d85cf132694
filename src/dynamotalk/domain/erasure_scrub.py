"""What erasure leaves of a user in other people's data (issue 18, policy `anonymise` and
`delete` alike): a message or a room change with the user's id taken out. Their reactions
are dropped, a quote of them shows the tombstone author (its text kept under `anonymise`,
dropped under `delete`), they leave every mention list, and a change's snapshot shows what
history shows, so a client replaying the feed (sync v2) ends where history is.

Pure: the stores (adapters/*/erasure.py) read, call these, and write back what changed."""

from __future__ import annotations

import attrs

from dynamotalk.domain.erasure import ERASED_AUTHOR, ERASED_NAME, ErasePolicy
from dynamotalk.domain.events import (
    MemberJoined,
    MemberLeft,
    MessagePinned,
    MessageUnpinned,
    ReactionChanged,
    RoomChange,
    RoomUpdated,
)
from dynamotalk.domain.models import Message


def _gone(value: str, user_id: str) -> str:
    return ERASED_AUTHOR if value == user_id else value


def scrub_message(message: Message, user_id: str, policy: ErasePolicy) -> Message:
    """The message without the user: their reactions, their mention, a quote of them; and,
    when it is theirs, the tombstone author (under `delete` the text and files too: the
    delete path has cleared the stored message; this is for its copies in the feed)."""
    reactions = {e: u - {user_id} for e, u in message.reactions.items() if u - {user_id}}
    quote = message.quote
    if quote is not None and quote.author_id == user_id:
        text = quote.text if policy is ErasePolicy.ANONYMISE else ""
        quote = attrs.evolve(quote, author_id=ERASED_AUTHOR, author_name=ERASED_NAME, text=text)
    scrubbed = attrs.evolve(
        message,
        reactions=reactions,
        quote=quote,
        mentions=tuple(m for m in message.mentions if m != user_id),
        author_id=_gone(message.author_id, user_id),
        deleted_by=_gone(message.deleted_by, user_id) if message.deleted_by else None,
    )
    if message.author_id == user_id and policy is ErasePolicy.DELETE:
        scrubbed = attrs.evolve(scrubbed, text="", attachments=())
    return scrubbed


def scrub_others(message: Message, user_id: str) -> Message:
    """scrub_message for a stored message, its author, text and files left as they are (the
    message step rewrites the user's own messages through its own path)."""
    scrubbed = scrub_message(message, user_id, ErasePolicy.ANONYMISE)
    return attrs.evolve(scrubbed, author_id=message.author_id)


def scrub_change(change: RoomChange, user_id: str, policy: ErasePolicy) -> RoomChange:
    """The change as it reads once the user is erased (the same kind and seq)."""
    if isinstance(change, MemberJoined):
        membership = change.membership
        return attrs.evolve(
            change, membership=attrs.evolve(membership, user_id=_gone(membership.user_id, user_id))
        )
    if isinstance(change, MemberLeft):
        return attrs.evolve(change, user_id=_gone(change.user_id, user_id))
    if isinstance(change, RoomUpdated):
        room = change.room
        return attrs.evolve(
            change, room=attrs.evolve(room, created_by=_gone(room.created_by, user_id))
        )
    if isinstance(change, MessagePinned):
        pin = change.pin
        pin = attrs.evolve(
            pin, pinned_by=_gone(pin.pinned_by, user_id), author_id=_gone(pin.author_id, user_id)
        )
        if change.pin.author_id == user_id and policy is ErasePolicy.DELETE:
            pin = attrs.evolve(pin, text="")
        return attrs.evolve(change, pin=pin)
    if isinstance(change, MessageUnpinned):
        return change
    scrubbed = attrs.evolve(change, message=scrub_message(change.message, user_id, policy))
    if isinstance(scrubbed, ReactionChanged):
        scrubbed = attrs.evolve(scrubbed, user_id=_gone(scrubbed.user_id, user_id))
    return scrubbed
