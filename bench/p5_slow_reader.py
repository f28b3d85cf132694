"""P5 slow reader: one client in a room stops reading; do the others' sends slow down?

The real local stack (`dynamotalk dev`). Alice posts 10 KB messages to a room that Bob reads,
first with nobody else in it (the healthy room), then with Carol subscribed on a socket that
never reads again (a frozen tab). Each post is timed from send to ack. On AWS the management
API never blocks a sender on a slow client; the local gateway gives every connection a bounded
outbound queue and closes a reader whose queue overflows. Before that, every post to the room
waited on Carol's full socket buffer (about 9.1 s a send, measured on 2026-11-27).

Reported: ack p50/p99/max per phase, whether Carol was dropped, the gateway's outbound-queue
high-water mark against its bound, and the gateway process's resident memory after each phase.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx

from bench.p4_local_load import start_stack
from bench.table import Table, met
from tests.e2e.client import User
from tests.support.dev_stack import stop
from tests.support.raw_ws import stalled_socket

TEXT = "\N{GRINNING FACE}" * 2_600
"""About 10 KB a message out, under the 4,000-character limit (31 KB in, JSON-escaped)."""


TARGET_P99 = 1.5
"""A stalled reader costs the others nothing: their ack p99 within this factor of the healthy
room's (run-to-run noise on a shared machine is about this size)."""


def p99(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.99) - 1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _posts(alice_socket: object, room_id: str, count: int, tag: str) -> list[float]:
    latencies = []
    for n in range(count):
        started = time.perf_counter()
        alice_socket.post(room_id, f"{tag} {n} {TEXT}")  # type: ignore[attr-defined]
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def run(quick: bool) -> Table:
    # The kernel's socket buffers absorb a few MB before the gateway's queue fills: only the
    # full run posts enough to see Carol dropped (the quick run checks the acks and the bound).
    count = 60 if quick else 600
    table = Table(
        f"P5 slow reader: {count} posts of 10 KB per phase, one room, `dynamotalk dev`",
        [
            "phase",
            "acks",
            "p50 ms",
            "p99 ms",
            "max ms",
            "carol dropped",
            "queue peak",
            "RSS MB",
            f"met (p99 <= {TARGET_P99}x healthy, stalled reader dropped)",
        ],
    )
    # The quick run checks the gateway's queues and acks, which storage does not change: on the
    # in-memory stack, without starting a DynamoDB Local (P4's quick run checks that stack).
    process, base = start_stack(*(("--in-memory",) if quick else ()))
    try:
        alice, bob, carol = User(base, "p5a"), User(base, "p5b"), User(base, "p5c")
        room_id = alice.room(f"p5 {alice.name}")
        for user in (bob, carol):
            user.post(f"/rooms/{room_id}/join")
        reader = bob.socket()
        reader.call({"action": "subscribe", "roomIds": [room_id]})
        sender = alice.socket()
        healthy = _posts(sender, room_id, count, "healthy")
        outbound = httpx.get(f"{base}/_local/outbound").json()
        table.add("healthy room", len(healthy), statistics.median(healthy),
                  p99(healthy), max(healthy), "-",
                  outbound["highWater"]["messages"], rss_mb(process.pid), "-")  # fmt: skip
        before = set(httpx.get(f"{base}/_local/connections").json()["connections"])
        stalled = stalled_socket(base, carol.token, room_id)
        (carol_id,) = set(httpx.get(f"{base}/_local/connections").json()["connections"]) - before
        slowed = _posts(sender, room_id, count, "stalled")
        live = httpx.get(f"{base}/_local/connections").json()["connections"]
        outbound = httpx.get(f"{base}/_local/outbound").json()
        dropped = carol_id not in live
        table.add("one reader stalled", len(slowed), statistics.median(slowed),
                  p99(slowed), max(slowed),
                  "yes" if dropped else "no", outbound["highWater"]["messages"],
                  rss_mb(process.pid),
                  met(p99(slowed) <= TARGET_P99 * p99(healthy) and dropped))  # fmt: skip
        limits = outbound.get("limits", {})
        table.ok = (
            len(slowed) == count
            and (dropped or quick)
            and outbound["highWater"]["messages"] <= limits.get("messages", 10**9)
        )
        table.notes.append(
            f"outbound queue bound: {limits}; a reader whose queue overflows is closed with "
            "1008 and later posts to it answer 410 Gone, so no sender waits on it."
        )
        stalled.close()
        sender.close()
        reader.close()
    finally:
        stop(process)
    return table
