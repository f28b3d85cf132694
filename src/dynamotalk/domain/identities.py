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
import re
import unicodedata

from dynamotalk.domain.models import Principal, User

BOT = Principal(user_id="dynamotalk-bot", username="bot")
BOT_DISPLAY_NAME = "DynamoTalk bot"
SYSTEM = Principal(user_id="dynamotalk-system", username="dynamotalk")
"""The author of messages the stage itself posts (the local stack's welcome)."""


USERNAME_MIN = 3
USERNAME_MAX = 32
USERNAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{{USERNAME_MIN - 1},{USERNAME_MAX - 1}}}$")
"""A username: 3..32 characters, letters, digits, '.', '_' or '-', starting with a letter or
digit (checked by the pre sign-up trigger; the web client's form shows the same bounds)."""
USERNAME_RULE = (
    f"username must be {USERNAME_MIN}..{USERNAME_MAX} characters: letters, digits, '.', '_' or '-'"
)


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
    # Armenian (o, u, n, h, g, q, vo, se), lower case after case folding.
    "\u0585": "o", "\u057d": "u", "\u0578": "n", "\u0570": "h", "\u0581": "g", "\u0566": "q",
    "\u0582": "l", "\u0575": "j",
    # Small capitals and modifier letters that NFKC leaves alone.
    "\u1d00": "a", "\u0299": "b", "\u1d04": "c", "\u1d05": "d", "\u1d07": "e", "\ua730": "f",
    "\u0262": "g", "\u029c": "h", "\u026a": "l", "\u1d0a": "j", "\u1d0b": "k", "\u029f": "l",
    "\u1d0d": "m", "\u0274": "n", "\u1d0f": "o", "\u1d18": "p", "\u0280": "r", "\ua731": "s",
    "\u1d1b": "t", "\u1d1c": "u", "\u1d20": "v", "\u1d21": "w", "\u028f": "y", "\u1d22": "z",
    # Latin letters with hooks, strokes or bars, which have no decomposition to strip (tone six
    # and b with topbar/hook/stroke, d/h/l/o/t with stroke, dotless i and j, and so on).
    "\u0185": "b", "\u0183": "b", "\u0253": "b", "\u0180": "b", "\u0188": "c", "\u023c": "c",
    "\u0257": "d", "\u0111": "d", "\u018c": "d", "\u0256": "d", "\u0260": "g", "\u01e5": "g",
    "\u0127": "h", "\u0266": "h", "\u0142": "l", "\u019a": "l", "\u026b": "l", "\u0131": "l",
    "\u0268": "l", "\u0237": "j", "\u0249": "j", "\u0199": "k", "\u0271": "m", "\u0272": "n",
    "\u019e": "n", "\u00f8": "o", "\u0275": "o", "\u01a5": "p", "\u1d7d": "p", "\u02a0": "q",
    "\u024d": "r", "\u027d": "r", "\u0282": "s", "\u023f": "s", "\u01ad": "t", "\u0288": "t",
    "\u0167": "t", "\u01ab": "t", "\u028b": "v", "\u01b4": "y", "\u024f": "y", "\u0225": "z",
    "\u01b6": "z", "\u0240": "z", "\u0292": "z",
    # Cherokee capitals that look like Latin capitals (case folding turns Cherokee small letters
    # into these): A B C D E G H J K L M P R S T V W Z, b h i y 4.
    "\u13aa": "a", "\u13f4": "b", "\u13fc": "b", "\u13df": "c", "\u13a0": "d", "\u13ac": "e",
    "\u13c0": "g", "\u13bb": "h", "\u13ab": "j", "\u13e6": "k", "\u13de": "l", "\u13b7": "m",
    "\u13e2": "p", "\u13a1": "r", "\u13d2": "r", "\u13da": "s", "\u13a2": "t", "\u13d9": "v",
    "\u13b3": "w", "\u13d4": "w", "\u13c3": "z", "\u13cf": "b", "\u13c2": "h", "\u13a5": "l",
    "\u13bd": "y", "\u13ce": "a", "\u13be": "o", "\u13eb": "o",
}  # fmt: skip
"""Folded after NFKC and case folding (so capitals and full-width forms are covered)."""
LOOK_ALIKE_PAIRS: tuple[tuple[str, str], ...] = (("rn", "m"), ("vv", "w"))
SEPARATORS = frozenset(" ._-'·")
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\u034f")
"""Characters that are letters, marks or symbols to Unicode yet draw nothing: the Hangul fillers
(choseong, jungseong, compatibility, half-width), the Braille blank, the Khmer inherent vowels
and the combining grapheme joiner (Unicode's Default_Ignorable_Code_Point set, less the format
characters names refuse anyway, plus the Braille blank)."""
ROLE_WORDS: frozenset[str] = frozenset(
    {"bot", "dynamotalk", "admin", "administrator", "moderator", "official", "staff"}
)
"""Reserved names a name may not even contain as a whole word (`the-bot`, `Anna (admin)`):
the words that claim a role. Other reserved names only count as the whole name."""
_BRACKETED = re.compile(r"[(\[{<][^)\]}>]*[)\]}>]")


def _ignorable(char: str) -> bool:
    # Format characters (zero-width joiners, bidi controls, soft hyphen...), controls, and
    # combining marks (accents) carry nothing a reader sees as a different letter.
    return (
        unicodedata.category(char) in ("Cf", "Cc", "Mn", "Me")
        or char in SEPARATORS
        or char in INVISIBLE_LETTERS
    )


def has_visible_character(name: str) -> bool:
    """False for a name that draws nothing: spaces, invisible letters, marks and format only."""
    return any(not _ignorable(c) and not c.isspace() for c in name)


def _words(name: str) -> list[str]:
    """The name's words: folded like `skeleton`, split at everything but letters and digits."""
    folded = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", name).casefold())
    words, word = [], ""
    for char in folded:
        if char not in SEPARATORS and _ignorable(char):
            continue
        letter = LOOK_ALIKES.get(char, char)
        if unicodedata.category(letter)[0] in "LN":
            word += letter
        elif word:
            words.append(word)
            word = ""
    words.append(word)
    for pair, letter in LOOK_ALIKE_PAIRS:
        words = [w.replace(pair, letter) for w in words]
    return [w for w in words if w]


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
_ROLE_SKELETONS = frozenset(skeleton(n) for n in ROLE_WORDS)


def _trimmed(name: str) -> str:
    """Without leading and trailing punctuation, symbols and spaces (`bot!!`, `~bot~`)."""
    start, end = 0, len(name)
    while start < end and unicodedata.category(name[start])[0] in "PSZC":
        start += 1
    while end > start and unicodedata.category(name[end - 1])[0] in "PSZC":
        end -= 1
    return name[start:end]


def _reserved_shape(shape: str) -> bool:
    return shape in _RESERVED_SKELETONS or shape.startswith(_RESERVED_PREFIX_SKELETONS)


def is_reserved(name: str) -> bool:
    """True when `name` could be read as a reserved name, or only decorates one.

    Decorations do not make a name another: its letters and digits alone (`bot ✓`, `[bot]`),
    without what it puts in brackets (`bot (AI)`), and without leading or trailing punctuation
    and symbols (`bot!!`, whose `!` would otherwise fold to a letter) are compared too; and a
    role word (ROLE_WORDS) may not appear as a whole word (`the-bot`). `bot1`, `admins` and `abbott`
    stay free: a different word, which the chat's author badge tells apart from the real bot.
    """
    if _reserved_shape(skeleton(name)):
        return True
    words = _words(name)
    undecorated = (_BRACKETED.sub(" ", name), _trimmed(name))
    if any(_reserved_shape("".join(_words(n))) for n in (name, *undecorated)):
        return True
    return any(word in _ROLE_SKELETONS for word in words)


def may_use_name(user_id: str, name: str) -> bool:
    """Reserved names belong to the stage's own participants (the bot, the system author)."""
    return author_kind(user_id) is not AuthorKind.USER or not is_reserved(name)
