"""The search indexer's row of permissions.PERMISSIONS (issue 18), kept here so that table's
module stays readable: a message's indexed words (Get), its postings written and removed
(BatchWrite), its word record (Put, Delete); the table's stream, and the fan-out's dead-letter
queue as its mapping's on-failure destination (one DLQ for the stream's two readers)."""

from __future__ import annotations

from dynamotalk.iam_actions import Needs
from dynamotalk.search_function import SEARCH_INDEXER

SEARCH_NEEDS: dict[str, Needs] = {
    SEARCH_INDEXER: Needs(
        dynamodb=(
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
        ),
        reads_change_stream=True,
        fails_to_fanout_dlq=True,
    ),
}
