"""The local stack's second stream reader (local/indexing.py): the memory feed's stream read by
two independent sources, and the indexer's filter (tables.keys.SEARCH_STREAM_FILTER) applied as
Lambda applies it: message posts, edits and deletes pass; reactions and members do not."""

from __future__ import annotations

import asyncio
from typing import Any

import attrs

from dynamotalk.adapters import memory
from dynamotalk.domain.events import MemberLeft, MessagePosted, ReactionChanged
from dynamotalk.edge.records import is_change
from dynamotalk.local.indexing import is_message_change, matches_pattern
from dynamotalk.local.stream import LocalStream, MemorySource
from dynamotalk.search_function import SEARCH_INDEXER
from tests.integration.test_store_contract import msg


def _feed() -> memory.MemoryChangeFeed:
    feed = memory.MemoryChangeFeed()
    feed.append("room-1", lambda seq: MessagePosted(msg(1), seq))
    feed.append("room-1", lambda seq: ReactionChanged(msg(1), "👍", "bob", True, seq))
    feed.append("room-1", lambda seq: MemberLeft("room-1", "bob", seq))
    return feed


def test_two_readers_each_read_every_record_and_filter_their_own() -> None:
    feed = _feed()
    fanout, indexer = MemorySource(feed), MemorySource(feed)
    first = fanout.read()
    assert len(first) == 3
    assert [is_change(r) for r in first] == [True, True, True]
    second = indexer.read()
    assert [r["eventID"] for r in second] == [r["eventID"] for r in first]
    assert [is_message_change(r) for r in second] == [True, False, False]


def test_the_pattern_matcher_follows_lambdas_rules() -> None:
    pattern = {"a": {"b": ["x", {"prefix": "SEQ#"}]}, "c": ["INSERT"]}
    assert matches_pattern(pattern, {"a": {"b": "SEQ#1"}, "c": "INSERT"})
    assert matches_pattern(pattern, {"a": {"b": "x"}, "c": "INSERT"})
    assert not matches_pattern(pattern, {"a": {"b": "y"}, "c": "INSERT"})
    assert not matches_pattern(pattern, {"a": {"b": "x"}, "c": "MODIFY"})
    assert not matches_pattern(pattern, {"c": "INSERT"})


@attrs.define
class Recording:
    """Functions.call's stand-in: what each module was invoked with."""

    calls: list[tuple[str, list[str]]] = attrs.Factory(list)

    async def call(self, module: str, event: dict[str, Any], behind_api: bool) -> dict[str, Any]:
        self.calls.append((module, [r["eventID"] for r in event["Records"]]))
        return {"batchItemFailures": []}


def test_the_second_mapping_invokes_its_own_function_with_its_own_records() -> None:
    functions = Recording()
    source = MemorySource(_feed())
    stream = LocalStream(
        functions,  # type: ignore[arg-type]
        source,
        function=SEARCH_INDEXER,
        accepts=is_message_change,
    )

    async def one_pass() -> None:
        task = asyncio.create_task(stream.run())
        while not functions.calls:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(one_pass())
    assert functions.calls == [(SEARCH_INDEXER, [f"{0:021d}"])]
