"""Cost of one "export my data" job (issue 18): its reads, writes and requests priced.

As built (service/exports.py, docs/ARCHITECTURE.md "Data export"): POST /me/exports writes the
job and its running marker (one small transaction, not priced: cents per million),
an SQS job runs `data_export`, which reads the job and the profile (GetItem), the memberships
(one Query of GSI1) and their rooms (BatchGetItem), then every message of each room the user
is in, page by page (a Query per 1 MB; there is no index by author, so the job reads the
rooms' messages and keeps the user's own), writes one JSON object under `exports/` (S3 PUT),
and the user downloads it once (S3 GET through the presigned link). Message item sizes are
measured here from the real item codec (tables/items.py) with write_units' sizing.

Prices: AWS's published list prices for us-east-1 (https://aws.amazon.com/dynamodb/pricing/
on-demand, https://aws.amazon.com/s3/pricing/ Standard, https://aws.amazon.com/lambda/pricing/
arm64, https://aws.amazon.com/sqs/pricing/), as of cost_model.PRICES_AS_OF.
"""

from __future__ import annotations

import math

from bench.cost_model import LAMBDA_GB_SECOND, LAMBDA_REQUEST, PRICES_AS_OF, RRU, SQS_REQUEST
from bench.table import Table
from bench.write_units import TEXT, item_bytes
from dynamotalk.domain.export import EXPORT_KEPT_DAYS, EXPORT_PAGE_MESSAGES
from dynamotalk.domain.models import Message
from dynamotalk.tables.codecs import dump
from dynamotalk.tables.items import message_item

S3_PUT = 0.005 / 1000  # S3 Standard PUT, COPY, POST, LIST per request
S3_GET = 0.0004 / 1000  # S3 Standard GET per request
S3_GB_MONTH = 0.023  # S3 Standard storage, first 50 TB
QUERY_PAGE_MS = 30.0  # one page's round trip and decoding (~370 KB): an order of magnitude
JSON_BYTES_PER_MESSAGE = 260  # a message's JSON in the archive (id, room, text, times)
MEMORY_GB = 1.0  # the job holds a user's archive in memory before its one PUT
SQS_PER_JOB = 3  # SendMessage, the ReceiveMessage that runs the job, DeleteMessage


def message_bytes() -> int:
    """A typical message item as DynamoDB sizes it (TEXT, no reactions or thread)."""
    message = Message(
        "01JD2V7B0000000000000000BB", "01JD2V5N3Q8Z8Y7X6W5V4T3S2R", "u-" + "0" * 36, TEXT,
        1_732_467_600_000, "b7d4c1e2-0001-4c1e-9e2a-7f0c1d2e3f40", seq=41,
        expires_at=1_735_059_600,
    )  # fmt: skip
    return item_bytes(dump(message_item(message))) + 12  # + lseq, as stored


def per_export(own: int, read: int, item: int) -> dict[str, float]:
    """One export of `own` messages found among `read` messages of the user's rooms."""
    bytes_read = read * item
    pages = max(1, math.ceil(read / EXPORT_PAGE_MESSAGES))
    # The timeline's Query is strongly consistent (1 RRU per 4 KB); + job, profile, memberships.
    rru = math.ceil(bytes_read / 4096) * 1.0 + 3
    seconds = (pages * QUERY_PAGE_MS + 200) / 1000  # + the PUT and the job's bookkeeping
    archive_gb = own * JSON_BYTES_PER_MESSAGE / 1e9
    return {
        "dynamodb": rru * RRU,
        "lambda": LAMBDA_REQUEST + seconds * MEMORY_GB * LAMBDA_GB_SECOND,
        "s3": S3_PUT + S3_GET + archive_gb * S3_GB_MONTH * EXPORT_KEPT_DAYS / 30,
        "sqs": SQS_PER_JOB * SQS_REQUEST,
        "rru": rru,
        "seconds": seconds,
    }


def run(quick: bool) -> Table:
    item = message_bytes()
    table = Table(
        "Cost per 1,000 exports (USD), data_export's units priced (issue 18)",
        ["own messages", "messages read", "RRU each", "DynamoDB", "Lambda", "S3", "SQS", "total",
         "Lambda s each", "met (no target)"],
    )  # fmt: skip
    for own, read in ((1_000, 10_000), (10_000, 100_000), (100_000, 1_000_000)):
        cost = per_export(own, read, item)
        total = cost["dynamodb"] + cost["lambda"] + cost["s3"] + cost["sqs"]
        k = 1000  # per thousand exports: one costs fractions of a cent
        table.add(own, read, cost["rru"], cost["dynamodb"] * k, cost["lambda"] * k,
                  cost["s3"] * k, cost["sqs"] * k, total * k, cost["seconds"], "-")  # fmt: skip
    table.notes.append(
        f"prices: {PRICES_AS_OF}; S3 Standard $0.005/1k PUT, $0.0004/1k GET, $0.023/GB-month "
        f"(kept {EXPORT_KEPT_DAYS} days); Lambda arm64 at {MEMORY_GB:g} GB; SQS $0.40/M"
    )
    table.notes.append(
        f"a message item is {item} bytes (measured from tables/items.py's codec with "
        "write_units' sizing); the job reads every message of the user's rooms (no index by "
        "author; an author index would cost a GSI write on every post instead) at 1 RRU per "
        f"4 KB (strongly consistent, as the timeline reads); Lambda time assumes "
        f"{QUERY_PAGE_MS:g} ms per Query of {EXPORT_PAGE_MESSAGES} messages (not measured)"
    )
    table.ok = item > 0
    return table


def cost_note() -> str:
    """The cost model's line for exports (the full table is export_cost's own)."""
    cost = per_export(10_000, 100_000, message_bytes())
    total = cost["dynamodb"] + cost["lambda"] + cost["s3"] + cost["sqs"]
    return (
        f"export my data (issue 18, bench/export_cost.py): ${total * 1000:.2f} per 1,000 exports "
        "of 10,000 own messages among 100,000 read (reads dominate: no index by author); "
        f"archives kept {EXPORT_KEPT_DAYS} days"
    )
