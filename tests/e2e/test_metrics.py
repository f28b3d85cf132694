"""Business metrics through the real interface: a `dynamotalk dev` of this module's own (so its
totals move only with what these tests do), read back at GET /_local/metrics.

A post counts MessagesPosted once and Deliveries once per live socket in the room; a socket
lost without $disconnect is counted GoneConnections by the fan-out that finds it gone; slow mode
over WebSocket and a per-user limit over HTTP (429) each count RateLimited. The stack keeps the
EMF lines in memory: none reaches its console unless --print-metrics asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from dynamotalk.domain.user_limits import LIMIT_SETTINGS
from dynamotalk.local.emulators import free_port
from dynamotalk.metrics import Metric
from tests.e2e.client import User, eventually
from tests.support.dev_stack import start_dev, stop, wait_healthy

pytestmark = pytest.mark.timeout(180)

ROOMS_PER_HOUR = 2
ROOMS_ENV = next(s.env for s in LIMIT_SETTINGS if s.field == "rooms_per_hour")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("metrics-dev")
    port = free_port()
    process = start_dev(port, data, "--in-memory", env={ROOMS_ENV: str(ROOMS_PER_HOUR)})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, timeout=90)
        yield base, data
    finally:
        assert stop(process) == 0


def totals(base: str) -> dict[str, float]:
    reply = httpx.get(f"{base}/_local/metrics")
    assert reply.status_code == 200
    return {name: float(m["sum"]) for name, m in reply.json()["metrics"].items()}


def moved(base: str, before: dict[str, float]) -> Callable[[Metric], float]:
    now = totals(base)
    return lambda metric: now[metric.metric_name] - before[metric.metric_name]


def test_every_metric_is_listed_with_its_unit(stack: tuple[str, Path]) -> None:
    base, _ = stack
    listed = httpx.get(f"{base}/_local/metrics").json()["metrics"]
    assert {name: m["unit"] for name, m in listed.items()} == {
        m.metric_name: m.unit.value for m in Metric
    }


def test_a_post_counts_one_message_and_a_delivery_per_socket(stack: tuple[str, Path]) -> None:
    base, _ = stack
    alice, bob = User(base, "mpa"), User(base, "mpb")
    room_id = alice.room("metrics post")
    bob.post(f"/rooms/{room_id}/join")
    sockets = [alice.socket(), bob.socket()]
    for socket in sockets:
        assert socket.call({"action": "subscribe", "roomIds": [room_id]})["type"] == "ack"
    before = totals(base)
    message = sockets[0].post(room_id, "counted once", client_id="metrics-1")
    sockets[0].post(room_id, "a retry of it", client_id="metrics-1")  # stores nothing new
    eventually(
        lambda: all(
            any(f["message"]["id"] == message["id"] for f in s.events("message.posted"))
            for s in sockets
        ),
        what="both sockets got the post",
    )
    eventually(lambda: moved(base, before)(Metric.DELIVERIES) >= 2, what="deliveries counted")
    delta = moved(base, before)
    assert delta(Metric.MESSAGES_POSTED) == 1
    assert delta(Metric.DELIVERIES) == 2
    assert delta(Metric.DELIVERY_FAILURES) == 0
    fanout = httpx.get(f"{base}/_local/metrics").json()["metrics"]["FanoutMs"]
    assert fanout["values"] >= 1
    assert fanout["p99"] >= fanout["p50"] >= 0
    for socket in sockets:
        socket.close()


def test_a_socket_lost_without_disconnect_counts_a_gone_connection(
    stack: tuple[str, Path],
) -> None:
    base, _ = stack
    alice, bob = User(base, "mga"), User(base, "mgb")
    room_id = alice.room("metrics gone")
    bob.post(f"/rooms/{room_id}/join")
    live = set(httpx.get(f"{base}/_local/connections").json()["connections"])
    lost = bob.socket()
    assert lost.call({"action": "subscribe", "roomIds": [room_id]})["type"] == "ack"
    (lost_id,) = set(httpx.get(f"{base}/_local/connections").json()["connections"]) - live
    sender = alice.socket()
    assert httpx.post(f"{base}/_local/connections/{lost_id}/drop").status_code == 204
    before = totals(base)
    sender.post(room_id, "anyone?")  # the fan-out's post to bob's socket answers 410 Gone
    eventually(lambda: moved(base, before)(Metric.GONE_CONNECTIONS) == 1, what="gone counted")
    sender.close()


def test_throttled_requests_count_rate_limited_over_websocket_and_http(
    stack: tuple[str, Path],
) -> None:
    base, _ = stack
    owner, member = User(base, "mro"), User(base, "mrm")
    room_id = owner.room("metrics slow")
    member.post(f"/rooms/{room_id}/join")
    reply = owner.request("PATCH", f"/rooms/{room_id}", {"slowModeSeconds": 60})
    assert reply.status_code == 200, reply.text
    socket = member.socket()
    before = totals(base)
    socket.post(room_id, "first")
    refused = socket.call(
        {"action": "sendMessage", "roomId": room_id, "text": "second", "clientId": "slow-2"}
    )
    assert refused["error"]["code"] == "slow_mode"
    assert moved(base, before)(Metric.RATE_LIMITED) == 1
    # Over HTTP: one room too many in the hour (this stack's tight rooms limit) is a 429.
    statuses = [
        member.request("POST", "/rooms", {"name": f"r{n}", "kind": "public"}).status_code
        for n in range(ROOMS_PER_HOUR + 1)
    ]
    assert statuses == [201] * ROOMS_PER_HOUR + [429]
    assert moved(base, before)(Metric.RATE_LIMITED) == 2
    socket.close()


def test_the_bot_counts_each_answer_its_latency_and_each_apology(stack: tuple[str, Path]) -> None:
    base, _ = stack
    alice = User(base, "mba")
    room_id = alice.room("metrics bot")
    assert alice.post(f"/rooms/{room_id}/members", {"username": "bot"})["membership"]["userId"]
    socket = alice.socket()
    assert socket.call({"action": "subscribe", "roomIds": [room_id]})["type"] == "ack"

    def listed() -> dict[str, dict[str, float]]:
        return dict(httpx.get(f"{base}/_local/metrics").json()["metrics"])

    before = listed()
    for text in ("@bot hello", "@bot /fail once"):  # the local assistant fails on /fail
        asked = socket.post(room_id, text)
        socket.wait(
            lambda f, a=asked: (
                f["type"] == "message.posted" and f["message"]["clientId"] == f"bot-reply-{a['id']}"
            ),
            timeout=15,
        )
    eventually(
        lambda: listed()["BotFailures"]["values"] - before["BotFailures"]["values"] == 2,
        what="both jobs counted",
    )
    after = listed()
    assert after["BotFailures"]["sum"] - before["BotFailures"]["sum"] == 1, "one apology"
    assert after["BotLatencyMs"]["values"] - before["BotLatencyMs"]["values"] == 2
    assert after["MessagesPosted"]["sum"] - before["MessagesPosted"]["sum"] == 4, (
        "2 asks, 2 replies"
    )
    socket.close()


def test_the_console_gets_no_emf_lines_by_default(stack: tuple[str, Path]) -> None:
    _, data = stack
    log = (data / "dev.log").read_text()
    assert '"_aws"' not in log
    assert "Traceback" not in log
