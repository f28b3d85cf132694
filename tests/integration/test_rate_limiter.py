"""The RateLimiter adapters: fixed windows counted atomically, all or none, one update each.

Run against the in-memory adapter and DynamoDB Local (the real engine's conditional updates),
including many threads racing for the same counter.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from dynamotalk.adapters.dynamodb_limits import DynamoRateLimiter
from dynamotalk.adapters.memory_limits import MemoryRateLimiter
from dynamotalk.domain.user_limits import Action, Charge, Quota, UserLimits
from dynamotalk.tables import CHAT_TABLE, create_table_request
from dynamotalk.tables import keys as k

_names = itertools.count()
MINUTE_START = (1_700_000_000_000 // 60_000) * 60_000
"""A minute boundary (epoch ms)."""


@pytest.fixture(params=["memory", "dynamodb-local"])
def limiter(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    client = boto3.client(
        "dynamodb",
        endpoint_url=request.getfixturevalue("dynamodb_local"),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    name = f"limits-{next(_names)}"
    client.create_table(**create_table_request(name))
    yield DynamoRateLimiter(client, name)
    client.delete_table(TableName=name)


def test_a_window_admits_its_limit_then_refuses_until_it_ends(limiter: Any) -> None:
    charges = [Charge(Quota("q", 3, 60))]
    now = MINUTE_START + 15_000
    assert [limiter.take("u1", "g", charges, now) for _ in range(3)] == [None] * 3
    assert limiter.take("u1", "g", charges, now) == 45_000  # the minute ends in 45 s
    assert limiter.take("u2", "g", charges, now) is None  # another user has their own
    assert limiter.take("u1", "other", charges, now) is None  # another group too
    assert limiter.take("u1", "g", charges, MINUTE_START + 60_000) is None  # next window


def test_the_burst_and_the_sustained_window_are_both_enforced(limiter: Any) -> None:
    limits = UserLimits(messages_per_second=1, messages_burst=3)  # 3 a second, 10 in 10 s
    assert [c.quota for c in limits.charges(Action.MESSAGE)] == [
        Quota("msg_s", 3, 1),
        Quota("msg_10s", 10, 10),
    ]
    charges = [Charge(Quota("b", 3, 1)), Charge(Quota("m", 10, 60))]  # a smaller minute
    second = MINUTE_START
    assert [limiter.take("u", "message", charges, second) for _ in range(3)] == [None] * 3
    assert limiter.take("u", "message", charges, second + 400) == 600  # until the next second
    admitted = 3
    for s in range(1, 5):  # later seconds admit 3 more each, up to 10 in the minute
        for _ in range(3):
            if limiter.take("u", "message", charges, second + s * 1000) is None:
                admitted += 1
    assert admitted == 10
    assert limiter.take("u", "message", charges, second + 59_500) == 500  # minute ends in 0.5 s


def test_an_upload_counts_its_number_and_its_bytes_all_or_none(limiter: Any) -> None:
    limits = UserLimits(uploads_per_day=3, upload_bytes_per_day=100)
    now = 1_700_000_000_000
    assert limiter.take("u", "upload", limits.charges(Action.UPLOAD, size=60), now) is None
    # 60 + 50 > 100 bytes: refused, and the refused upload's count is not kept either.
    assert limiter.take("u", "upload", limits.charges(Action.UPLOAD, size=50), now) is not None
    assert limiter.take("u", "upload", limits.charges(Action.UPLOAD, size=40), now) is None
    assert limiter.take("u", "upload", limits.charges(Action.UPLOAD, size=1), now) is not None
    # A bigger charge than the whole window's limit can never pass.
    assert limiter.take("v", "upload", limits.charges(Action.UPLOAD, size=101), now) is not None


def test_racing_requests_never_count_past_the_limit(limiter: Any) -> None:
    charges = [Charge(Quota("race", 37, 3600))]
    now = 1_700_000_000_000
    results: list[int | None] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker() -> None:
        start.wait()
        for _ in range(5):
            answer = limiter.take("racer", "g", charges, now)
            with lock:
                results.append(answer)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80
    assert results.count(None) == 37
    assert sum(1 for r in results if r is not None and r > 0) == 43


def test_the_counter_item_has_the_documented_key_and_a_ttl(dynamodb_local: str) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    name = f"limits-{next(_names)}"
    client.create_table(**create_table_request(name))
    limiter = DynamoRateLimiter(client, name)
    now = MINUTE_START + 1_500
    assert limiter.take("u9", "message", UserLimits().charges(Action.MESSAGE), now) is None
    window = now // 1000 // 10
    item = client.get_item(
        TableName=limiter.table_name,
        Key={"PK": {"S": k.limit_pk("u9")}, "SK": {"S": k.limit_sk("message", 10, window)}},
        ConsistentRead=True,
    )["Item"]
    assert item["msg_10s@" + str(window)] == {"N": "1"}
    assert item["msg_s@" + str(now // 1000)] == {"N": "1"}
    assert int(item[CHAT_TABLE.ttl_attribute]["N"]) == (window + 1) * 10 + 60
    client.delete_table(TableName=name)


def test_a_refusal_is_remembered_until_its_window_ends_without_another_write(
    dynamodb_local: str,
) -> None:
    """After a refusal, a flood of the same one-unit request costs no DynamoDB call until the
    refusing window ends; then the next one is counted again. Larger charges always ask."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    name = f"limits-{next(_names)}"
    client.create_table(**create_table_request(name))
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb.UpdateItem", lambda **_: calls.append("u"))
    limiter = DynamoRateLimiter(client, name)
    one = [Charge(Quota("q", 2, 60))]
    now = MINUTE_START + 10_000
    assert [limiter.take("u1", "g", one, now) for _ in range(3)] == [None, None, 50_000]
    assert len(calls) == 3
    assert [limiter.take("u1", "g", one, now + 1_000 * i) for i in range(1, 6)] == [
        49_000,
        48_000,
        47_000,
        46_000,
        45_000,
    ]
    assert len(calls) == 3  # remembered: no write unit, no round trip
    assert limiter.take("u2", "g", one, now) is None  # other users still ask
    assert limiter.take("u1", "g", one, MINUTE_START + 60_000) is None  # the next window counts
    sized = [Charge(Quota("n", 5, 60)), Charge(Quota("bytes", 100, 60), amount=90)]
    assert limiter.take("u3", "up", sized, now) is None
    assert limiter.take("u3", "up", sized, now) == 50_000
    before = len(calls)
    assert limiter.take("u3", "up", sized, now) == 50_000
    assert len(calls) == before + 1  # not remembered: a smaller upload might still fit
    client.delete_table(TableName=name)
