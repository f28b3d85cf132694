"""LocalAws state on disk: Cognito and S3 as they were, after a restart or a crash.

Written as it changes, before the request that changed it is answered, so whatever a client
was told happened survives kill -9. Each file is replaced atomically (write, fsync, rename);
a crash mid-write leaves the previous version.

Layout under the data directory:
  FORMAT                    the moto version and layout that wrote it (refused if different)
  cognito.pickle            every user pool: clients, users (sub, password, status), keys
  cognito.journal           what changed since cognito.pickle was written, one record a write
                            (aws_state_journal.py)
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
import os
import pickle
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from dynamotalk.local.aws_state_journal import (
    JOURNAL,
    JOURNAL_MIN_BYTES,
    CognitoMarks,
    changes,
    marks,
    record,
    records,
    replay,
)

LAYOUT = 1


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
        backend_dicts: tuple[Any, ...] = (cognitoidp_backends, s3_backends)
        for backend_dict in backend_dicts:
            for regions in list(backend_dict.values()):
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
        payloads, offset = records(data)
        for payload in payloads:
            replay(backend_dict, _loads(payload))
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
            for account_id, regions in list(cognitoidp_backends.items())
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
        return marks()

    def save_cognito_write(
        self, operation: str, payload: Mapping[str, Any], marked: CognitoMarks
    ) -> None:
        """Keep what a successful Cognito write changed: a journal record when the write is
        one of USER_WRITES and changed no more than that, else a new snapshot."""
        changed = changes(operation, payload, marked)
        if changed is None:
            self.save_cognito()
            return
        if not changed:
            return
        written = record(_dumps(changed))
        if self._journal is None:
            self._journal = open(self.root / JOURNAL, "ab")  # noqa: SIM115 - kept open
        self._journal.write(written)
        self._journal.flush()
        self._written += 1
        self._journal_bytes += len(written)
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
        for account_id, regions in list(s3_backends.items()):
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
