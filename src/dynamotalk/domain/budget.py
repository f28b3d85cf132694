"""Byte budgets: every message fits one WebSocket frame, every page one Lambda response.

The wire encodes a message as compact JSON in UTF-8 (`ensure_ascii=False`). `message_bytes`
is an upper bound of that encoding, computed here from the message's strings so the domain can
refuse what would not fit without knowing the wire code; tests/unit/test_budget.py checks the
bound against the real encoder. Reactions are bounded by the caps in `limits.Limits`, and their
JSON does not grow with the number of reactors: a count per emoji and a sample of at most
`REACTION_SAMPLE` reactor ids.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Callable, Collection, Sequence
from typing import TypeVar

from dynamotalk.domain.errors import TooLarge
from dynamotalk.domain.events import (
    MemberJoined,
    MemberLeft,
    MessagePinned,
    MessageUnpinned,
    RoomChange,
    RoomUpdated,
)
from dynamotalk.domain.limits import MAX_EMOJI_CHARS, Limits
from dynamotalk.domain.models import Message

_T = TypeVar("_T")

REACTION_SAMPLE = 3
"""Reactor ids shown per emoji; the count is always exact."""
SAMPLE_ID = re.compile(r"[0-9A-Za-z_.:-]{1,40}")
"""Ids that may appear in a sample (Cognito subs, the bot's id): 40 plain ASCII characters."""
MESSAGE_FIXED_BYTES = 512
"""A message's keys, braces, numbers and booleans: everything but its strings."""
ATTACHMENT_FIXED_BYTES = 96
"""An attachment's keys, braces and size."""
REACTION_FIXED_BYTES = 32
"""One emoji's keys, brackets and count, in both `reactions` and `reactionCounts`."""
THREAD_FIXED_BYTES = 320
"""A message's thread, quote and mention keys and numbers (`parentId`, `alsoInRoom`,
`replyCount`, `lastReplyAt`, `quote`'s keys, `mentionsAll`), and a reply's post's `thread`."""
PAGE_FIXED_BYTES = 512
"""A history or sync reply around its messages: keys, cursor, braces (commas are counted)."""


def json_bytes(text: str) -> int:
    """Bytes of `text` as a JSON string in UTF-8, quotes and escapes included."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass"))


_EMOJI_MAX_BYTES = 2 + 4 * MAX_EMOJI_CHARS
_SAMPLE_ID_MAX_BYTES = 2 + 40 + 1


def reaction_sample(user_ids: Collection[str]) -> list[str]:
    """The reactor ids a message's JSON shows for one emoji: a few, never all."""
    return heapq.nsmallest(REACTION_SAMPLE, (u for u in user_ids if SAMPLE_ID.fullmatch(u)))


def reactions_reserve(limits: Limits) -> int:
    """The most bytes a message's reactions can take under the caps, whoever reacts."""
    per_emoji = REACTION_FIXED_BYTES + 2 * _EMOJI_MAX_BYTES + REACTION_SAMPLE * _SAMPLE_ID_MAX_BYTES
    return limits.max_reaction_kinds * per_emoji


def _content_bytes(message: Message) -> int:
    ids = (message.message_id, message.room_id, message.author_id, message.client_id)
    total = MESSAGE_FIXED_BYTES + sum(json_bytes(s) for s in ids) + json_bytes(message.text)
    for a in message.attachments:
        total += ATTACHMENT_FIXED_BYTES + json_bytes(a.key) + json_bytes(a.name)
        total += json_bytes(a.content_type)
    return total + _thread_bytes(message)


def _thread_bytes(message: Message) -> int:
    """The thread, quote and mention part of a message's JSON (nothing for a plain message)."""
    quote = message.quote
    if not (message.parent_id or message.reply_count or quote or message.mentions):
        return THREAD_FIXED_BYTES if message.mentions_all else 0
    total = THREAD_FIXED_BYTES + 2 * json_bytes(message.parent_id or "")
    if quote is not None:
        strings = (quote.message_id, quote.author_id, quote.author_name, quote.text)
        total += sum(json_bytes(s) for s in strings)
    return total + sum(json_bytes(u) + 1 for u in message.mentions)


def message_bytes(message: Message) -> int:
    """An upper bound of the message's JSON as the wire encodes it, reactions included."""
    total = _content_bytes(message)
    for emoji, users in message.reactions.items():
        sample = reaction_sample(users)
        total += REACTION_FIXED_BYTES + 2 * json_bytes(emoji)
        total += sum(json_bytes(u) + 1 for u in sample)
    return total


def check_message(message: Message, limits: Limits) -> None:
    """Refuse a message whose JSON, with its most reactions to come, would pass the budget."""
    size = _content_bytes(message) + reactions_reserve(limits)
    if size > limits.max_message_bytes:
        raise TooLarge(
            f"message is too large: text and attachments take {size - reactions_reserve(limits)}"
            f" bytes of JSON, the most is {limits.max_message_bytes - reactions_reserve(limits)}"
        )


def _leading(items: Sequence[_T], size_of: Callable[[_T], int], max_bytes: int) -> list[_T]:
    """The leading items whose JSON fits `max_bytes` together (always at least one)."""
    taken: list[_T] = []
    used = PAGE_FIXED_BYTES
    for item in items:
        used += size_of(item) + 1
        if taken and used > max_bytes:
            break
        taken.append(item)
    return taken


def within(messages: Sequence[Message], max_bytes: int) -> list[Message]:
    """The leading messages whose JSON fits `max_bytes` together (always at least one)."""
    return _leading(messages, message_bytes, max_bytes)


CHANGE_FIXED_BYTES = 384
"""A change event around its message or membership: type, room id, seq, keys, the
reaction's emoji and user id."""


def change_bytes(change: RoomChange) -> int:
    """An upper bound of a change event's JSON."""
    if isinstance(change, MemberJoined | MemberLeft | MessageUnpinned):
        return CHANGE_FIXED_BYTES + MESSAGE_FIXED_BYTES
    if isinstance(change, RoomUpdated):  # a name is short; escaping at most 6 bytes a char
        return CHANGE_FIXED_BYTES + MESSAGE_FIXED_BYTES + 6 * len(change.room.name)
    if isinstance(change, MessagePinned):
        return CHANGE_FIXED_BYTES + MESSAGE_FIXED_BYTES + 6 * len(change.pin.text)
    return CHANGE_FIXED_BYTES + message_bytes(change.message)


def within_changes(changes: Sequence[RoomChange], max_bytes: int) -> list[RoomChange]:
    """The leading changes whose JSON fits `max_bytes` together (always at least one)."""
    return _leading(changes, change_bytes, max_bytes)
