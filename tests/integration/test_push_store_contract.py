"""PushStore (ports_push.py): one suite for the in-memory store and the DynamoDB adapter on
DynamoDB Local and moto. Subscriptions and room settings live under the user's partition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dynamotalk.adapters.dynamodb.push import DynamoPushStore
from dynamotalk.adapters.memory.push import MemoryPushStore
from dynamotalk.domain.push import PushSubscription, RoomNotify
from dynamotalk.tables import keys
from tests.integration.test_store_contract import BACKENDS, _client


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryPushStore()
        return
    fixture = "dynamodb_local" if request.param == "dynamodb-local" else "moto_server"
    client, table = _client(request.getfixturevalue(fixture))
    yield DynamoPushStore(client, table)
    client.delete_table(TableName=table)


def sub(user: str, device: str, endpoint: str = "https://fcm.googleapis.com/x") -> PushSubscription:
    return PushSubscription(user, device, endpoint, "p256dh", "auth", 5)


def test_subscriptions_are_kept_per_user_and_device(store: Any) -> None:
    assert store.subscriptions("bob") == []
    store.put_subscription(sub("bob", "phone"))
    store.put_subscription(sub("bob", "laptop"))
    store.put_subscription(sub("carol", "phone"))
    store.put_subscription(sub("bob", "phone", "https://fcm.googleapis.com/new"))  # replaced
    found = store.subscriptions("bob")
    assert [s.device_id for s in found] == ["laptop", "phone"]
    assert found[1] == sub("bob", "phone", "https://fcm.googleapis.com/new")
    store.mark_success("bob", "phone", 99)
    assert store.subscriptions("bob")[1].last_success_at == 99
    assert store.delete_subscription("bob", "phone") is True
    assert store.delete_subscription("bob", "phone") is False
    store.mark_success("bob", "phone", 100)  # a late success never brings it back
    assert [s.device_id for s in store.subscriptions("bob")] == ["laptop"]
    assert [s.device_id for s in store.subscriptions("carol")] == ["phone"]


def test_room_settings_are_kept_per_user_and_room(store: Any) -> None:
    assert store.room_notify("bob", "r1") is None
    store.set_room_notify(RoomNotify("bob", "r1", None))
    store.set_room_notify(RoomNotify("bob", "r2", 1234))
    assert store.room_notify("bob", "r1") == RoomNotify("bob", "r1", None)
    assert store.room_notify("bob", "r2") == RoomNotify("bob", "r2", 1234)
    assert store.room_notify("carol", "r1") is None
    store.clear_room_notify("bob", "r1")
    assert store.room_notify("bob", "r1") is None
    assert store.subscriptions("bob") == []  # settings are not subscriptions


def test_the_items_live_under_the_users_partition(dynamodb_local: str) -> None:
    """Where an erasure (every item of USER#<id>) finds them."""
    client, table = _client(dynamodb_local)
    store = DynamoPushStore(client, table)
    store.put_subscription(sub("bob", "phone"))
    store.set_room_notify(RoomNotify("bob", "r1", None))
    items = list(
        store.table.query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.user_pk("bob")}},
        )
    )
    assert sorted(i["SK"] for i in items) == [f"{keys.NOTIFY_PREFIX}r1", f"{keys.PUSH_PREFIX}phone"]
    client.delete_table(TableName=table)
