"""P1 fan-out: one message to N connections through the real Notifier and boto3 client.

The management API is a loopback server (own process) answering each PostToConnection after
20 ms, 410 Gone for 10% of ids. Compared in the same run with the naive sequential loop
(one post_to_connection after the other, as most samples do) and with the ideal
ceil(N / C) x 20 ms for pool size C.
"""

from __future__ import annotations

import contextlib
import math
import time

import httpx

from bench import fake_management_api
from bench.table import Table
from dynamotalk.adapters.apigateway import ApiGatewayNotifier, build_management_client
from dynamotalk.domain.events import Typing
from dynamotalk.wire import encode_event

DELAY = 0.020
POOL = 32
EVENT = Typing("room-bench", "u-bench", "bench")


def run(quick: bool) -> Table:
    sizes = [100] if quick else [100, 1000, 5000]
    server, endpoint = fake_management_api.start(DELAY)
    table = Table(
        f"P1 fan-out: one message to N connections (20 ms per post, 10% gone, pool C={POOL})",
        [
            "N",
            "pool ms",
            "ideal ms",
            "vs ideal",
            "sequential ms",
            "speed-up",
            "delivered",
            "gone",
            "ok",
        ],
    )
    try:
        client = build_management_client(endpoint, "us-east-1", pool_size=POOL)
        notifier = ApiGatewayNotifier(client, encode_event, pool_size=POOL)
        notifier.send([f"warm-{n}" for n in range(1, POOL)], EVENT)  # open the pool's connections
        sequential_client = build_management_client(endpoint, "us-east-1", pool_size=1)
        for n in sizes:
            ids = [f"conn-{i}" for i in range(n)]
            httpx.get(f"{endpoint}/_reset")
            started = time.perf_counter()
            report = notifier.send(ids, EVENT)
            pool_ms = (time.perf_counter() - started) * 1000
            received = httpx.get(f"{endpoint}/_reset").json()
            live = [i for i in ids if int(i.rsplit("-", 1)[1]) % 10 != 0]
            exact = all(received.get(i) == 1 for i in live) and len(received) == len(live)
            correct = exact and len(report.gone) == n - len(live) and not report.failed
            # The naive loop: for big N time a sample and scale (it is linear by construction).
            sample = ids if n <= (100 if quick else 1000) else ids[:1000]
            started = time.perf_counter()
            for connection_id in sample:
                with contextlib.suppress(sequential_client.exceptions.GoneException):
                    sequential_client.post_to_connection(ConnectionId=connection_id, Data=b"{}")
            sequential_ms = (time.perf_counter() - started) * 1000 * n / len(sample)
            ideal_ms = math.ceil(n / POOL) * DELAY * 1000
            table.add(
                n,
                pool_ms,
                ideal_ms,
                f"{pool_ms / ideal_ms:.2f}x",
                f"{sequential_ms:,.0f}" + ("" if len(sample) == n else " (scaled)"),
                f"{sequential_ms / pool_ms:.1f}x",
                report.delivered,
                len(report.gone),
                "yes" if correct else "NO",
            )
            table.ok = table.ok and correct
        table.notes.append(
            "targets: >= 25x faster than sequential at N=1,000; within 1.5x of ideal. "
            "'ok': every live connection got the message exactly once, every gone one reported."
        )
    finally:
        server.terminate()
        server.wait(5)
    return table
