"""The asynchronous functions' facts: what the queues, the stream and the schedules invoke, in
what batches, how often and how long each may run. Read by routes.FUNCTIONS, infra/ (queues,
mappings, alarms) and the local stack (its queues, stream readers and timers)."""

from __future__ import annotations

import math
from typing import TypedDict

from dynamotalk.domain.bot import MODEL_TIMEOUT_S

BOT_BATCH_SIZE = 5
"""Bot jobs per bot_worker invocation."""
BOT_MAX_CONCURRENCY = 5
"""Bot batches answered at once (each a Bedrock call): the queue absorbs the rest."""
BOT_JOB_OVERHEAD_S = 5
"""Per job, besides the model: read the context, show typing, store and fan out the reply."""
BOT_WORKER_TIMEOUT_S = math.ceil(BOT_BATCH_SIZE * (MODEL_TIMEOUT_S + BOT_JOB_OVERHEAD_S)) + 10
"""A whole batch of slow answers (each cut off at the model timeout, then an apology) plus
cold start: the worker never dies mid-batch, so no job is retried for the batch's sake."""


FANOUT = "fanout"
"""The module the table's stream invokes: each stored room change goes to the room's live
connections (a big room's pages through FANOUT_PAGES_QUEUE) and to the event bus."""
FANOUT_PAGES = "fanout_pages"
"""The module the fan-out page queue invokes: one page of a big room's connections."""
FANOUT_PAGES_QUEUE = "fanout-pages"
"""The page queue (`resource_name(stage, FANOUT_PAGES_QUEUE)`), its dead letters in
`FANOUT_DLQ`; stream records that keep failing go there too (on-failure destination)."""
FANOUT_DLQ = "fanout-dlq"
FANOUT_TIMEOUT_S = 60
"""A stream batch's deliveries, each retried through throttling, well inside a minute."""
FANOUT_BATCH_SIZE = 10
"""Stream records (room changes) per fan-out invocation."""
FANOUT_STREAM_RETRIES = 8
"""Attempts of a failing stream record (the batch is bisected) before it goes to the DLQ."""
FANOUT_PAGES_BATCH_SIZE = 1
"""Page jobs per page-worker invocation: each is a full page of connections."""
EVENT_BUS = "events"
"""The stage's EventBridge bus (`resource_name(stage, EVENT_BUS)`) every room change goes to."""
EVENT_SOURCE = "dynamotalk"
"""The `source` of every event DynamoTalk puts on its bus (`detail-type`: the frame's type)."""

SESSION_SWEEPER_TIMEOUT_S = 50
"""Below the interval, so two sweeps never overlap."""
SESSION_SWEEPER = "session_sweeper"
"""The module the sweeper's schedule invokes (service/sessions.py)."""
SESSION_REVOKED = "session_revoked"
"""The module the revoking Cognito calls' EventBridge rule invokes (revocation.py)."""
PUSH_SENDER = "push_sender"
"""The module the push queue invokes: Web Push to a message's offline recipients."""
PUSH_QUEUE, PUSH_DLQ = "push-jobs", "push-dlq"
"""The push queue (fed by the fan-out) and its dead letters (`resource_name(stage, ...)`)."""
PUSH_BATCH_SIZE, PUSH_MAX_CONCURRENCY = 10, 10
"""Jobs per push_sender invocation; batches sent at once (the queue absorbs a burst)."""
PUSH_SENDER_TIMEOUT_S = 60
"""A batch of jobs, each a few pushes of at most adapters/webpush.TIMEOUT_S, within a minute."""
DATA_EXPORT = "data_export"
"""The module the export queue invokes: "export my data" archives (service/exports.py)."""
EXPORT_QUEUE, EXPORT_DLQ = "export-jobs", "export-dlq"
"""The export queue (fed by POST /me/exports) and its dead letters (`resource_name(stage, ...)`)."""
EXPORT_BATCH_SIZE, EXPORT_MAX_CONCURRENCY = 1, 2
"""One job per invocation (each reads a user's whole history); two at once at most, so exports
never take the table's capacity from chat."""
EXPORT_TIMEOUT_S = 300
"""A job of EXPORT_MAX_MESSAGES_READ messages (about 200 one-MB Query pages) and its PUT."""
EXPORT_MAX_RECEIVES = 3
"""Receives of an export job before its dead-letter queue; on the last one the worker marks the
job failed, so its owner never waits on `pending`."""

ACCOUNT_ERASURE = "account_erasure"
"""The module the erasure queue invokes: one bounded part of a user's erasure job."""
ERASURE_QUEUE, ERASURE_DLQ = "erasure-jobs", "erasure-dlq"
"""The erasure queue (fed by DELETE /me and by the job itself) and its dead letters."""
ERASURE_BATCH_SIZE, ERASURE_MAX_CONCURRENCY = 1, 2
"""One job per invocation (each is bounded work); few at once (erasures are rare, and each
pages through whole rooms: the queue absorbs a burst)."""
ERASURE_TIMEOUT_S = 120
"""A job's bounded part (domain/erasure.MESSAGES_PER_RUN messages, ITEMS_PER_RUN items, each
a request) well inside two minutes; SQS's visibility timeout is set above it."""
ERASURE_NAMED = (ACCOUNT_ERASURE, "Erases an account, a bounded part per job, re-queued till done")
"""routes.Function's module and description for the erasure worker."""


class _ErasureOptions(TypedDict):
    timeout_s: int
    batch_size: int
    reserved_concurrency: int
    max_concurrency: int


ERASURE_OPTIONS = _ErasureOptions(
    timeout_s=ERASURE_TIMEOUT_S,
    batch_size=ERASURE_BATCH_SIZE,
    reserved_concurrency=ERASURE_MAX_CONCURRENCY,
    max_concurrency=ERASURE_MAX_CONCURRENCY,
)
"""routes.Function's other fields for the erasure worker (routes.py stays ≤ 350 lines)."""
PUSH_MAX_RECEIVES = 5
"""Receives of a push job (the first and four retries, each after the queue's visibility
timeout: a push service's 429 or 5xx has minutes to clear) before the dead-letter queue: the
redrive policy (infra/push.py) and the local queue (local/push.py)."""
ERASURE_MAX_RECEIVES = 5
"""Receives of an erasure job before its dead-letter queue (Cognito or S3 briefly failing has
five visibility timeouts to clear): infra/erasure.py's redrive policy, local/erasure.py."""
