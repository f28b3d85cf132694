"""Stand-ins for what surrounds the stores: a recording notifier, attachments, a clock, ids."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import attrs

from dynamotalk.domain.events import Event
from dynamotalk.domain.ids import encode_ulid
from dynamotalk.domain.models import SendReport, UploadForm


@attrs.define
class RecordingNotifier:
    """Records every send; connections listed in `gone` are reported gone (410)."""

    sent: list[tuple[tuple[str, ...], Event]] = attrs.Factory(list)
    gone: set[str] = attrs.Factory(set)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def send(self, connection_ids: Sequence[str], event: Event) -> SendReport:
        with self._lock:
            self.sent.append((tuple(connection_ids), event))
            gone = frozenset(c for c in connection_ids if c in self.gone)
        return SendReport(delivered=len(connection_ids) - len(gone), gone=gone)

    def events_for(self, connection_id: str) -> list[Event]:
        with self._lock:
            return [event for ids, event in self.sent if connection_id in ids]


@attrs.define
class MemoryAttachmentStore:
    objects: dict[str, int] = attrs.Factory(dict)
    """key -> size of what was 'uploaded' (`put`)."""
    referenced: set[str] = attrs.Factory(set)
    """Keys a message or profile has referenced (`mark_referenced`)."""
    retention: dict[str, int] = attrs.Factory(dict)
    """key -> the retention days it was referenced with (0: none)."""

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> UploadForm:
        fields = {"key": key, "Content-Type": content_type}
        return UploadForm("memory://uploads", fields, key, max_bytes, expires_in)

    def put(self, key: str, size: int) -> None:
        self.objects[key] = size

    def download_url(self, key: str, expires_in: int) -> str:
        return f"memory://download/{key}"

    def size_of(self, key: str) -> int | None:
        return self.objects.get(key)

    def mark_referenced(self, key: str, retention_days: int = 0) -> None:
        self.referenced.add(key)
        self.retention[key] = retention_days


@attrs.define
class ManualClock:
    now: int = 1_700_000_000_000

    def now_ms(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@attrs.define
class SequentialIds:
    """Deterministic ULIDs: strictly increasing, embedding the given time."""

    _counter: int = 0
    _last: int = 0

    def new_id(self, now_ms: int) -> str:
        self._counter += 1
        value = max((now_ms << 80) | self._counter, self._last + 1)
        self._last = value
        return encode_ulid(value)
