"""Typed stage settings, read from `pulumi.Config`, refused early with a clear message.

Every key lives in one table (CONFIG_KEYS) that the Pulumi config reader, the plain reader
used by tests, and Pulumi.yaml (checked by tests/infra) all agree on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import attrs

from dynamotalk.domain import bot
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.retention import RETENTION_CHOICES_DAYS
from dynamotalk.domain.user_limits import LIMIT_BY_KEY, UserLimits, parse_limits
from dynamotalk.origins import origin_of
from dynamotalk.userpool import THREAT_PROTECTION_MODES
from infra.api_domain_settings import api_domain_problems

LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)  # fmt: skip
PROTECTED_STAGES = frozenset({"prod", "production"})
THREAT_PROTECTION_SETTINGS = {mode.lower(): mode for mode in THREAT_PROTECTION_MODES}
"""cognitoThreatProtection value -> Cognito's AdvancedSecurityMode."""
SRI_HASH = re.compile(r"sha(256|384|512)-[A-Za-z0-9+/]{43,86}={0,2}")
"""A Subresource Integrity value for the RUM web client's script."""


class StageConfigError(ValueError):
    """A stage setting is missing or invalid; the message names it and says what is allowed."""


@attrs.frozen
class StageSettings:
    """Everything that differs between stages; validated as a whole on construction."""

    stage: str
    """The Pulumi stack name (dev, prod, ...): part of every physical name."""
    region: str
    """aws:region of the stack."""
    lambda_architecture: str = "arm64"
    """arm64 (cheaper, default) or x86_64; the zip's wheels follow it."""
    lambda_memory_mb: int = 128
    """Memory floor of every function: each gets max(its own need in routes.py, this).
    Timeouts are per function only (routes.py), sized by what each one waits on."""
    log_retention_days: int = 14
    """Retention of every log group (Lambda and API access/execution logs)."""
    xray: bool = False
    """Active X-Ray tracing on every function."""
    point_in_time_recovery: bool = False
    deletion_protection: bool = False
    """Deletion protection on the table and the user pool, and Pulumi `protect` on both."""
    auto_confirm_signups: bool = False
    """Skip e-mail verification at sign-up. Refused on protected stages (prod)."""
    cors_origins: tuple[str, ...] = ()
    """Extra browser origins allowed on the HTTP API and for uploads to the attachments bucket,
    besides the web client's own (CloudFront's domain and customDomain, always allowed)."""
    alarm_email: str | None = None
    """Subscribed to the alarm topic; no subscription when unset."""
    throttle_rate: float = 50.0
    """Steady requests per second per route, on both APIs."""
    throttle_burst: int = 100
    custom_domain: str | None = None
    """A domain for the web client (CloudFront alias); needs certificate_arn."""
    certificate_arn: str | None = None
    """ACM certificate (us-east-1) for the custom domain of the web client."""
    max_message_chars: int = Limits().max_text
    """Longest message text; at most the domain's ceiling (limits.Limits.max_text)."""
    manage_api_gateway_log_role: bool = True
    """Set the region's API Gateway CloudWatch role (account-wide; WebSocket logs need it)."""
    bot_model_id: str = "anthropic.claude-3-haiku-20240307-v1:0"
    """Bedrock model the bot asks (Converse API); the bot worker may invoke only this one."""
    bot_max_tokens: int = bot.MAX_TOKENS
    bot_temperature_percent: int = round(bot.TEMPERATURE * 100)
    """Sampling temperature of the bot, in hundredths (30 = 0.3)."""
    cognito_threat_protection: str = "off"
    """Cognito threat protection: off, audit (log risky sign-ins) or enforced (block them).
    Not off moves the user pool to the Plus feature plan, billed per monthly active user."""
    reserved_concurrency: bool = False
    """Reserve each function's concurrency (routes.Function.reserved_concurrency). Off by
    default: new accounts' concurrency quota is too small to reserve any (docs/DEPLOY.md)."""
    publish_events: bool = False
    """Put every room change on the stage's EventBridge bus (created with an archive and one
    example rule). Off by default: each event is an EventBridge charge and a copy of the room's
    content outside the table, so a stage opts in when something consumes them."""
    snap_start: bool = False
    """Lambda SnapStart on every function: each change publishes a version, Lambda snapshots
    it after init, and every invoker calls the `live` alias on it. Off by default: Python
    snapshots are billed (cached per version, and per restore) and the saving is to be
    measured per stage (docs/DEPLOY.md, "SnapStart")."""
    user_limits: UserLimits = attrs.Factory(UserLimits)
    """Per-user limits, one `limit*` config key each (domain/user_limits.LIMIT_SETTINGS)."""
    message_retention_days: int = 0
    """Days a message is kept (domain/retention.RETENTION_CHOICES_DAYS; 0: forever): each new
    message carries the table's TTL; a room may choose less (issue 18)."""
    http_domain: str | None = None
    """Custom domain of the HTTP API (`api.chat.example.com`); infra/domains.py."""
    ws_domain: str | None = None
    """Custom domain of the WebSocket API (`ws.chat.example.com`); infra/domains.py."""
    hosted_zone_id: str | None = None
    """Route 53 public hosted zone of the API domains: the certificate is validated through it
    and alias records point the domains at API Gateway. Unset: validation and DNS are manual."""
    api_certificate_arn: str | None = None
    """An existing, issued ACM certificate in the stack's region covering the API domains;
    unset: the stack requests one (DNS validation)."""
    api_certificate_validated: bool = False
    """Manual validation only (no hostedZoneId, no apiCertificateArn): the operator added the
    certificate's validation records, so the domains and mappings can be created now."""
    api_dns_ready: bool = False
    """Without hostedZoneId only: the operator pointed the domains at their API Gateway targets
    (stack output apiDomainTargets), so config.json and the CSP may switch to them."""
    rum: bool = False
    """CloudWatch RUM for the web client (app monitor, guest identity pool, CSP additions).
    Off by default: billed per event, and it is telemetry of every sampled visitor."""
    rum_sample_percent: int = 10
    """Share of the web client's sessions RUM records, in percent (RUM's sessionSampleRate is
    this over 100)."""
    rum_script_integrity: str | None = None
    """Subresource Integrity hash of the pinned RUM web client script (rum.RUM_SCRIPT_URL)."""

    push: bool = False
    """Web Push to offline users (infra/push.py: push queue, push_sender, VAPID key in SSM).
    Off by default: each push is an SQS message, a Lambda run and a request to a push service."""
    vapid_subject: str | None = None
    """The contact push services may reach the operator at (RFC 8292 `sub`): a mailto: or
    https: URL; required when `push` is on."""
    erase_policy: str = "anonymise"
    """What erasing an account does to its messages: `anonymise` (kept, shown as by a deleted
    user) or `delete` (domain/erasure.ErasePolicy)."""

    def __attrs_post_init__(self) -> None:
        problems = []
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,20}", self.stage):
            problems.append("stage name must be lowercase letters, digits or '-' (1..21)")
        if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", self.region):
            problems.append(f"aws:region {self.region!r} is not an AWS region")
        if self.lambda_architecture not in ("arm64", "x86_64"):
            problems.append("lambdaArchitecture must be arm64 or x86_64")
        if not 128 <= self.lambda_memory_mb <= 10240:
            problems.append(f"lambdaMemoryMb must be 128..10240, got {self.lambda_memory_mb}")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(f"logRetentionDays must be one of {sorted(LOG_RETENTION_DAYS)}")
        if self.auto_confirm_signups and self.stage in PROTECTED_STAGES:
            problems.append(f"autoConfirmSignups must not be on for the {self.stage} stage")
        for origin in self.cors_origins:
            try:
                exact = origin_of(origin) == origin
            except ValueError:
                exact = False
            if not exact:
                problems.append(
                    f"corsOrigins: {origin!r} is not an origin like https://chat.example.com "
                    "(lowercase, no path, no default port)"
                )
        if self.alarm_email is not None and not re.fullmatch(
            r"[^@\s]+@[^@\s]+\.[^@\s]+", self.alarm_email
        ):
            problems.append("alarmEmail must be an e-mail address")
        if self.throttle_rate <= 0 or self.throttle_burst <= 0:
            problems.append("throttleRate and throttleBurst must be positive")
        if self.custom_domain and not re.fullmatch(
            r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", self.custom_domain
        ):
            problems.append(f"customDomain {self.custom_domain!r} must be a lowercase host name")
        if self.custom_domain and not self.certificate_arn:
            problems.append("customDomain needs certificateArn (an ACM certificate in us-east-1)")
        if not 1 <= self.max_message_chars <= Limits().max_text:
            problems.append(f"maxMessageChars must be 1..{Limits().max_text}")
        if not re.fullmatch(r"[a-zA-Z0-9.:-]{3,100}", self.bot_model_id):
            problems.append(f"botModelId {self.bot_model_id!r} is not a Bedrock model id")
        if not 1 <= self.bot_max_tokens <= bot.MAX_TOKENS_CEILING:
            problems.append(f"botMaxTokens must be 1..{bot.MAX_TOKENS_CEILING}")
        if not 0 <= self.bot_temperature_percent <= 100:
            problems.append("botTemperaturePercent must be 0..100")
        if self.cognito_threat_protection not in THREAT_PROTECTION_SETTINGS:
            problems.append(
                f"cognitoThreatProtection must be one of {sorted(THREAT_PROTECTION_SETTINGS)}"
            )
        if self.message_retention_days not in RETENTION_CHOICES_DAYS:
            problems.append(f"messageRetentionDays must be one of {RETENTION_CHOICES_DAYS}")
        problems.extend(api_domain_problems(self))
        if not 0 <= self.rum_sample_percent <= 100:
            problems.append(f"rumSamplePercent must be 0..100, got {self.rum_sample_percent}")
        if self.rum_script_integrity and not SRI_HASH.fullmatch(self.rum_script_integrity):
            problems.append("rumScriptIntegrity must be an SRI hash like sha384-<base64>")
        if self.rum_script_integrity and not self.rum:
            problems.append("rumScriptIntegrity needs rum: true")

        if self.push and not re.fullmatch(
            r"(mailto:[^@\s]+@[^@\s]+|https://\S+)", self.vapid_subject or ""
        ):
            problems.append("push needs vapidSubject: a mailto: or https: contact URL")
        if self.erase_policy not in ("anonymise", "delete"):
            problems.append(f"erasePolicy must be anonymise or delete, got {self.erase_policy}")
        if problems:
            raise StageConfigError(
                f"invalid settings for stage {self.stage!r}: " + "; ".join(problems)
            )

    @property
    def protected(self) -> bool:
        """Production-like: stricter password policy, no auto-confirm."""
        return self.stage in PROTECTED_STAGES

    @property
    def api_domains(self) -> tuple[str, ...]:
        """The APIs' custom domains that are set: HTTP first, then WebSocket."""
        return tuple(d for d in (self.http_domain, self.ws_domain) if d)

    @property
    def api_domains_live(self) -> bool:
        """The domains and mappings are created (and config.json names them): a certificate is
        issued or will be before `pulumi up` ends. False while manual validation is pending."""
        return bool(self.api_domains) and bool(
            self.hosted_zone_id or self.api_certificate_arn or self.api_certificate_validated
        )

    @property
    def api_domains_served(self) -> bool:
        """config.json and the CSP name the custom domains: they exist and their DNS points at
        API Gateway (written by the stack in the hosted zone, or confirmed by apiDnsReady)."""
        return self.api_domains_live and bool(self.hosted_zone_id or self.api_dns_ready)


CONFIG_KEYS: dict[str, tuple[str, type]] = {
    "lambdaArchitecture": ("lambda_architecture", str),
    "lambdaMemoryMb": ("lambda_memory_mb", int),
    "logRetentionDays": ("log_retention_days", int),
    "xray": ("xray", bool),
    "pointInTimeRecovery": ("point_in_time_recovery", bool),
    "deletionProtection": ("deletion_protection", bool),
    "autoConfirmSignups": ("auto_confirm_signups", bool),
    "corsOrigins": ("cors_origins", tuple),
    "alarmEmail": ("alarm_email", str),
    "throttleRate": ("throttle_rate", float),
    "throttleBurst": ("throttle_burst", int),
    "customDomain": ("custom_domain", str),
    "certificateArn": ("certificate_arn", str),
    "maxMessageChars": ("max_message_chars", int),
    "manageApiGatewayLogRole": ("manage_api_gateway_log_role", bool),
    "botModelId": ("bot_model_id", str),
    "botMaxTokens": ("bot_max_tokens", int),
    "botTemperaturePercent": ("bot_temperature_percent", int),
    "cognitoThreatProtection": ("cognito_threat_protection", str),
    "reservedConcurrency": ("reserved_concurrency", bool),
    "publishEvents": ("publish_events", bool),
    "snapStart": ("snap_start", bool),
    "messageRetentionDays": ("message_retention_days", int),
    "httpDomain": ("http_domain", str),
    "wsDomain": ("ws_domain", str),
    "hostedZoneId": ("hosted_zone_id", str),
    "apiCertificateArn": ("api_certificate_arn", str),
    "apiCertificateValidated": ("api_certificate_validated", bool),
    "apiDnsReady": ("api_dns_ready", bool),
    "rum": ("rum", bool),
    "rumSamplePercent": ("rum_sample_percent", int),
    "rumScriptIntegrity": ("rum_script_integrity", str),
    "push": ("push", bool),
    "vapidSubject": ("vapid_subject", str),
    "erasePolicy": ("erase_policy", str),
}
"""Config key (namespace `dynamotalk:`) -> (StageSettings field, kind)."""

_KIND_NAMES = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    tuple: "a list",
    str: "a string",
}


def _value(key: str, kind: type, value: Any) -> Any:
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError(value)
        if kind is int:
            if isinstance(value, bool):
                raise ValueError(value)
            return int(str(value))
        if kind is float:
            return float(str(value))
        if kind is tuple:
            if isinstance(value, str) and value.startswith("["):
                value = json.loads(value)  # Pulumi hands arrays over as JSON text
            items = value if isinstance(value, list) else str(value).split(",")
            return tuple(str(v).strip() for v in items if str(v).strip())
        return str(value)
    except ValueError:
        raise StageConfigError(f"{key} must be {_KIND_NAMES[kind]}, got {value!r}") from None


def settings_from(stage: str, region: str | None, raw: Mapping[str, Any]) -> StageSettings:
    """Build settings from plain config values (keys as in Pulumi.<stage>.yaml, no namespace).

    A missing or empty value takes the default; an unknown key is refused so a typo cannot
    silently fall back to a default.
    """
    if not region:
        raise StageConfigError(
            f"aws:region is not set for stage {stage!r}: "
            "run `pulumi config set aws:region eu-west-1`"
        )
    unknown = sorted(set(raw) - set(CONFIG_KEYS) - set(LIMIT_BY_KEY))
    if unknown:
        known = sorted([*CONFIG_KEYS, *LIMIT_BY_KEY])
        raise StageConfigError(f"unknown setting(s) {unknown}; known: {known}")
    values: dict[str, Any] = {
        field: _value(key, kind, raw[key])
        for key, (field, kind) in CONFIG_KEYS.items()
        if raw.get(key) not in (None, "", [])
    }
    try:
        values["user_limits"] = parse_limits(raw, by="key")
    except ValueError as error:
        raise StageConfigError(f"invalid settings for stage {stage!r}: {error}") from None
    return StageSettings(stage=stage, region=region, **values)


def settings_from_pulumi() -> StageSettings:
    """The running stack's settings (namespace `dynamotalk:`, region from `aws:region`)."""
    import pulumi

    config = pulumi.Config("dynamotalk")
    keys = [*CONFIG_KEYS, *LIMIT_BY_KEY]
    raw = {key: value for key in keys if (value := config.get(key)) is not None}
    return settings_from(pulumi.get_stack(), pulumi.Config("aws").get("region"), raw)
