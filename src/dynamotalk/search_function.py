"""The search indexer function's facts (issue 18), beside routes.py (which lists it in
FUNCTIONS from here, so that table stays readable): its module name, batch, timeout, retries
and concurrency, read by routes.py, infra/search.py and the local stack (local/indexing.py)."""

from __future__ import annotations

from typing import TypedDict

SEARCH_INDEXER = "search_indexer"
"""The module the table's stream invokes a second time (the stream's last reader: AWS advises
at most two per shard), with message changes only (tables.keys.SEARCH_STREAM_FILTER)."""
DESCRIPTION = (
    "Indexes each posted or edited message's words for search, drops deleted ones (stream)"
)
NAMED = (SEARCH_INDEXER, DESCRIPTION)
"""routes.Function's module and description for the indexer."""
SEARCH_INDEXER_BATCH_SIZE = 25
"""Message changes per indexer invocation (each a GetItem and a batch write or two)."""
SEARCH_INDEXER_TIMEOUT_S = 60
"""A batch's index writes, each retried through throttling, well inside a minute."""
SEARCH_INDEXER_STREAM_RETRIES = 8
"""Attempts of a failing record (the batch is bisected) before it goes to the DLQ."""
SEARCH_INDEXER_CONCURRENCY = 10
"""Reserved (floor and ceiling): indexing may lag in a burst, never takes the chat's share."""


class _Options(TypedDict):
    timeout_s: int
    batch_size: int
    reserved_concurrency: int


OPTIONS = _Options(
    timeout_s=SEARCH_INDEXER_TIMEOUT_S,
    batch_size=SEARCH_INDEXER_BATCH_SIZE,
    reserved_concurrency=SEARCH_INDEXER_CONCURRENCY,
)
"""routes.Function's other fields for the indexer."""
