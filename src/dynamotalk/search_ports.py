"""What search needs from storage (issue 18): the inverted index, beside ports.py. Its contract
runs on the in-memory twin and DynamoDB Local (tests/integration/test_search_index_contract.py).

The index holds keys only: per room and word, the ids of the messages that have the word. It
never answers with text; results are read from the message store, so whatever that store hides
(deleted, expired, erased messages) never shows through search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class SearchIndex(Protocol):
    def index(self, room_id: str, message_id: str, terms: Sequence[str]) -> None:
        """Make `terms` the words the message is found by: postings for new words, none left
        for words it no longer has. Idempotent: doing it twice writes the same items."""
        ...

    def remove(self, room_id: str, message_id: str) -> None:
        """The message is found by no word (deleted). Idempotent."""
        ...

    def postings(self, room_id: str, term: str, before_id: str | None, limit: int) -> list[str]:
        """Up to `limit` ids of the room's messages indexed under `term`, newest first, each
        older than `before_id` when given."""
        ...

    def present(self, room_id: str, term: str, message_ids: Sequence[str]) -> set[str]:
        """Which of `message_ids` are indexed under `term` in the room (one batch read per
        hundred ids)."""
        ...
