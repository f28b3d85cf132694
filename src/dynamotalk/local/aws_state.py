"""LocalAws state on disk: Cognito and S3 as they were, after a restart or a crash.

Written as it changes, before the request that changed it is answered, so whatever a client
was told happened survives kill -9. Each file is replaced atomically (write, fsync, rename);
a crash mid-write leaves the previous version.

Layout under the data directory:
  FORMAT                    the moto version and layout that wrote it (refused if different)
  cognito.pickle            every user pool: clients, users (sub, password, status), keys
  cognito.journal           what changed since cognito.pickle was written, one record a write
  s3/backend.pickle         buckets, their settings and the bucket namespace, without objects
  s3/objects/<sha256>.pickle  one object (all its versions), written when it changes

Cognito's everyday writes (sign-up, confirmation, sign-in, token refresh, a user's attributes)
append one record to the journal (the users they touched and the tokens they added; fsync
before the answer) instead of rewriting every pool, so a write costs the same with 10 users
or 10,000. Any other write (a pool, a client, a group, a sign-out) rewrites cognito.pickle
and empties the journal; so does a journal that has grown past the snapshot's size, which
keeps the cost per write constant on average. At start the snapshot is read and the journal
replayed on top; a record cut short by a crash (never acknowledged) is dropped. A record
replayed over a snapshot that already holds it (a crash between the two steps of a rewrite)
sets the same values again.

moto's own objects are pickled (its S3 keys support that; pool signing keys are reduced to
their JWK). A directory written by another moto version is refused with a clear message
rather than half-read: start with --fresh.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import itertools
import os
import pickle
import struct
import threading
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

LAYOUT = 1
JOURNAL = "cognito.journal"
JOURNAL_MIN_BYTES = 1 << 20
"""The journal is folded into the snapshot once it is larger than this and than the snapshot."""
_RECORD_HEAD = struct.Struct("<II")
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


class StateError(Exception):
    """The kept state cannot be used; the message says what to do."""


def _format_line() -> str:
    import moto

    return f"dynamotalk-localaws {LAYOUT} moto {moto.__version__}\n"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _restore_key(jwk: dict[str, Any]) -> Any:
    from joserfc.jwk import RSAKey

    return RSAKey.import_key(jwk)


def _dumps(value: Any) -> bytes:
    from joserfc.jwk import RSAKey

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    table = copyreg.dispatch_table.copy()
    table[RSAKey] = lambda key: (_restore_key, (key.as_dict(private=True),))
    pickler.dispatch_table = table
    pickler.dump(value)
    return buffer.getvalue()


def _loads(data: bytes) -> Any:
    return pickle.loads(data)  # noqa: S301 - our own files, written by this module


def _accounts(backend_dict: Any) -> Iterator[tuple[str, Any]]:
    yield from list(backend_dict.items())


@attrs.define
class SavedState:
    root: Path
    _object_marks: dict[str, tuple[Any, ...]] = attrs.field(factory=dict, init=False)
    _snapshot_bytes: int = attrs.field(default=0, init=False)
    _journal_bytes: int = attrs.field(default=0, init=False)
    _journal: Any = attrs.field(default=None, init=False)
    _written: int = attrs.field(default=0, init=False)
    """Journal records written (not yet necessarily on disk), counted from the start."""
    _durable: int = attrs.field(default=0, init=False)
    """Of those, how many are on disk (fsync'd, or held by a newer snapshot)."""
    _sync_lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    # --- start ---------------------------------------------------------------------------------

    def restore(self) -> None:
        """Replace moto's Cognito and S3 state with what the directory holds (or nothing)."""
        from moto.cognitoidp.models import cognitoidp_backends
        from moto.s3.models import s3_backends

        self.root.mkdir(parents=True, exist_ok=True)
        marker = self.root / "FORMAT"
        if marker.exists() and marker.read_text() != _format_line():
            raise StateError(
                f"{self.root} holds local AWS state written by another version "
                f"({marker.read_text().strip()}); start with --fresh to begin again"
            )
        for backend_dict in (cognitoidp_backends, s3_backends):
            for _, regions in _accounts(backend_dict):
                regions.clear()
        s3_backends.bucket_accounts.clear()  # S3's global bucket namespace
        try:
            self._restore_cognito(cognitoidp_backends)
            self._restore_s3(s3_backends)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
            raise StateError(
                f"the local AWS state in {self.root} cannot be read ({error}); "
                f"start with --fresh to begin again"
            ) from error
        _write_atomically(marker, _format_line().encode())

    def _restore_cognito(self, backend_dict: Any) -> None:
        path = self.root / "cognito.pickle"
        if path.exists():
            for (account_id, region), backend in _loads(path.read_bytes()).items():
                backend_dict[account_id][region] = backend
            self._snapshot_bytes = path.stat().st_size
        journal = self.root / JOURNAL
        if not journal.exists():
            return
        data = journal.read_bytes()
        offset = 0
        while offset + _RECORD_HEAD.size <= len(data):
            length, crc = _RECORD_HEAD.unpack_from(data, offset)
            payload = data[offset + _RECORD_HEAD.size : offset + _RECORD_HEAD.size + length]
            if len(payload) < length or zlib.crc32(payload) != crc:
                break  # cut short by a crash: never acknowledged
            _replay(backend_dict, _loads(payload))
            offset += _RECORD_HEAD.size + length
        if offset < len(data):
            with open(journal, "r+b") as out:  # appends must not follow the torn record
                out.truncate(offset)
                os.fsync(out.fileno())
        self._journal_bytes = offset

    def _restore_s3(self, backend_dict: Any) -> None:
        path = self.root / "s3" / "backend.pickle"
        if not path.exists():
            return
        saved = _loads(path.read_bytes())
        for (account_id, region), backend in saved["backends"].items():
            backend_dict[account_id][region] = backend
        backend_dict.bucket_accounts.update(saved["bucket_accounts"])
        for file in sorted((self.root / "s3" / "objects").glob("*.pickle")):
            account_id, region, bucket_name, key, versions = _loads(file.read_bytes())
            bucket = backend_dict[account_id][region].buckets.get(bucket_name)
            if bucket is None:
                file.unlink()  # its bucket was deleted before the crash
                continue
            dict.__setitem__(bucket.keys, key, versions)
            self._object_marks[file.stem] = _mark(versions)

    # --- as it changes -------------------------------------------------------------------------

    def save_cognito(self) -> None:
        """Rewrite the snapshot of every pool and empty the journal."""
        from moto.cognitoidp.models import cognitoidp_backends

        snapshot = {
            (account_id, region): backend
            for account_id, regions in _accounts(cognitoidp_backends)
            for region, backend in list(regions.items())
        }
        data = _dumps(snapshot)
        _write_atomically(self.root / "cognito.pickle", data)
        self._snapshot_bytes = len(data)
        with self._sync_lock:  # not while another thread fsyncs the journal
            self._close_journal()
            _write_atomically(self.root / JOURNAL, b"")
            self._journal_bytes = 0
            self._durable = self._written  # the snapshot holds every record

    def cognito_marks(self) -> CognitoMarks:
        """Taken before a Cognito write: what save_cognito_write compares against."""
        return _marks()

    def save_cognito_write(
        self, operation: str, payload: Mapping[str, Any], marks: CognitoMarks
    ) -> None:
        """Keep what a successful Cognito write changed: a journal record when the write is
        one of USER_WRITES and changed no more than that, else a new snapshot."""
        changes = _changes(operation, payload, marks)
        if changes is None:
            self.save_cognito()
            return
        if not changes:
            return
        data = _dumps(changes)
        record = _RECORD_HEAD.pack(len(data), zlib.crc32(data)) + data
        if self._journal is None:
            self._journal = open(self.root / JOURNAL, "ab")  # noqa: SIM115 - kept open
        self._journal.write(record)
        self._journal.flush()
        self._written += 1
        self._journal_bytes += len(record)
        if self._journal_bytes > max(JOURNAL_MIN_BYTES, self._snapshot_bytes):
            self.save_cognito()

    def durable(self) -> None:
        """Return once every journal record written so far is on disk. Called after each
        request, outside LocalAws's request lock, before the answer goes out: requests that
        wrote meanwhile share one fsync (group commit) while the next request runs."""
        wanted = self._written
        if self._durable >= wanted:
            return
        with self._sync_lock:
            if self._durable >= wanted or self._journal is None:
                return
            written = self._written
            os.fsync(self._journal.fileno())
            self._durable = max(self._durable, written)

    def close(self) -> None:
        with self._sync_lock:
            self._close_journal()

    def _close_journal(self) -> None:
        if self._journal is not None:
            self._journal.flush()
            os.fsync(self._journal.fileno())
            self._journal.close()
            self._journal = None
            self._durable = self._written

    def save_s3(self) -> None:
        """Objects that changed since the last save, then the buckets without their objects."""
        from moto.s3.models import s3_backends

        seen: set[str] = set()
        backends = {}
        for account_id, regions in _accounts(s3_backends):
            for region, backend in list(regions.items()):
                backends[(account_id, region)] = backend
                for bucket in list(backend.buckets.values()):
                    for key, versions in list(dict.items(bucket.keys)):
                        name = _object_file(account_id, region, bucket.name, key)
                        seen.add(name)
                        mark = _mark(versions)
                        if self._object_marks.get(name) != mark:
                            record = (account_id, region, bucket.name, key, versions)
                            _write_atomically(self._objects / f"{name}.pickle", _dumps(record))
                            self._object_marks[name] = mark
        for name in set(self._object_marks) - seen:
            (self._objects / f"{name}.pickle").unlink(missing_ok=True)
            del self._object_marks[name]
        kept: list[tuple[Any, Any]] = []
        try:
            for backend in backends.values():
                for bucket in backend.buckets.values():
                    kept.append((bucket, bucket.keys))
                    bucket.keys = type(bucket.keys)()
            data = _dumps(
                {"backends": backends, "bucket_accounts": dict(s3_backends.bucket_accounts)}
            )
        finally:
            for bucket, keys in kept:
                bucket.keys = keys
        _write_atomically(self.root / "s3" / "backend.pickle", data)

    @property
    def _objects(self) -> Path:
        return self.root / "s3" / "objects"


def _object_file(account_id: str, region: str, bucket: str, key: str) -> str:
    return hashlib.sha256(f"{account_id}\0{region}\0{bucket}\0{key}".encode()).hexdigest()


def _mark(versions: list[Any]) -> tuple[Any, ...]:
    """Changes when an object is written, replaced, deleted (versions) or its metadata changes."""
    return tuple(
        (id(v), getattr(v, "etag", None), getattr(v, "version_id", None), repr(v.metadata))
        for v in versions
    )


# --- the Cognito journal --------------------------------------------------------------------

PoolKey = tuple[str, str, str]
"""(account id, region, user pool id)"""
CognitoMarks = dict[PoolKey, tuple[int, ...]]
"""Per pool: how many users, clients, groups and tokens of each kind it held."""
Change = tuple[PoolKey, str, str, Any]
"""(pool, table, key, value): `table` is "users" or one of TOKEN_FIELDS; value None for a
user deletes it."""


def _pools() -> Iterator[tuple[PoolKey, Any]]:
    from moto.cognitoidp.models import cognitoidp_backends

    for account_id, regions in _accounts(cognitoidp_backends):
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


def _marks() -> CognitoMarks:
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


def _changes(
    operation: str, payload: Mapping[str, Any], marks: CognitoMarks
) -> list[Change] | None:
    """What the write changed, or None when a snapshot is needed to keep it."""
    if operation not in USER_WRITES:
        return None
    pools = dict(_pools())
    if set(pools) != set(marks):
        return None  # a pool was created or deleted
    changes: list[Change] = []
    for key, pool in pools.items():
        before, after = marks[key], _counts(pool)
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
            changes += [(key, field, token, table[token]) for token in added]
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
            changes.append((key, "users", name, user))
    return changes


def _is_pool(pool: Any, payload: Mapping[str, Any]) -> bool:
    """Is this the pool the write addressed (by pool id or app client id)?"""
    return payload.get("UserPoolId") == pool.id or payload.get("ClientId") in pool.clients


def _replay(backend_dict: Any, changes: list[Change]) -> None:
    for (account_id, region, pool_id), table, key, value in changes:
        pool = backend_dict[account_id][region].user_pools.get(pool_id)
        if pool is None:
            continue  # a later snapshot no longer has it
        entries = getattr(pool, table)
        if table == "users" and value is None:
            entries.pop(key, None)
        else:
            entries[key] = value
