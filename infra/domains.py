"""Custom domains of the two APIs (`httpDomain`, `wsDomain`): an ACM certificate, API Gateway
regional domain names mapped to the APIs' stages, and Route 53 alias records.

API Gateway's regional custom domains take a certificate from ACM in the API's own region
(unlike CloudFront's, which must be in us-east-1): "You must provide a Region-specific ACM
certificate. This certificate must be in the same Region as your API"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-regional-api-custom-domain-create.html).
So the certificate, the domain names and the mappings all name the stack's region.

Three ways to a certificate, so `pulumi up` never waits on DNS nobody will write:
- `hostedZoneId`: the stack requests one certificate for both domains, writes its DNS
  validation records in the zone, waits for ACM to issue it (CertificateValidation), then
  creates the domains, mappings and alias A/AAAA records.
- `apiCertificateArn`: an issued certificate of the operator's; domains and mappings at once.
- neither: the stack requests the certificate and exports its validation records
  (`apiCertificateValidation`) for the operator to add by hand; no domain yet, config.json keeps
  the execute-api URLs. Once the records are in, `apiCertificateValidated: true` and `pulumi up`
  waits (at most VALIDATION_WAIT) for the issue and creates the domains and mappings. The
  operator then points each domain at its target (output `apiDomainTargets`, a CNAME) and sets
  `apiDnsReady: true`: only then do config.json and the CSP switch, so no client is sent to a
  name that does not resolve yet. With a hosted zone the stack writes the alias records itself
  and switches in the same `pulumi up`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import attrs
import pulumi
import pulumi_aws as aws

from infra.http_api import HttpApi
from infra.settings import StageSettings
from infra.websocket_api import WebSocketApi

SECURITY_POLICY = "TLS_1_2"
"""The only minimum TLS version API Gateway offers HTTP and WebSocket custom domains."""
IP_ADDRESS_TYPE = "dualstack"
"""IPv4 and IPv6 (AWS recommends dualstack; the default is IPv4), hence an A and an AAAA alias."""
VALIDATION_WAIT = "30m"
"""How long `pulumi up` waits for ACM to issue the certificate once its records are in DNS."""
VALIDATION_RECORD_TTL_S = 300


def _option_of(
    domain: str, options: list[aws.acm.outputs.CertificateDomainValidationOption]
) -> aws.acm.outputs.CertificateDomainValidationOption:
    """The certificate's validation record of one of its names."""
    return next(o for o in options if o.domain_name == domain)


@attrs.frozen
class MappedApi:
    """One API that gets a custom domain: the domain's root maps to the API's stage."""

    domain: str
    api_id: pulumi.Input[str]
    stage: pulumi.Input[str]
    """The stage's name, from the Stage resource (so the mapping waits for the stage)."""
    scheme: str
    """`https` for the HTTP API, `wss` for the WebSocket API."""


class ApiDomains(pulumi.ComponentResource):
    """The certificate, and (once it can be issued) the domains, mappings and DNS records."""

    certificate_arn: pulumi.Output[str]
    urls: dict[str, pulumi.Output[str]]
    """domain -> the URL clients use (`https://api...`, `wss://ws...`): only once the domains
    resolve (settings.api_domains_served); config.json keeps the execute-api URLs until then."""
    targets: dict[str, pulumi.Output[str]]
    """domain -> API Gateway's regional host name the domain's DNS points at (alias/CNAME)."""
    validation: pulumi.Output[list[dict[str, str]]] | None
    """The certificate's DNS validation records (name, type, value) when the stack requested
    it: what the operator adds by hand without a hosted zone."""

    def __init__(
        self,
        name: str,
        settings: StageSettings,
        apis: Sequence[MappedApi],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:api:ApiDomains", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.urls, self.targets, self.validation = {}, {}, None
        zone = settings.hosted_zone_id
        if settings.api_certificate_arn:
            self.certificate_arn = pulumi.Output.from_input(settings.api_certificate_arn)
        else:
            self.certificate_arn = self._request_certificate(
                name, settings, [a.domain for a in apis]
            )
        if not settings.api_domains_live:
            self.register_outputs({"certificateArn": self.certificate_arn})
            return
        for api in apis:
            slug = api.domain.replace(".", "-")
            domain = aws.apigatewayv2.DomainName(
                f"{name}-{slug}",
                domain_name=api.domain,
                region=settings.region,
                domain_name_configuration=aws.apigatewayv2.DomainNameDomainNameConfigurationArgs(
                    certificate_arn=self.certificate_arn,
                    endpoint_type="REGIONAL",
                    security_policy=SECURITY_POLICY,
                    ip_address_type=IP_ADDRESS_TYPE,
                ),
                opts=child,
            )
            aws.apigatewayv2.ApiMapping(
                f"{name}-{slug}-mapping",
                api_id=api.api_id,
                domain_name=domain.id,
                stage=api.stage,
                region=settings.region,
                opts=child,
            )
            config = domain.domain_name_configuration
            self.targets[api.domain] = config.apply(lambda c: c.target_domain_name or "")
            if zone or settings.api_dns_ready:  # settings.api_domains_served: the name resolves
                self.urls[api.domain] = pulumi.Output.from_input(f"{api.scheme}://{api.domain}")
            if zone:
                for record_type in ("A", "AAAA"):
                    aws.route53.Record(
                        f"{name}-{slug}-{record_type.lower()}",
                        zone_id=zone,
                        name=api.domain,
                        type=record_type,
                        aliases=[
                            aws.route53.RecordAliasArgs(
                                name=self.targets[api.domain],
                                zone_id=config.apply(lambda c: c.hosted_zone_id or ""),
                                evaluate_target_health=False,
                            )
                        ],
                        opts=child,
                    )
        self.register_outputs({"certificateArn": self.certificate_arn, "urls": self.urls})

    def _request_certificate(
        self, name: str, settings: StageSettings, domains: list[str]
    ) -> pulumi.Output[str]:
        """One certificate for both domains (DNS validation), and what makes it issued: records
        in the hosted zone, or the operator's word that the records are in (manual)."""
        child = pulumi.ResourceOptions(parent=self)
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=domains[0],
            subject_alternative_names=domains[1:],
            validation_method="DNS",
            region=settings.region,
            opts=child,
        )
        options = certificate.domain_validation_options
        self.validation = options.apply(
            lambda opts: [
                {
                    "domain": o.domain_name or "",
                    "name": o.resource_record_name or "",
                    "type": o.resource_record_type or "",
                    "value": o.resource_record_value or "",
                }
                for o in opts
            ]
        )
        wait = pulumi.ResourceOptions(
            parent=self, custom_timeouts=pulumi.CustomTimeouts(create=VALIDATION_WAIT)
        )
        if settings.hosted_zone_id:
            fqdns = []
            for domain in domains:
                option = options.apply(functools.partial(_option_of, domain))
                record = aws.route53.Record(
                    f"{name}-validation-{domain.replace('.', '-')}",
                    zone_id=settings.hosted_zone_id,
                    name=option.apply(lambda o: o.resource_record_name or ""),
                    type=option.apply(lambda o: o.resource_record_type or ""),
                    records=[option.apply(lambda o: o.resource_record_value or "")],
                    ttl=VALIDATION_RECORD_TTL_S,
                    allow_overwrite=True,
                    opts=child,
                )
                fqdns.append(record.fqdn)
            issued = aws.acm.CertificateValidation(
                f"{name}-issued",
                certificate_arn=certificate.arn,
                validation_record_fqdns=fqdns,
                region=settings.region,
                opts=wait,
            )
            return issued.certificate_arn
        if settings.api_certificate_validated:
            issued = aws.acm.CertificateValidation(
                f"{name}-issued", certificate_arn=certificate.arn, region=settings.region, opts=wait
            )
            return issued.certificate_arn
        return certificate.arn


def api_domains(
    settings: StageSettings, http: HttpApi, websocket: WebSocketApi
) -> ApiDomains | None:
    """The stage's API domains, each mapped (at its root) to its API's stage; None without any."""
    apis = [
        *([MappedApi(settings.http_domain, http.api.id, http.stage.name, "https")]
          if settings.http_domain else []),
        *([MappedApi(settings.ws_domain, websocket.api.id, websocket.stage.name, "wss")]
          if settings.ws_domain else []),
    ]  # fmt: skip
    return ApiDomains("domains", settings, apis) if apis else None


def domain_outputs(
    domains: ApiDomains | None, http_url: pulumi.Output[str], ws_url: pulumi.Output[str]
) -> dict[str, pulumi.Output[str]]:
    """The raw execute-api URLs (always), and with API domains what the operator needs for DNS:
    the certificate, its validation records (manual validation) and each domain's target."""
    outputs = {"httpExecuteApiUrl": http_url, "wsExecuteApiUrl": ws_url}
    if domains is None:
        return outputs
    outputs["apiCertificateArn"] = domains.certificate_arn
    if domains.validation is not None:
        outputs["apiCertificateValidation"] = pulumi.Output.json_dumps(domains.validation)
    if domains.targets:
        outputs["apiDomainTargets"] = pulumi.Output.json_dumps(domains.targets)
    return outputs
