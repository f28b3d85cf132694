"""The search indexer's grants (search_permissions.py), judged under IAM's rules by the local
stack's evaluator: it may read the stream, keep the index's items and dead-letter a record, and
nothing else (no Query, no messages written, no sockets, no other queue)."""

from __future__ import annotations

import pytest

from dynamotalk.local import iam
from dynamotalk.search_function import SEARCH_INDEXER
from tests.infra.test_delivery_iam import DEAD_LETTER, SEND_PAGE, decisions, stage
from tests.integration.test_local_iam import (
    CLOSE,
    POST,
    SEND_JOB,
    Call,
    batch,
    get,
    op,
    query,
    s3,
    transact,
)

ALLOWED: list[Call] = [
    get("SEARCHDOC#r"),  # the words a message was indexed under
    op("PutItem"),  # that record
    op("DeleteItem"),  # ... removed with the message
    batch("BatchWriteItem"),  # postings written and removed
    DEAD_LETTER,  # the stream mapping's on-failure destination, with this role
]
DENIED: list[Call] = [
    query(),  # the indexer never reads a room's history
    op("UpdateItem"),
    transact("Update"),
    batch("BatchGetItem"),
    POST,
    CLOSE,
    SEND_JOB,
    SEND_PAGE,
    s3("GetObject", "rooms/r/u/01J/cat.png"),
]


@pytest.fixture(scope="module")
def policies() -> iam.StagePolicies:
    return stage(None)


@pytest.mark.parametrize("call", ALLOWED)
def test_the_indexer_may_make_its_calls(policies: iam.StagePolicies, call: Call) -> None:
    assert decisions(policies, SEARCH_INDEXER, call) == {"allow"}


@pytest.mark.parametrize("call", DENIED)
def test_the_indexer_may_make_no_other_call(policies: iam.StagePolicies, call: Call) -> None:
    assert "allow" not in decisions(policies, SEARCH_INDEXER, call)


def test_the_indexer_reads_the_stream_and_nothing_but_the_table() -> None:
    document = stage(None).documents[SEARCH_INDEXER]
    sids = {s["Sid"] for s in document["Statement"]}
    assert sids == {"Logs", "Table", "ChangeStream", "DeadLetters"}
    table = next(s for s in document["Statement"] if s["Sid"] == "Table")
    assert all("/index/" not in r for r in table["Resource"])
    assert not any("*" in a for s in document["Statement"] for a in s["Action"])
