"""ExportJobs (export_ports.py): one suite for the in-memory store and the DynamoDB adapter on
DynamoDB Local and moto. One running export per user, guarded by a conditional write; jobs
under the user's partition; finishing releases the guard only for its own job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dynamotalk.adapters.dynamodb.exports import DynamoExportJobs
from dynamotalk.adapters.memory.exports import MemoryExportJobs
from dynamotalk.domain.export import EXPORT_STALE_S, ExportJob, ExportStatus
from tests.integration.test_store_contract import BACKENDS, _client

T0 = 1_732_467_600_000


@pytest.fixture(params=BACKENDS)
def jobs(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryExportJobs()
        return
    fixture = "dynamodb_local" if request.param == "dynamodb-local" else "moto_server"
    client, table = _client(request.getfixturevalue(fixture))
    yield DynamoExportJobs(client, table)
    client.delete_table(TableName=table)


def job(user: str, export_id: str, at: int = T0) -> ExportJob:
    return ExportJob(user, export_id, ExportStatus.PENDING, at)


def test_one_running_export_per_user(jobs: Any) -> None:
    assert jobs.start(job("ana", "01A"), T0) is True
    assert jobs.start(job("ana", "01B"), T0 + 1000) is False  # ana's first still runs
    assert jobs.start(job("bob", "01C"), T0 + 1000) is True  # others are not held up
    assert [j.export_id for j in jobs.jobs_of("ana")] == ["01A"]
    assert jobs.get("ana", "01B") is None
    jobs.finish("ana", "01A", ExportStatus.READY, T0 + 5000)
    done = jobs.get("ana", "01A")
    assert (done.status, done.finished_at) == (ExportStatus.READY, T0 + 5000)
    assert jobs.start(job("ana", "01D", T0 + 6000), T0 + 6000) is True
    assert [j.export_id for j in jobs.jobs_of("ana")] == ["01A", "01D"]
    assert jobs.get("bob", "01A") is None  # a job is found under its owner only


def test_a_stale_run_no_longer_blocks_and_its_late_finish_frees_nothing(jobs: Any) -> None:
    assert jobs.start(job("ana", "01A"), T0) is True
    later = T0 + EXPORT_STALE_S * 1000 + 1
    assert jobs.start(job("ana", "01B", later), later) is True
    jobs.finish("ana", "01A", ExportStatus.FAILED, later + 1)  # the dead one, at last
    assert jobs.start(job("ana", "01C", later + 2), later + 2) is False  # 01B still runs
    jobs.finish("ana", "01B", ExportStatus.READY, later + 3)
    jobs.finish("ana", "01B", ExportStatus.READY, later + 3)  # twice: idempotent
    assert {j.export_id: j.status for j in jobs.jobs_of("ana")} == {
        "01A": ExportStatus.FAILED,
        "01B": ExportStatus.READY,
    }
