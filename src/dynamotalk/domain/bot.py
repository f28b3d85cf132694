"""Rules of the bot participant: who it is, and which messages it answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import attrs

from dynamotalk.domain.identities import BOT, AuthorKind, author_kind
from dynamotalk.domain.models import Message, Room, RoomKind

__all__ = [
    "APOLOGY",
    "BOT",
    "BREAKER_COOLDOWN_S",
    "BREAKER_THRESHOLD",
    "MAX_TOKENS",
    "MAX_TOKENS_CEILING",
    "MODEL_TIMEOUT_S",
    "TEMPERATURE",
    "Turn",
    "mentions_bot",
    "transcript",
    "wants_reply",
]
MENTION = re.compile(rf"(?<![\w@])@{re.escape(BOT.username)}\b", re.IGNORECASE)
APOLOGY = "Sorry, I can't answer right now. Please try again in a moment."
MODEL_TIMEOUT_S = 20.0
"""Longest wait for one model answer before the bot apologises instead (the bot worker's
Lambda timeout is sized from it, see routes.py)."""
MAX_TOKENS = 512
"""Default length of one answer, in model tokens (stage setting botMaxTokens)."""
MAX_TOKENS_CEILING = 4096
"""The most a stage may set."""
TEMPERATURE = 0.3
"""Default sampling temperature, 0..1 (stage setting botTemperaturePercent, in hundredths)."""
BREAKER_THRESHOLD = 3
"""Model failures in a row after which the bot apologises at once instead of waiting."""
BREAKER_COOLDOWN_S = 30.0
"""How long it apologises at once before trying the model again."""


def mentions_bot(text: str) -> bool:
    return MENTION.search(text) is not None


def wants_reply(room: Room, message: Message, is_bot_member: Callable[[], bool]) -> bool:
    """A direct room with the bot, or a mention of @bot in a room the bot belongs to."""
    if message.author_id == BOT.user_id:
        return False
    if room.kind is RoomKind.DIRECT:
        return room.direct_pair is not None and BOT.user_id in room.direct_pair
    return mentions_bot(message.text) and is_bot_member()


@attrs.frozen
class Turn:
    """One message as a model sees it: who wrote it (from the server's records, never from the
    text) and what they wrote. The text is data; a newline in it is just a character."""

    author_id: str
    author_kind: AuthorKind
    author_name: str
    text: str


def transcript(messages: Sequence[Message], names: Mapping[str, str]) -> list[Turn]:
    """The messages a model is shown, oldest first, with deleted and empty ones left out."""
    return [
        Turn(
            author_id=m.author_id,
            author_kind=author_kind(m.author_id),
            author_name=names.get(m.author_id, "someone"),
            text=m.text,
        )
        for m in messages
        if not m.deleted and m.text.strip()
    ]
