"""The fan-out's push step (push_root.queue_pushes) and the SQS push jobs: only a stream
batch's delivered records (those before a failed one) queue jobs, only for messages that could
notify someone, ten per SendMessageBatch; a refused or failing send never fails the batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from structlog.testing import capture_logs

from dynamotalk import push_root
from dynamotalk.adapters.sqs_push import NotQueued, SqsPushJobs, parse_push_job, push_body
from dynamotalk.domain.events import MessagePosted
from dynamotalk.domain.models import Message
from dynamotalk.edge.records import StreamRecord


@attrs.define
class Jobs:
    got: list[tuple[str, str, int]] = attrs.Factory(list)
    fail: bool = False

    def enqueue_many(self, jobs: Sequence[tuple[str, str, int]]) -> None:
        if self.fail:
            raise ConnectionError("SQS is down")
        self.got.extend(jobs)


def record(n: int, room: str, **fields: Any) -> StreamRecord:
    message = Message(f"m{n}", room, "alice", "hi", 1, f"c{n}", seq=n, **fields)
    return StreamRecord(f"seq-{n}", MessagePosted(message, seq=n))


@pytest.fixture
def jobs() -> Any:
    found = Jobs()
    push_root.use_local_push_jobs(found)
    yield found
    push_root._LOCAL_JOBS.clear()


def test_only_delivered_records_that_could_notify_queue_jobs(jobs: Jobs) -> None:
    records = [
        record(1, "dm-abc"),  # a direct room
        record(2, "r1"),  # a plain message in a room: nobody to push
        record(3, "r1", mentions=("bob",)),
        record(4, "r1", parent_id="m0"),  # a thread reply
        record(5, "dm-abc"),  # the failed record: the stream retries from it
        record(6, "dm-abc"),
    ]
    push_root.queue_pushes(records, [{"itemIdentifier": "seq-5"}])
    assert jobs.got == [("dm-abc", "m1", 1), ("r1", "m3", 3), ("r1", "m4", 4)]


def test_a_failing_push_queue_never_fails_the_batch(
    jobs: Jobs, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs.fail = True
    with capture_logs() as logs:
        push_root.queue_pushes([record(1, "dm-abc")], [])  # logged and counted, not raised
    assert jobs.got == []
    assert [e["outcome"] for e in logs if e.get("event") == "invocation"] == ["push_not_queued"]
    assert '"PushFailed":1' in capsys.readouterr().out  # the EMF line (metrics.py)


@attrs.define
class FakeSqs:
    calls: list[list[dict[str, str]]] = attrs.Factory(list)
    refuse: int = 0

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> Any:
        self.calls.append(Entries)
        return {"Failed": [{"Id": e["Id"]} for e in Entries[: self.refuse]]}


def test_sqs_jobs_go_ten_per_call_and_refusals_raise() -> None:
    sqs = FakeSqs()
    SqsPushJobs(sqs, "https://sqs/q").enqueue_many([("r", f"m{n}", n) for n in range(23)])
    assert [len(c) for c in sqs.calls] == [10, 10, 3]
    assert parse_push_job(sqs.calls[2][2]["MessageBody"]) == ("r", "m22", 22)
    assert parse_push_job("{}") is None
    assert parse_push_job(push_body("r", "m", 1)) == ("r", "m", 1)
    with pytest.raises(NotQueued):
        SqsPushJobs(FakeSqs(refuse=1), "https://sqs/q").enqueue_many([("r", "m", 1)])
