"""Hardening under Pulumi's mocks: the web distribution's security headers, the user pool's
password policy, MFA and threat protection, and the lifecycle rule that expires unreferenced
uploads. Each checks the deployed resource against the one home of its values."""

from __future__ import annotations

import fnmatch
import json
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest

from dynamotalk import upload_expiry, webheaders
from dynamotalk.userpool import PROTECTED_MIN_PASSWORD
from infra.settings import StageConfigError, StageSettings
from tests.infra.stack_runner import Recorder, run
from tests.infra.test_stack import stage_settings

Stack = tuple[StageSettings, Recorder, dict[str, Any]]


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> Stack:
    """The committed stages; prod with threat protection in audit mode, so one run each covers
    both sides of that setting (the committed Pulumi.prod.yaml leaves it off)."""
    settings = stage_settings(request.param)
    if settings.protected:
        assert settings.cognito_threat_protection == "off"
        settings = attrs.evolve(settings, cognito_threat_protection="audit")
    recorder, outputs = run(settings)
    return settings, recorder, outputs


def served_headers(policy: dict[str, Any]) -> dict[str, str]:
    """The headers CloudFront adds for a response headers policy's securityHeadersConfig."""
    config = policy["securityHeadersConfig"]
    hsts = config["strictTransportSecurity"]
    sts = f"max-age={int(hsts['accessControlMaxAgeSec'])}"  # the mocks hand numbers as floats
    if hsts.get("includeSubdomains"):
        sts += "; includeSubDomains"
    if hsts.get("preload"):
        sts += "; preload"
    assert all(config[name]["override"] is True for name in config), "the origin cannot weaken"
    return {
        "Content-Security-Policy": config["contentSecurityPolicy"]["contentSecurityPolicy"],
        "Strict-Transport-Security": sts,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": config["frameOptions"]["frameOption"],
        "Referrer-Policy": config["referrerPolicy"]["referrerPolicy"],
    }


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def allows(sources: list[str], url: str) -> bool:
    """Does a CSP source list (host sources, as written here) allow this URL?"""
    parts = urlsplit(url)
    for source in sources:
        if source.startswith("'"):
            continue
        scheme, host = source.split("://", 1)
        if scheme == parts.scheme and fnmatch.fnmatchcase(parts.netloc, host):
            return True
    return False


def test_the_distribution_serves_the_one_header_set(stack: Stack) -> None:
    settings, recorder, outputs = stack
    (policy,) = recorder.of("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    (distribution,) = recorder.of("aws:cloudfront/distribution:Distribution")
    assert distribution.inputs["defaultCacheBehavior"]["responseHeadersPolicyId"] == policy.id
    assert not distribution.inputs.get("orderedCacheBehaviors"), "every path gets the headers"
    origins = webheaders.WebOrigins(
        api=webheaders.execute_api_hosts(settings.region),
        websocket=webheaders.source_of(outputs["wsUrl"]),
        cognito=f"https://cognito-idp.{settings.region}.amazonaws.com",
        files=webheaders.bucket_origins(outputs["bucketName"], settings.region),
    )
    assert served_headers(policy.inputs) == webheaders.security_headers(origins).as_http()


def test_the_csp_allows_no_inline_code_and_only_what_the_client_uses(stack: Stack) -> None:
    settings, recorder, outputs = stack
    (policy,) = recorder.of("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    headers = served_headers(policy.inputs)
    csp = directives(headers["Content-Security-Policy"])
    for name in ("script-src", "style-src", "default-src", "connect-src", "img-src"):
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "https:"} & set(csp[name])
    assert csp["script-src"] == csp["style-src"] == ["'self'"]
    assert csp["default-src"] == csp["object-src"] == csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == csp["form-action"] == ["'none'"]
    # Every endpoint config.json names is reachable; an S3 URL of another bucket is not.
    (config_object,) = [
        o
        for o in recorder.of("aws:s3/bucketObjectv2:BucketObjectv2")
        if o.inputs["key"] == "config.json"
    ]
    config = json.loads(config_object.inputs["content"])
    for name in ("wsUrl", "httpUrl", "cognitoUrl"):
        assert allows(csp["connect-src"], config[name]), name
    upload = f"https://{outputs['bucketName']}.s3.amazonaws.com/"
    download = f"https://{outputs['bucketName']}.s3.{settings.region}.amazonaws.com/rooms/x.png"
    assert allows(csp["connect-src"], upload)
    assert allows(csp["img-src"], download)
    assert not allows(csp["img-src"], "https://other-bucket.s3.amazonaws.com/x.png")
    assert not allows(csp["connect-src"], "https://evil.example.com/")
    assert not allows(csp["connect-src"], "wss://other.execute-api.eu-west-1.amazonaws.com/dev")
    # HSTS for a year at least, on every stage: CloudFront only ever answers on https.
    assert "max-age=" in headers["Strict-Transport-Security"]
    max_age = policy.inputs["securityHeadersConfig"]["strictTransportSecurity"]
    assert max_age["accessControlMaxAgeSec"] >= 31_536_000
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_prod_passwords_and_mfa_dev_kept_convenient(stack: Stack) -> None:
    settings, recorder, _ = stack
    (pool,) = recorder.of("aws:cognito/userPool:UserPool")
    policy = pool.inputs["passwordPolicy"]
    if settings.protected:
        assert policy["minimumLength"] >= PROTECTED_MIN_PASSWORD == 12
        assert pool.inputs["mfaConfiguration"] == "OPTIONAL"
        assert pool.inputs["softwareTokenMfaConfiguration"] == {"enabled": True}
    else:
        assert 8 <= policy["minimumLength"] < PROTECTED_MIN_PASSWORD
        assert pool.inputs.get("mfaConfiguration", "OFF") == "OFF"
    # Threat protection: the Plus plan only where it is on (prod here, in audit mode).
    if settings.cognito_threat_protection == "off":
        assert "userPoolAddOns" not in pool.inputs
        assert "userPoolTier" not in pool.inputs
    else:
        assert pool.inputs["userPoolAddOns"] == {"advancedSecurityMode": "AUDIT"}
        assert pool.inputs["userPoolTier"] == "PLUS"


def test_an_unknown_threat_protection_mode_is_refused() -> None:
    with pytest.raises(StageConfigError, match="cognitoThreatProtection"):
        attrs.evolve(stage_settings("dev"), cognito_threat_protection="ON")


def test_unreferenced_uploads_expire_by_tag(stack: Stack) -> None:
    _, recorder, outputs = stack
    (lifecycle,) = recorder.of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle.inputs["bucket"] == outputs["bucketName"]
    rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
    rule = rules[upload_expiry.LIFECYCLE_RULE_ID]
    assert rule["status"] == "Enabled"
    key, value = upload_expiry.UNREFERENCED_TAG
    # Only tagged objects: a rule without the tag filter would expire every attachment.
    assert rule["filter"] == {"tag": {"key": key, "value": value}}
    # Referencing retags with the same key and another value: the filter stops matching.
    assert upload_expiry.REFERENCED_TAG[0] == key
    assert upload_expiry.REFERENCED_TAG[1] != value
    assert rule["expiration"] == {"days": upload_expiry.UNREFERENCED_EXPIRY_DAYS}
    assert upload_expiry.UNREFERENCED_EXPIRY_DAYS >= 2
