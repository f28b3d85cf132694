"""The switch between the management API's transports (settings.MANAGEMENT_TRANSPORT_ENV), as
the composition root reads it: both notifiers it builds (the service's and the fan-out's) post
over the transport named, lean when unset, to the stage's management endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dynamotalk import bootstrap
from dynamotalk.adapters.apigateway import ApiGatewayNotifier, BotocorePoster
from dynamotalk.adapters.management_http import LeanPoster
from dynamotalk.domain.events import Typing
from dynamotalk.local.emulators import DUMMY_CREDENTIALS
from dynamotalk.settings import (
    ENV,
    MANAGEMENT_TRANSPORT_ENV,
    SettingsError,
    environment,
    management_transport,
)
from dynamotalk.wire import encode_event
from tests.support.management_api import ManagementApi

EVENT = Typing("room-1", "u-1", "alice")
CACHES = (bootstrap.settings, bootstrap.service, bootstrap._session, bootstrap._management)


def test_lean_is_the_default_and_anything_but_the_two_names_fails() -> None:
    assert management_transport({}) == "lean"
    assert management_transport({MANAGEMENT_TRANSPORT_ENV: " botocore "}) == "botocore"
    assert management_transport({MANAGEMENT_TRANSPORT_ENV: "lean"}) == "lean"
    with pytest.raises(SettingsError, match="lean, botocore"):
        management_transport({MANAGEMENT_TRANSPORT_ENV: "urllib3"})


@pytest.fixture
def wired(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementApi]:
    """A Lambda-like environment (memory stores) whose management endpoint is a loopback API."""
    api = ManagementApi.start()
    env = {
        **DUMMY_CREDENTIALS,
        **environment(stage="dev", region="us-east-1", table_name="t", bucket_name="b"),
        ENV["management_endpoint"]: api.endpoint,
        "DYNAMOTALK_STORAGE": "memory",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for cached in CACHES:
        cached.cache_clear()
    bootstrap.delivery.cache_clear()
    try:
        yield api
    finally:
        for cached in (*CACHES, bootstrap.delivery):
            cached.cache_clear()
        api.stop()


@pytest.mark.parametrize(
    ("value", "poster"), [(None, LeanPoster), ("lean", LeanPoster), ("botocore", BotocorePoster)]
)
def test_the_composition_roots_notifiers_post_over_the_transport_named(
    wired: ManagementApi, monkeypatch: pytest.MonkeyPatch, value: str | None, poster: type
) -> None:
    if value is None:
        monkeypatch.delenv(MANAGEMENT_TRANSPORT_ENV, raising=False)
    else:
        monkeypatch.setenv(MANAGEMENT_TRANSPORT_ENV, value)
    notifiers = [bootstrap.service().notifier, bootstrap.delivery().notifier]
    for n, notifier in enumerate(notifiers):
        assert isinstance(notifier, ApiGatewayNotifier)
        assert type(notifier.poster) is poster
        assert notifier.send([f"conn-{n}", f"other-{n}"], EVENT).delivered == 2
        assert wired.received[f"conn-{n}"] == [encode_event(EVENT)]
