"""P1 fan-out: one message to N connections through the real Notifier, on both transports.

The management API is a loopback server (own process) answering each PostToConnection after
20 ms, 410 Gone for 10% of ids. In the same run: the naive sequential loop (one botocore
post_to_connection after the other, as most samples do), the notifier's pool of C posts at once
on the botocore client (the way before issue 16) and on the lean path (botocore's credentials
and SigV4Auth, our own keep-alive connections: adapters/management_http.py), and the ideal
ceil(N / C) x 20 ms. CPU is this process's (every thread's) per post; the server's CPU per post
and the most posts it held at once show that it is not what limits the figures. The full run
also tries other pool sizes at N = 1,000 (domain/limits.FANOUT_POOL is what the fan-out uses).
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

import attrs
import boto3
import httpx

from bench import fake_management_api
from bench.table import Table, met
from dynamotalk.adapters.apigateway import (
    ApiGatewayNotifier,
    build_management_client,
    management_poster,
)
from dynamotalk.domain.events import Typing
from dynamotalk.domain.limits import FANOUT_POOL
from dynamotalk.domain.models import SendReport
from dynamotalk.settings import ManagementTransport
from dynamotalk.wire import encode_event

DELAY = 0.020
POOL = 32
"""C of the main rows (the issue's figures were taken at it)."""
SWEEP = sorted({16, POOL, FANOUT_POOL, 2 * FANOUT_POOL})
"""Pool sizes tried at N = TARGET_N in the full run."""
TARGET_N = 1000
SPEED_UP_TARGET = 25.0
IDEAL_TARGET = 1.5
TRANSPORTS: tuple[ManagementTransport, ...] = ("botocore", "lean")
EVENT = Typing("room-bench", "u-bench", "bench")


@attrs.frozen
class Run:
    ms: float
    cpu_us: float
    """This process's CPU per post."""
    server_us: float
    in_flight: int
    correct: bool
    report: SendReport


def run(quick: bool) -> Table:
    sizes = [100] if quick else [100, TARGET_N, 5000]
    server, endpoint = fake_management_api.start(DELAY)
    table = Table(
        f"P1 fan-out: one message to N connections (20 ms per post, 10% gone); "
        f"target at N={TARGET_N:,}: >= {SPEED_UP_TARGET:g}x sequential and "
        f"<= {IDEAL_TARGET:g}x ideal",
        [
            "N",
            "variant",
            "C",
            "ms",
            "ideal ms",
            "vs ideal",
            "speed-up",
            "CPU µs/post",
            "server µs/post",
            "in flight",
            "ok",
            f"met (N={TARGET_N:,})",
        ],
    )
    try:
        session = boto3.session.Session()
        senders = {(t, POOL): sender(endpoint, session, t, POOL) for t in TRANSPORTS}
        sequential_client = build_management_client(endpoint, "us-east-1", 1, session)
        per_post_ms = 0.0
        for n in sizes:
            ids = [f"conn-{i}" for i in range(n)]
            if n <= TARGET_N:  # linear by construction: bigger N is scaled from this
                per_post_ms = sequential(endpoint, sequential_client, ids)
            sequential_ms = per_post_ms * n
            scaled = "" if n <= TARGET_N else " (scaled)"
            table.add(n, "sequential (botocore)", 1, f"{sequential_ms:,.0f}{scaled}", *[""] * 8)
            for (transport, pool), fan_out in senders.items():
                add_row(table, endpoint, fan_out, transport, pool, ids, sequential_ms)
        if not quick:
            ids = [f"conn-{i}" for i in range(TARGET_N)]
            for pool in (p for p in SWEEP if p != POOL):
                for transport in TRANSPORTS:
                    fan_out = sender(endpoint, session, transport, pool)
                    add_row(table, endpoint, fan_out, transport, pool, ids, per_post_ms * TARGET_N)
                    fan_out.close()
        table.notes += [
            "speed-up: sequential ms / ms; vs ideal: ms / (ceil(N/C) x 20 ms). CPU: this "
            "process's (all threads, time.process_time) per post; server: the loopback API's.",
            "'ok': every live connection got the message exactly once, every gone one was "
            "reported gone, none failed. 'in flight': the most posts the server held at once.",
            f"the fan-out's pool is domain/limits.FANOUT_POOL = {FANOUT_POOL}; "
            f"the main rows use C={POOL}.",
        ]
    finally:
        server.terminate()
        server.wait(5)
    return table


def sender(
    endpoint: str, session: Any, transport: ManagementTransport, pool: int
) -> ApiGatewayNotifier:
    """A notifier over `transport` with its pool's connections open (as a warm container's)."""
    client = build_management_client(endpoint, "us-east-1", pool, session)
    poster = management_poster(client, session.get_credentials(), transport)
    notifier = ApiGatewayNotifier(poster, encode_event, pool_size=pool)
    notifier.send([f"warm-{n}" for n in range(1, 4 * pool)], EVENT)
    return notifier


def add_row(
    table: Table,
    endpoint: str,
    notifier: ApiGatewayNotifier,
    transport: ManagementTransport,
    pool: int,
    ids: list[str],
    sequential_ms: float,
) -> None:
    n = len(ids)
    measured = fan_out(endpoint, notifier, ids)
    ideal_ms = math.ceil(n / pool) * DELAY * 1000
    speed_up, vs_ideal = sequential_ms / measured.ms, measured.ms / ideal_ms
    target = met(speed_up >= SPEED_UP_TARGET and vs_ideal <= IDEAL_TARGET) if n == TARGET_N else ""
    table.add(
        n,
        f"pool, {transport}",
        pool,
        measured.ms,
        ideal_ms,
        f"{vs_ideal:.2f}x",
        f"{speed_up:.1f}x",
        f"{measured.cpu_us:,.0f}",
        f"{measured.server_us:,.0f}",
        measured.in_flight,
        "yes" if measured.correct else "NO",
        target,
    )
    table.ok = table.ok and measured.correct


def fan_out(endpoint: str, notifier: ApiGatewayNotifier, ids: list[str]) -> Run:
    httpx.get(f"{endpoint}/_reset")
    server_before = httpx.get(f"{endpoint}/_stats").json()["cpu_s"]
    cpu, started = time.process_time(), time.perf_counter()
    report = notifier.send(ids, EVENT)
    ms = (time.perf_counter() - started) * 1000
    cpu = time.process_time() - cpu
    stats = httpx.get(f"{endpoint}/_stats").json()
    received = httpx.get(f"{endpoint}/_reset").json()
    live = [i for i in ids if not fake_management_api.is_gone(i)]
    exact = all(received.get(i) == 1 for i in live) and len(received) == len(live)
    correct = exact and report.gone == set(ids) - set(live) and not report.failed
    return Run(
        ms=ms,
        cpu_us=cpu / len(ids) * 1e6,
        server_us=(stats["cpu_s"] - server_before) / len(ids) * 1e6,
        in_flight=stats["max_in_flight"],
        correct=correct and report.delivered == len(live),
        report=report,
    )


def sequential(endpoint: str, client: Any, ids: list[str]) -> float:
    """The naive loop's ms per post: one post_to_connection after the other."""
    sample = ids[:TARGET_N]
    started = time.perf_counter()
    for connection_id in sample:
        with contextlib.suppress(client.exceptions.GoneException):
            client.post_to_connection(ConnectionId=connection_id, Data=b"{}")
    httpx.get(f"{endpoint}/_reset")
    return (time.perf_counter() - started) * 1000 / len(sample)
