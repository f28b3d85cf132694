"""The block list, its reverse index and the ReportStore (ports_reports.py), one suite for the in-memory
fakes and the DynamoDB adapters on DynamoDB Local and moto (issue 17, "Block and report")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from dynamotalk.adapters import memory
from dynamotalk.adapters.dynamodb import DynamoRoomStore
from dynamotalk.domain.models import Block
from dynamotalk.domain.reports import (
    AttachmentSnapshot,
    MessageSnapshot,
    Outcome,
    Reason,
    Report,
    Resolution,
    Status,
)
from tests.integration.test_store_contract import BACKENDS, _client


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Any]]:
    if request.param == "memory":
        rooms = memory.MemoryRoomStore()
        yield rooms, rooms.report_store()
        return
    fixture = "dynamodb_local" if request.param == "dynamodb-local" else "moto_server"
    client, table = _client(request.getfixturevalue(fixture))
    store = DynamoRoomStore(client, table)
    yield store, store.report_store()
    client.delete_table(TableName=table)


def test_blocks_are_listed_by_blocker_and_found_by_blocked(stores: tuple[Any, Any]) -> None:
    rooms, _ = stores
    assert rooms.blocks_of("bob") == []
    assert rooms.blockers_of("mallory") == []
    rooms.block("bob", "mallory", 5)
    rooms.block("bob", "eve", 6)
    rooms.block("carol", "mallory", 7)
    assert rooms.blocks_of("bob") == [Block("bob", "eve", 6), Block("bob", "mallory", 5)]
    assert sorted(rooms.blockers_of("mallory")) == ["bob", "carol"]
    assert rooms.blockers_of("bob") == [], "the reverse index goes one way"
    rooms.unblock("bob", "mallory")
    assert rooms.blocks_of("bob") == [Block("bob", "eve", 6)]
    assert rooms.blockers_of("mallory") == ["carol"]
    assert rooms.blocks_of("mallory") == []


MESSAGE = MessageSnapshot(
    "01J0000000000000000000MSG1",
    "mallory",
    "buy now",
    10,
    edited_at=11,
    attachments=(AttachmentSnapshot("a.png", "rooms/r1/mallory/a.png"),),
)
BEFORE = MessageSnapshot("01J0000000000000000000MSG0", "bob", "hello", 9)


def report(report_id: str, reporter: str = "bob", message_id: str = MESSAGE.message_id) -> Report:
    return Report(
        report_id=report_id,
        room_id="r1",
        message_id=message_id,
        reporter_id=reporter,
        reason=Reason.SPAM,
        created_at=20,
        message=attrs.evolve(MESSAGE, message_id=message_id),
        context=(BEFORE,),
        note="again",
    )


def test_one_open_report_per_reporter_and_message(stores: tuple[Any, Any]) -> None:
    _, reports = stores
    first = report("01J00000000000000000REP001")
    assert reports.add(first) == (first, True)
    again = report("01J00000000000000000REP002")
    assert reports.add(again) == (first, False), "a repeat answers the open report"
    other = report("01J00000000000000000REP003", reporter="carol")
    assert reports.add(other) == (other, True), "another reporter reports on their own"
    assert reports.get("r1", first.report_id) == first, "snapshots and context kept as given"
    assert reports.get("r1", again.report_id) is None
    assert reports.get("r2", first.report_id) is None


def test_queue_pages_newest_first_and_resolving_moves_a_report_once(
    stores: tuple[Any, Any],
) -> None:
    _, reports = stores
    made = [
        report(f"01J00000000000000000REP00{n}", message_id=f"01J000000000000000000MSG{n}")
        for n in range(1, 6)
    ]
    for r in made:
        reports.add(r)
    ids = [r.report_id for r in made]
    assert [r.report_id for r in reports.page("r1", Status.OPEN, None, 2)] == ids[:2:-1][:2]
    assert [r.report_id for r in reports.page("r1", Status.OPEN, ids[3], 10)] == ids[2::-1]
    assert reports.page("r1", Status.RESOLVED, None, 10) == []
    assert reports.page("r2", Status.OPEN, None, 10) == []

    done = Resolution(Outcome.ACTIONED, "alice", 30, "removed")
    resolved = reports.resolve("r1", ids[1], done)
    assert resolved == attrs.evolve(made[1], resolution=done)
    assert resolved.status is Status.RESOLVED
    later = Resolution(Outcome.DISMISSED, "dave", 31)
    assert reports.resolve("r1", ids[1], later) == resolved, "resolved once, as the first left it"
    assert reports.resolve("r1", "01J00000000000000000REP009", later) is None
    assert [r.report_id for r in reports.page("r1", Status.RESOLVED, None, 10)] == [ids[1]]
    assert ids[1] not in [r.report_id for r in reports.page("r1", Status.OPEN, None, 10)]
    assert reports.get("r1", ids[1]) == resolved

    # Resolved, the reporter may report the same message again: a new open report.
    renewed = report("01J00000000000000000REP007", message_id=made[1].message_id)
    assert reports.add(renewed) == (renewed, True)
