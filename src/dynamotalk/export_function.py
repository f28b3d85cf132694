"""The export worker's row of routes.FUNCTIONS (issue 18), beside routes.py so that table stays
readable: its module, description and options, from the facts in workers.py."""

from __future__ import annotations

from typing import TypedDict

from dynamotalk.workers import (
    DATA_EXPORT,
    EXPORT_BATCH_SIZE,
    EXPORT_MAX_CONCURRENCY,
    EXPORT_TIMEOUT_S,
)

NAMED = (DATA_EXPORT, 'Writes a user\'s "export my data" archive to S3 (SQS)')
"""routes.Function's module and description for data_export."""


class _Options(TypedDict):
    timeout_s: int
    batch_size: int
    reserved_concurrency: int
    max_concurrency: int


OPTIONS = _Options(
    timeout_s=EXPORT_TIMEOUT_S,
    batch_size=EXPORT_BATCH_SIZE,
    reserved_concurrency=EXPORT_MAX_CONCURRENCY,
    max_concurrency=EXPORT_MAX_CONCURRENCY,
)
"""routes.Function's other fields for data_export."""
