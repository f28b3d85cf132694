"""R5 load: the local stack holds many concurrent WebSocket clients while messages flow. Every
message is in history exactly once, every member received every message of its room, no
socket stays registered, and the gateway's memory does not keep growing from round to round.

`make test` runs a smaller size (CI's time budget); the full size, whose figures
docs/RELIABILITY.md reports, runs with `make load`
(`DYNAMOTALK_LOAD_FULL=1 .venv/bin/pytest -q -s tests/reliability/test_load.py`).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

import httpx
import pytest

from bench.p4_local_load import load
from dynamotalk.local.emulators import free_port
from tests.support.dev_stack import start_dev, stop, wait_healthy

pytestmark = pytest.mark.timeout(900)
FULL = os.environ.get("DYNAMOTALK_LOAD_FULL") == "1"
CLIENTS, ROOMS, MESSAGES, ROUNDS = (200, 20, 400, 3) if FULL else (40, 4, 80, 3)
"""Clients (members of ROOMS rooms, the same number in each), messages per round, rounds."""
GROWTH_MB = 25 if FULL else 10
"""How much the gateway's RSS may grow from the second round to the last (last runs: 3.8 MB
at full size, 0.1 MB at the smaller one)."""


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_many_clients_lose_nothing_and_memory_levels_off(tmp_path: Path) -> None:
    port = free_port()
    process = start_dev(port, tmp_path / "load", "--quiet")
    base = f"http://127.0.0.1:{port}"
    memory = []
    try:
        wait_healthy(base, process)
        config = httpx.get(f"{base}/config.json").json()
        tokens = None  # the same users every round, in new rooms
        for _ in range(ROUNDS):
            result = asyncio.run(load(base, CLIENTS, ROOMS, MESSAGES, tokens))
            tokens = result["tokens"]
            assert result["messages"] == MESSAGES
            assert result["lost"] == 0
            assert result["duplicated"] == 0
            assert result["deliveries"] == MESSAGES * (CLIENTS // ROOMS)
            # History holds every message exactly once.
            by_room: dict[str, set[str]] = {}
            for message_id, room in result["sent"].items():
                by_room.setdefault(room, set()).add(message_id)
            token = result["tokens"][0]
            with httpx.Client(base_url=config["httpUrl"], timeout=30) as http:
                for room, ids in by_room.items():
                    reply = http.get(
                        f"/rooms/{room}/messages",
                        params={"limit": 100},
                        headers={"authorization": f"Bearer {token}"},
                    )
                    stored = Counter(m["id"] for m in reply.json()["messages"])
                    assert set(stored) == ids
                    assert max(stored.values()) == 1
            live = httpx.get(f"{base}/_local/connections", timeout=30).json()["connections"]
            assert live == [], "every socket closed was forgotten by the gateway"
            memory.append(rss_kb(process.pid))
    finally:
        assert stop(process) == 0
    # The first round warms caches and pools; later rounds must not keep adding to them.
    growth_mb = (memory[-1] - memory[1]) / 1024
    print(f"\ngateway RSS per round (MB): {[round(m / 1024, 1) for m in memory]}")
    assert growth_mb < GROWTH_MB, (
        f"gateway memory grew {growth_mb:.1f} MB between rounds 2 and {ROUNDS}"
    )
