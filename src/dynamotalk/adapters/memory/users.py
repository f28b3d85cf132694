"""UserStore in memory: profiles and the first-claim-wins username index."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import attrs

from dynamotalk.domain.models import User


@attrs.define
class MemoryUserStore:
    _users: dict[str, User] = attrs.Factory(dict)
    _names: dict[str, str] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def get(self, user_id: str) -> User | None:
        with self._lock:
            return self._users.get(user_id)

    def get_many(self, user_ids: Sequence[str]) -> list[User]:
        with self._lock:
            return [self._users[u] for u in dict.fromkeys(user_ids) if u in self._users]

    def put(self, user: User) -> bool:
        with self._lock:
            self._users[user.user_id] = user
            holder = self._names.setdefault(user.username.casefold(), user.user_id)
            return holder == user.user_id

    def by_username(self, username: str) -> User | None:
        with self._lock:
            user_id = self._names.get(username.casefold())
            return self._users.get(user_id) if user_id else None

    def set_last_seen(self, user_id: str, at: int) -> None:
        with self._lock:
            user = self._users.get(user_id)
            if user is not None:
                self._users[user_id] = attrs.evolve(user, last_seen=at)
