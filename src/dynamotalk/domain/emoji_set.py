"""Unicode's emoji set (emoji-test.txt, as the `emoji` package ships it), loaded on first use.

Python's standard library has no emoji or grapheme data. The `emoji` package is the kept
standard for it: every RGI emoji with its qualification status, ZWJ sequences, skin-tone
modifiers, flags, tag sequences and keycaps included. Only the react path imports this module.
"""

from __future__ import annotations

import functools

import emoji as unicode_emoji

_STATUS = unicode_emoji.STATUS


@functools.cache
def _fully_qualified_by_name() -> dict[str, str]:
    return {
        data["en"]: text
        for text, data in unicode_emoji.EMOJI_DATA.items()
        if data["status"] == _STATUS["fully_qualified"]
    }


def fully_qualified(text: str) -> str | None:
    """The fully-qualified form of `text` when it is exactly one emoji, else None."""
    data = unicode_emoji.EMOJI_DATA.get(text)
    if data is None or data["status"] == _STATUS["component"]:
        return None
    if data["status"] == _STATUS["fully_qualified"]:
        return text
    return _fully_qualified_by_name().get(data["en"])
