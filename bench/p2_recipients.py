"""P2 recipient lookup on DynamoDB Local: our Query versus the Scan most samples use.

Connections are spread over rooms of 100. For one message we need the room's live connections:
DynamoTalk Queries `ROOMCONN#{room}` (the real ConnectionRegistry.connections_in_room); the
naive design keeps one item per connection with a roomId attribute and Scans the table with a
filter. Both read units (ConsumedCapacity, as DynamoDB Local reports it) and wall time per
message are measured while the table grows 10x.
"""

from __future__ import annotations

import itertools
import statistics
import time
import uuid
from typing import Any

from bench import engines
from bench.table import Table, met
from dynamotalk.adapters.dynamodb import DynamoConnectionRegistry
from dynamotalk.domain.models import Connection, Subscription
from dynamotalk.local.provision import client, ensure_table
from dynamotalk.tables.codecs import dump

ROOM_SIZE = 100
TARGET_FEWER = 50
"""Query reads at least this many times fewer units than the Scan (issue 12's target)."""
FAR_FUTURE = 4_000_000_000
_tables = itertools.count()


class CapacityMeter:
    """Adds ReturnConsumedCapacity to Query/Scan calls and sums what DynamoDB reports."""

    def __init__(self, dynamodb: Any) -> None:
        self.units = 0.0
        events = dynamodb.meta.events
        for op in ("Query", "Scan"):
            events.register(f"provide-client-params.dynamodb.{op}", self._ask)
            events.register(f"after-call.dynamodb.{op}", self._count)

    def _ask(self, params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        self.units += float(parsed.get("ConsumedCapacity", {}).get("CapacityUnits", 0))


def fill(dynamodb: Any, table: str, naive_table: str, start: int, stop: int) -> None:
    """Write connections and their subscriptions with the registry's own item shapes, in
    batches (the adapter writes them one connection at a time; only the reads are measured)."""
    ours: list[dict[str, Any]] = []
    naive: list[dict[str, Any]] = []
    for n in range(start, stop):
        room, connection = f"room-{n // ROOM_SIZE}", f"Zx{n:010d}Aw="  # API Gateway-like id
        user = str(uuid.UUID(int=n))  # Cognito subs are UUIDs
        registry_items = [
            (Connection(connection, user, f"user{n}", 1_700_000_000_000, FAR_FUTURE), None),
            (None, Subscription(connection, room, user, FAR_FUTURE)),
        ]
        for connection_row, subscription in registry_items:
            ours += _rows(connection_row, subscription)
        # What samples store: one item per connection, its room and user on it.
        naive.append(
            {"connectionId": connection, "roomId": room, "userId": user, "username": f"user{n}",
             "connectedAt": 1_700_000_000_000, "ttl": FAR_FUTURE}
        )  # fmt: skip
    for name, items in ((table, ours), (naive_table, [dump(i) for i in naive])):
        for i in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[i : i + 25]]
            dynamodb.batch_write_item(RequestItems={name: batch})


def _rows(connection: Connection | None, subscription: Subscription | None) -> list[dict[str, Any]]:
    """The items DynamoConnectionRegistry writes, captured from the adapter itself."""
    captured: list[dict[str, Any]] = []

    class Capture:
        def put_item(self, **kwargs: Any) -> None:
            captured.append(kwargs["Item"])

        def batch_write_item(self, **kwargs: Any) -> dict[str, Any]:
            for request in next(iter(kwargs["RequestItems"].values())):
                captured.append(request["PutRequest"]["Item"])
            return {}

    registry = DynamoConnectionRegistry(Capture(), "capture")  # type: ignore[arg-type]
    if connection is not None:
        registry.register(connection)
    if subscription is not None:
        registry.subscribe(subscription)
    return captured


def naive_recipients(dynamodb: Any, table: str, room: str) -> list[str]:
    found: list[str] = []
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "roomId = :room",
        "ExpressionAttributeValues": {":room": {"S": room}},
    }
    while True:
        page = dynamodb.scan(**request)  # the naive design: this is what we measure against
        found += [item["connectionId"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def measure(
    dynamodb: Any,
    meter: CapacityMeter,
    registry: DynamoConnectionRegistry,
    naive_table: str,
    rooms: int,
    samples: int,
) -> dict[str, float]:
    ours_units, ours_ms, naive_units, naive_ms = [], [], [], []
    ok = True
    for i in range(samples):
        room = f"room-{(i * 7) % rooms}"
        meter.units = 0
        started = time.perf_counter()
        subs = registry.connections_in_room(room, 0)
        ours_ms.append((time.perf_counter() - started) * 1000)
        ours_units.append(meter.units)
        meter.units = 0
        started = time.perf_counter()
        naive = naive_recipients(dynamodb, naive_table, room)
        naive_ms.append((time.perf_counter() - started) * 1000)
        naive_units.append(meter.units)
        ok = (
            ok and len(subs) == ROOM_SIZE and sorted(s.connection_id for s in subs) == sorted(naive)
        )
    return {
        "ours_units": statistics.mean(ours_units),
        "ours_ms": statistics.median(ours_ms),
        "naive_units": statistics.mean(naive_units),
        "naive_ms": statistics.median(naive_ms),
        "ok": float(ok),
    }


def run(quick: bool) -> Table:
    sizes = [500, 1_500] if quick else [10_000, 100_000]  # quick: the same answer, 3x growth
    table = Table(
        "P2 recipients of one message (rooms of 100) on DynamoDB Local: Query vs Scan",
        [
            "connections",
            "Query RRU",
            "Scan RRU",
            "fewer units",
            "Query ms",
            "Scan ms",
            "faster",
            "same answer",
            f"met (>= {TARGET_FEWER}x fewer RRU)",
        ],
    )
    ddb = engines.start(quick)
    try:
        dynamodb = client("dynamodb", ddb.endpoint)
        name, naive_table = f"p2-{next(_tables)}", f"p2-naive-{next(_tables)}"
        ensure_table(dynamodb, name)
        dynamodb.create_table(
            TableName=naive_table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        )
        meter = CapacityMeter(dynamodb)
        registry = DynamoConnectionRegistry(dynamodb, name)
        filled = 0
        results = {}
        for size in sizes:
            fill(dynamodb, name, naive_table, filled, size)
            filled = size
            r = measure(
                dynamodb, meter, registry, naive_table, size // ROOM_SIZE, 5 if quick else 10
            )
            results[size] = r
            table.add(
                size,
                r["ours_units"],
                r["naive_units"],
                f"{r['naive_units'] / max(r['ours_units'], 1e-9):,.0f}x",
                r["ours_ms"],
                r["naive_ms"],
                f"{r['naive_ms'] / r['ours_ms']:,.0f}x",
                "yes" if r["ok"] else "NO",
                met(r["naive_units"] >= TARGET_FEWER * r["ours_units"]),
            )
            table.ok = table.ok and bool(r["ok"])
        small, big = results[sizes[0]], results[sizes[-1]]
        table.notes.append(
            f"Query cost as the table grew {sizes[-1] // sizes[0]}x: "
            f"{small['ours_units']:.1f} -> {big['ours_units']:.1f} RRU per message (flat); "
            f"Scan: {small['naive_units']:.0f} -> {big['naive_units']:.0f} RRU."
        )
        table.notes.append(
            f"targets: >= {TARGET_FEWER}x fewer read units at 10,000; flat as the table grows 10x"
        )
        table.extra = {"query_rru": big["ours_units"], "scan_rru": big["naive_units"]}
        # The per-user limiter's share of a message, on the same engine (the cost model).
        table.extra.update(limiter_units(dynamodb, name))
    finally:
        engines.release(ddb)
    return table


def limiter_units(dynamodb: Any, table: str) -> dict[str, float]:
    """Write and read units of the per-user limiter's one conditional UpdateItem per message,
    allowed and refused, as DynamoDB reports them (ReturnConsumedCapacity)."""
    from dynamotalk.adapters.dynamodb_limits import DynamoRateLimiter
    from dynamotalk.domain.user_limits import Action, UserLimits

    consumed: list[dict[str, Any]] = []

    def meter(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def record(parsed: dict[str, Any], **_: Any) -> None:
        consumed.append(parsed.get("ConsumedCapacity") or {})

    events = dynamodb.meta.events
    events.register("provide-client-params.dynamodb.UpdateItem", meter)
    events.register("after-call.dynamodb.UpdateItem", record)
    limiter = DynamoRateLimiter(dynamodb, table)
    charges = UserLimits(messages_burst=1).charges(Action.MESSAGE)
    now = 1_700_000_000_000
    try:
        allowed = limiter.take("cost-model", "message", charges, now)
        refused = limiter.take("cost-model", "message", charges, now)
    finally:
        events.unregister("provide-client-params.dynamodb.UpdateItem", meter)
        events.unregister("after-call.dynamodb.UpdateItem", record)
    assert allowed is None
    assert refused is not None
    return {
        "limiter_calls": float(len(consumed)),
        "limiter_wru_allowed": float(consumed[0].get("CapacityUnits", 0)),
        "limiter_wru_refused": float(consumed[1].get("CapacityUnits", 0)),
    }
