"""ConnectionRegistry in memory: live connections and the rooms they follow."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import attrs

from dynamotalk.domain.models import Connection, Subscription


@attrs.define
class MemoryConnectionRegistry:
    _connections: dict[str, Connection] = attrs.Factory(dict)
    _subscriptions: dict[str, dict[str, Subscription]] = attrs.Factory(dict)
    """room id -> connection id -> subscription."""
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def register(self, connection: Connection) -> None:
        with self._lock:
            self._connections[connection.connection_id] = connection

    def get(self, connection_id: str, now_s: int) -> Connection | None:
        with self._lock:
            connection = self._connections.get(connection_id)
        return connection if connection and connection.expires_at > now_s else None

    def _drop(self, connection_id: str) -> Connection | None:
        for subs in self._subscriptions.values():
            subs.pop(connection_id, None)
        return self._connections.pop(connection_id, None)

    def unregister(self, connection_id: str) -> Connection | None:
        with self._lock:
            return self._drop(connection_id)

    def unregister_many(self, connection_ids: Sequence[str]) -> None:
        with self._lock:
            for connection_id in connection_ids:
                self._drop(connection_id)

    def subscribe(self, subscription: Subscription) -> None:
        with self._lock:
            room = self._subscriptions.setdefault(subscription.room_id, {})
            room[subscription.connection_id] = subscription

    def subscribe_many(self, subscriptions: Sequence[Subscription]) -> None:
        for subscription in subscriptions:
            self.subscribe(subscription)

    def unsubscribe(self, connection_id: str, room_id: str) -> None:
        with self._lock:
            self._subscriptions.get(room_id, {}).pop(connection_id, None)

    def rooms_of_connection(self, connection_id: str, now_s: int) -> list[str]:
        with self._lock:
            return sorted(
                room_id
                for room_id, subs in self._subscriptions.items()
                if connection_id in subs and subs[connection_id].expires_at > now_s
            )

    def connections_in_room(self, room_id: str, now_s: int) -> list[Subscription]:
        with self._lock:
            subs = list(self._subscriptions.get(room_id, {}).values())
        return sorted((s for s in subs if s.expires_at > now_s), key=lambda s: s.connection_id)

    def connections_of_user(self, user_id: str, now_s: int) -> list[Connection]:
        with self._lock:
            found = [
                c
                for c in self._connections.values()
                if c.user_id == user_id and c.expires_at > now_s
            ]
        return sorted(found, key=lambda c: c.connection_id)
