"""Time-ordered ids (ULID layout: 48-bit millisecond time + 80 random bits, Crockford base32).

Within one generator ids are strictly increasing even inside one millisecond, so history
order equals posting order for one writer; across writers order is by millisecond.
"""

from __future__ import annotations

import hashlib
import secrets

import attrs

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
ID_LENGTH = 26


def encode_ulid(value: int) -> str:
    chars = []
    for _ in range(ID_LENGTH):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_ulid(text: str) -> bool:
    return len(text) == ID_LENGTH and all(c in _ALPHABET for c in text) and text[0] <= "7"


def ulid_time_ms(ulid: str) -> int:
    value = 0
    for c in ulid:
        value = (value << 5) | _ALPHABET.index(c)
    return value >> _RANDOM_BITS


@attrs.define
class UlidGenerator:
    """Monotonic ULID generator (one per process)."""

    _last: int = 0

    def new_id(self, now_ms: int) -> str:
        candidate = (now_ms << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)
        if candidate <= self._last:
            candidate = self._last + 1
        self._last = candidate
        return encode_ulid(candidate)


DIRECT_PREFIX = "dm-"
"""How every direct room's id begins (and no other room's: other ids are ULIDs)."""


def direct_room_id(user_a: str, user_b: str) -> str:
    """The one id of the direct room between two users, whoever opens it."""
    low, high = sorted((user_a, user_b))
    digest = hashlib.sha256(f"{low}\x00{high}".encode()).hexdigest()[:32]
    return f"{DIRECT_PREFIX}{digest}"
