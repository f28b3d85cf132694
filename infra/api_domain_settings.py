"""Checks of the API domain settings (httpDomain, wsDomain, hostedZoneId, apiCertificateArn,
apiCertificateValidated, apiDnsReady), run by StageSettings with its other checks: apart so
stage.py stays one table of stage. infra/domains.py says what each setting does."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.settings import StageSettings

HOST_NAME = re.compile(r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
"""A lowercase DNS host name with at least one dot (RFC 1123 labels): the APIs' domains."""
HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")
"""A Route 53 hosted zone id (`Z0123456789ABCDEFGHIJ`), without the `/hostedzone/` prefix."""
CERTIFICATE_ARN = re.compile(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/\S+")


def api_domain_problems(stage: StageSettings) -> list[str]:
    """httpDomain and wsDomain are independent (either, both or neither); the other API
    settings mean nothing without one of them, so they are refused alone."""
    problems = []
    domains = {"httpDomain": stage.http_domain, "wsDomain": stage.ws_domain}
    for key, domain in domains.items():
        if domain and not HOST_NAME.fullmatch(domain):
            problems.append(f"{key} {domain!r} must be a lowercase host name like api.x.com")
    if stage.http_domain and stage.http_domain == stage.ws_domain:
        problems.append("httpDomain and wsDomain must differ (one API per domain)")
    if stage.custom_domain and stage.custom_domain in (
        stage.http_domain,
        stage.ws_domain,
    ):
        problems.append("customDomain (the web client's) must differ from the API domains")
    if stage.hosted_zone_id and not HOSTED_ZONE_ID.fullmatch(stage.hosted_zone_id):
        problems.append(f"hostedZoneId {stage.hosted_zone_id!r} is not a Route 53 zone id")
    arn = stage.api_certificate_arn
    if arn and not CERTIFICATE_ARN.fullmatch(arn):
        problems.append("apiCertificateArn must be an ACM certificate ARN")
    elif arn and arn.split(":")[3] != stage.region:
        # API Gateway's regional domains take a certificate of the API's own region only.
        problems.append(f"apiCertificateArn must be in the stack's region {stage.region}")
    if stage.api_certificate_validated and (arn or stage.hosted_zone_id):
        problems.append(
            "apiCertificateValidated is for manual validation only: unset it with "
            "hostedZoneId or apiCertificateArn"
        )
    if stage.api_dns_ready and (stage.hosted_zone_id or not stage.api_domains_live):
        problems.append(
            "apiDnsReady is for DNS kept by hand, once the domains exist: it needs "
            "apiCertificateValidated or apiCertificateArn, and no hostedZoneId"
        )
    if not stage.api_domains and (arn or stage.hosted_zone_id or stage.api_certificate_validated):
        problems.append(
            "hostedZoneId, apiCertificateArn and apiCertificateValidated need httpDomain "
            "or wsDomain"
        )
    return problems
