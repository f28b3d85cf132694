"""P10 search (issue 18): write units per indexed message, and query latency and read units of
the per-room inverted index against the naive search, on DynamoDB Local in one run.

Indexing: the search indexer's work for one posted message (service/search.py on the real
DynamoSearchIndex), its units as DynamoDB Local reports them (ReturnConsumedCapacity on every
call) and as AWS bills them from the items' sizes (1 WRU per started KB per item; every
posting is keys only, far under 1 KB).

Queries (a first page of PAGE results, following the cursor where a request stops at its
bounds, as a client does): a room of N messages from a Zipf-like vocabulary, each indexed; 1, 2 and 3 term
queries through the real Search use case (each term's posting list, intersected; each message
in all of them read from the message store), against a Query of the room's history with FilterExpression contains() for
each term, paging until a page of results or the end (it reads every message of the room when
the words are rare). Both must find the same messages (the run fails otherwise).
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from bench import engines
from bench.p9_room_writes import TABLE, make_room, service
from bench.table import Table, met
from bench.write_units import Meter, item_bytes
from dynamotalk.adapters.dynamodb.search import DynamoSearchIndex
from dynamotalk.adapters.dynamodb.table import Table as DynamoTable
from dynamotalk.domain import search as s
from dynamotalk.domain.events import MessagePosted
from dynamotalk.domain.ids import UlidGenerator
from dynamotalk.domain.models import Message, Principal
from dynamotalk.local.provision import client, ensure_table
from dynamotalk.search_function import SEARCH_INDEXER_BATCH_SIZE
from dynamotalk.service.search import Search, SearchIndexer
from dynamotalk.tables import keys as k
from dynamotalk.tables.items import message_item

ROOM = "p10-room"
UNITS_ROOM = "p10-units"
ALICE = Principal("u-p10-a", "alice")
SHORT = "ok, deploying now"
TYPICAL = "a typical chat line, about eighty characters long, with a little punctuation in it!"
LONG = " ".join(f"word{n} detail{n % 7}" for n in range(200))  # a pasted log: capped terms
VOCABULARY = [f"w{n:03d}" for n in range(400)]
QUERIES = {1: "w150", 2: "w003 w090", 3: "w001 w002 w040"}
"""1 term: a rare word; 2 and 3 terms: common words with a rarer one (every term must match)."""
PAGE = 20


def _text(rng: random.Random) -> str:
    """Eight words, Zipf-like: w000 is in most messages, w399 in very few."""
    return " ".join(VOCABULARY[min(int(rng.paretovariate(0.9)) - 1, 399)] for _ in range(8))


def index_units(endpoint: str) -> dict[str, tuple[int, float, float, float]]:
    """Per message kind: (terms, WRU reported, WRU from item sizes, RRU reported)."""
    dynamodb = client("dynamodb", endpoint)
    meter = Meter(client("dynamodb", endpoint), TABLE)
    meter.watch(dynamodb)
    indexer = SearchIndexer(DynamoSearchIndex(dynamodb, TABLE))
    plain = DynamoTable(client("dynamodb", endpoint), TABLE)
    ids = UlidGenerator()
    found = {}
    for name, text in (("short", SHORT), ("typical", TYPICAL), ("long", LONG)):
        message = Message(ids.new_id(1_800_000_000_000), UNITS_ROOM, ALICE.user_id, text, 1, name)
        meter.take()
        indexer.apply(MessagePosted(message, 1))
        *_, writes, reads, _ = meter.take()
        terms = s.terms_of(text)
        doc = plain.get(k.search_doc_pk(UNITS_ROOM), message.message_id) or {}
        sizes = [_posting_bytes(UNITS_ROOM, t, message.message_id) for t in terms]
        billed = sum(-(-size // 1024) for size in [*sizes, _doc_bytes(doc)])
        found[name] = (len(terms), writes, float(billed), reads)
    return found


def _posting_bytes(room_id: str, term: str, message_id: str) -> int:
    return item_bytes({"PK": {"S": k.search_pk(room_id, term)}, "SK": {"S": message_id}})


def _doc_bytes(doc: dict[str, Any]) -> int:
    terms = [{"S": t} for t in doc.get("terms", [])]
    return item_bytes(
        {"PK": {"S": str(doc.get("PK"))}, "SK": {"S": str(doc.get("SK"))}, "terms": {"L": terms}}
    )


def fill_room(endpoint: str, size: int) -> None:
    """`size` messages in one room (written directly, 25 at a time) and indexed."""
    dynamodb = client("dynamodb", endpoint)
    table = DynamoTable(dynamodb, TABLE)
    indexer = SearchIndexer(DynamoSearchIndex(dynamodb, TABLE))
    rng, ids, now = random.Random(10), UlidGenerator(), 1_800_000_000_000
    messages = [
        Message(ids.new_id(now + n), ROOM, ALICE.user_id, _text(rng), now + n, f"p10-{n}")
        for n in range(size)
    ]
    table.batch_write([DynamoTable.put_request(message_item(m)) for m in messages])
    for message in messages:
        indexer.apply(MessagePosted(message, 1))


def naive(dynamodb: Any, q: str) -> tuple[list[str], float]:
    """A page of matches by reading the room's history with contains() filters: (ids, RRU)."""
    query = s.parse_query(q)
    names = {f":w{i}": {"S": t} for i, t in enumerate(query.terms)}
    found: list[str] = []
    units = 0.0
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :msg)",
        "FilterExpression": " AND ".join(f"contains(#t, {n})" for n in names),
        "ExpressionAttributeNames": {"#t": "text"},
        "ExpressionAttributeValues": {
            ":pk": {"S": k.room_pk(ROOM)},
            ":msg": {"S": "MSG#"},
            **names,
        },
        "ScanIndexForward": False,
        "ReturnConsumedCapacity": "TOTAL",
    }
    while len(found) < PAGE:
        reply = dynamodb.query(**request)
        units += float(reply["ConsumedCapacity"]["CapacityUnits"])
        for item in reply["Items"]:
            if s.matches(item["text"]["S"], query) and len(found) < PAGE:
                found.append(item["SK"]["S"].removeprefix(k.MSG_PREFIX))
        if "LastEvaluatedKey" not in reply:
            break
        request["ExclusiveStartKey"] = reply["LastEvaluatedKey"]
    return found, units


OCU_HOUR = 0.24
"""OpenSearch Serverless, US East (N. Virginia), per OCU-hour (aws.amazon.com/opensearch-service/
pricing, as of cost_model.PRICES_AS_OF); managed storage $0.024/GB-month on top."""
OCU_FLOOR = {"redundant (production)": 2.0, "no redundancy (dev/test)": 1.0}
"""The fewest OCUs a collection scales down to (indexing + search), per AWS's "Managing capacity
limits for Amazon OpenSearch Serverless": 0.5 x 2 each with redundancy, 0.5 each without."""
HOURS_PER_MONTH = 730
INDEX_MS = 15.0
"""The indexer's time per change (a GetItem and a batch write or two), order of magnitude."""
QUERY_MS = 60.0
"""An http_api invocation answering /search (posting Queries and the messages' GetItems)."""
HTTP_REQUEST = 1.00 / 1e6
"""API Gateway HTTP API, per request (first 300 million a month)."""


def search_costs(index_wru: float, query_rru: float) -> dict[str, float]:
    """USD per million indexed messages and per million queries, and OpenSearch Serverless's
    monthly floor; from bench/cost_model.py's prices."""
    from bench.cost_model import LAMBDA_GB_SECOND, LAMBDA_REQUEST, MEMORY_GB, RRU, WRU

    def invocation(ms: float, batch: int = 1) -> float:
        return LAMBDA_REQUEST / batch + ms / 1000 * MEMORY_GB * LAMBDA_GB_SECOND

    per_index = index_wru * WRU + 1 * RRU + invocation(INDEX_MS, SEARCH_INDEXER_BATCH_SIZE)
    per_query = query_rru * RRU + invocation(QUERY_MS) + HTTP_REQUEST
    floors = {name: ocus * OCU_HOUR * HOURS_PER_MONTH for name, ocus in OCU_FLOOR.items()}
    return {
        "index_per_million": per_index * 1e6,
        "query_per_million": per_query * 1e6,
        **{f"opensearch_floor_{name}": cost for name, cost in floors.items()},
    }


def cost_note(index_wru: float, query_rru: float) -> str:
    """One line for the cost model: search's price beside OpenSearch Serverless's floor."""
    c = search_costs(index_wru, query_rru)
    floor, dev = (c[f"opensearch_floor_{n}"] for n in OCU_FLOOR)
    return (
        f"search (P10): indexing ${c['index_per_million']:.2f} per million messages "
        f"({index_wru:g} WRU each), ${c['query_per_million']:.2f} per million queries "
        f"({query_rru:g} RRU each); OpenSearch Serverless idles at ${floor:,.0f}/month "
        f"(${dev:,.0f} without redundancy) before its first query"
    )


def first_page(search: Search, q: str) -> list[str]:
    """The first PAGE results as a client gets them: a request may stop at its bounds with a
    short page and a cursor, so follow it until the page is full or nothing is left."""
    found: list[str] = []
    cursor = None
    while len(found) < PAGE:
        page = search.search(ALICE, q, ROOM, cursor, PAGE - len(found))
        found += [m.message_id for m in page.results]
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(quick: bool) -> Table:
    size, repeats = (300, 3) if quick else (5000, 30)
    table = Table(
        f"P10 search: WRU per indexed message; query latency over a room of {size:,} messages "
        "(DynamoDB Local), per-room index vs naive contains() Query",
        ["case", "terms", "WRU (local)", "WRU (AWS, sizes)", "RRU", "p50 ms", "p95 ms",
         "naive RRU", "naive p50 ms", "naive p95 ms", "target", "met"],
    )  # fmt: skip
    ddb = engines.start(quick)
    try:
        dynamodb = client("dynamodb", ddb.endpoint)
        ensure_table(dynamodb, TABLE)
        units = index_units(ddb.endpoint)
        fill_room(ddb.endpoint, size)
        chat = service(dynamodb)
        make_room(chat, ROOM, [ALICE])
        meter = Meter(client("dynamodb", ddb.endpoint), TABLE)
        metered = client("dynamodb", ddb.endpoint)
        meter.watch(metered)
        search = Search(service(metered), DynamoSearchIndex(metered, TABLE))
        for name, (terms, wru, billed, rru) in units.items():
            table.add(f"index {name}", terms, wru, billed, rru, "-", "-", "-", "-", "-",
                      f"<= {s.SEARCH_MAX_TERMS_PER_MESSAGE + 1} WRU",
                      met(billed <= s.SEARCH_MAX_TERMS_PER_MESSAGE + 1))  # fmt: skip
        agree = True
        for count, q in QUERIES.items():
            ours, theirs, rru, naive_rru = [], [], 0.0, 0.0
            for _ in range(repeats):
                meter.take()
                started = time.perf_counter()
                results = first_page(search, q)
                ours.append((time.perf_counter() - started) * 1000)
                rru = meter.take()[3]
                started = time.perf_counter()
                expected, naive_rru = naive(dynamodb, q)
                theirs.append((time.perf_counter() - started) * 1000)
                agree = agree and results == expected
            p95, naive_p95 = _p(ours, 0.95), _p(theirs, 0.95)
            table.add(f"query {count} term{'s' if count > 1 else ''}", count, "-", "-", rru,
                      statistics.median(ours), p95, naive_rru, statistics.median(theirs),
                      naive_p95, "RRU and p95 < naive's",
                      met(rru < naive_rru and p95 < naive_p95))  # fmt: skip
    finally:
        engines.release(ddb)
    table.ok = agree
    table.notes += [
        "index: one posting (keys only, < 100 B: 1 WRU) per distinct word, plus the message's "
        "word record (1 WRU); the consistent GetItem of that record is the RRU. An edit writes "
        "only the words that changed (+ the record); a delete removes them all",
        "query RRU: each term's posting list (eventually consistent Queries, windows of "
        f"{s.SEARCH_WINDOW}); once a word's list has ended, its ids checked in the others' "
        "(BatchGetItem of posting keys) instead; one GetItem per message in every list (the "
        "message store's consistent read), the room and membership, and the caller's blocks",
        f"both searches returned the same messages: {'yes' if agree else 'NO'}"
        + ("; quick run: sizes too small for latency to mean much" if quick else ""),
    ]
    query_rru = max(float(r[4]) for r in table.rows if str(r[0]).startswith("query"))
    table.notes.append(cost_note(units["typical"][2], query_rru))
    table.extra = {"typical_wru": units["typical"][2], "query_rru": query_rru}
    return table
