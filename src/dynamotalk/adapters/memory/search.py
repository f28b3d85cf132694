"""SearchIndex in memory: the DynamoDB index's twin (the same contract suite runs on both)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import attrs


@attrs.define
class MemorySearchIndex:
    _postings: dict[tuple[str, str], set[str]] = attrs.Factory(dict)
    _docs: dict[tuple[str, str], tuple[str, ...]] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def index(self, room_id: str, message_id: str, terms: Sequence[str]) -> None:
        with self._lock:
            self._drop(room_id, message_id)
            for term in terms:
                self._postings.setdefault((room_id, term), set()).add(message_id)
            self._docs[(room_id, message_id)] = tuple(terms)

    def remove(self, room_id: str, message_id: str) -> None:
        with self._lock:
            self._drop(room_id, message_id)

    def _drop(self, room_id: str, message_id: str) -> None:
        for term in self._docs.pop((room_id, message_id), ()):
            self._postings.get((room_id, term), set()).discard(message_id)

    def postings(self, room_id: str, term: str, before_id: str | None, limit: int) -> list[str]:
        with self._lock:
            ids = sorted(self._postings.get((room_id, term), ()), reverse=True)
        if before_id is not None:
            ids = [i for i in ids if i < before_id]
        return ids[: max(limit, 0)]

    def present(self, room_id: str, term: str, message_ids: Sequence[str]) -> set[str]:
        with self._lock:
            return set(message_ids) & self._postings.get((room_id, term), set())

    def size(self) -> int:
        """Postings held (the bench's and tests' view)."""
        with self._lock:
            return sum(len(ids) for ids in self._postings.values())
