"""Typed stage settings, read from `pulumi.Config`, refused early with a clear message."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)  # fmt: skip
PROTECTED_STAGES = frozenset({"prod", "production"})


class StageConfigError(ValueError):
    """A stage setting is missing or invalid; the message names it and says what is allowed."""


@attrs.frozen
class StageSettings:
    stage: str
    region: str
    lambda_architecture: str = "arm64"
    lambda_memory_mb: int = 512
    lambda_timeout_s: int = 10
    log_retention_days: int = 14
    xray: bool = False
    point_in_time_recovery: bool = False
    deletion_protection: bool = False
    auto_confirm_signups: bool = False
    """Skip e-mail verification at sign-up. Refused on protected stages (prod)."""
    cors_origins: tuple[str, ...] = ("http://localhost:8787",)
    alarm_email: str | None = None
    throttle_rate: float = 50.0
    throttle_burst: int = 100
    custom_domain: str | None = None
    certificate_arn: str | None = None
    """ACM certificate (us-east-1) for the custom domain of the web client."""
    max_message_chars: int = 4000

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
        if not 1 <= self.lambda_timeout_s <= 29:
            problems.append(
                "lambdaTimeoutSeconds must be 1..29 (API Gateway's limit), "
                f"got {self.lambda_timeout_s}"
            )
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(f"logRetentionDays must be one of {sorted(LOG_RETENTION_DAYS)}")
        if self.auto_confirm_signups and self.stage in PROTECTED_STAGES:
            problems.append(f"autoConfirmSignups must not be on for the {self.stage} stage")
        if not self.cors_origins or any(
            not re.fullmatch(r"https?://[^/\s]+", o) for o in self.cors_origins
        ):
            problems.append("corsOrigins must list origins like https://chat.example.com")
        if self.alarm_email is not None and not re.fullmatch(
            r"[^@\s]+@[^@\s]+\.[^@\s]+", self.alarm_email
        ):
            problems.append("alarmEmail must be an e-mail address")
        if self.throttle_rate <= 0 or self.throttle_burst <= 0:
            problems.append("throttleRate and throttleBurst must be positive")
        if self.custom_domain and not self.certificate_arn:
            problems.append("customDomain needs certificateArn (an ACM certificate in us-east-1)")
        if not 1 <= self.max_message_chars <= 4000:
            problems.append("maxMessageChars must be 1..4000")
        if problems:
            raise StageConfigError(
                f"invalid settings for stage {self.stage!r}: " + "; ".join(problems)
            )

    @property
    def protected(self) -> bool:
        return self.stage in PROTECTED_STAGES


def _value(raw: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    if key not in raw or raw[key] in (None, ""):
        return default
    value = raw[key]
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
            items = value if isinstance(value, list) else str(value).split(",")
            return tuple(str(v).strip() for v in items if str(v).strip())
        return str(value)
    except ValueError:
        raise StageConfigError(f"{key} must be a {kind.__name__}, got {value!r}") from None


def settings_from(stage: str, region: str | None, raw: Mapping[str, Any]) -> StageSettings:
    """Build settings from plain config values (keys as in Pulumi.<stage>.yaml, no namespace)."""
    if not region:
        raise StageConfigError(
            f"aws:region is not set for stage {stage!r}: "
            "run `pulumi config set aws:region eu-west-1`"
        )
    defaults = StageSettings(stage="default", region="us-east-1")
    fields = {
        "lambda_architecture": ("lambdaArchitecture", str),
        "lambda_memory_mb": ("lambdaMemoryMb", int),
        "lambda_timeout_s": ("lambdaTimeoutSeconds", int),
        "log_retention_days": ("logRetentionDays", int),
        "xray": ("xray", bool),
        "point_in_time_recovery": ("pointInTimeRecovery", bool),
        "deletion_protection": ("deletionProtection", bool),
        "auto_confirm_signups": ("autoConfirmSignups", bool),
        "cors_origins": ("corsOrigins", tuple),
        "alarm_email": ("alarmEmail", str),
        "throttle_rate": ("throttleRate", float),
        "throttle_burst": ("throttleBurst", int),
        "custom_domain": ("customDomain", str),
        "certificate_arn": ("certificateArn", str),
        "max_message_chars": ("maxMessageChars", int),
    }
    known = {key for key, _ in fields.values()}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise StageConfigError(f"unknown setting(s) {unknown}; known: {sorted(known)}")
    values = {
        name: _value(raw, key, kind, getattr(defaults, name))
        for name, (key, kind) in fields.items()
    }
    return StageSettings(stage=stage, region=region, **values)


def settings_from_pulumi() -> StageSettings:
    """The running stack's settings (namespace `dynamotalk:`, region from `aws:region`)."""
    import json

    import pulumi

    config = pulumi.Config("dynamotalk")
    raw: dict[str, Any] = {}
    for key in (
        "lambdaArchitecture", "lambdaMemoryMb", "lambdaTimeoutSeconds", "logRetentionDays",
        "xray", "pointInTimeRecovery", "deletionProtection", "autoConfirmSignups",
        "corsOrigins", "alarmEmail", "throttleRate", "throttleBurst", "customDomain",
        "certificateArn", "maxMessageChars",
    ):  # fmt: skip
        value = config.get(key)
        if value is not None:
            raw[key] = (
                json.loads(value) if key == "corsOrigins" and value.startswith("[") else value
            )
    region = pulumi.Config("aws").get("region")
    return settings_from(pulumi.get_stack(), region, raw)
