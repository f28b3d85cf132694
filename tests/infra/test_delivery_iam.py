"""The delivery path's grants (permissions.py), judged under IAM's rules by the local stack's
evaluator on the local stage's documents (the cloud's: test_policies.py): each function may make
the calls its adapters make and nothing the others need; the stream and the bus are granted
only where they exist; every room change's transaction is allowed to the functions writing it."""

from __future__ import annotations

import pytest

from dynamotalk.iam_actions import EVENTS_PUT, STREAM_READ
from dynamotalk.local import iam
from dynamotalk.local.iam.evaluation import listed
from dynamotalk.permissions import PERMISSIONS
from dynamotalk.routes import resource_name as named
from dynamotalk.search_function import SEARCH_INDEXER
from dynamotalk.tables import GSI1
from dynamotalk.workers import EVENT_BUS, FANOUT, FANOUT_DLQ, FANOUT_PAGES, FANOUT_PAGES_QUEUE
from tests.integration.test_local_iam import (
    BUCKET,
    CLOSE,
    MODEL,
    POST,
    REGION,
    SEND_JOB,
    STAGE,
    TABLE,
    Call,
    batch,
    get,
    op,
    query,
    s3,
    transact,
)

ACCOUNT = iam.LOCAL_ACCOUNT
PAGES_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{named(STAGE, FANOUT_PAGES_QUEUE)}"
DLQ_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{named(STAGE, FANOUT_DLQ)}"
SEND_PAGE = ("sqs", "SendMessage", {"QueueUrl": PAGES_URL, "MessageBody": "{}"})
SEND_PAGES = ("sqs", "SendMessageBatch", {"QueueUrl": PAGES_URL, "Entries": []})
RECEIVE_PAGE = ("sqs", "ReceiveMessage", {"QueueUrl": PAGES_URL})
DELETE_PAGE = ("sqs", "DeleteMessage", {"QueueUrl": PAGES_URL, "ReceiptHandle": "h"})
DEAD_LETTER = ("sqs", "SendMessage", {"QueueUrl": DLQ_URL, "MessageBody": "{}"})

DELIVERY_ALLOWED: dict[str, list[Call]] = {
    FANOUT: [
        get("ROOM#r"),  # the change item, when the stream record is not enough
        query(),  # the room's subscriptions (ROOMCONN#room), on the table
        query(GSI1.name),  # a mentioned member's connections (USERCONN#user), for `mention`
        batch("BatchWriteItem"),  # gone connections forgotten
        POST,
        SEND_PAGE,  # a big room's pages
        SEND_PAGES,
        DEAD_LETTER,  # the stream mapping's on-failure destination, with this role
    ],
    FANOUT_PAGES: [
        get("ROOM#r"),
        query(),
        batch("BatchWriteItem"),
        POST,
        RECEIVE_PAGE,  # the page queue's mapping, with this role
        DELETE_PAGE,
        SEND_PAGE,  # a throttled remainder, re-queued with a delay
    ],
}
"""What the delivery functions call (the adapters behind their handlers, and the event source
mappings acting with their roles)."""
DELIVERY_DENIED: dict[str, list[Call]] = {
    FANOUT: [
        op("PutItem"),  # the fan-out writes no chat state: the store did
        op("UpdateItem"),
        op("DeleteItem"),
        transact("Put"),
        CLOSE,  # posts only; closing sockets is the session sweeper's
        SEND_JOB,
        RECEIVE_PAGE,  # the page workers consume, not the stream consumer
        s3("GetObject", "rooms/r/u/01J/cat.png"),
    ],
    FANOUT_PAGES: [
        op("PutItem"),
        transact("Put"),
        query(GSI1.name),
        CLOSE,
        SEND_JOB,
        DEAD_LETTER,  # the page queue redrives on its own (SQS, not the role)
    ],
}

ROOM_CHANGES: dict[str, list[Call]] = {
    # A post: the client-id claim, the message and the change item, in one transaction; an
    # edit, delete or reaction: the message's update and the change item.
    "ws_default": [transact("Put", "Put", "Put"), transact("Update", "Put")],
    "bot_worker": [transact("Put", "Put", "Put")],
    # Joining or being added (member + change), leaving or removal (Delete + change), an invite
    # accepted (invite Delete, member Put, change Put), a role change (Update + change).
    "http_api": [
        transact("Put", "Put"),
        transact("Delete", "Put"),
        transact("Delete", "Put", "Put"),
        transact("Update", "Put"),
    ],
}
"""The transactions that store a room change with its change item (storage, v2.md)."""


def stage(event_bus: str | None) -> iam.StagePolicies:
    return iam.stage_policies(
        STAGE, REGION, TABLE, BUCKET, bot_model_id=MODEL, event_bus_name=event_bus
    )


@pytest.fixture(scope="module")
def publishing() -> iam.StagePolicies:
    return stage(named(STAGE, EVENT_BUS))


def decisions(policies: iam.StagePolicies, module: str, call: Call) -> set[iam.Decision]:
    prefix, operation, params = call
    requests = iam.requests_for(prefix, operation, params, policies.account)
    assert requests
    return {iam.evaluate(policies.documents[module], r.action, r.resource) for r in requests}


def test_every_function_with_a_permissions_row_has_a_document() -> None:
    assert {FANOUT, FANOUT_PAGES} <= set(PERMISSIONS)
    assert set(stage(None).documents) == set(PERMISSIONS)


@pytest.mark.parametrize(
    ("module", "call"), [(m, c) for m, calls in DELIVERY_ALLOWED.items() for c in calls]
)
def test_the_delivery_functions_may_make_their_calls(
    publishing: iam.StagePolicies, module: str, call: Call
) -> None:
    assert decisions(publishing, module, call) == {"allow"}


@pytest.mark.parametrize(
    ("module", "call"), [(m, c) for m, calls in DELIVERY_DENIED.items() for c in calls]
)
def test_the_delivery_functions_may_not_make_the_others_calls(
    publishing: iam.StagePolicies, module: str, call: Call
) -> None:
    assert "implicit_deny" in decisions(publishing, module, call)


@pytest.mark.parametrize(
    ("module", "call"), [(m, c) for m, calls in ROOM_CHANGES.items() for c in calls]
)
def test_every_room_change_transaction_is_allowed_to_its_writer(
    publishing: iam.StagePolicies, module: str, call: Call
) -> None:
    assert decisions(publishing, module, call) == {"allow"}


def test_only_the_fanout_reads_the_stream_and_only_its_own_tables(
    publishing: iam.StagePolicies,
) -> None:
    local = publishing.account
    stream = f"{local.table_arn(TABLE)}/stream/2026-01-01T00:00:00.000"
    other = f"{local.table_arn('another-table')}/stream/2026-01-01T00:00:00.000"
    for module, document in publishing.documents.items():
        for action in STREAM_READ:
            # The stream's two readers (AWS advises no more per shard): fan-out and search.
            expected = "allow" if module in (FANOUT, SEARCH_INDEXER) else "implicit_deny"
            assert iam.evaluate(document, action, stream) == expected, (module, action)
            assert iam.evaluate(document, action, other) == "implicit_deny", (module, action)


def test_only_the_fanout_puts_events_and_only_on_the_stages_bus(
    publishing: iam.StagePolicies,
) -> None:
    local = publishing.account
    bus = local.event_bus_arn(named(STAGE, EVENT_BUS))
    for module, document in publishing.documents.items():
        expected = "allow" if module == FANOUT else "implicit_deny"
        assert iam.evaluate(document, EVENTS_PUT, bus) == expected, module
        default_bus = local.event_bus_arn("default")
        assert iam.evaluate(document, EVENTS_PUT, default_bus) == "implicit_deny", module


def test_without_a_bus_no_function_may_put_events() -> None:
    quiet = stage(None)
    bus = quiet.account.event_bus_arn(named(STAGE, EVENT_BUS))
    for module, document in quiet.documents.items():
        actions = {a for s in document["Statement"] for a in listed(s["Action"])}
        assert EVENTS_PUT not in actions, module
        assert iam.evaluate(document, EVENTS_PUT, bus) == "implicit_deny", module
