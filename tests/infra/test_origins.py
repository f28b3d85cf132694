"""The deployed web client can call the HTTP API and S3: the origin it is served from is an
allowed CORS origin wherever the browser calls, on every stage (a property, not a copied list).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from dynamotalk.origins import allowed_origins, origin_of
from infra.settings import StageSettings
from tests.infra.stack_runner import Recorder, run
from tests.infra.test_stack import stage_settings

CUSTOM = attrs.evolve(
    stage_settings("prod"),
    custom_domain="chat.example.org",
    certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
)
NO_EXTRAS = attrs.evolve(stage_settings("dev"), cors_origins=())


@pytest.fixture(
    scope="module",
    params=[stage_settings("dev"), stage_settings("prod"), CUSTOM, NO_EXTRAS],
    ids=["dev", "prod", "custom-domain", "no-extra-origins"],
)
def deployed(request: pytest.FixtureRequest) -> tuple[StageSettings, Recorder, dict[str, Any]]:
    settings: StageSettings = request.param
    recorder, outputs = run(settings)
    return settings, recorder, outputs


def origins_the_browser_may_call_from(recorder: Recorder) -> dict[str, set[str]]:
    """Every place the web client calls from a browser -> the origins it accepts."""
    (http_api,) = [
        a for a in recorder.of("aws:apigatewayv2/api:Api") if a.inputs["protocolType"] == "HTTP"
    ]
    (cors,) = recorder.of("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")
    (rule,) = cors.inputs["corsRules"]
    return {
        "HTTP API": set(http_api.inputs["corsConfiguration"]["allowOrigins"]),
        "attachments bucket": set(rule["allowedOrigins"]),
    }


def test_the_web_clients_origin_is_allowed_wherever_the_browser_calls(
    deployed: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    settings, recorder, outputs = deployed
    served_from = {origin_of(outputs["webUrl"])}
    if settings.custom_domain:
        served_from.add(f"https://{settings.custom_domain}")
    # The custom domain is CloudFront's alias, so it really serves the client.
    (distribution,) = recorder.of("aws:cloudfront/distribution:Distribution")
    assert {f"https://{a}" for a in distribution.inputs.get("aliases") or []} <= served_from
    for place, allowed in origins_the_browser_may_call_from(recorder).items():
        assert served_from <= allowed, place
        assert set(settings.cors_origins) <= allowed, place
        # Nothing else: no wildcard, no origin nobody configured.
        assert allowed == served_from | set(settings.cors_origins), place
        assert all(origin == origin_of(origin) for origin in allowed), place


def test_the_bucket_cors_is_on_the_attachments_bucket(
    deployed: tuple[StageSettings, Recorder, dict[str, Any]],
) -> None:
    _, recorder, outputs = deployed
    (cors,) = recorder.of("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")
    assert cors.inputs["bucket"] == outputs["bucketName"]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://d111111abcdef8.cloudfront.net", "https://d111111abcdef8.cloudfront.net"),
        ("https://D111.CloudFront.net/index.html?x=1", "https://d111.cloudfront.net"),
        ("https://chat.example.com:443/", "https://chat.example.com"),
        ("http://localhost:8787/", "http://localhost:8787"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
    ],
)
def test_origin_of_is_what_a_browser_sends(url: str, origin: str) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    "url",
    ["chat.example.com", "ftp://chat.example.com", "https://", "https://a:b@x.com", "*"],
)
def test_not_an_origin_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"origin|credentials"):
        origin_of(url)


def test_allowed_origins_keep_the_clients_own_first_without_repeats() -> None:
    assert allowed_origins(
        ["https://d1.cloudfront.net/", "https://chat.example.org"],
        ["http://localhost:8787", "https://chat.example.org"],
    ) == ["https://d1.cloudfront.net", "https://chat.example.org", "http://localhost:8787"]
    assert allowed_origins(["http://127.0.0.1:8787"], []) == ["http://127.0.0.1:8787"]
