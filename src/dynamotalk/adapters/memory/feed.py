"""ChangeFeed in memory: each room's changes in seq order, and one stream of every change in
the order stored (what the local stack's emulated table stream reads)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import attrs

from dynamotalk.domain.events import RoomChange


@attrs.define
class MemoryChangeFeed:
    """Shared by the message and room stores, so a room has one sequence whatever changed."""

    _rooms: dict[str, list[RoomChange]] = attrs.Factory(dict)
    _stream: list[RoomChange] = attrs.Factory(list)
    _lock: threading.Condition = attrs.Factory(threading.Condition)
    listeners: list[Callable[[RoomChange], None]] = attrs.Factory(list)
    """Called with each change as it is stored (the domain tests' synchronous fan-out)."""

    def append(self, room_id: str, make: Callable[[int], RoomChange]) -> RoomChange:
        """Number the room's next change and store it. The caller holds its own store's lock,
        so the change and its record are one step."""
        with self._lock:
            log = self._rooms.setdefault(room_id, [])
            change = make(len(log) + 1)
            log.append(change)
            self._stream.append(change)
            self._lock.notify_all()
        for listener in self.listeners:
            listener(change)
        return change

    def head(self, room_id: str) -> int:
        with self._lock:
            return len(self._rooms.get(room_id, ()))

    def after(self, room_id: str, seq: int, limit: int) -> list[RoomChange]:
        with self._lock:
            log = self._rooms.get(room_id, [])
            return log[max(seq, 0) : max(seq, 0) + max(limit, 0)]

    def get(self, room_id: str, seq: int) -> RoomChange | None:
        with self._lock:
            log = self._rooms.get(room_id, [])
            return log[seq - 1] if 1 <= seq <= len(log) else None

    def stream(self, position: int, wait_s: float = 0.0) -> list[RoomChange]:
        """Every change stored from `position` (0-based) on, waiting up to `wait_s` for one."""
        with self._lock:
            if len(self._stream) <= position and wait_s > 0:
                self._lock.wait(wait_s)
            return self._stream[position:]
