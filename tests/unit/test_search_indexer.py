"""lambdas/search_indexer.py on stream records as Lambda hands them (the local stream's shape):
posts and edits (re)index, deletes drop, other changes pass, a replayed batch writes the same
state, and an unreadable record fails the batch at itself (ReportBatchItemFailures)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from dynamotalk import search_root
from dynamotalk.adapters.memory.search import MemorySearchIndex
from dynamotalk.domain.events import MemberLeft, MessageDeleted, MessageEdited, MessagePosted
from dynamotalk.local.stream import stream_record
from dynamotalk.service.search import SearchIndexer
from dynamotalk.tables.changes import change_item
from dynamotalk.tables.codecs import dump
from tests.integration.test_store_contract import mid, msg


def record(change: Any, n: int) -> dict[str, Any]:
    return stream_record(dump(change_item(change, 1_700_000_000)), f"{n:021d}")


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> MemorySearchIndex:
    found = MemorySearchIndex()
    monkeypatch.setattr(search_root, "indexer", lambda: SearchIndexer(found))
    return found


def test_posts_edits_and_deletes_keep_the_index(index: MemorySearchIndex) -> None:
    from lambdas import search_indexer

    posted = attrs.evolve(msg(1), text="lunch at noon")
    edited = attrs.evolve(posted, text="dinner at noon", edited_at=2)
    other = attrs.evolve(msg(2), text="lunch tomorrow")
    batch = {
        "Records": [
            record(MessagePosted(posted, 1), 1),
            record(MessagePosted(other, 2), 2),
            record(MemberLeft("room-1", "bob", 3), 3),
            record(MessageEdited(edited, 4), 4),
            record(MessageDeleted(attrs.evolve(other, deleted_at=5, text=""), 5), 5),
        ]
    }
    assert search_indexer.handler(batch, None) == {"batchItemFailures": []}
    assert search_indexer.handler(batch, None) == {"batchItemFailures": []}  # replayed
    assert index.postings("room-1", "lunch", None, 10) == []
    assert index.postings("room-1", "dinner", None, 10) == [mid(1)]
    assert index.postings("room-1", "noon", None, 10) == [mid(1)]
    assert index.size() == 3  # dinner, at, noon


def test_an_unreadable_record_fails_the_batch_at_itself(index: MemorySearchIndex) -> None:
    from lambdas import search_indexer

    good = record(MessagePosted(msg(1), 1), 1)
    broken = record(MessagePosted(msg(2), 2), 2)
    del broken["dynamodb"]["NewImage"]["message"]
    reply = search_indexer.handler({"Records": [good, broken]}, None)
    assert reply == {"batchItemFailures": [{"itemIdentifier": f"{2:021d}"}]}
    assert index.postings("room-1", "message", None, 10) == [mid(1)]
