"""Who the chat's own participants are, and which names nobody else may take.

The one home of the bot's identity (user id, username, display name), the system author of the
local stack's welcome message, and the reserved usernames. The pre sign-up trigger, the profile
rules, the local stack and the Pulumi program (which seeds the bot's profile) all read them from
here, so the cloud and a laptop cannot disagree about who the bot is.

A name is reserved when its *skeleton* is: NFKC, case folded, accents and default-ignorable or
format characters removed, separators removed, and a small table of look-alike letters folded to
one letter. So `BOT`, `B0T`, `b.o.t`, full-width `bot` and `bot` with a Cyrillic o all have
the skeleton of `bot`. The table is deliberately small (Unicode's confusables.txt has
thousands of rows): it covers the Latin look-alikes of the reserved names, which is what an
impersonator needs.
"""

from __future__ import annotations

import enum
import unicodedata

from dynamotalk.domain.models import Principal, User

BOT = Principal(user_id="dynamotalk-bot", username="bot")
BOT_DISPLAY_NAME = "DynamoTalk bot"
SYSTEM = Principal(user_id="dynamotalk-system", username="dynamotalk")
"""The author of messages the stage itself posts (the local stack's welcome)."""


class AuthorKind(enum.StrEnum):
    """What kind of participant wrote a message; derived by the server from the author id."""

    USER = "user"
    BOT = "bot"
    SYSTEM = "system"


def author_kind(user_id: str) -> AuthorKind:
    if user_id == BOT.user_id:
        return AuthorKind.BOT
    if user_id == SYSTEM.user_id:
        return AuthorKind.SYSTEM
    return AuthorKind.USER


def bot_user() -> User:
    """The bot's profile, as both the Pulumi program and the local stack store it."""
    return User(user_id=BOT.user_id, username=BOT.username, display_name=BOT_DISPLAY_NAME)


RESERVED_NAMES: frozenset[str] = frozenset(
    {
        "bot",
        "dynamotalk",
        "admin",
        "administrator",
        "root",
        "system",
        "support",
        "moderator",
        "mod",
        "staff",
        "official",
        "help",
        "helpdesk",
        "security",
        "assistant",
        "everyone",
        "here",
        "channel",
        "null",
        "undefined",
        "anonymous",
    }
)
"""Usernames (and display names) nobody may take: the bot, the stage, and names people trust."""
RESERVED_PREFIXES: tuple[str, ...] = ("dynamotalk",)
"""A name whose skeleton starts with one of these is reserved too (`DynamoTalk bot`)."""

LOOK_ALIKES: dict[str, str] = {
    # Cyrillic letters that look like Latin ones (a, ve, soft sign, es, komi de, ie, io, shha,
    # en, i, yi, je, ka, palochka, em, o, er, qa, dze, te, u, we, ha).
    "\u0430": "a", "\u0432": "b", "\u044c": "b", "\u0441": "c", "\u0501": "d", "\u0435": "e",
    "\u0451": "e", "\u04bb": "h", "\u043d": "h", "\u0456": "l", "\u0457": "l", "\u0458": "j",
    "\u043a": "k", "\u04cf": "l", "\u043c": "m", "\u043e": "o", "\u0440": "p", "\u051b": "q",
    "\u0455": "s", "\u0442": "t", "\u0443": "y", "\u051d": "w", "\u0445": "x",
    # Greek letters that look like Latin ones (alpha, beta, epsilon, eta, iota, kappa, nu,
    # omicron, rho, tau, upsilon, chi, gamma).
    "\u03b1": "a", "\u03b2": "b", "\u03b5": "e", "\u03b7": "n", "\u03b9": "l", "\u03ba": "k",
    "\u03bd": "v", "\u03bf": "o", "\u03c1": "p", "\u03c4": "t", "\u03c5": "u", "\u03c7": "x",
    "\u03b3": "y",
    # Digits and signs that stand in for letters; i, l, 1 and | are one letter.
    "0": "o", "1": "l", "i": "l", "|": "l", "!": "l", "3": "e", "4": "a", "5": "s", "$": "s",
    "7": "t", "8": "b", "@": "a",
}  # fmt: skip
"""Folded after NFKC and case folding (so capitals and full-width forms are covered)."""
LOOK_ALIKE_PAIRS: tuple[tuple[str, str], ...] = (("rn", "m"), ("vv", "w"))
SEPARATORS = frozenset(" ._-'·")


def _ignorable(char: str) -> bool:
    # Format characters (zero-width joiners, bidi controls, soft hyphen...), controls, and
    # combining marks (accents) carry nothing a reader sees as a different letter.
    return unicodedata.category(char) in ("Cf", "Cc", "Mn", "Me") or char in SEPARATORS


def skeleton(name: str) -> str:
    """The form two names share when a reader could take one for the other."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    letters = "".join(LOOK_ALIKES.get(c, c) for c in decomposed if not _ignorable(c))
    for pair, letter in LOOK_ALIKE_PAIRS:
        letters = letters.replace(pair, letter)
    return letters


_RESERVED_SKELETONS = frozenset(skeleton(n) for n in RESERVED_NAMES)
_RESERVED_PREFIX_SKELETONS = tuple(skeleton(p) for p in RESERVED_PREFIXES)


def is_reserved(name: str) -> bool:
    """True when `name` could be read as a reserved name."""
    shape = skeleton(name)
    return shape in _RESERVED_SKELETONS or shape.startswith(_RESERVED_PREFIX_SKELETONS)


def may_use_name(user_id: str, name: str) -> bool:
    """Reserved names belong to the stage's own participants (the bot, the system author)."""
    return author_kind(user_id) is not AuthorKind.USER or not is_reserved(name)
