"""The clients' socket upkeep (client/keepalive.py) with the random source and the sleep pinned:
the backoff's bound and jitter, the reconnect loop and its reset, and the ping timer."""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from dynamotalk.client.chat import Chat
from dynamotalk.client.keepalive import Backoff, backoff_bound_ms, keep_alive
from dynamotalk.client.live import on_frame, reconnect
from dynamotalk.domain.limits import RECONNECT_BASE_MS, RECONNECT_CAP_MS
from dynamotalk.quotas import CLIENT_PING_INTERVAL_S
from tests.unit.test_clients import api, stage, terminal


def test_the_bound_doubles_from_the_base_up_to_the_cap() -> None:
    bounds = [backoff_bound_ms(n) for n in range(10)]
    assert bounds[0] == RECONNECT_BASE_MS
    for n in range(1, 10):
        assert bounds[n] == min(RECONNECT_CAP_MS, 2 * bounds[n - 1])
    assert bounds[-1] == RECONNECT_CAP_MS
    assert backoff_bound_ms(10_000) == RECONNECT_CAP_MS


def test_each_wait_is_the_random_draw_times_its_bound() -> None:
    draws: Iterator[float] = iter([0.0, 0.5, 0.999, 0.25, 1 / 3] * 4)
    backoff = Backoff(random=lambda: next(draws))
    delays = [backoff.next_delay_s() for _ in range(20)]
    expected = [
        r * backoff_bound_ms(n) / 1000 for n, r in enumerate([0.0, 0.5, 0.999, 0.25, 1 / 3] * 4)
    ]
    assert delays == pytest.approx(expected)
    assert backoff.attempt == 20


def test_full_jitter_spreads_waits_over_the_whole_bound() -> None:
    """Many clients dropped together: at each attempt their waits cover [0, bound), not a
    point, so they do not come back in one wave."""
    rng = random.Random(15)
    for attempt in (0, 3, 12):
        waits = []
        for _ in range(400):
            backoff = Backoff(random=rng.random, attempt=attempt)
            waits.append(backoff.next_delay_s() * 1000)
        bound = backoff_bound_ms(attempt)
        assert all(0 <= w < bound for w in waits)
        assert min(waits) < bound * 0.1
        assert max(waits) > bound * 0.9
        assert len({round(w, 6) for w in waits}) > 390


class FlakyChat(Chat):
    """A terminal chat whose connects fail as `failures` says, then succeed."""

    failures: Iterator[Exception]

    async def connect(self) -> None:
        error = next(self.failures, None)
        if error is not None:
            raise error


def test_reconnect_backs_off_between_failed_attempts_and_the_subscribe_ack_resets_it() -> None:
    out = io.StringIO()
    chat = FlakyChat(api(stage), out=out)
    chat.failures = iter([OSError("refused"), websockets.InvalidHandshake("503"), OSError("again")])
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    chat.backoff = Backoff(random=lambda: 0.5, sleep=sleep)
    assert asyncio.run(reconnect(chat))
    assert slept == [0.5 * backoff_bound_ms(n) / 1000 for n in range(4)]
    assert chat.backoff.attempt == 4
    on_frame(chat, {"v": 2, "type": "ack", "action": "subscribe", "roomIds": ["r1"]})
    assert chat.backoff.attempt == 0
    assert out.getvalue() == ""


def test_reconnect_stops_when_the_chat_closes() -> None:
    chat, _, _ = terminal()

    async def sleep(seconds: float) -> None:
        chat.closing = True

    chat.backoff = Backoff(sleep=sleep)
    assert not asyncio.run(reconnect(chat))


def test_the_ping_timer_sends_the_routed_ping_every_interval_through_a_dropped_socket() -> None:
    slept: list[float] = []
    sent: list[dict[str, Any]] = []

    async def sleep(seconds: float) -> None:
        if len(slept) == 4:
            raise asyncio.CancelledError
        slept.append(seconds)

    async def send(frame: dict[str, Any]) -> None:
        sent.append(frame)
        if len(sent) == 2:
            raise websockets.ConnectionClosedError(None, None)  # lost; the next ping goes on

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(keep_alive(send, sleep=sleep))
    assert slept == [CLIENT_PING_INTERVAL_S] * 4
    assert sent == [{"action": "ping"}] * 4
