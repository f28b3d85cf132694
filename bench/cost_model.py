"""Cost per million messages: DynamoDB + Lambda + SQS + API Gateway (+ EventBridge), Delivery
v2 (issue 15) against the in-invocation fan-out before it, from measured units: P2's read
units and the limiter's write, write_units' units of a post.

Prices are AWS's published on-demand list prices for us-east-1 (arm64 Lambda), as of the date
below; check https://aws.amazon.com/pricing before relying on them (the pages used are named in
docs/PERFORMANCE.md, "Delivery v2 (issue 15)").
"""

from __future__ import annotations

import math

from bench.table import RESULTS, Table
from dynamotalk.domain.limits import FANOUT_PAGE_SIZE, FANOUT_POOL
from dynamotalk.domain.search import terms_of

PRICES_AS_OF = "2026-11-27 (us-east-1 list prices)"
WRU = 0.625 / 1e6  # DynamoDB on-demand write request unit
RRU = 0.125 / 1e6  # DynamoDB on-demand read request unit
LAMBDA_REQUEST = 0.20 / 1e6
LAMBDA_GB_SECOND = 0.0000133334  # arm64
WS_MESSAGE = 1.00 / 1e6  # API Gateway WebSocket, per message (32 KB increments), first 1B
SQS_REQUEST = 0.40 / 1e6  # standard queue, per request and 64 KB chunk, after the free 1M
EVENT = 1.00 / 1e6  # EventBridge custom event published (64 KB chunks)
MEMORY_GB = 0.5
POOL = 32  # the sender's notifier before v2 (DEFAULT_POOL)
POST_MS = 20.0  # PostToConnection round trip, as in P1
BASE_MS = 25.0  # parse, checks, store: measured order of magnitude on the local stack
ENQUEUE_MS = 10.0  # one SendMessage of a page job
SQS_PER_PAGE = 3  # SendMessage, the ReceiveMessage that hands it to fanout_pages, DeleteMessage
QUERY_RRU_ESTIMATE = 25.0  # a /search page: postings + 20 consistent GetItems (P10 measures it)


def _lambda(duration_ms: float) -> float:
    return LAMBDA_REQUEST + duration_ms / 1000 * MEMORY_GB * LAMBDA_GB_SECOND


def per_message_v1(
    members: int, query_rru_per_100: float, limiter_wru: float = 0.0
) -> dict[str, float]:
    """Before v2: the sender's invocation stored and then posted to every member itself."""
    # Writes: message + client-id claim in one transaction (2 items x 2), the read marker,
    # and the per-user limiter's one conditional update (measured by P2 on DynamoDB Local).
    writes = 2 * 2 + 1 + limiter_wru
    # Reads: room, membership (consistent GetItems), recipients Query (eventually consistent).
    recipients_rru = max(0.5, query_rru_per_100 * members / 100)
    reads = 1 + 1 + recipients_rru
    lambda_cost = _lambda(BASE_MS + math.ceil(members / POOL) * POST_MS)
    # Inbound frame + ack (route response) + one delivery per member.
    ws_messages = 2 + members
    return {
        "dynamodb": writes * WRU + reads * RRU,
        "lambda": lambda_cost,
        "sqs": 0.0,
        "api": ws_messages * WS_MESSAGE,
        "recipients_rru": recipients_rru,
    }


def per_message(
    members: int, query_rru_per_100: float, post: dict[str, float], limiter_wru: float
) -> dict[str, float]:
    """Delivery v2: the sender's invocation stores (claim + message + change item, the read
    marker); the table's stream drives the `fanout` function, which delivers rooms of up to
    FANOUT_PAGE_SIZE itself and hands bigger ones to `fanout_pages` as SQS page jobs. Lambda's
    reads of the stream are free; events out cost one EventBridge event (priced apart)."""
    writes = post["txn_wru"] + post["other_wru"] + limiter_wru
    reads = post["rru"]  # room, membership (and the feed's head, unless the container knows it)
    recipients_rru = max(0.5, query_rru_per_100 * members / 100)
    sender = _lambda(BASE_MS)
    pages = math.ceil(members / FANOUT_PAGE_SIZE) if members > FANOUT_PAGE_SIZE else 0
    if pages:  # one invocation enqueues the pages; each page worker reads the change back
        fanout = _lambda(BASE_MS + pages * ENQUEUE_MS)
        fanout += pages * _lambda(BASE_MS + math.ceil(FANOUT_PAGE_SIZE / FANOUT_POOL) * POST_MS)
        page_rru = pages * 1.0  # a consistent GetItem of the change item
    else:
        fanout = _lambda(BASE_MS + math.ceil(members / FANOUT_POOL) * POST_MS)
        page_rru = 0.0
    return {
        "dynamodb": writes * WRU + (reads + recipients_rru + page_rru) * RRU,
        "lambda": sender + fanout,
        "sqs": pages * SQS_PER_PAGE * SQS_REQUEST,
        "api": (2 + members) * WS_MESSAGE,
        "events": EVENT,
        "recipients_rru": recipients_rru,
    }


PUSH_MS = 150.0
"""One Web Push request's round trip to a push service from Lambda: assumed, not measured (the
local emulator answers on loopback in ~1 ms, which says nothing of FCM or Apple)."""
PUSH_CRYPTO_MS = 3.0  # ECDH + HKDF + AES-GCM + one ES256 signature, cryptography on arm64
DATA_OUT_GB = 0.09  # EC2/Lambda data transfer out to the internet, first 10 TB/month
PUSH_BYTES = 1400  # the encrypted body (<= 4096) and the headers, with a 120-character preview


def per_push() -> dict[str, float]:
    """Web Push (issue 18), per push sent to one offline device, from service/push_sender.py's
    calls: the job (SendMessageBatch, ten jobs a call, then the mapping's Receive and Delete,
    counted one each: a bound), the message, its room and its author (3 GetItems, strongly
    consistent: 3 RRU), the recipient's membership and block (2 consistent GetItems), mute
    (eventually consistent GetItem, 0.5), live connections and subscriptions (two Queries of a
    few items, 0.5 each); the success recorded (UpdateItem, 1 WRU). Push services charge
    nothing (FCM, Mozilla autopush, Windows WNS, Apple)."""
    reads = 3 + 2 + 0.5 + 0.5 + 0.5
    return {
        "sqs": (0.1 + 1 + 1) * SQS_REQUEST,
        "lambda": _lambda(BASE_MS + PUSH_CRYPTO_MS + PUSH_MS),
        "dynamodb": reads * RRU + 1 * WRU,
        "data_out": PUSH_BYTES / 1e9 * DATA_OUT_GB,
    }


def run(quick: bool) -> Table:
    p2 = RESULTS.get("bench.p2_recipients")
    if p2 is None:
        from bench import p2_recipients

        p2 = p2_recipients.run(quick=True)
    units = RESULTS.get("bench.write_units")
    if units is None:
        from bench import write_units

        units = write_units.run(quick=True)
    query_rru = p2.extra["query_rru"]
    limiter_wru = p2.extra["limiter_wru_allowed"]
    post = {k[len("post_") :]: v for k, v in units.extra.items() if k.startswith("post_")}
    table = Table(
        "Cost per million messages (USD), Delivery v2: DynamoDB + Lambda + SQS + API Gateway",
        ["room size", "DynamoDB", "Lambda", "SQS", "API Gateway", "total",
         "+ EventBridge (events out on)", "before v2 (in-invocation)", "met (no target)"],
    )  # fmt: skip
    for members in (10, 1000, 10_000):
        ours = per_message(members, query_rru, post, limiter_wru)
        total = ours["dynamodb"] + ours["lambda"] + ours["sqs"] + ours["api"]
        old = per_message_v1(members, query_rru, limiter_wru)
        old_total = old["dynamodb"] + old["lambda"] + old["api"]
        table.add(
            members,
            ours["dynamodb"] * 1e6,
            ours["lambda"] * 1e6,
            ours["sqs"] * 1e6,
            ours["api"] * 1e6,
            total * 1e6,
            ours["events"] * 1e6,
            old_total * 1e6,
            "-",
        )
    post_wru = post["txn_wru"] + post["other_wru"] + limiter_wru
    table.notes.append(
        f"prices: {PRICES_AS_OF}; DynamoDB $0.625/M WRU, $0.125/M RRU; Lambda arm64 $0.20/M "
        "requests + $0.0000133334/GB-s at 512 MB; SQS standard $0.40/M requests; EventBridge "
        "$1.00/M custom events; WebSocket $1.00/M messages; DynamoDB Streams read by Lambda: free"
    )
    table.notes.append(
        f"a post writes {post_wru:g} WRU: its transaction {post['txn_wru']:g} (claim + message "
        f"+ change item, measured by write_units), the read marker {post['other_wru']:g} "
        f"(membership + its GSI1 copy), the limiter {limiter_wru:g} (P2); it reads "
        f"{post['rru']:g} RRU (room, membership, and the feed's head unless the container "
        "already knows it) plus the recipients Query "
        f"({query_rru:.2f} RRU per 100 subscribers, P2)"
    )
    table.notes.append(
        f"fan-out: one `fanout` invocation per change (a conservative bound: it takes up to "
        f"FANOUT_BATCH_SIZE changes at once); rooms over {FANOUT_PAGE_SIZE:,} live connections "
        f"add {SQS_PER_PAGE} SQS requests, one `fanout_pages` invocation and one read of the "
        f"change per page of {FANOUT_PAGE_SIZE:,}"
    )
    table.notes.append(
        "API Gateway's per-delivery message charge dominates every room bigger than a handful; "
        "connection minutes ($0.25/M) are per user, not per message, and left out"
    )
    from bench import metrics_cost

    emf = " / ".join(f"${metrics_cost.per_message_usd(n) * 1e6:.3f}" for n in (10, 1000, 10_000))
    table.notes.append(
        f"business metrics (EMF log lines, bench/metrics_cost.py): {emf} per million messages "
        "at 10 / 1,000 / 10,000 (CloudWatch Logs ingestion), plus a fixed "
        f"${sum(metrics_cost.monthly_fixed_usd()):.2f} per stage and month (metrics + alarms)"
    )
    push = per_push()
    table.notes.append(
        "Web Push (issue 18), per million pushes to offline devices: "
        + ", ".join(f"{k.replace('_', ' ')} ${v * 1e6:.2f}" for k, v in push.items())
        + f"; total ${sum(push.values()) * 1e6:.2f}. Counted from push_sender's calls "
        f"(bench/cost_model.per_push) at the list prices above; the push service's round trip "
        f"({PUSH_MS:g} ms) is assumed, not measured. Only a DM, a mention or a thread reply "
        "queues a job, and only offline, unmuted recipients with a subscription get a push"
    )

    from bench.p10_search import TYPICAL, cost_note  # issue 18; measured by P10 (it runs later)

    table.notes.append(cost_note(len(terms_of(TYPICAL)) + 1, QUERY_RRU_ESTIMATE))
    from bench.export_cost import cost_note as export_note  # issue 18: its own table follows

    table.notes.append(export_note())
    table.ok = table.ok and p2.extra["limiter_calls"] == 2 and units.ok
    return table
