"""Write and read units of one room change on DynamoDB Local, as DynamoDB reports them
(ReturnConsumedCapacity=INDEXES on every call of the real ChatService and adapters).

A post is claim + message + change item in one transaction (2 WRU each for items <= 1 KB:
target <= 6 WRU), then the sender's read marker. An edit and a reaction are the message's
compare-and-set update and their change item, in one transaction. Units are per request, so
the numbers include the reads each use case makes first (room, membership, the feed's head).
The cost model (cost_model.py) prices these.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import attrs

from bench import engines
from bench.p9_room_writes import POST_WRU as TARGET_POST_WRU
from bench.p9_room_writes import TABLE, make_room, service
from bench.table import Table, met
from dynamotalk.domain.models import Principal
from dynamotalk.local.provision import client, ensure_table

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
READS = ("GetItem", "Query", "BatchGetItem", "TransactGetItems")
TEXT = "a typical chat line, about eighty characters long, with a little punctuation in it!"


def value_bytes(value: dict[str, Any]) -> int:
    """An attribute value's size as DynamoDB counts it (the developer guide's "Item sizes")."""
    ((kind, inner),) = value.items()
    if kind in ("S", "B"):
        return len(inner.encode() if isinstance(inner, str) else inner)
    if kind == "N":
        return (len(inner.lstrip("-").replace(".", "").strip("0")) + 1) // 2 + 1
    if kind in ("SS", "BS"):
        return sum(len(x.encode() if isinstance(x, str) else x) for x in inner)
    if kind == "NS":
        return sum(value_bytes({"N": x}) for x in inner)
    if kind == "L":
        return 3 + sum(1 + value_bytes(x) for x in inner)
    if kind == "M":
        return 3 + sum(1 + len(n.encode()) + value_bytes(x) for n, x in inner.items())
    return 1  # BOOL, NULL


def item_bytes(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_bytes(value) for name, value in item.items())


@attrs.define
class Meter:
    """Asks every DynamoDB call for its consumed capacity and sums it by operation.

    DynamoDB Local reports 2 units for a whole transaction, whatever its items; AWS bills 2 WRU
    per item and started KB (the larger of its size before and after). So each transaction's
    items are kept and priced from their sizes as they are once written (read back unmetered)."""

    plain: Any
    """A client without the hooks, to read the written items back."""
    table: str
    units: dict[str, float] = attrs.Factory(lambda: defaultdict(float))
    items: list[int] = attrs.Factory(list)
    """Sizes in bytes of the transaction items written since the last take."""
    _pending: list[dict[str, Any]] = attrs.Factory(list)

    def watch(self, dynamodb: Any) -> None:
        events = dynamodb.meta.events
        for op in WRITES + READS:
            events.register(f"provide-client-params.dynamodb.{op}", self._ask)
            events.register(f"after-call.dynamodb.{op}", self._count)

    def _ask(self, params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "INDEXES")
        self._pending = list(params.get("TransactItems", []))

    def _count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity") or []
        for each in consumed if isinstance(consumed, list) else [consumed]:
            self.units[model.name] += float(each.get("CapacityUnits", 0))
        if model.name == "TransactWriteItems" and "Error" not in parsed:
            for entry in self._pending:
                (request,) = entry.values()
                key = request.get("Key") or {n: request["Item"][n] for n in ("PK", "SK")}
                written = self.plain.get_item(TableName=self.table, Key=key).get("Item", {})
                self.items.append(max(item_bytes(request.get("Item", {})), item_bytes(written)))

    def take(self) -> tuple[float, float, float, float, int]:
        """Since the last take: (transaction WRU reported locally, transaction WRU on AWS from
        its items' sizes, other WRU, RRU, the largest transaction item in bytes)."""
        local = self.units.pop("TransactWriteItems", 0.0)
        aws = float(sum(2 * -(-size // 1024) for size in self.items))
        writes = sum(v for k, v in self.units.items() if k in WRITES)
        reads = sum(v for k, v in self.units.items() if k in READS)
        largest = max(self.items, default=0)
        self.units.clear()
        self.items.clear()
        return local, aws, writes, reads, largest


def measure(endpoint: str) -> dict[str, tuple[float, float, float, float, int]]:
    dynamodb = client("dynamodb", endpoint)
    meter = Meter(client("dynamodb", endpoint), TABLE)
    meter.watch(dynamodb)
    chat = service(dynamodb)
    alice, bob = Principal("u-wru-a", "alice"), Principal("u-wru-b", "bob")
    make_room(chat, "wru-room", [alice, bob])
    chat.post_message(alice, "wru-room", "warm-up", client_id="wru-0")
    meter.take()
    posted = chat.post_message(alice, "wru-room", TEXT, client_id="wru-1")
    post = meter.take()
    chat.edit_message(alice, "wru-room", posted.message_id, TEXT + " (edited)")
    edit = meter.take()
    chat.react(bob, "wru-room", posted.message_id, "\N{THUMBS UP SIGN}")
    reaction = meter.take()
    return {"post": post, "edit": edit, "reaction": reaction}


def run(quick: bool) -> Table:
    table = Table(
        "Units of one room change on DynamoDB Local (ReturnConsumedCapacity)",
        [
            "change",
            "txn WRU (local)",
            "txn WRU (AWS)",
            "largest item B",
            "other WRU",
            "RRU (its reads)",
            "target",
            "met",
        ],
    )
    ddb = engines.start(quick)
    try:
        ensure_table(client("dynamodb", ddb.endpoint), TABLE)
        units = measure(ddb.endpoint)
    finally:
        engines.release(ddb)
    for change, (local, aws, writes, reads, largest) in units.items():
        target = f"<= {TARGET_POST_WRU} WRU" if change == "post" else "-"
        achieved = met(0 < aws <= TARGET_POST_WRU) if change == "post" else "-"
        table.add(change, local, aws, largest, writes, reads, target, achieved)
    table.ok = 0 < units["post"][1] <= TARGET_POST_WRU
    table.notes.append(
        "post: claim + message + change item in one transaction, then the read marker (other "
        "WRU: the membership item, 1 + 1 for its GSI1 copy); edit and reaction: the message's "
        "update + change item. The per-user limiter's 1 WRU is P2's. DynamoDB Local reports 2 "
        "units per transaction; the AWS column prices each item: 2 WRU per started KB"
    )
    names = ("txn_local", "txn_wru", "other_wru", "rru", "largest")
    table.extra = {f"{change}_{what}": float(value) for change, row in units.items()
                   for what, value in zip(names, row, strict=True)}  # fmt: skip
    return table
