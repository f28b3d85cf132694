"""Runtime settings of the Lambda functions and the local stack, read from the environment.

The Pulumi program sets these variables on every function; the local stack sets them for
its in-process handlers. A missing or invalid value fails at cold start with a clear message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import attrs

from dynamotalk.domain.limits import Limits
from dynamotalk.domain.user_limits import UserLimits, parse_limits
from dynamotalk.routes import SESSION_SWEEP_INTERVAL_S

LOCAL_TOKEN_LIFETIME_ENV = "DYNAMOTALK_LOCAL_TOKEN_LIFETIME_S"  # noqa: S105 - a variable name
"""Local stack only, a test knob: the local Cognito issues ID and access tokens valid this many
seconds instead of the app client's validity (Cognito's own minimum is 5 minutes). Read by the
local Cognito layer (local/aws_sessions.py), which runs without the handlers' Settings."""


class SettingsError(Exception):
    """A required environment variable is missing or invalid."""


@attrs.frozen
class Settings:
    stage: str
    """Deployment stage name (dev, prod, local)."""
    region: str
    table_name: str
    bucket_name: str
    user_pool_id: str = ""
    """Empty only in the Cognito trigger functions (the pool depends on them, not back)."""
    user_pool_client_id: str = ""
    management_endpoint: str | None = None
    """https URL of the WebSocket API's @connections endpoint (None where no fan-out)."""
    auto_confirm: bool = False
    """Pre sign-up trigger confirms users without e-mail verification (dev/local only)."""
    max_message_chars: int = Limits().max_text
    """Longest message text (maxMessageChars); at most the domain's own ceiling."""
    # Local stack only: where the emulated services listen. None on AWS.
    dynamodb_endpoint: str | None = None
    s3_endpoint: str | None = None
    cognito_endpoint: str | None = None
    cognito_issuer: str | None = None
    """Issuer override; defaults to https://cognito-idp.{region}.amazonaws.com/{pool}."""
    download_base_url: str | None = None
    """If set, attachment downloads are served from this CDN URL instead of presigned GETs."""
    bot: str = ""
    """Where @bot jobs go: "" (no bot), "local" (in-process, echo assistant) or "sqs"."""
    bot_queue_url: str | None = None
    bot_model_id: str | None = None
    """Bedrock model of the bot worker."""
    bot_max_tokens: int = 512
    bot_temperature: float = 0.3
    bedrock_endpoint: str | None = None
    """Local/test override of the Bedrock runtime endpoint. None on AWS."""
    bot_breaker_threshold: int = 3
    bot_breaker_cooldown_s: float = 30.0
    user_limits: UserLimits = attrs.Factory(UserLimits)
    """Per-user limits (DYNAMOTALK_LIMIT_*, one per field of domain/user_limits.py)."""
    # Local stack only (sessions.py): the AWS defaults unless a test shortens them.
    session_sweep_s: float = float(SESSION_SWEEP_INTERVAL_S)
    """How often the local stack runs the session sweeper (EventBridge: routes.py's rate)."""

    @property
    def issuer(self) -> str:
        return self.cognito_issuer or (
            f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise SettingsError(f"environment variable {name} is required but not set")
            return value

        def optional(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def flag(name: str) -> bool:
            value = env.get(name, "false").strip().lower()
            if value not in {"true", "false", "1", "0", "yes", "no", ""}:
                raise SettingsError(f"{name} must be true or false, got {value!r}")
            return value in {"true", "1", "yes"}

        def positive_int(name: str, default: int, highest: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
            if not 1 <= value <= highest:
                raise SettingsError(f"{name} must be 1..{highest}, got {value}")
            return value

        bot = env.get("DYNAMOTALK_BOT", "").strip()
        if bot not in ("", "local", "sqs"):
            raise SettingsError(f"DYNAMOTALK_BOT must be local or sqs, got {bot!r}")
        if bot == "sqs" and not optional("DYNAMOTALK_BOT_QUEUE_URL"):
            raise SettingsError("DYNAMOTALK_BOT_QUEUE_URL is required when DYNAMOTALK_BOT=sqs")

        def number(name: str, default: float, low: float, high: float) -> float:
            raw = env.get(name, "").strip()
            try:
                value = float(raw) if raw else default
            except ValueError:
                raise SettingsError(f"{name} must be a number, got {raw!r}") from None
            if not low <= value <= high:
                raise SettingsError(f"{name} must be {low:g}..{high:g}, got {value:g}")
            return value

        try:
            user_limits = parse_limits(env)
        except ValueError as error:
            raise SettingsError(str(error)) from None

        return cls(
            stage=required("DYNAMOTALK_STAGE"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or required("AWS_REGION"),
            table_name=required("DYNAMOTALK_TABLE"),
            bucket_name=required("DYNAMOTALK_BUCKET"),
            user_pool_id=env.get("DYNAMOTALK_USER_POOL_ID", "").strip(),
            user_pool_client_id=env.get("DYNAMOTALK_USER_POOL_CLIENT_ID", "").strip(),
            management_endpoint=optional("DYNAMOTALK_WS_MANAGEMENT_ENDPOINT"),
            auto_confirm=flag("DYNAMOTALK_AUTO_CONFIRM"),
            max_message_chars=positive_int(
                "DYNAMOTALK_MAX_MESSAGE_CHARS", Limits().max_text, Limits().max_text
            ),
            dynamodb_endpoint=optional("DYNAMOTALK_DYNAMODB_ENDPOINT"),
            s3_endpoint=optional("DYNAMOTALK_S3_ENDPOINT"),
            cognito_endpoint=optional("DYNAMOTALK_COGNITO_ENDPOINT"),
            cognito_issuer=optional("DYNAMOTALK_COGNITO_ISSUER"),
            download_base_url=optional("DYNAMOTALK_DOWNLOAD_BASE_URL"),
            bot=bot,
            bot_queue_url=optional("DYNAMOTALK_BOT_QUEUE_URL"),
            bot_model_id=optional("DYNAMOTALK_BOT_MODEL_ID"),
            bedrock_endpoint=optional("DYNAMOTALK_BEDROCK_ENDPOINT"),
            bot_max_tokens=int(number("DYNAMOTALK_BOT_MAX_TOKENS", 512, 1, 4096)),
            bot_temperature=number("DYNAMOTALK_BOT_TEMPERATURE", 0.3, 0, 1),
            bot_breaker_threshold=int(number("DYNAMOTALK_BOT_BREAKER_THRESHOLD", 3, 1, 1000)),
            bot_breaker_cooldown_s=number("DYNAMOTALK_BOT_BREAKER_COOLDOWN_S", 30, 0, 3600),
            user_limits=user_limits,
            session_sweep_s=number(
                "DYNAMOTALK_SESSION_SWEEP_S", SESSION_SWEEP_INTERVAL_S, 0.1, 3600
            ),
        )
