"""Which characters user text may carry, and how clients show text they did not check.

Message text keeps line feeds and tabs and everything people write (emoji with their joiners
and variation selectors included). It refuses what acts on a terminal or reorders what a
reader sees instead of being read:

- C0 controls other than LF and TAB (so ESC, BEL, BS and CR too), DEL, and the C1 controls
  U+0080..U+009F (a terminal takes U+009B as ESC [): they clear screens, set titles and move
  the cursor to forge lines;
- the bidi embedding, override and isolate controls (U+202A..U+202E, U+2066..U+2069) and the
  directional marks (U+200E, U+200F, U+061C): they make text read in another order than it
  is stored ("Trojan Source", CVE-2021-42574);
- invisible characters that forge or hide structure: the line and paragraph separators
  U+2028/U+2029 (terminals and JavaScript break lines on them), the byte order mark U+FEFF, the
  interlinear annotation controls U+FFF9..U+FFFB, and the tag characters U+E0000..U+E007F
  except inside an emoji subdivision flag (the England flag is U+1F3F4, tags, U+E007F);
- what is not a character: lone surrogates (category Cs; the wire refuses them first, this is
  defence in depth) and the noncharacters U+FDD0..U+FDEF and U+xFFFE/U+xFFFF of every plane.

Zero-width joiner and non-joiner and the variation selectors stay allowed (emoji need them).

Names (usernames, display names, room names) are stricter still (printable characters and the
plain space only, see rules.py), so they refuse all of the above too.
"""

from __future__ import annotations

import re
import unicodedata

from dynamotalk.domain.errors import InvalidInput

ALLOWED_CONTROLS = frozenset("\n\t")
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)

INVISIBLE_FORMAT = frozenset("\u2028\u2029\ufeff\ufff9\ufffa\ufffb")
TAG_CHARACTERS = range(0xE0000, 0xE0080)
EMOJI_TAG_SEQUENCE = re.compile(
    "\U0001f3f4"  # black flag, the tag base of every subdivision flag
    "(?:[\U000e0061-\U000e007a]{2}|[\U000e0030-\U000e0039]{3})"  # region (tag letters/digits)
    "[\U000e0030-\U000e0039\U000e0061-\U000e007a]{1,4}"  # subdivision suffix
    "\U000e007f"  # cancel tag
)
"""An emoji subdivision flag (UTS #51 emoji tag sequence with a CLDR subdivision id), e.g.
England: U+1F3F4 then the tags g b e n g then U+E007F. Only here may tag characters appear."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def is_noncharacter(char: str) -> bool:
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def _forbidden(char: str) -> bool:
    if char in ALLOWED_CONTROLS:
        return False
    category = unicodedata.category(char)
    return (
        category in ("Cc", "Cs")
        or char in BIDI_CONTROLS
        or char in INVISIBLE_FORMAT
        or ord(char) in TAG_CHARACTERS
        or is_noncharacter(char)
    )


def forbidden_character(text: str) -> str | None:
    """The first character message text may not carry, or None."""
    # Tags inside a valid subdivision flag are fine: drop them before the scan.
    for char in EMOJI_TAG_SEQUENCE.sub("\U0001f3f4", text):
        if _forbidden(char):
            return char
    return None


def scrub(text: str) -> str:
    """`text` without the characters message text may not carry (subdivision flags kept).

    For text the server writes itself from a source it cannot ask again (the bot's model
    reply): refusing it would lose the whole reply over one stray CR or U+2028.
    """
    kept: list[str] = []
    position = 0
    for flag in EMOJI_TAG_SEQUENCE.finditer(text):
        kept.extend(c for c in text[position : flag.start()] if not _forbidden(c))
        kept.append(flag.group(0))
        position = flag.end()
    kept.extend(c for c in text[position:] if not _forbidden(c))
    return "".join(kept)


def require_clean(text: str, what: str) -> str:
    """`text` unchanged, or InvalidInput naming the first refused character."""
    bad = forbidden_character(text)
    if bad is not None:
        kind = (
            "control or bidi characters"
            if unicodedata.category(bad) == "Cc" or bad in BIDI_CONTROLS
            else "invisible format characters, noncharacters or lone surrogates"
        )
        raise InvalidInput(f"{what} must not contain {kind} (found U+{ord(bad):04X})")
    return text


def first_lone_surrogate(text: str) -> str | None:
    """The first lone surrogate of `text` (a code point no UTF-8 encoder takes), or None."""
    found = None if text.isascii() else _LONE_SURROGATE.search(text)
    return found.group(0) if found else None


def replace_lone_surrogates(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD, so it always encodes as UTF-8: for
    reply encoders, in case such text was stored before the wire refused it."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def escape_for_terminal(text: str, newline: str = "\n") -> str:
    """`text` with every non-printable character shown as an escape (`\\x1b`, `\\u202e`), and
    each line feed replaced by `newline` (an indent, so a message cannot start a line that
    looks like another speaker's). For text stored before these rules, and defence in depth."""
    out = []
    flags = {m.start(): m.end() for m in EMOJI_TAG_SEQUENCE.finditer(text)}
    skip_to = 0
    for index, char in enumerate(text):
        if index < skip_to:
            continue
        if index in flags:  # a subdivision flag: its tag characters are the flag
            skip_to = flags[index]
            out.append(text[index:skip_to])
        elif char == "\n":
            out.append(newline)
        elif char in "\t\u200d" or char.isprintable():  # ZWJ: inside emoji sequences
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
    return "".join(out)
