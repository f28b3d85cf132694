"""Custom API domains (infra/domains.py) under Pulumi's mocks, on four stages: with a hosted
zone, with manual validation still pending, with manual validation done, and unconfigured.

Properties, not copies: the web client's config.json points at the custom domains exactly when
they exist, and the CSP lets it reach whatever config.json names (and, with domains, nothing
of execute-api); each mapping targets the API its scheme speaks to and that API's stage; the
certificate is in the API's region; with a zone, DNS validates and aliases; without one, the
stack creates no domain and hands the operator the validation records.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from infra.settings import StageConfigError, StageSettings, settings_from
from tests.infra.stack_runner import Recorder, Resource, run
from tests.infra.test_hardening import allows, directives, served_headers
from tests.infra.test_stack import stage_settings

HTTP_DOMAIN, WS_DOMAIN, ZONE = "api.chat.example.org", "ws.chat.example.org", "Z0123456789ABC"
BASE = stage_settings("prod")
STAGES = {
    "zone": attrs.evolve(BASE, http_domain=HTTP_DOMAIN, ws_domain=WS_DOMAIN, hosted_zone_id=ZONE),
    "manual-pending": attrs.evolve(BASE, http_domain=HTTP_DOMAIN, ws_domain=WS_DOMAIN),
    "manual-validated": attrs.evolve(
        stage_settings("dev"), ws_domain=WS_DOMAIN, api_certificate_validated=True
    ),
    "manual-dns-ready": attrs.evolve(
        stage_settings("dev"),
        ws_domain=WS_DOMAIN,
        api_certificate_validated=True,
        api_dns_ready=True,
    ),
    "unconfigured": stage_settings("dev"),
}
Deployed = tuple[StageSettings, Recorder, dict[str, Any]]


@pytest.fixture(scope="module", params=list(STAGES))
def deployed(request: pytest.FixtureRequest) -> Deployed:
    settings = STAGES[request.param]
    recorder, outputs = run(settings)
    return settings, recorder, outputs


def web_config(recorder: Recorder) -> dict[str, Any]:
    (obj,) = [
        o
        for o in recorder.of("aws:s3/bucketObjectv2:BucketObjectv2")
        if o.inputs["key"] == "config.json"
    ]
    config: dict[str, Any] = json.loads(obj.inputs["content"])
    return config


def connect_sources(recorder: Recorder) -> list[str]:
    (policy,) = recorder.of("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    return directives(served_headers(policy.inputs)["Content-Security-Policy"])["connect-src"]


def apis_by_protocol(recorder: Recorder) -> dict[str, Resource]:
    return {a.inputs["protocolType"]: a for a in recorder.of("aws:apigatewayv2/api:Api")}


def test_the_web_client_calls_the_custom_domains_exactly_when_they_exist(
    deployed: Deployed,
) -> None:
    settings, recorder, outputs = deployed
    config = web_config(recorder)
    apis = apis_by_protocol(recorder)
    created = {
        d.inputs["domainName"] for d in recorder.of("aws:apigatewayv2/domainName:DomainName")
    }
    # A domain is named once it resolves: aliased in the zone, or confirmed by apiDnsReady.
    resolves = created if (settings.hosted_zone_id or settings.api_dns_ready) else set()
    expected_http = f"https://{settings.http_domain}" if settings.http_domain in resolves else None
    expected_ws = f"wss://{settings.ws_domain}" if settings.ws_domain in resolves else None
    assert config["httpUrl"] == (expected_http or apis["HTTP"].inputs["apiEndpoint"])
    assert config["wsUrl"].startswith(expected_ws or apis["WEBSOCKET"].inputs["apiEndpoint"])
    # The stack's outputs agree with config.json, and the raw endpoints stay reachable.
    assert (outputs["httpUrl"], outputs["wsUrl"]) == (config["httpUrl"], config["wsUrl"])
    assert outputs["httpExecuteApiUrl"] == apis["HTTP"].inputs["apiEndpoint"]
    assert outputs["wsExecuteApiUrl"].startswith(apis["WEBSOCKET"].inputs["apiEndpoint"])
    assert created == (set(settings.api_domains) if settings.api_domains_live else set())


def test_the_csp_allows_what_config_json_names_and_with_domains_no_execute_api(
    deployed: Deployed,
) -> None:
    settings, recorder, _ = deployed
    config, sources = web_config(recorder), connect_sources(recorder)
    for name in ("httpUrl", "wsUrl", "cognitoUrl"):
        assert allows(sources, config[name]), name
    any_api = f"execute-api.{settings.region}.amazonaws.com"
    if settings.api_domains_served and settings.ws_domain:
        assert f"wss://{settings.ws_domain}" in sources
        assert not allows(sources, f"wss://abc.{any_api}/{settings.stage}")
    if settings.api_domains_served and settings.http_domain:
        assert not allows(sources, f"https://abc.{any_api}/rooms")


def test_each_mapping_targets_the_api_of_its_domain_and_that_apis_stage(
    deployed: Deployed,
) -> None:
    settings, recorder, _ = deployed
    apis = apis_by_protocol(recorder)
    stages = {
        s.inputs["apiId"]: s.inputs["name"] for s in recorder.of("aws:apigatewayv2/stage:Stage")
    }
    domains = {d.id: d for d in recorder.of("aws:apigatewayv2/domainName:DomainName")}
    mappings = recorder.of("aws:apigatewayv2/apiMapping:ApiMapping")
    assert len(mappings) == len(domains)
    for mapping in mappings:
        domain = domains[mapping.inputs["domainName"]].inputs["domainName"]
        api = apis["HTTP" if domain == settings.http_domain else "WEBSOCKET"]
        assert mapping.inputs["apiId"] == api.id
        assert mapping.inputs["stage"] == stages[api.id]
        assert not mapping.inputs.get("apiMappingKey"), "the domain's root is the API"
    if domains:
        assert stages[apis["WEBSOCKET"].id] == settings.stage
        assert stages[apis["HTTP"].id] == "$default"


def test_the_certificate_is_in_the_apis_region_and_regional_tls12(deployed: Deployed) -> None:
    settings, recorder, _ = deployed
    for certificate in recorder.of("aws:acm/certificate:Certificate"):
        assert certificate.inputs["region"] == settings.region
        assert certificate.inputs["validationMethod"] == "DNS"
        names = {
            certificate.inputs["domainName"],
            *certificate.inputs.get("subjectAlternativeNames", []),
        }
        assert names == set(settings.api_domains)
    for domain in recorder.of("aws:apigatewayv2/domainName:DomainName"):
        config = domain.inputs["domainNameConfiguration"]
        assert config["certificateArn"].split(":")[3] == settings.region
        assert (config["endpointType"], config["securityPolicy"]) == ("REGIONAL", "TLS_1_2")
        assert domain.inputs["region"] == settings.region


def test_a_hosted_zone_validates_and_aliases_and_none_leaves_dns_to_the_operator(
    deployed: Deployed,
) -> None:
    settings, recorder, outputs = deployed
    records = recorder.of("aws:route53/record:Record")
    waits = recorder.of("aws:acm/certificateValidation:CertificateValidation")
    if not settings.api_domains:
        assert not records
        assert not waits
        assert not recorder.of("aws:acm/certificate:Certificate")
        assert "apiCertificateArn" not in outputs
        return
    (_certificate,) = recorder.of("aws:acm/certificate:Certificate")
    validation = json.loads(outputs["apiCertificateValidation"])
    assert {v["domain"] for v in validation} == set(settings.api_domains)
    if not settings.hosted_zone_id:
        assert records == []
        assert len(waits) == (1 if settings.api_certificate_validated else 0)
        return
    assert {r.inputs["zoneId"] for r in records} == {settings.hosted_zone_id}
    cnames = {
        (r.inputs["name"], r.inputs["records"][0]) for r in records if r.inputs["type"] == "CNAME"
    }
    assert cnames == {(v["name"], v["value"]) for v in validation}
    (wait,) = waits
    assert sorted(wait.inputs["validationRecordFqdns"]) == sorted(name for name, _ in cnames)
    targets = {
        d.inputs["domainName"]: d.inputs["domainNameConfiguration"]["targetDomainName"]
        for d in recorder.of("aws:apigatewayv2/domainName:DomainName")
    }
    aliases = {
        (r.inputs["name"], r.inputs["type"]): r.inputs["aliases"][0]["name"]
        for r in records
        if r.inputs["type"] in ("A", "AAAA")
    }
    assert aliases == {(d, t): targets[d] for d in settings.api_domains for t in ("A", "AAAA")}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"httpDomain": "API.example.com"}, "httpDomain 'API.example.com' must be a lowercase"),
        ({"wsDomain": "localhost"}, "wsDomain 'localhost' must be a lowercase host name"),
        ({"httpDomain": "a.example.com", "wsDomain": "a.example.com"}, "must differ"),
        ({"hostedZoneId": ZONE}, "need httpDomain or wsDomain"),
        ({"wsDomain": WS_DOMAIN, "hostedZoneId": "/hostedzone/Z1"}, "not a Route 53 zone id"),
        (
            {
                "wsDomain": WS_DOMAIN,
                "apiCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
            },
            "apiCertificateArn must be in the stack's region eu-west-1",
        ),
        (
            {"wsDomain": WS_DOMAIN, "hostedZoneId": ZONE, "apiCertificateValidated": True},
            "apiCertificateValidated is for manual validation only",
        ),
        ({"wsDomain": WS_DOMAIN, "apiDnsReady": True}, "apiDnsReady is for DNS kept by hand"),
        (
            {"wsDomain": WS_DOMAIN, "hostedZoneId": ZONE, "apiDnsReady": True},
            "apiDnsReady is for DNS kept by hand",
        ),
    ],
)
def test_api_domain_settings_are_refused_early_and_clearly(
    raw: dict[str, Any], message: str
) -> None:
    with pytest.raises(StageConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings_from("dev", "eu-west-1", raw)


def test_an_own_certificate_of_the_region_maps_the_domain_at_once() -> None:
    """Without a zone the operator keeps DNS: once apiDnsReady, config.json names the domain."""
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/own"
    raw = {"httpDomain": HTTP_DOMAIN, "apiCertificateArn": arn}
    recorder, outputs = run(settings_from("dev", "eu-west-1", raw))
    assert recorder.of("aws:acm/certificate:Certificate") == []
    (domain,) = recorder.of("aws:apigatewayv2/domainName:DomainName")
    assert domain.inputs["domainNameConfiguration"]["certificateArn"] == arn
    assert outputs["httpUrl"] == outputs["httpExecuteApiUrl"], "DNS not confirmed yet"
    assert json.loads(outputs["apiDomainTargets"])[HTTP_DOMAIN].endswith(".amazonaws.com")
    _, outputs = run(settings_from("dev", "eu-west-1", {**raw, "apiDnsReady": True}))
    assert outputs["httpUrl"] == f"https://{HTTP_DOMAIN}"
    assert outputs["wsUrl"] == outputs["wsExecuteApiUrl"]
