"""The terminal client's argument parsing for issue 17's commands: durations (`10m`, `2h`),
roles, report reasons and outcomes, and message or report references typed as the short
`#XXXXXX` the client prints after each one. Pure: every function raises ChatClientError with a
message a user can act on, so a typo is one `! ...` line, never a request the server refuses."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import TypeVar

from dynamotalk.client.config import ChatClientError
from dynamotalk.domain.limits import MAX_MUTE_S, MAX_SLOW_MODE_S
from dynamotalk.domain.models import Role
from dynamotalk.domain.reports import Outcome, Reason

E = TypeVar("E", bound=enum.StrEnum)

SHORT_ID = 6
"""Characters of a message's id the client prints (`#` and the id's last 6; a ULID's random
tail, so two messages of a session share one about once in a billion)."""
DEFAULT_MUTE_S = 3600
"""`/mute USER` without a duration mutes for an hour."""
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+)([smhd]?)")


def short(item_id: str) -> str:
    """How the client prints an id: `#` and its tail."""
    return f"#{item_id[-SHORT_ID:]}"


def duration(text: str, most: int, name: str = "duration") -> int:
    """Seconds of `30`, `30s`, `10m`, `2h` or `1d` (a bare number is seconds), at most `most`."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found:
        raise ChatClientError(f"{name} {text!r}: a number with s, m, h or d, like 10m or 2h")
    seconds = int(found.group(1)) * UNITS[found.group(2) or "s"]
    if seconds > most:
        raise ChatClientError(f"{name} {text!r}: at most {spoken(most)}")
    return seconds


def mute_seconds(text: str) -> int:
    """`/mute`'s duration: DEFAULT_MUTE_S when none, otherwise 1 s up to limits.MAX_MUTE_S."""
    if not text.strip():
        return DEFAULT_MUTE_S
    seconds = duration(text, MAX_MUTE_S, "mute")
    if seconds < 1:
        raise ChatClientError("a mute lasts at least 1 s (use /unmute to end one)")
    return seconds


def slow_seconds(text: str) -> int:
    """`/slow`'s interval: `off` or 0 turns slow mode off; at most limits.MAX_SLOW_MODE_S."""
    if text.strip().lower() == "off":
        return 0
    return duration(text, MAX_SLOW_MODE_S, "slow mode")


def spoken(seconds: int) -> str:
    """`90` -> `90 s`, `3600` -> `1 h`: the largest unit that divides it."""
    for unit in ("d", "h", "m"):
        if seconds and seconds % UNITS[unit] == 0:
            return f"{seconds // UNITS[unit]} {unit}"
    return f"{seconds} s"


def choice(kind: type[E], text: str, name: str) -> E:
    """One of `kind`'s values, case-insensitively; otherwise an error naming them all."""
    for value in kind:
        if value.value == text.strip().lower():
            return value
    raise ChatClientError(f"{name} {text!r}: one of {', '.join(v.value for v in kind)}")


def role(text: str) -> Role:
    return choice(Role, text, "role")


def reason(text: str) -> Reason:
    return choice(Reason, text, "reason")


def outcome(text: str) -> Outcome:
    return choice(Outcome, text, "outcome")


def words(rest: str, least: int, usage: str) -> list[str]:
    """`rest` split into its first `least` words and the rest of the line (when any)."""
    parts = rest.split(None, least)
    if len(parts) < least:
        raise ChatClientError(f"usage: {usage}")
    return [*parts[:least], *(parts[least:] or [""])][: least + 1]


def pick(ref: str, ids: Iterable[str], what: str) -> str:
    """The one id of `ids` that `ref` names: the id itself, or its printed tail (with or
    without `#`), case-insensitively."""
    tail = ref.strip().removeprefix("#").casefold()
    if not tail:
        raise ChatClientError(f"which {what}? give its #id")
    known = list(dict.fromkeys(ids))
    exact = [i for i in known if i.casefold() == tail]
    if exact:
        return exact[0]
    found = [i for i in known if i.casefold().endswith(tail)]
    if len(found) == 1:
        return found[0]
    if found:
        raise ChatClientError(f"#{tail} names {len(found)} {what}s here; give more of its id")
    raise ChatClientError(f"no {what} #{tail} here (each shows its #id; see /history)")
