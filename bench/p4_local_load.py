"""P4 local load: the real local stack under many WebSocket clients.

100 clients in 10 rooms (10 per room) send 2,000 messages in total, each client waiting for its
ack before the next send (like a person). Every client receives every message of its room.
Reported: deliveries per second, send-to-receive latency p50/p99, lost and duplicated
deliveries (both must be 0, or the benchmark fails), for DynamoDB Local and, in the same run,
for the in-memory adapters so the storage's share of the cost is visible.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from botocore import UNSIGNED
from botocore.config import Config
from websockets.asyncio.client import connect

from bench.table import Table
from dynamotalk.local.emulators import free_port
from tests.support.dev_stack import start_dev, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"  # noqa: S105 - loopback test users only


def start_stack(*extra: str) -> tuple[subprocess.Popen[str], str]:
    """`dynamotalk dev` on a free port, the same way the end-to-end tests start it."""
    port = free_port()
    process = start_dev(port, Path(tempfile.mkdtemp(prefix="p4-")), "--quiet", *extra)
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, process)
    return process, base


def cognito_client(base: str) -> Any:
    """A client of the stack's Cognito front door; one serves every thread (boto3 clients are
    thread-safe, creating them is not, and costs more than a sign-up)."""
    import boto3

    return boto3.client(
        "cognito-idp", endpoint_url=f"{base}/cognito", region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, max_pool_connections=32),
    )  # fmt: skip


def sign_up(base: str, config: dict[str, str], name: str, cognito: Any = None) -> str:
    cognito = cognito or cognito_client(base)
    cognito.sign_up(
        ClientId=config["userPoolClientId"], Username=name, Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
    )  # fmt: skip
    tokens = cognito.initiate_auth(
        ClientId=config["userPoolClientId"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
    )  # fmt: skip
    token: str = tokens["AuthenticationResult"]["IdToken"]
    return token


async def load(
    base: str, clients: int, rooms: int, messages: int, tokens: list[str] | None = None
) -> dict[str, Any]:
    """One round; `tokens` of an earlier round's users are reused (new rooms every round)."""
    config = httpx.get(f"{base}/config.json").json()
    tag = uuid.uuid4().hex[:6]
    if tokens is None:
        cognito = cognito_client(base)
        tokens = await asyncio.gather(
            *(
                asyncio.to_thread(sign_up, base, config, f"p4{tag}u{n}", cognito)
                for n in range(clients)
            )
        )
    async with httpx.AsyncClient(base_url=config["httpUrl"], timeout=30) as http:

        def auth(token: str) -> dict[str, str]:
            return {"authorization": f"Bearer {token}"}

        room_ids = []
        for r in range(rooms):
            reply = await http.post(
                "/rooms", json={"name": f"p4 {tag} {r}"}, headers=auth(tokens[r])
            )
            room_ids.append(reply.json()["room"]["roomId"])
        room_of = [room_ids[n % rooms] for n in range(clients)]
        await asyncio.gather(
            *(
                http.post(f"/rooms/{room_of[n]}/join", headers=auth(tokens[n]))
                for n in range(clients)
            )
        )
    sockets = [await connect(f"{config['wsUrl']}?token={t}", max_size=2**20) for t in tokens]
    deliveries: Counter[tuple[str, int]] = Counter()
    latencies: list[float] = []
    acked: dict[str, asyncio.Future[str]] = {}
    sent_ids: dict[str, str] = {}
    """message id -> room id, from each send's ack."""

    async def reader(n: int) -> None:
        async for raw in sockets[n]:
            frame = json.loads(raw)
            if frame["type"] == "ack" and frame.get("requestId") in acked:
                acked.pop(frame["requestId"]).set_result(frame.get("message", {}).get("id", ""))
            elif frame["type"] == "message.posted":
                message = frame["message"]
                deliveries[(message["id"], n)] += 1
                sent_at = json.loads(message["text"])["t"]
                latencies.append((time.perf_counter() - sent_at) * 1000)

    readers = [asyncio.create_task(reader(n)) for n in range(clients)]

    async def call(n: int, frame: dict[str, Any]) -> str:
        request_id = uuid.uuid4().hex
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        acked[request_id] = future
        await sockets[n].send(json.dumps({**frame, "requestId": request_id}))
        return await asyncio.wait_for(future, 60)

    await asyncio.gather(
        *(call(n, {"action": "subscribe", "roomIds": [room_of[n]]}) for n in range(clients))
    )
    per_client = messages // clients

    async def sender(n: int) -> None:
        for k in range(per_client):
            text = json.dumps({"t": time.perf_counter(), "k": k})
            frame = {
                "action": "sendMessage",
                "roomId": room_of[n],
                "text": text,
                "clientId": f"{n}-{k}",
            }
            sent_ids[await call(n, frame)] = room_of[n]

    started = time.perf_counter()
    await asyncio.gather(*(sender(n) for n in range(clients)))
    expected = len(sent_ids) * (clients // rooms)
    deadline = time.monotonic() + 30
    while (
        sum(1 for key in deliveries if key[0] in sent_ids) < expected
        and time.monotonic() < deadline
    ):
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    for task in readers:
        task.cancel()
    for s in sockets:
        await s.close()
    members = {room: [n for n in range(clients) if room_of[n] == room] for room in room_ids}
    lost = sum(1 for m, room in sent_ids.items() for n in members[room] if deliveries[(m, n)] == 0)
    duplicated = sum(count - 1 for count in deliveries.values() if count > 1)
    latencies.sort()
    return {
        "messages": len(sent_ids),
        "deliveries": sum(deliveries.values()),
        "rate": sum(deliveries.values()) / elapsed,
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p99": latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0,
        "lost": lost,
        "duplicated": duplicated,
        "seconds": elapsed,
        "sent": sent_ids,
        "tokens": tokens,
    }


def run(quick: bool) -> Table:
    clients, rooms, messages = (10, 2, 60) if quick else (100, 10, 2000)
    table = Table(
        f"P4 local stack load: {clients} WebSocket clients, {rooms} rooms, {messages} messages",
        [
            "storage",
            "messages",
            "deliveries",
            "deliveries/s",
            "p50 ms",
            "p99 ms",
            "lost",
            "duplicated",
        ],
    )
    results = {}
    for label, extra in (("DynamoDB Local", ()), ("in-memory adapters", ("--in-memory",))):
        process, base = start_stack(*extra)
        try:
            results[label] = r = asyncio.run(load(base, clients, rooms, messages))
        finally:
            stop(process)
        table.add(
            label,
            r["messages"],
            r["deliveries"],
            r["rate"],
            r["p50"],
            r["p99"],
            r["lost"],
            r["duplicated"],
        )
        table.ok = (
            table.ok and r["lost"] == 0 and r["duplicated"] == 0 and r["messages"] == messages
        )
    storage = results["DynamoDB Local"]["p50"] - results["in-memory adapters"]["p50"]
    table.notes.append(
        f"storage's share of the median latency: {storage:.1f} ms "
        "(DynamoDB Local minus in-memory). Clients, gateway, handlers and DynamoDB Local share "
        "this machine's cores; in the cloud each Lambda invocation has its own."
    )
    return table
