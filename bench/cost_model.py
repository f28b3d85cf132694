"""Cost per million messages: DynamoDB + Lambda + API Gateway, from P2's measured read units.

Prices are AWS's published on-demand list prices for us-east-1 (arm64 Lambda), as of the date
below; check https://aws.amazon.com/pricing before relying on them.
"""

from __future__ import annotations

import math

from bench.table import RESULTS, Table

PRICES_AS_OF = "2026-11-24 (us-east-1 list prices)"
WRU = 0.625 / 1e6  # DynamoDB on-demand write request unit
RRU = 0.125 / 1e6  # DynamoDB on-demand read request unit
LAMBDA_REQUEST = 0.20 / 1e6
LAMBDA_GB_SECOND = 0.0000133334  # arm64
WS_MESSAGE = 1.00 / 1e6  # API Gateway WebSocket, per message (32 KB increments), first 1B
MEMORY_GB = 0.5
POOL = 32
POST_MS = 20.0  # PostToConnection round trip, as in P1
BASE_MS = 25.0  # parse, checks, store: measured order of magnitude on the local stack


def per_message(
    members: int, query_rru_per_100: float, limiter_wru: float = 0.0
) -> dict[str, float]:
    # Writes: message + client-id claim in one transaction (2 items x 2), the read marker,
    # and the per-user limiter's one conditional update (measured by P2 on DynamoDB Local).
    writes = 2 * 2 + 1 + limiter_wru
    # Reads: room, membership (consistent GetItems), recipients Query (eventually consistent).
    recipients_rru = max(0.5, query_rru_per_100 * members / 100)
    reads = 1 + 1 + recipients_rru
    duration_s = (BASE_MS + math.ceil(members / POOL) * POST_MS) / 1000
    lambda_cost = LAMBDA_REQUEST + duration_s * MEMORY_GB * LAMBDA_GB_SECOND
    # Inbound frame + ack (route response) + one delivery per member.
    ws_messages = 2 + members
    return {
        "dynamodb": writes * WRU + reads * RRU,
        "lambda": lambda_cost,
        "api": ws_messages * WS_MESSAGE,
        "recipients_rru": recipients_rru,
    }


def run(quick: bool) -> Table:
    p2 = RESULTS.get("bench.p2_recipients")
    if p2 is None:
        from bench import p2_recipients

        p2 = p2_recipients.run(quick=True)
    query_rru = p2.extra["query_rru"]
    scan_rru = p2.extra["scan_rru"]
    limiter_wru = p2.extra["limiter_wru_allowed"]
    table = Table(
        "Cost per million messages (USD): DynamoDB + Lambda + API Gateway WebSocket",
        ["room size", "DynamoDB", "Lambda", "API Gateway", "total", "naive Scan lookup (DynamoDB)"],
    )
    for members in (10, 1000):
        ours = per_message(members, query_rru, limiter_wru)
        total = ours["dynamodb"] + ours["lambda"] + ours["api"]
        naive_dynamodb = ours["dynamodb"] + (scan_rru - ours["recipients_rru"]) * RRU
        table.add(
            members,
            ours["dynamodb"] * 1e6,
            ours["lambda"] * 1e6,
            ours["api"] * 1e6,
            total * 1e6,
            naive_dynamodb * 1e6,
        )
    table.notes.append(
        f"prices: {PRICES_AS_OF}; DynamoDB $0.625/M WRU, $0.125/M RRU; Lambda arm64 $0.20/M requests + $0.0000133334/GB-s at 512 MB; WebSocket $1.00/M messages"
    )
    table.notes.append(
        f"read units from P2: {query_rru:.2f} RRU per 100 subscribers (Query), Scan {scan_rru:.0f} RRU at P2's largest table"
    )
    table.notes.append(
        "API Gateway's per-delivery message charge dominates big rooms; connection minutes ($0.25/M) are per user, not per message, and left out"
    )
    table.notes.append(
        f"per-user limiter: one conditional UpdateItem per message, no read (measured on "
        f"DynamoDB Local: {limiter_wru:g} WRU when allowed), included above: "
        f"+${limiter_wru * WRU * 1e6:.3f} per million messages. A refused one reports "
        f"{p2.extra['limiter_wru_refused']:g} units locally; AWS bills a failed conditional "
        "write as a write (1 WRU); a container then remembers the refusal until its window "
        "ends, so a flood costs at most one such write per container and window"
    )
    table.ok = table.ok and p2.extra["limiter_calls"] == 2
    return table
