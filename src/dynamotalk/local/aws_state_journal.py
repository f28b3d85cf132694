"""The Cognito journal of LocalAws's kept state: what one everyday Cognito write changed.

A write that is one of USER_WRITES and changed no more than the users it names (and the tokens
it added) becomes one record; anything else needs a new snapshot (aws_state.py). Each record
is its length, its CRC-32 and the pickled changes; a record cut short by a crash (never
acknowledged) ends the journal.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

JOURNAL = "cognito.journal"
JOURNAL_MIN_BYTES = 1 << 20
"""The journal is folded into the snapshot once it is larger than this and than the snapshot."""
RECORD_HEAD = struct.Struct("<II")
"""Each journal record: payload length, CRC-32 of the payload, then the pickled payload."""
TOKEN_FIELDS = ("refresh_tokens", "access_tokens", "id_tokens")
"""A pool's token tables, which moto only appends to on sign-in and refresh."""
USER_WRITES = frozenset(
    {
        "SignUp",
        "ConfirmSignUp",
        "AdminConfirmSignUp",
        "AdminUpdateUserAttributes",
        "AdminDisableUser",
        "AdminEnableUser",
        "InitiateAuth",
        "AdminInitiateAuth",
    }
)
"""Writes that change at most the users they name (and, for ConfirmSignUp, the users holding
the same e-mail, whose alias it may move) and append tokens: these are journaled."""


PoolKey = tuple[str, str, str]
"""(account id, region, user pool id)"""
CognitoMarks = dict[PoolKey, tuple[int, ...]]
"""Per pool: how many users, clients, groups and tokens of each kind it held."""
Change = tuple[PoolKey, str, str, Any]
"""(pool, table, key, value): `table` is "users" or one of TOKEN_FIELDS; value None for a
user deletes it."""


def record(payload: bytes) -> bytes:
    """One journal record holding `payload` (the pickled changes)."""
    return RECORD_HEAD.pack(len(payload), zlib.crc32(payload)) + payload


def records(data: bytes) -> tuple[list[bytes], int]:
    """The payloads of the journal's whole records, and the length they take."""
    payloads: list[bytes] = []
    offset = 0
    while offset + RECORD_HEAD.size <= len(data):
        length, crc = RECORD_HEAD.unpack_from(data, offset)
        payload = data[offset + RECORD_HEAD.size : offset + RECORD_HEAD.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break  # cut short by a crash: never acknowledged
        payloads.append(payload)
        offset += RECORD_HEAD.size + length
    return payloads, offset


def _pools() -> Iterator[tuple[PoolKey, Any]]:
    from moto.cognitoidp.models import cognitoidp_backends

    for account_id, regions in list(cognitoidp_backends.items()):
        for region, backend in list(regions.items()):
            for pool_id, pool in list(backend.user_pools.items()):
                yield (account_id, region, pool_id), pool


def _counts(pool: Any) -> tuple[int, ...]:
    return (
        len(pool.users),
        len(pool.clients),
        len(pool.groups),
        *(len(getattr(pool, field)) for field in TOKEN_FIELDS),
    )


def marks() -> CognitoMarks:
    return {key: _counts(pool) for key, pool in _pools()}


def _named_users(operation: str, payload: Mapping[str, Any], pool: Any) -> set[str]:
    """The usernames a write names (already rewritten to the stored name by the corrections)."""
    names = {str(payload["Username"])} if isinstance(payload.get("Username"), str) else set()
    if operation == "ConfirmSignUp":
        user = pool.users.get(next(iter(names), ""))
        email = _email(user) if user is not None else None
        if email is not None:  # the alias may have moved from another user
            names |= {name for name, other in pool.users.items() if _email(other) == email}
    return names


def _email(user: Any) -> str | None:
    for attribute in user.attributes:
        if attribute.get("Name") == "email":
            return str(attribute.get("Value", "")).lower()
    return None


def changes(
    operation: str, payload: Mapping[str, Any], marked: CognitoMarks
) -> list[Change] | None:
    """What the write changed, or None when a snapshot is needed to keep it."""
    if operation not in USER_WRITES:
        return None
    pools = dict(_pools())
    if set(pools) != set(marked):
        return None  # a pool was created or deleted
    found: list[Change] = []
    for key, pool in pools.items():
        before, after = marked[key], _counts(pool)
        addressed = _is_pool(pool, payload)
        if not addressed and after != before:
            return None  # a pool the write did not name changed
        if after[1:3] != before[1:3] or after[0] - before[0] not in (0, 1):
            return None  # clients or groups changed, or users left or came in numbers
        if any(new < old for new, old in zip(after[3:], before[3:], strict=True)):
            return None  # tokens removed: a sign-out
        for field, old, new in zip(TOKEN_FIELDS, before[3:], after[3:], strict=True):
            table = getattr(pool, field)
            added = reversed(list(itertools.islice(reversed(table), new - old)))
            found += [(key, field, token, table[token]) for token in added]
        if not addressed:
            continue
        names = _named_users(operation, payload, pool)
        if after[0] > before[0] and not names & set(list(pool.users)[before[0] :]):
            return None  # a user appeared that the write did not name
        for name in sorted(names):
            user = pool.users.get(name)
            if user is None:
                continue
            if user.groups:
                return None  # its groups link back to other users: keep the whole pool
            found.append((key, "users", name, user))
    return found


def _is_pool(pool: Any, payload: Mapping[str, Any]) -> bool:
    """Is this the pool the write addressed (by pool id or app client id)?"""
    return payload.get("UserPoolId") == pool.id or payload.get("ClientId") in pool.clients


def replay(backend_dict: Any, changes: list[Change]) -> None:
    for (account_id, region, pool_id), table, key, value in changes:
        pool = backend_dict[account_id][region].user_pools.get(pool_id)
        if pool is None:
            continue  # a later snapshot no longer has it
        entries = getattr(pool, table)
        if table == "users" and value is None:
            entries.pop(key, None)
        else:
            entries[key] = value
