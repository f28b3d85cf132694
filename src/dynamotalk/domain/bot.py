"""Rules of the bot participant: who it is, and which messages it answers."""

from __future__ import annotations

import re
from collections.abc import Callable

from dynamotalk.domain.models import Message, Principal, Room, RoomKind

BOT = Principal(user_id="dynamotalk-bot", username="bot")
MENTION = re.compile(r"(?<![\w@])@bot\b", re.IGNORECASE)
APOLOGY = "Sorry, I can't answer right now. Please try again in a moment."
MODEL_TIMEOUT_S = 20.0
"""Longest wait for one model answer before the bot apologises instead (the bot worker's
Lambda timeout is sized from it, see routes.py)."""


def mentions_bot(text: str) -> bool:
    return MENTION.search(text) is not None


def wants_reply(room: Room, message: Message, is_bot_member: Callable[[], bool]) -> bool:
    """A direct room with the bot, or a mention of @bot in a room the bot belongs to."""
    if message.author_id == BOT.user_id:
        return False
    if room.kind is RoomKind.DIRECT:
        return room.direct_pair is not None and BOT.user_id in room.direct_pair
    return mentions_bot(message.text) and is_bot_member()
