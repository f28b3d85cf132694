"""RateLimiter in memory: the same fixed windows as the DynamoDB one, under one lock.

For domain tests and the in-memory local stack (`dynamotalk dev --in-memory`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from dynamotalk.domain.user_limits import Charge, attribute_of, item_window, retry_after_ms


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str, int], dict[str, int]] = {}

    def take(self, user_id: str, group: str, charges: Sequence[Charge], now_ms: int) -> int | None:
        if not charges:
            return None
        longest = item_window(charges)
        key = (user_id, f"{group}#{longest.window_s}", longest.window_of(now_ms))
        with self._lock:
            # Forget finished windows (what DynamoDB's TTL does for the other adapter).
            for old in [k for k in self._items if k[:2] == key[:2] and k[2] < key[2]]:
                del self._items[old]
            counts = self._items.setdefault(key, {})
            if any(
                counts.get(attribute_of(c.quota, now_ms), 0) + c.amount > c.quota.limit
                for c in charges
            ):
                return retry_after_ms(charges, counts, now_ms)
            for c in charges:
                name = attribute_of(c.quota, now_ms)
                counts[name] = counts.get(name, 0) + c.amount
        return None
