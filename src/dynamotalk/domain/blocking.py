"""What a blocker sees of the users they blocked (issue 17, "Block and report").

A blocked author's messages are not dropped from the blocker's view: clients detect gaps by
`seq` (sync v2), so every change still arrives, with the message replaced by a stub that keeps
its id, seq, author id and times and empties its text, attachments and reactions, marked
`hidden: "blocked"`. The blocker knows whom they blocked; the stub says no more than that.
Blocking is private: the blocked author's own view is never touched.
"""

from __future__ import annotations

from collections.abc import Collection

import attrs

from dynamotalk.domain.events import (
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionChanged,
    RoomChange,
)
from dynamotalk.domain.models import Block, Message

HIDDEN_BLOCKED = "blocked"
"""The `hidden` of a stub: the author is one the reader blocked."""


def redact(message: Message) -> Message:
    """The stub of a blocked author's message: no text, attachments or reactions."""
    return attrs.evolve(message, text="", attachments=(), reactions={}, hidden=HIDDEN_BLOCKED)


def author_of(change: RoomChange) -> str | None:
    """Whose message a change shows (None: a change without a message, a member's)."""
    if isinstance(change, MessagePosted | MessageEdited | MessageDeleted | ReactionChanged):
        return change.message.author_id
    return None


def redact_change(change: RoomChange) -> RoomChange:
    """The change as a blocker of its message's author sees it: the same change and seq with
    the message as a stub (a reaction by someone else keeps its emoji and reactor)."""
    if isinstance(change, MessagePosted | MessageEdited | MessageDeleted | ReactionChanged):
        return attrs.evolve(change, message=redact(change.message))
    return change


def hide_messages(messages: tuple[Message, ...], blocked: Collection[str]) -> tuple[Message, ...]:
    """A page of messages with those by `blocked` authors as stubs."""
    if not blocked:
        return messages
    return tuple(redact(m) if m.author_id in blocked else m for m in messages)


def hide_changes(
    changes: tuple[RoomChange, ...], blocked: Collection[str]
) -> tuple[RoomChange, ...]:
    """A page of changes with the messages of `blocked` authors as stubs (none dropped)."""
    if not blocked:
        return changes
    return tuple(redact_change(c) if author_of(c) in blocked else c for c in changes)


def blocked_ids(blocks: Collection[Block]) -> frozenset[str]:
    return frozenset(b.blocked_user_id for b in blocks)
