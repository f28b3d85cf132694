"""The chat's rules: limits and checks that do not need storage."""

from __future__ import annotations

import unicodedata

from dynamotalk.domain.errors import Forbidden, InvalidInput, NotFound, RoomArchived, TooLarge
from dynamotalk.domain.identities import INVISIBLE_LETTERS, has_visible_character
from dynamotalk.domain.limits import MAX_EMOJI_CHARS, Limits
from dynamotalk.domain.models import Membership, Message, Room, RoomKind
from dynamotalk.domain.text import require_clean


def _printable(text: str) -> bool:
    # Letters, marks, numbers, punctuation, symbols and plain spaces; no control or format chars,
    # no letters that draw nothing (Hangul fillers, the Braille blank), and something visible.
    return (
        all(c == " " or unicodedata.category(c)[0] in "LMNPS" for c in text)
        and not any(c in INVISIBLE_LETTERS for c in text)
        and has_visible_character(text)
    )


def clean_text(text: str, limits: Limits) -> str:
    trimmed = text.strip()
    if not trimmed:
        raise InvalidInput("message text must not be empty")
    if len(trimmed) > limits.max_text:
        raise TooLarge(f"message text is longer than {limits.max_text} characters")
    return require_clean(trimmed, "message text")


def clean_room_name(name: str, limits: Limits) -> str:
    trimmed = name.strip()
    if not trimmed:
        raise InvalidInput("room name must not be empty")
    if len(trimmed) > limits.max_room_name:
        raise InvalidInput(f"room name is longer than {limits.max_room_name} characters")
    if not _printable(trimmed):
        raise InvalidInput("room name must contain printable characters only")
    return trimmed


def clean_display_name(name: str, limits: Limits) -> str:
    trimmed = name.strip()
    if not trimmed or len(trimmed) > limits.max_display_name or not _printable(trimmed):
        raise InvalidInput(
            f"display name must be 1..{limits.max_display_name} printable characters"
        )
    return trimmed


def clean_emoji(emoji: str) -> str:
    """Exactly one emoji from Unicode's set, returned in its fully-qualified form.

    "❤" and "❤️" are one reaction, not two. Components alone (a skin tone, a regional
    indicator letter) are no emoji.
    """
    if not emoji or len(emoji) > MAX_EMOJI_CHARS:
        raise InvalidInput("emoji must be exactly one emoji")
    # Imported here, not at the top: the Unicode emoji table costs tens of milliseconds to
    # load, paid only by the first reaction of a container, never by its cold start.
    from dynamotalk.domain.emoji_set import fully_qualified

    found = fully_qualified(emoji)
    if found is None:
        raise InvalidInput("emoji must be exactly one emoji")
    return found


def check_reaction_caps(message: Message, emoji: str, user_id: str, limits: Limits) -> None:
    """Refuse a new reaction past the caps: distinct emoji per message, reactions per user."""
    if emoji not in message.reactions and len(message.reactions) >= limits.max_reaction_kinds:
        raise TooLarge(f"a message takes at most {limits.max_reaction_kinds} different reactions")
    mine = sum(1 for users in message.reactions.values() if user_id in users)
    if mine >= limits.max_reactions_per_user:
        raise TooLarge(
            f"you can put at most {limits.max_reactions_per_user} reactions on one message"
        )


def clean_page_size(limit: int | None, limits: Limits) -> int:
    if limit is None:
        return limits.page_size_default
    if not 1 <= limit <= limits.page_size_max:
        raise InvalidInput(f"limit must be between 1 and {limits.page_size_max}")
    return limit


def can_read(room: Room, membership: Membership | None) -> bool:
    """Public rooms are readable by every signed-in user; others by members only."""
    return room.kind is RoomKind.PUBLIC or membership is not None


NO_SUCH_ROOM = "no such room"
"""The one answer for a room that does not exist and a room the caller may not see."""


def require_read(room: Room, membership: Membership | None) -> None:
    """A room the caller may not read is answered exactly like one that does not exist."""
    if not can_read(room, membership):
        raise NotFound(NO_SUCH_ROOM)


def require_member_of(room: Room, membership: Membership | None) -> Membership:
    """Not found when the room is hidden from the caller; forbidden when visible (public)."""
    require_read(room, membership)
    return require_member(membership)


def require_member(membership: Membership | None) -> Membership:
    if membership is None:
        raise Forbidden("you are not a member of this room")
    return membership


def require_author(message: Message, user_id: str) -> None:
    if message.author_id != user_id:
        raise Forbidden("only the author may edit a message")


ARCHIVED = "this room is archived: it can be read but not changed"


def require_not_archived(room: Room) -> None:
    """An archived room is read-only: posting, editing, reacting, pinning, inviting and joining
    are refused (`room_archived`), whatever the role."""
    if room.archived:
        raise RoomArchived(ARCHIVED)
