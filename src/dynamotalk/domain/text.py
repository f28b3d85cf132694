"""Which characters user text may carry, and how clients show text they did not check.

Message text keeps line feeds and tabs and everything people write (emoji with their joiners
and variation selectors included). It refuses what acts on a terminal or reorders what a
reader sees instead of being read:

- C0 controls other than LF and TAB (so ESC, BEL, BS and CR too), DEL, and the C1 controls
  U+0080..U+009F (a terminal takes U+009B as ESC [): they clear screens, set titles and move
  the cursor to forge lines;
- the bidi embedding, override and isolate controls (U+202A..U+202E, U+2066..U+2069) and the
  directional marks (U+200E, U+200F, U+061C): they make text read in another order than it
  is stored ("Trojan Source", CVE-2021-42574).

Names (usernames, display names, room names) are stricter still (printable characters and the
plain space only, see rules.py), so they refuse all of the above too.
"""

from __future__ import annotations

import unicodedata

from dynamotalk.domain.errors import InvalidInput

ALLOWED_CONTROLS = frozenset("\n\t")
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)


def forbidden_character(text: str) -> str | None:
    """The first character message text may not carry, or None."""
    for char in text:
        if char in ALLOWED_CONTROLS:
            continue
        if unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS:
            return char
    return None


def require_clean(text: str, what: str) -> str:
    """`text` unchanged, or InvalidInput naming the first refused character."""
    bad = forbidden_character(text)
    if bad is not None:
        raise InvalidInput(
            f"{what} must not contain control or bidi characters (found U+{ord(bad):04X})"
        )
    return text


def escape_for_terminal(text: str, newline: str = "\n") -> str:
    """`text` with every non-printable character shown as an escape (`\\x1b`, `\\u202e`), and
    each line feed replaced by `newline` (an indent, so a message cannot start a line that
    looks like another speaker's). For text stored before these rules, and defence in depth."""
    out = []
    for char in text:
        if char == "\n":
            out.append(newline)
        elif char in "\t\u200d" or char.isprintable():  # ZWJ: inside emoji sequences
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
    return "".join(out)
