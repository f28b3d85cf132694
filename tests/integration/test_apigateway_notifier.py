"""The API Gateway notifier through the real boto3 client against a loopback management API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog

from dynamotalk.adapters.apigateway import ApiGatewayNotifier, build_management_client
from dynamotalk.domain.events import Typing
from dynamotalk.wire import encode_event
from tests.support.management_api import ManagementApi

EVENT = Typing("room-1", "u-1", "alice")


@pytest.fixture
def api() -> Iterator[ManagementApi]:
    server = ManagementApi.start()
    yield server
    server.stop()


def notifier(api: ManagementApi, pool: int = 8) -> ApiGatewayNotifier:
    client = build_management_client(api.endpoint, "us-east-1", pool_size=pool)
    return ApiGatewayNotifier(client, encode_event, pool_size=pool, sleep=lambda s: None)


def test_every_live_connection_gets_the_payload_once(api: ManagementApi) -> None:
    ids = [f"conn-{n}" for n in range(40)]
    report = notifier(api).send(ids, EVENT)
    assert report.delivered == 40
    assert (report.gone, report.failed) == (frozenset(), frozenset())
    for connection_id in ids:
        assert api.received[connection_id] == [encode_event(EVENT)]
    assert json.loads(api.received["conn-0"][0])["type"] == "typing"


def test_gone_connections_are_reported_not_retried(api: ManagementApi) -> None:
    api.gone |= {"conn-1", "conn-3"}
    report = notifier(api).send(["conn-0", "conn-1", "conn-2", "conn-3"], EVENT)
    assert report.gone == {"conn-1", "conn-3"}
    assert report.delivered == 2
    assert api.attempts["conn-1"] == 1


def test_transient_failures_are_retried_then_delivered(api: ManagementApi) -> None:
    api.failures["flaky"] = 2
    report = notifier(api).send(["flaky", "steady"], EVENT)
    assert report.delivered == 2
    assert api.attempts["flaky"] == 3
    assert api.received["flaky"] == [encode_event(EVENT)]


def test_permanent_failures_are_reported_and_logged_without_raising(api: ManagementApi) -> None:
    api.always_fail.add("broken")
    with structlog.testing.capture_logs() as logs:
        report = notifier(api).send(["broken", "fine"], EVENT)
    assert report.failed == {"broken"}
    assert report.delivered == 1
    assert api.attempts["broken"] == 3
    assert any(e.get("connection_id") == "broken" for e in logs)
    assert all("alice" not in json.dumps(e, default=str) for e in logs), "no payload in logs"


def test_fan_out_is_concurrent_and_bounded_by_the_pool(api: ManagementApi) -> None:
    api.delay_s = 0.05
    report = notifier(api, pool=4).send([f"c{n}" for n in range(16)], EVENT)
    assert report.delivered == 16
    assert 1 < api.max_in_flight <= 4


def test_duplicate_targets_are_sent_once(api: ManagementApi) -> None:
    notifier(api).send(["same", "same", "other"], EVENT)
    assert len(api.received["same"]) == 1


def test_circuit_breaker_opens_on_repeated_failures_and_closes_again(api: ManagementApi) -> None:
    from dynamotalk.resilience import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(threshold=5, cooldown_s=10, clock=lambda: now[0])
    client = build_management_client(api.endpoint, "us-east-1", pool_size=1)
    notifier = ApiGatewayNotifier(
        client, encode_event, pool_size=1, attempts=1, sleep=lambda s: None, breaker=breaker
    )
    ids = [f"down-{n}" for n in range(5)]
    api.always_fail |= set(ids)
    assert notifier.send(ids, EVENT).failed == set(ids)
    assert breaker.state == "open"
    calls = sum(api.attempts.values())
    skipped = notifier.send(["fine-1", "fine-2"], EVENT)
    assert skipped.failed == {"fine-1", "fine-2"}
    assert sum(api.attempts.values()) == calls, "an open breaker does not call the endpoint"
    now[0] += 11
    assert breaker.state == "half-open"
    probe = notifier.send(["fine-1"], EVENT)
    assert probe.delivered == 1
    assert breaker.state == "closed"


def test_gone_answers_never_open_the_breaker(api: ManagementApi) -> None:
    from dynamotalk.resilience import CircuitBreaker

    breaker = CircuitBreaker(threshold=3)
    client = build_management_client(api.endpoint, "us-east-1", pool_size=4)
    notifier = ApiGatewayNotifier(
        client, encode_event, pool_size=4, sleep=lambda s: None, breaker=breaker
    )
    gone = [f"gone-{n}" for n in range(30)]
    api.gone |= set(gone)
    assert notifier.send(gone, EVENT).gone == set(gone)
    assert breaker.state == "closed"
    assert notifier.send(["alive"], EVENT).delivered == 1


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (413, "PayloadTooLargeException"),
        (400, "BadRequestException"),
        (403, "ForbiddenException"),
    ],
)
def test_errors_about_one_payload_or_recipient_never_open_the_breaker(
    api: ManagementApi, status: int, kind: str
) -> None:
    from dynamotalk.resilience import CircuitBreaker

    breaker = CircuitBreaker(threshold=3)
    client = build_management_client(api.endpoint, "us-east-1", pool_size=4)
    notifier = ApiGatewayNotifier(
        client, encode_event, pool_size=4, sleep=lambda s: None, breaker=breaker
    )
    refused = [f"refused-{n}" for n in range(30)]
    api.answers |= {c: (status, kind) for c in refused}
    with structlog.testing.capture_logs() as logs:
        report = notifier.send(refused, EVENT)
    assert report.failed == set(refused)
    assert breaker.state == "closed"
    assert all(api.attempts[c] == 1 for c in refused), "retrying cannot help: no retry"
    assert any(e.get("event") == "post_to_connection_refused" for e in logs)
    assert notifier.send(["another-room"], EVENT).delivered == 1


@pytest.mark.parametrize(
    ("status", "kind"), [(429, "LimitExceededException"), (503, "ServiceUnavailable")]
)
def test_throttling_and_server_errors_are_retried_and_open_the_breaker(
    api: ManagementApi, status: int, kind: str
) -> None:
    from dynamotalk.resilience import CircuitBreaker

    breaker = CircuitBreaker(threshold=3)
    client = build_management_client(api.endpoint, "us-east-1", pool_size=1)
    notifier = ApiGatewayNotifier(
        client, encode_event, pool_size=1, sleep=lambda s: None, breaker=breaker
    )
    down = ["down-1", "down-2", "down-3"]
    api.answers |= {c: (status, kind) for c in down}
    assert notifier.send(down, EVENT).failed == set(down)
    assert api.attempts["down-1"] == notifier.attempts
    assert breaker.state == "open"


def test_a_half_open_probe_that_fails_opens_again(api: ManagementApi) -> None:
    from dynamotalk.resilience import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown_s=5, clock=lambda: now[0])
    client = build_management_client(api.endpoint, "us-east-1", pool_size=1)
    notifier = ApiGatewayNotifier(
        client, encode_event, pool_size=1, attempts=1, sleep=lambda s: None, breaker=breaker
    )
    api.always_fail |= {"x", "y", "z"}
    notifier.send(["x", "y"], EVENT)
    assert breaker.state == "open"
    now[0] += 6
    notifier.send(["z"], EVENT)
    assert breaker.state == "open"


def test_every_post_of_a_fan_out_runs_in_the_callers_context(api: ManagementApi) -> None:
    """Log fields, and locally the invoked function whose IAM policy applies, must follow the
    posts into the pool's threads; a post outside the caller's context would go unchecked."""
    import contextvars

    from dynamotalk.local.invocation import current_function

    seen: list[str | None] = []
    client = build_management_client(api.endpoint, "us-east-1", pool_size=4)
    client.meta.events.register(
        "before-call.apigatewaymanagementapi.PostToConnection",
        lambda **_: seen.append(current_function.get()),
    )
    sender = ApiGatewayNotifier(client, encode_event, pool_size=4, sleep=lambda s: None)
    context = contextvars.copy_context()
    context.run(current_function.set, "ws_default")
    report = context.run(sender.send, [f"conn-{n}" for n in range(12)], EVENT)
    assert report.delivered == 12
    assert seen == ["ws_default"] * 12
