"""The API Gateway notifier against a loopback management API, over both transports.

Every behaviour is checked on the botocore client's path and on the lean path (our own signed
requests over keep-alive connections, adapters/management_http.py): the contract they share.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import structlog

from dynamotalk.adapters.apigateway import (
    ApiGatewayNotifier,
    build_management_client,
    management_poster,
)
from dynamotalk.domain.events import Typing
from dynamotalk.settings import MANAGEMENT_TRANSPORTS, ManagementTransport
from dynamotalk.wire import encode_event
from tests.support.management_api import ManagementApi

EVENT = Typing("room-1", "u-1", "alice")


@pytest.fixture
def api() -> Iterator[ManagementApi]:
    server = ManagementApi.start()
    yield server
    server.stop()


@pytest.fixture(params=MANAGEMENT_TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> ManagementTransport:
    return request.param  # type: ignore[no-any-return]


def make(
    api: ManagementApi, transport: ManagementTransport, pool: int = 8, **options: Any
) -> ApiGatewayNotifier:
    """A notifier posting to `api` over `transport`, on a client of its own session."""
    client, session = client_and_session(api, pool)
    poster = management_poster(client, session.get_credentials(), transport)
    return ApiGatewayNotifier(
        poster, encode_event, pool_size=pool, **{"sleep": lambda s: None, **options}
    )


def client_and_session(api: ManagementApi, pool: int) -> tuple[Any, Any]:
    session = boto3.session.Session()
    return build_management_client(api.endpoint, "us-east-1", pool, session), session


def notifier(api: ManagementApi, transport: ManagementTransport) -> ApiGatewayNotifier:
    return make(api, transport)


def test_every_live_connection_gets_the_payload_once(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    ids = [f"conn-{n}" for n in range(40)]
    report = notifier(api, transport).send(ids, EVENT)
    assert report.delivered == 40
    assert (report.gone, report.failed) == (frozenset(), frozenset())
    for connection_id in ids:
        assert api.received[connection_id] == [encode_event(EVENT)]
    assert json.loads(api.received["conn-0"][0])["type"] == "typing"


def test_gone_connections_are_reported_not_retried(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    api.gone |= {"conn-1", "conn-3"}
    report = notifier(api, transport).send(["conn-0", "conn-1", "conn-2", "conn-3"], EVENT)
    assert report.gone == {"conn-1", "conn-3"}
    assert report.delivered == 2
    assert api.attempts["conn-1"] == 1


def test_transient_failures_are_retried_then_delivered(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    api.failures["flaky"] = 2
    report = notifier(api, transport).send(["flaky", "steady"], EVENT)
    assert report.delivered == 2
    assert api.attempts["flaky"] == 3
    assert api.received["flaky"] == [encode_event(EVENT)]


def test_permanent_failures_are_reported_and_logged_without_raising(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    api.always_fail.add("broken")
    with structlog.testing.capture_logs() as logs:
        report = notifier(api, transport).send(["broken", "fine"], EVENT)
    assert report.failed == {"broken"}
    assert report.delivered == 1
    assert api.attempts["broken"] == 3
    assert any(e.get("connection_id") == "broken" for e in logs)
    assert all("alice" not in json.dumps(e, default=str) for e in logs), "no payload in logs"


def test_fan_out_is_concurrent_and_bounded_by_the_pool(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    api.delay_s = 0.05
    report = make(api, transport, pool=4).send([f"c{n}" for n in range(16)], EVENT)
    assert report.delivered == 16
    assert 1 < api.max_in_flight <= 4


def test_duplicate_targets_are_sent_once(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    notifier(api, transport).send(["same", "same", "other"], EVENT)
    assert len(api.received["same"]) == 1


def test_circuit_breaker_opens_on_repeated_failures_and_closes_again(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    from dynamotalk.resilience import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(threshold=5, cooldown_s=10, clock=lambda: now[0])
    notifier = make(api, transport, 1, attempts=1, breaker=breaker)
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


def test_gone_answers_never_open_the_breaker(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    from dynamotalk.resilience import CircuitBreaker

    breaker = CircuitBreaker(threshold=3)
    notifier = make(api, transport, 4, breaker=breaker)
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
    api: ManagementApi, transport: ManagementTransport, status: int, kind: str
) -> None:
    from dynamotalk.resilience import CircuitBreaker

    breaker = CircuitBreaker(threshold=3)
    notifier = make(api, transport, 4, breaker=breaker)
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
    api: ManagementApi, transport: ManagementTransport, status: int, kind: str
) -> None:
    from dynamotalk.resilience import CircuitBreaker

    breaker = CircuitBreaker(threshold=3)
    notifier = make(api, transport, 1, breaker=breaker)
    down = ["down-1", "down-2", "down-3"]
    api.answers |= {c: (status, kind) for c in down}
    assert notifier.send(down, EVENT).failed == set(down)
    assert api.attempts["down-1"] == notifier.attempts
    assert breaker.state == "open"


def test_a_half_open_probe_that_fails_opens_again(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    from dynamotalk.resilience import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown_s=5, clock=lambda: now[0])
    notifier = make(api, transport, 1, attempts=1, breaker=breaker)
    api.always_fail |= {"x", "y", "z"}
    notifier.send(["x", "y"], EVENT)
    assert breaker.state == "open"
    now[0] += 6
    notifier.send(["z"], EVENT)
    assert breaker.state == "open"


def test_every_post_of_a_fan_out_runs_in_the_callers_context(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    """Log fields, and locally the invoked function whose IAM policy applies, must follow the
    posts into the pool's threads; a post outside the caller's context would go unchecked."""
    import contextvars

    from dynamotalk.local.invocation import current_function

    seen: list[tuple[str, str | None]] = []
    client, session = client_and_session(api, 4)
    client.meta.events.register(
        "before-parameter-build.apigatewaymanagementapi.PostToConnection",
        lambda params, **_: seen.append((params["ConnectionId"], current_function.get())),
    )
    client.meta.events.register(
        "before-call.apigatewaymanagementapi.PostToConnection",
        lambda **_: seen.append(("call", current_function.get())),
    )
    poster = management_poster(client, session.get_credentials(), transport)
    sender = ApiGatewayNotifier(poster, encode_event, pool_size=4, sleep=lambda s: None)
    context = contextvars.copy_context()
    context.run(current_function.set, "ws_default")
    ids = [f"conn-{n}" for n in range(12)]
    report = context.run(sender.send, ids, EVENT)
    assert report.delivered == 12
    assert sorted(seen) == sorted([(c, "ws_default") for c in ids] + [("call", "ws_default")] * 12)


def test_a_hook_answering_before_the_call_replaces_the_request(
    api: ManagementApi, transport: ManagementTransport
) -> None:
    """As the local stack's IAM check answers a denied call (local/iam/enforce.py): a 403
    AccessDeniedException from a `before-call` hook, on either transport, is that post's
    refusal and the endpoint never hears of it."""
    from botocore.awsrequest import AWSResponse

    client, session = client_and_session(api, 4)

    def deny(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not params["url"].endswith("/denied"):
            return None
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
        return AWSResponse(params["url"], 403, {}, None), {
            **error,
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    client.meta.events.register("before-call.apigatewaymanagementapi.PostToConnection", deny)
    poster = management_poster(client, session.get_credentials(), transport)
    sender = ApiGatewayNotifier(poster, encode_event, pool_size=4, sleep=lambda s: None)
    with structlog.testing.capture_logs() as logs:
        report = sender.send(["denied", "allowed"], EVENT)
    assert (report.delivered, report.failed, report.retryable) == (1, {"denied"}, frozenset())
    assert "denied" not in api.attempts
    assert api.received["allowed"] == [encode_event(EVENT)]
    assert [e["error"] for e in logs if e["event"] == "post_to_connection_refused"] == [
        "AccessDeniedException"
    ]
