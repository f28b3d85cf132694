"""The local stack's delivery hooks for the reliability tests: its fault points
(/_local/faults, and how often each fired, from its log), the events it published
(/_local/events), its dead letters and live connections; and frames as a socket saw them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from dynamotalk.client import frames
from tests.e2e.client import Socket
from tests.support.room_state import Frame, is_change

SYNC_LIMIT = 2
"""Small sync pages, so catching up loops on hasMore."""
FAULT_EVERY_S = 0.5
"""How often a fault is armed while the users are busy."""
PAGE_STEPS = ("post", "post", "send")
"""The page workers' fault points (every room here is sharded): a page job dies and is received
again. The stream's own steps are crashed one at a time (test_delivery.py)."""


@dataclass
class Stack:
    base: str
    log: Path

    def faults(self, step: str) -> int:
        """How many times the fault point `step` fired (GET /_local/faults)."""
        reply = httpx.get(f"{self.base}/_local/faults", timeout=10)
        assert reply.status_code == 200, reply.text
        fired: dict[str, int] = reply.json()["fired"]
        return fired.get(step, 0)

    def arm(self, step: str, after: int, times: int = 1) -> None:
        body = {"step": step, "after": after, "times": times}
        reply = httpx.post(f"{self.base}/_local/faults", json=body, timeout=10)
        assert reply.status_code == 204, reply.text

    def disarm(self) -> None:
        assert httpx.delete(f"{self.base}/_local/faults", timeout=10).status_code == 204

    def published(self) -> list[Frame]:
        events = httpx.get(f"{self.base}/_local/events", timeout=10).json()["events"]
        return [json.loads(e["Detail"]) for e in events]

    def dead_letters(self) -> int:
        """Stream records and page jobs that failed for good, so far."""
        found = httpx.get(f"{self.base}/_local/dead-letters", timeout=10).json()
        return len(found["streamRecords"]) + len(found["pageJobs"])

    def connections(self) -> list[str]:
        found: list[str] = httpx.get(f"{self.base}/_local/connections", timeout=10).json()[
            "connections"
        ]
        return found


def changes(socket: Socket) -> list[Frame]:
    with socket.changed:
        return [f for f in socket.frames if is_change(f)]


def syncer(socket: Socket, room_id: str) -> Callable[[int], Frame]:
    return lambda after: socket.call(frames.sync_changes(room_id, after, SYNC_LIMIT, "sync"))


def change_at(seq: int) -> Callable[[Frame], bool]:
    return lambda frame: is_change(frame) and frame["seq"] == seq


async def chaos(stack: Stack, busy: asyncio.Event, rng: random.Random) -> int:
    """Arm a fault now and then until the users are done: a page job's crash after some posts
    went out, or before its posts. Returns how many were armed."""
    armed = 0
    async with httpx.AsyncClient(base_url=stack.base, timeout=10) as http:
        while not busy.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(busy.wait(), FAULT_EVERY_S)
            step = rng.choice(PAGE_STEPS)
            body = {"step": step, "after": rng.randint(0, 20), "times": 1}
            assert (await http.post("/_local/faults", json=body)).status_code == 204
            armed += 1
        await http.delete("/_local/faults")
    return armed
