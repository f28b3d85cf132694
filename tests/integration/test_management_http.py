"""The lean PostToConnection path on the wire: signed as AWS verifies SigV4, one keep-alive
connection per worker thread, and a connection the server dropped replaced before it is used.

The loopback server (tests/support/sigv4_api.py) checks each request's signature with its own
implementation of SigV4 (AWS's published algorithm, not botocore's code), as API Gateway does,
and refuses a bad one with 403 InvalidSignatureException.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from botocore.credentials import Credentials

from dynamotalk.adapters.apigateway import (
    ApiGatewayNotifier,
    build_management_client,
    management_poster,
)
from dynamotalk.adapters.management_http import LeanPoster
from dynamotalk.domain.events import Typing
from dynamotalk.settings import MANAGEMENT_TRANSPORTS, ManagementTransport
from dynamotalk.wire import encode_event
from tests.support.sigv4_api import KEYS, REGION, VerifyingApi, self_signed

EVENT = Typing("room-1", "u-1", "alice")


@pytest.fixture
def api() -> Iterator[VerifyingApi]:
    server = VerifyingApi.start()
    yield server
    server.stop()


def session(key: str = "AKIDLEAN", token: str | None = None) -> Any:
    return boto3.session.Session(
        aws_access_key_id=key,
        aws_secret_access_key=KEYS.get(key, "wrong"),
        aws_session_token=token,
        region_name=REGION,
    )


def notifier(
    api: VerifyingApi, transport: ManagementTransport, aws: Any, pool: int = 4
) -> ApiGatewayNotifier:
    client = build_management_client(api.endpoint, REGION, pool, aws)
    poster = management_poster(client, aws.get_credentials(), transport)
    return ApiGatewayNotifier(poster, encode_event, pool_size=pool, sleep=lambda s: None)


@pytest.mark.parametrize("transport", MANAGEMENT_TRANSPORTS)
@pytest.mark.parametrize("token", [None, "session-token/with+odd=chars"])
def test_posts_are_signed_as_aws_verifies_them(
    api: VerifyingApi, transport: ManagementTransport, token: str | None
) -> None:
    # Ids with characters botocore percent-encodes in the path ('=' as in real ids, '/', ' ').
    ids = ["Ab3=", "x/y", "with space", "plain-id_0.9~"]
    report = notifier(api, transport, session(token=token)).send(ids, EVENT)
    assert api.refused == []
    assert report.delivered == len(ids)
    assert {c: api.received[c] for c in ids} == {c: [encode_event(EVENT)] for c in ids}
    assert api.tokens == [token] * len(ids)


@pytest.mark.parametrize("transport", MANAGEMENT_TRANSPORTS)
def test_a_wrong_secret_is_refused_by_the_verifier(
    api: VerifyingApi, transport: ManagementTransport
) -> None:
    """The verifier can fail: a signature made with another secret is refused, and the
    notifier reports it as refused (403), never retried."""
    wrong = boto3.session.Session(
        aws_access_key_id="AKIDLEAN", aws_secret_access_key="not-the-secret", region_name=REGION
    )
    report = notifier(api, transport, wrong).send(["a", "b"], EVENT)
    assert (report.delivered, report.failed, report.retryable) == (0, {"a", "b"}, frozenset())
    assert sorted(api.refused) == ["a", "b"]


class Rotating:
    """Credentials that change between fan-outs, counting how often they are frozen."""

    def __init__(self) -> None:
        self.current = Credentials("AKIDLEAN", KEYS["AKIDLEAN"])
        self.frozen = 0

    def get_frozen_credentials(self) -> Any:
        self.frozen += 1
        return self.current.get_frozen_credentials()


def test_credentials_are_frozen_once_per_fan_out_and_rotation_is_seen(api: VerifyingApi) -> None:
    credentials = Rotating()
    client = build_management_client(api.endpoint, REGION, 4, session())
    sender = ApiGatewayNotifier(
        management_poster(client, credentials, "lean"), encode_event, pool_size=4
    )
    assert sender.send([f"a{n}" for n in range(10)], EVENT).delivered == 10
    assert credentials.frozen == 1
    credentials.current = Credentials("AKIDNEXT", KEYS["AKIDNEXT"])
    assert sender.send([f"b{n}" for n in range(10)], EVENT).delivered == 10
    assert credentials.frozen == 2
    assert api.access_keys == ["AKIDLEAN"] * 10 + ["AKIDNEXT"] * 10


def test_each_worker_keeps_one_connection_alive(api: VerifyingApi) -> None:
    client = build_management_client(api.endpoint, REGION, 4, session())
    sender = ApiGatewayNotifier(
        management_poster(client, session().get_credentials(), "lean"), encode_event, pool_size=4
    )
    for round_ in range(5):
        assert sender.send([f"r{round_}-{n}" for n in range(20)], EVENT).delivered == 20
    assert api.connections <= 4


def test_a_connection_the_server_dropped_is_replaced_before_it_is_used(
    api: VerifyingApi,
) -> None:
    client = build_management_client(api.endpoint, REGION, 1, session())
    poster = LeanPoster.for_client(client, session().get_credentials())
    post = poster.fan_out()
    api.drop_after_response = True
    assert post("first", b"1").ok
    assert api.dropped.wait(5)
    api.drop_after_response = False
    assert post("second", b"2").ok, "no transport error: the dropped socket was not reused"
    assert (api.received["first"], api.received["second"], api.connections) == ([b"1"], [b"2"], 2)


def test_an_unreachable_endpoint_is_a_transport_error_retried_then_failed() -> None:
    from dynamotalk.local.emulators import free_port

    aws = session()
    client = build_management_client(f"http://127.0.0.1:{free_port()}", REGION, 2, aws)
    sender = ApiGatewayNotifier(
        management_poster(client, aws.get_credentials(), "lean"),
        encode_event,
        pool_size=2,
        sleep=lambda s: None,
    )
    report = sender.send(["a", "b"], EVENT)
    assert (report.failed, report.retryable) == ({"a", "b"}, {"a", "b"})


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://Ab1.execute-api.eu-west-1.amazonaws.com/prod",
        "https://ab1.execute-api.eu-west-1.amazonaws.com:443/prod",
        "https://ab1.execute-api.eu-west-1.amazonaws.com:8443/prod",
        "http://127.0.0.1:80",
        "http://127.0.0.1:3001/",
        "http://[::1]:3001",
    ],
)
def test_the_host_header_is_the_one_botocore_signs(endpoint: str) -> None:
    from botocore.auth import _host_from_url

    poster = LeanPoster(endpoint, REGION, None)
    assert poster._host == _host_from_url(endpoint)


def test_https_endpoints_are_verified_and_kept_alive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """API Gateway is HTTPS: the lean path verifies the server against the CA bundle botocore
    would use (AWS_CA_BUNDLE here), signs the same, and keeps the TLS connection alive."""
    cert, key = self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    api = VerifyingApi.start(tls)
    try:
        aws = session()
        monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
        untrusted = notifier(api, "lean", aws).send(["a"], EVENT)
        assert (untrusted.failed, untrusted.retryable) == ({"a"}, {"a"}), "unverified: refused"
        assert api.received == {}
        monkeypatch.setenv("AWS_CA_BUNDLE", str(cert))
        connections = api.connections
        sender = notifier(api, "lean", aws, pool=2)
        for round_ in range(3):
            assert sender.send([f"r{round_}-{n}" for n in range(10)], EVENT).delivered == 10
        assert api.refused == []
        assert api.connections - connections <= 2
    finally:
        api.stop()


def test_without_credentials_every_post_fails_and_the_sender_does_not(
    api: VerifyingApi, capfd: pytest.CaptureFixture[str]
) -> None:
    """As on botocore's client (NoCredentialsError per post): failed and retryable, no raise."""
    client = build_management_client(api.endpoint, REGION, 2, session())
    sender = ApiGatewayNotifier(
        management_poster(client, None, "lean"), encode_event, pool_size=2, sleep=lambda s: None
    )
    with structlog.testing.capture_logs() as logs:
        report = sender.send(["a", "b"], EVENT)
    assert (report.failed, report.retryable, api.received) == ({"a", "b"}, {"a", "b"}, {})
    # Captured by structlog, or printed when the suite's handlers already cached the logger
    # with their own configuration (cache_logger_on_first_use): the failure is named either way.
    printed = [line for line in capfd.readouterr().out.splitlines() if "post_to_connection" in line]
    named = {e["error"] for e in logs if e["event"] == "post_to_connection_failed"}
    assert named == {"NoCredentialsError"} or (
        bool(printed) and all("NoCredentialsError" in line for line in printed)
    )
