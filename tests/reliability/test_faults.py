"""R2 faults: DynamoDB throttling, recipients answering 410, slow and failing PostToConnection.

Every posted message is stored exactly once (client retries included), every gone connection is
removed, every live recipient receives each message live or through sync, and the sender always
gets an ack or a retryable error, never silence.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dynamotalk.adapters.apigateway import (
    ApiGatewayNotifier,
    build_management_client,
    management_poster,
)
from dynamotalk.adapters.dynamodb import (
    DynamoConnectionRegistry,
    DynamoMessageStore,
    DynamoRoomStore,
    DynamoUserStore,
)
from dynamotalk.adapters.dynamodb.feed import DynamoChangeFeed
from dynamotalk.adapters.memory import MemoryAttachmentStore
from dynamotalk.domain.errors import ChatError
from dynamotalk.domain.ids import UlidGenerator
from dynamotalk.domain.models import Principal, RoomKind
from dynamotalk.edge.records import stream_records
from dynamotalk.local.provision import client as client_for
from dynamotalk.local.stream import DynamoSource
from dynamotalk.resilience import CircuitBreaker
from dynamotalk.service import ChatService
from dynamotalk.service.delivery import Delivery, DeliveryFailed
from dynamotalk.settings import MANAGEMENT_TRANSPORTS, ManagementTransport
from dynamotalk.tables import create_table_request
from dynamotalk.wire import encode_event
from tests.support.management_api import ManagementApi

_tables = itertools.count()


class Chaos:
    """Makes a share of DynamoDB calls fail with ProvisionedThroughputExceeded, before they
    reach the table (a botocore event hook), with a fixed seed so runs are repeatable."""

    def __init__(self, client: Any, share: float, seed: int = 7) -> None:
        self.share = share
        self.random = random.Random(seed)
        self.injected = 0
        self.calls = 0
        client.meta.events.register("before-call.dynamodb", self.maybe_throttle)

    def maybe_throttle(self, model: Any, **_: Any) -> None:
        self.calls += 1
        if self.share and self.random.random() < self.share:
            self.injected += 1
            error = {
                "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            raise ClientError(error, model.name)  # type: ignore[arg-type]


class Clock:
    def now_ms(self) -> int:
        import time

        return time.time_ns() // 1_000_000


@pytest.fixture
def api() -> Iterator[ManagementApi]:
    server = ManagementApi.start()
    yield server
    server.stop()


MESSAGES: dict[ManagementTransport, int] = {"lean": 60, "botocore": 12}
"""Messages posted through the faults per transport. Only the poster differs between the two
(adapters/apigateway.Poster): the store, the retries, the fan-out and the breaker under test
here are shared, and each poster's 410/413/429/5xx handling is checked on both transports in
tests/integration/test_apigateway_notifier.py. So the default (lean) path takes the full run,
and the botocore switch one representative short run through the same faults."""
assert set(MESSAGES) == set(MANAGEMENT_TRANSPORTS)


@pytest.fixture(params=MANAGEMENT_TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> ManagementTransport:
    """Both ways of posting to the management API (adapters/apigateway.Poster) lose nothing."""
    return request.param  # type: ignore[no-any-return]


def chaotic_service(
    dynamodb_local: str, api: ManagementApi, share: float, transport: ManagementTransport
) -> tuple[ChatService, Chaos]:
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),  # faults reach us
    )
    table = f"faults-{next(_tables)}"
    client.create_table(**create_table_request(table))
    chaos = Chaos(client, 0.0)
    session = boto3.session.Session()
    management = build_management_client(api.endpoint, "us-east-1", 8, session)
    notifier = ApiGatewayNotifier(
        management_poster(management, session.get_credentials(), transport),
        pool_size=8,
        sleep=lambda s: None,
        encode=encode_event,
        breaker=CircuitBreaker(threshold=1000),
    )
    feed = DynamoChangeFeed(client, table)
    service = ChatService(
        messages=DynamoMessageStore(client, table, feed=feed),
        rooms=DynamoRoomStore(client, table, feed=feed),
        users=DynamoUserStore(client, table),
        connections=DynamoConnectionRegistry(client, table),
        notifier=notifier,
        attachments=MemoryAttachmentStore(),
        clock=Clock(),
        ids=UlidGenerator(),
        feed=feed,
    )
    chaos.share = share
    return service, chaos


def drain(service: ChatService, dynamodb_local: str, table: str, source: Any = None) -> int:
    """What the table's stream and the fan-out do after the posts: every change delivered by
    the real worker (service/delivery.py), read from DynamoDB Local's stream."""
    if source is None:
        source = DynamoSource(
            client_for("dynamodb", dynamodb_local),
            client_for("dynamodbstreams", dynamodb_local),
            table,
        )
        source.start("TRIM_HORIZON")
    delivery = Delivery(service.connections, service.notifier, service.feed, service.clock)
    delivered = 0
    while records := stream_records({"Records": source.read()}):
        for change in (r.change for r in records if r.change is not None):
            for _ in range(10):  # a failed record is delivered again, as the stream does
                try:
                    delivered += delivery.deliver(change)
                    break
                except DeliveryFailed:
                    continue
    return delivered


def with_retries(action: Any, attempts: int = 30) -> tuple[Any, int]:
    """What a client does: retry retryable errors with the same client id."""
    errors = 0
    for _ in range(attempts):
        try:
            return action(), errors
        except ChatError as error:
            assert error.retryable, f"non-retryable {error.code}: {error.message}"
            errors += 1
    raise AssertionError("no ack after all retries")


def test_throttling_gone_slow_and_failing_recipients_lose_nothing(
    dynamodb_local: str, api: ManagementApi, transport: ManagementTransport
) -> None:
    service, chaos = chaotic_service(dynamodb_local, api, 0.0, transport)
    owner = Principal("u-owner", "owner")
    people = [Principal(f"u-{n}", f"user{n}") for n in range(6)]
    room = service.create_room(owner, "faults", RoomKind.PUBLIC)
    for person in people:
        service.join_room(person, room.room_id)
    connections = {f"c-{n}": people[n % len(people)] for n in range(20)}
    for connection_id, person in connections.items():
        service.connect(connection_id, person)
        service.subscribe(person, connection_id, [room.room_id])
    gone = {f"c-{n}" for n in range(0, 20, 3)}  # 7 of 20 (35%) answer 410
    api.gone |= gone
    api.failures.update(
        {"c-1": 2, "c-2": 5}
    )  # one flaky (recovers in retries), one failing a while
    api.delay_s = 0.005

    chaos.share = 0.25
    posted: dict[str, str] = {}
    retried = 0
    for n in range(MESSAGES[transport]):
        author = people[n % len(people)]
        client_id = f"msg-{n}"
        message, errors = with_retries(
            lambda a=author, c=client_id, k=n: service.post_message(a, room.room_id, f"text {k}", c)
        )
        posted[client_id] = message.message_id
        retried += errors
    chaos.share = 0.0
    drain(service, dynamodb_local, service.feed.table_name)  # type: ignore[attr-defined]

    print(
        f"\nfaults: {chaos.injected} of {chaos.calls} DynamoDB calls throttled, {retried} client retries"
    )
    assert chaos.injected > MESSAGES[transport] // 6, "the fault injection really fired"
    assert retried > 0, "some posts needed a retry"
    # Exactly once: every client id once in history, nothing else.
    history = service.history(owner, room.room_id, None, 100).messages
    assert sorted(m.client_id for m in history) == sorted(posted)
    assert {m.message_id for m in history} == set(posted.values())
    # Gone connections were removed, from the room's subscriptions and the registry.
    live = {s.connection_id for s in service.connections.connections_in_room(room.room_id, 0)}
    assert live == set(connections) - gone
    for connection_id in gone:
        assert service.connections.get(connection_id, 0) is None
    # Every live recipient got each message live, or gets it from sync.
    ids = set(posted.values())
    for connection_id in live:
        received = {encode_id(body) for body in api.received.get(connection_id, [])}
        caught_up = {
            m.message_id
            for m in service.sync(connections[connection_id], room.room_id, None, 100).messages
        }
        assert ids <= received | caught_up, connection_id


def encode_id(body: bytes) -> str:
    import json

    frame = json.loads(body)
    return str(frame.get("message", {}).get("id", ""))


def test_storage_faults_reach_the_sender_as_retryable_errors(
    dynamodb_local: str, api: ManagementApi
) -> None:
    service, chaos = chaotic_service(dynamodb_local, api, 0.0, "lean")
    alice = Principal("u-a", "alice")
    room = service.create_room(alice, "throttled", RoomKind.PUBLIC)
    chaos.share = 1.0
    with pytest.raises(ChatError) as refused:
        service.post_message(alice, room.room_id, "hello", "only-once")
    assert refused.value.code == "rate_limited"
    assert refused.value.retryable
    chaos.share = 0.0
    first = service.post_message(alice, room.room_id, "hello", "only-once")
    again = service.post_message(alice, room.room_id, "hello", "only-once")
    assert first == again
    assert len(service.history(alice, room.room_id, None, 10).messages) == 1
