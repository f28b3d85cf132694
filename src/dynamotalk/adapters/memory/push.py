"""PushStore in memory (ports_push.py): the local stack's `--in-memory` mode and unit tests."""

from __future__ import annotations

import threading

import attrs

from dynamotalk.domain.push import PushSubscription, RoomNotify


@attrs.define
class MemoryPushStore:
    _subscriptions: dict[tuple[str, str], PushSubscription] = attrs.Factory(dict)
    _notify: dict[tuple[str, str], RoomNotify] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def put_subscription(self, subscription: PushSubscription) -> None:
        with self._lock:
            self._subscriptions[(subscription.user_id, subscription.device_id)] = subscription

    def subscriptions(self, user_id: str) -> list[PushSubscription]:
        with self._lock:
            found = [s for (user, _), s in self._subscriptions.items() if user == user_id]
        return sorted(found, key=lambda s: s.device_id)

    def delete_subscription(self, user_id: str, device_id: str) -> bool:
        with self._lock:
            return self._subscriptions.pop((user_id, device_id), None) is not None

    def mark_success(self, user_id: str, device_id: str, at: int) -> None:
        with self._lock:
            found = self._subscriptions.get((user_id, device_id))
            if found is not None:
                self._subscriptions[(user_id, device_id)] = attrs.evolve(found, last_success_at=at)

    def set_room_notify(self, setting: RoomNotify) -> None:
        with self._lock:
            self._notify[(setting.user_id, setting.room_id)] = setting

    def room_notify(self, user_id: str, room_id: str) -> RoomNotify | None:
        with self._lock:
            return self._notify.get((user_id, room_id))

    def clear_room_notify(self, user_id: str, room_id: str) -> None:
        with self._lock:
            self._notify.pop((user_id, room_id), None)
