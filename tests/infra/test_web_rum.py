"""CloudWatch RUM (infra/web_rum.py) under Pulumi's mocks: off by default with nothing of it in
the stack, config.json or the CSP; on, an app monitor for the web client's own domains whose
guests may only put events to it, and a config.json and CSP that let the page do exactly that.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest

from infra.settings import StageConfigError, StageSettings, settings_from
from tests.infra.stack_runner import Recorder, run
from tests.infra.test_api_domains import web_config
from tests.infra.test_hardening import allows, directives, served_headers
from tests.infra.test_stack import stage_settings

ON = attrs.evolve(
    stage_settings("prod"),
    rum=True,
    rum_sample_percent=25,
    custom_domain="chat.example.org",
    certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/web",
)
Deployed = tuple[StageSettings, Recorder, dict[str, Any]]


@pytest.fixture(scope="module", params=["dev", "prod"])
def off(request: pytest.FixtureRequest) -> Deployed:
    """The committed stages: RUM is off by default."""
    settings = stage_settings(request.param)
    assert not settings.rum
    recorder, outputs = run(settings)
    return settings, recorder, outputs


@pytest.fixture(scope="module")
def on() -> Deployed:
    recorder, outputs = run(ON)
    return ON, recorder, outputs


def allows_script(sources: list[str], url: str) -> bool:
    """Does a script-src list allow this URL? A host source with a path not ending in `/`
    matches that exact path only (CSP Level 3, path-part match); without a path, any file of
    the origin (tests/infra/test_hardening.allows)."""
    parts = urlsplit(url)
    for source in sources:
        scheme, _, rest = source.partition("://")
        host, slash, path = rest.partition("/")
        if source.startswith("'") or not slash:
            continue
        if (scheme, host, "/" + path) == (parts.scheme, parts.netloc, parts.path):
            return True
    return allows(sources, url)


def csp(recorder: Recorder) -> dict[str, list[str]]:
    (policy,) = recorder.of("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    return directives(served_headers(policy.inputs)["Content-Security-Policy"])


def test_rum_off_leaves_no_trace_in_stack_config_or_csp(off: Deployed) -> None:
    settings, recorder, outputs = off
    assert recorder.of("aws:rum/appMonitor:AppMonitor") == []
    assert recorder.of("aws:cognito/identityPool:IdentityPool") == []
    assert "rum" not in web_config(recorder)
    assert "rumAppMonitorId" not in outputs
    policy = csp(recorder)
    assert policy["script-src"] == ["'self'"]
    for host in ("dataplane.rum", "cognito-identity", "sts"):
        assert not allows(policy["connect-src"], f"https://{host}.{settings.region}.amazonaws.com/")


def test_rum_on_sends_only_from_the_web_clients_domains_to_its_own_monitor(on: Deployed) -> None:
    _settings, recorder, outputs = on
    (monitor,) = recorder.of("aws:rum/appMonitor:AppMonitor")
    (distribution,) = recorder.of("aws:cloudfront/distribution:Distribution")
    served = {distribution.inputs["domainName"], *distribution.inputs.get("aliases", [])}
    assert set(monitor.inputs["domainLists"]) == served
    assert monitor.inputs.get("cwLogEnabled") is False
    (pool,) = recorder.of("aws:cognito/identityPool:IdentityPool")
    assert pool.inputs["allowUnauthenticatedIdentities"] is True
    (attachment,) = recorder.of("aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment")
    (guest,) = [r for r in recorder.of("aws:iam/role:Role") if r.name == "rum-guest"]
    assert attachment.inputs["identityPoolId"] == pool.id
    assert attachment.inputs["roles"] == {"unauthenticated": guest.inputs["arn"]}
    # Only this pool's guests may assume the role...
    (trust,) = guest.json("assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {"cognito-identity.amazonaws.com:aud": pool.id}
    assert trust["Condition"]["ForAnyValue:StringLike"] == {
        "cognito-identity.amazonaws.com:amr": "unauthenticated"
    }
    # ...and it may do one thing: put events to this monitor.
    (policy,) = [
        p for p in recorder.of("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == guest.id
    ]
    (grant,) = policy.json("policy")["Statement"]
    assert (grant["Effect"], grant["Action"]) == ("Allow", "rum:PutRumEvents")
    assert grant["Resource"] == monitor.inputs["arn"]
    assert "*" not in grant["Resource"]
    assert outputs["rumAppMonitorId"] == monitor.inputs["appMonitorId"]


def test_rum_on_config_json_initialises_the_client_and_the_csp_lets_it_run(on: Deployed) -> None:
    settings, recorder, _ = on
    rum = web_config(recorder)["rum"]
    (monitor,) = recorder.of("aws:rum/appMonitor:AppMonitor")
    (pool,) = recorder.of("aws:cognito/identityPool:IdentityPool")
    monitor_config = monitor.inputs["appMonitorConfiguration"]
    assert rum["appMonitorId"] == monitor.inputs["appMonitorId"]
    assert rum["identityPoolId"] == pool.id == monitor_config["identityPoolId"]
    assert rum["guestRoleArn"] == monitor_config["guestRoleArn"]
    assert rum["region"] == settings.region
    assert rum["sessionSampleRate"] == monitor_config["sessionSampleRate"] == 0.25
    assert rum["allowCookies"] is monitor_config["allowCookies"] is False
    policy = csp(recorder)
    assert allows_script(policy["script-src"], rum["scriptUrl"])
    # Only that file: not another release on AWS's CDN, nor its floating `1.x`.
    assert policy["script-src"] == ["'self'", rum["scriptUrl"]]
    cdn = rum["scriptUrl"].rsplit("/", 2)[0]
    for other in (f"{cdn}/1.0.0/cwr.js", f"{cdn}/1.x/cwr.js", f"{cdn}/x.js"):
        assert not allows_script(policy["script-src"], other), other
    assert rum["scriptUrl"].startswith("https://")
    assert "/1.x/" not in rum["scriptUrl"]
    assert allows(policy["connect-src"], rum["endpoint"] + "/appmonitors/x")
    # The basic flow's two calls for guest credentials.
    for host in ("cognito-identity", "sts"):
        assert allows(policy["connect-src"], f"https://{host}.{settings.region}.amazonaws.com/")
    assert not allows_script(policy["script-src"], "https://evil.example.com/x.js")
    assert "'unsafe-inline'" not in policy["script-src"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"rum": True, "rumSamplePercent": 101}, "rumSamplePercent must be 0..100"),
        ({"rumScriptIntegrity": "sha384-" + "A" * 64}, "rumScriptIntegrity needs rum: true"),
        ({"rum": True, "rumScriptIntegrity": "md5-abc"}, "must be an SRI hash"),
    ],
)
def test_rum_settings_are_refused_clearly(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(StageConfigError, match=message):
        settings_from("dev", "eu-west-1", raw)


def test_an_sri_hash_reaches_config_json() -> None:
    integrity = "sha384-" + "B" * 64
    recorder, _ = run(attrs.evolve(stage_settings("dev"), rum=True, rum_script_integrity=integrity))
    assert web_config(recorder)["rum"]["scriptIntegrity"] == integrity
    assert json.loads(json.dumps(web_config(recorder)))["rum"]["version"]
