"""How a client keeps its WebSocket: a `ping` every CLIENT_PING_INTERVAL_S so API Gateway never
closes a quiet socket for idleness, and reconnects with exponential backoff and full jitter.

Attempt n (from 0) waits random() * min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2**n) ms: the
bound doubles up to the cap, and the wait is uniform under it, so clients dropped together (a
deploy, a network blip) spread their returns instead of arriving in waves. The count starts
over once a connection is open and subscribed. The random source and the sleep are injected,
so tests can pin both (web/socket.js keeps the same rules)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import websockets

from dynamotalk.client import frames
from dynamotalk.domain.limits import RECONNECT_BASE_MS, RECONNECT_CAP_MS
from dynamotalk.quotas import CLIENT_PING_INTERVAL_S

Sleep = Callable[[float], Awaitable[Any]]
MAX_DOUBLINGS = 32
"""Past this many attempts the bound is the cap anyway; keeps 2**n small."""


def backoff_bound_ms(attempt: int) -> int:
    """The most attempt `attempt` (from 0) may wait, in ms."""
    doubled: int = RECONNECT_BASE_MS << min(attempt, MAX_DOUBLINGS)
    return min(RECONNECT_CAP_MS, doubled)


@attrs.define
class Backoff:
    """The reconnect waits of one socket: `await wait()` before each attempt, `reset()` once
    a connection is open and subscribed."""

    random: Callable[[], float] = random.random
    """Uniform in [0, 1): the jitter."""
    sleep: Sleep = asyncio.sleep
    attempt: int = 0

    def next_delay_s(self) -> float:
        """The wait before the next attempt (counting it), in seconds."""
        delay_ms = self.random() * backoff_bound_ms(self.attempt)
        self.attempt += 1
        return delay_ms / 1000

    async def wait(self) -> float:
        delay = self.next_delay_s()
        await self.sleep(delay)
        return delay

    def reset(self) -> None:
        self.attempt = 0


async def keep_alive(
    send: Callable[[dict[str, Any]], Awaitable[Any]],
    interval_s: float = CLIENT_PING_INTERVAL_S,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Send `ping` every `interval_s` until cancelled. A ping on a socket that just dropped is
    lost without harm: the reconnect opens a fresh one, and the next ping goes there."""
    while True:
        await sleep(interval_s)
        with contextlib.suppress(OSError, websockets.WebSocketException):
            await send(frames.ping())
