"""Runtime settings of the Lambda functions and the local stack, read from the environment.

The one home of every environment variable name the handlers read (ENV; the per-user limits'
names live with the limits, domain/user_limits.py). The Pulumi program (infra/functions.py)
and the local stack (local/provision.py) both build a function's environment with
`environment(...)`, so neither spells a name. A missing or invalid value fails at cold start
with a clear message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from dynamotalk.domain import bot as bot_rules
from dynamotalk.domain.limits import SESSION_SWEEP_INTERVAL_S, Limits
from dynamotalk.domain.retention import RETENTION_CHOICES_DAYS
from dynamotalk.domain.user_limits import UserLimits, limits_env, parse_limits

ENV: Mapping[str, str] = {
    "stage": "DYNAMOTALK_STAGE",
    "region": "AWS_REGION",
    "table_name": "DYNAMOTALK_TABLE",
    "bucket_name": "DYNAMOTALK_BUCKET",
    "user_pool_id": "DYNAMOTALK_USER_POOL_ID",
    "user_pool_client_id": "DYNAMOTALK_USER_POOL_CLIENT_ID",
    "management_endpoint": "DYNAMOTALK_WS_MANAGEMENT_ENDPOINT",
    "auto_confirm": "DYNAMOTALK_AUTO_CONFIRM",
    "max_message_chars": "DYNAMOTALK_MAX_MESSAGE_CHARS",
    "dynamodb_endpoint": "DYNAMOTALK_DYNAMODB_ENDPOINT",
    "s3_endpoint": "DYNAMOTALK_S3_ENDPOINT",
    "cognito_endpoint": "DYNAMOTALK_COGNITO_ENDPOINT",
    "cognito_issuer": "DYNAMOTALK_COGNITO_ISSUER",
    "bot": "DYNAMOTALK_BOT",
    "bot_queue_url": "DYNAMOTALK_BOT_QUEUE_URL",
    "bot_model_id": "DYNAMOTALK_BOT_MODEL_ID",
    "bot_max_tokens": "DYNAMOTALK_BOT_MAX_TOKENS",
    "bot_temperature": "DYNAMOTALK_BOT_TEMPERATURE",
    "bedrock_endpoint": "DYNAMOTALK_BEDROCK_ENDPOINT",
    "bot_breaker_threshold": "DYNAMOTALK_BOT_BREAKER_THRESHOLD",
    "bot_breaker_cooldown_s": "DYNAMOTALK_BOT_BREAKER_COOLDOWN_S",
    "session_sweep_s": "DYNAMOTALK_SESSION_SWEEP_S",
    "fanout_pages_queue_url": "DYNAMOTALK_FANOUT_PAGES_QUEUE_URL",
    "event_bus_name": "DYNAMOTALK_EVENT_BUS",
    "push_queue_url": "DYNAMOTALK_PUSH_QUEUE_URL",
    "push_public_key": "DYNAMOTALK_PUSH_PUBLIC_KEY",
    "vapid_parameter": "DYNAMOTALK_VAPID_PARAMETER",
    "vapid_subject": "DYNAMOTALK_VAPID_SUBJECT",
    "ssm_endpoint": "DYNAMOTALK_SSM_ENDPOINT",
    "push_local_origin": "DYNAMOTALK_PUSH_LOCAL_ORIGIN",
    "message_retention_days": "DYNAMOTALK_MESSAGE_RETENTION_DAYS",
    "export_queue_url": "DYNAMOTALK_EXPORT_QUEUE_URL",
    "erasure_queue_url": "DYNAMOTALK_ERASURE_QUEUE_URL",
    "erase_policy": "DYNAMOTALK_ERASE_POLICY",
}
"""Settings field -> the environment variable that sets it (user_limits: one per limit)."""
DEFAULT_REGION_ENV = "AWS_DEFAULT_REGION"
STORAGE_ENV = "DYNAMOTALK_STORAGE"
"""`memory`: the local stack's in-memory adapters (`dynamotalk dev --in-memory`, tests);
unset or `dynamodb` everywhere else. Read by the composition root before any setting."""
"""Read when AWS_REGION is unset; boto3 reads it too (Lambda sets both)."""

MANAGEMENT_TRANSPORT_ENV = "DYNAMOTALK_MANAGEMENT_TRANSPORT"
"""How the notifiers post to API Gateway's management API: `lean` (unset: the default) signs
with botocore's credentials and SigV4 signer and sends over keep-alive connections of its own
(adapters/management_http.py, 2.5-3x less CPU per post, issue 16); `botocore` posts through the
botocore client, as before: the switch back. Read by the composition root (management_transport)."""
ManagementTransport = Literal["lean", "botocore"]
MANAGEMENT_TRANSPORTS: tuple[ManagementTransport, ...] = ("lean", "botocore")


LOCAL_TOKEN_LIFETIME_ENV = "DYNAMOTALK_LOCAL_TOKEN_LIFETIME_S"  # noqa: S105 - a variable name
"""Local stack only, a test knob: the local Cognito issues ID and access tokens valid this many
seconds instead of the app client's validity (Cognito's own minimum is 5 minutes). Read by the
local Cognito layer (local/aws_sessions.py), which runs without the handlers' Settings."""


LOCAL_FANOUT_PAGE_SIZE_ENV = "DYNAMOTALK_LOCAL_FANOUT_PAGE_SIZE"
"""Local stack only, a test knob: the fan-out's page size (domain.limits.FANOUT_PAGE_SIZE by
default), so a room of a few sockets is sharded across page workers as a big room is. Read by
the local fan-out (local/delivery.py)."""


LOCAL_RETENTION_DAY_S_ENV = "DYNAMOTALK_LOCAL_RETENTION_DAY_S"
"""Local stack only, a test knob: a retention "day" lasts this many seconds instead of 86400,
so a test sees a message of a 1-day room expire in a second (domain/retention.py). Never set
by the Pulumi program; read by the composition root."""


class SettingsError(Exception):
    """A required environment variable is missing or invalid."""


def management_transport(env: Mapping[str, str] | None = None) -> ManagementTransport:
    """The transport MANAGEMENT_TRANSPORT_ENV names (`lean` when unset); anything else fails."""
    value = (os.environ if env is None else env).get(MANAGEMENT_TRANSPORT_ENV, "").strip()
    if value and value not in MANAGEMENT_TRANSPORTS:
        raise SettingsError(
            f"{MANAGEMENT_TRANSPORT_ENV} must be one of {', '.join(MANAGEMENT_TRANSPORTS)}, "
            f"got {value!r}"
        )
    return value or "lean"


def stage_limits(
    max_text: int, retention_days: int, env: Mapping[str, str] | None = None
) -> Limits:
    """The domain's Limits on this stage: its message length and its retention of messages,
    with a retention day as long as LOCAL_RETENTION_DAY_S_ENV says in the local stack's tests
    (a day everywhere else)."""
    raw = (os.environ if env is None else env).get(LOCAL_RETENTION_DAY_S_ENV, "").strip()
    if raw and not raw.isdigit():
        raise SettingsError(f"{LOCAL_RETENTION_DAY_S_ENV} must be whole seconds, got {raw!r}")
    day_s = int(raw) if raw and int(raw) > 0 else Limits().retention_day_s
    return attrs.evolve(
        Limits(), max_text=max_text, message_retention_days=retention_days, retention_day_s=day_s
    )


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
    """Longest message text (the stage's maxMessageChars), at most the domain's own ceiling:
    the composition root hands it to the domain's Limits."""
    # Local stack only: where the emulated services listen. None on AWS.
    dynamodb_endpoint: str | None = None
    s3_endpoint: str | None = None
    cognito_endpoint: str | None = None
    cognito_issuer: str | None = None
    """Issuer override; defaults to https://cognito-idp.{region}.amazonaws.com/{pool}."""
    bot: str = ""
    """Where @bot jobs go: "" (no bot), "local" (in-process, echo assistant) or "sqs"."""
    bot_queue_url: str | None = None
    bot_model_id: str | None = None
    """Bedrock model of the bot worker."""
    bot_max_tokens: int = bot_rules.MAX_TOKENS
    bot_temperature: float = bot_rules.TEMPERATURE
    bedrock_endpoint: str | None = None
    """Local/test override of the Bedrock runtime endpoint. None on AWS."""
    bot_breaker_threshold: int = bot_rules.BREAKER_THRESHOLD
    bot_breaker_cooldown_s: float = bot_rules.BREAKER_COOLDOWN_S
    user_limits: UserLimits = attrs.Factory(UserLimits)
    """Per-user limits (DYNAMOTALK_LIMIT_*, one per field of domain/user_limits.py)."""
    # Local stack only (service/sessions.py): the AWS defaults unless a test shortens them.
    session_sweep_s: float = float(SESSION_SWEEP_INTERVAL_S)
    """How often the local stack runs the session sweeper (EventBridge: routes.py's rate)."""
    fanout_pages_queue_url: str | None = None
    """Where the fan-out hands pages of a big room's connections (SQS). None: every page is
    delivered by the stream's own invocation, one after another (the local stack's queue is in
    process and needs no URL)."""
    event_bus_name: str | None = None
    """The EventBridge bus every room change is published to; None: events out are off (the
    stage's `publishEvents`)."""
    push_queue_url: str | None = None
    """Where the fan-out leaves push jobs (SQS); None: push is off (the stage's `push`)."""
    push_public_key: str | None = None
    """The VAPID public key, base64url (GET /push/key); None: push is off."""
    vapid_parameter: str | None = None
    """push_sender only: the SSM parameter (SecureString) holding the VAPID private key."""
    vapid_subject: str | None = None
    """push_sender only: the stage's `vapidSubject` (mailto: or https: contact)."""
    ssm_endpoint: str | None = None
    """Local stack only: where SSM is emulated (moto). None on AWS."""
    push_local_origin: str | None = None
    """Local stack only: the push-service emulator's loopback origin, the one endpoint outside
    the push services' allowlist a subscription may name. None on AWS."""

    message_retention_days: int = 0
    """The stage's default retention of messages in days (`messageRetentionDays`, one of
    domain/retention.RETENTION_CHOICES_DAYS; 0: kept forever)."""
    export_queue_url: str | None = None
    """http_api only: where "export my data" jobs go (SQS, run by data_export); None: exports
    are off (the local stack's queue is in process and needs no URL)."""

    erasure_queue_url: str | None = None
    """Where DELETE /me queues the account's erasure job (SQS); the local queue needs none."""
    erase_policy: str = "anonymise"
    """What erasure does to the user's messages (`erasePolicy`: domain/erasure.ErasePolicy)."""

    @property
    def issuer(self) -> str:
        # Imported here: the user pool's spec stays out of every handler's cold start.
        from dynamotalk.userpool import issuer

        return self.cognito_issuer or issuer(self.region, self.user_pool_id)

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

        bot = env.get(ENV["bot"], "").strip()
        if bot not in ("", "local", "sqs"):
            raise SettingsError(f"{ENV['bot']} must be local or sqs, got {bot!r}")
        if bot == "sqs" and not optional(ENV["bot_queue_url"]):
            raise SettingsError(f"{ENV['bot_queue_url']} is required when {ENV['bot']}=sqs")

        def number(name: str, default: float, low: float, high: float) -> float:
            raw = env.get(name, "").strip()
            try:
                value = float(raw) if raw else default
            except ValueError:
                raise SettingsError(f"{name} must be a number, got {raw!r}") from None
            if not low <= value <= high:
                raise SettingsError(f"{name} must be {low:g}..{high:g}, got {value:g}")
            return value

        def retention_days(name: str) -> int:
            raw = env.get(name, "").strip() or "0"
            if raw not in {str(d) for d in RETENTION_CHOICES_DAYS}:
                raise SettingsError(f"{name} must be one of {RETENTION_CHOICES_DAYS}, got {raw!r}")
            return int(raw)

        try:
            user_limits = parse_limits(env)
        except ValueError as error:
            raise SettingsError(str(error)) from None

        return cls(
            stage=required(ENV["stage"]),
            region=env.get(ENV["region"]) or env.get(DEFAULT_REGION_ENV) or required(ENV["region"]),
            table_name=required(ENV["table_name"]),
            bucket_name=required(ENV["bucket_name"]),
            user_pool_id=env.get(ENV["user_pool_id"], "").strip(),
            user_pool_client_id=env.get(ENV["user_pool_client_id"], "").strip(),
            management_endpoint=optional(ENV["management_endpoint"]),
            auto_confirm=flag(ENV["auto_confirm"]),
            max_message_chars=positive_int(
                ENV["max_message_chars"], Limits().max_text, Limits().max_text
            ),
            dynamodb_endpoint=optional(ENV["dynamodb_endpoint"]),
            s3_endpoint=optional(ENV["s3_endpoint"]),
            cognito_endpoint=optional(ENV["cognito_endpoint"]),
            cognito_issuer=optional(ENV["cognito_issuer"]),
            bot=bot,
            bot_queue_url=optional(ENV["bot_queue_url"]),
            bot_model_id=optional(ENV["bot_model_id"]),
            bedrock_endpoint=optional(ENV["bedrock_endpoint"]),
            bot_max_tokens=int(
                number(ENV["bot_max_tokens"], bot_rules.MAX_TOKENS, 1, bot_rules.MAX_TOKENS_CEILING)
            ),
            bot_temperature=number(ENV["bot_temperature"], bot_rules.TEMPERATURE, 0, 1),
            bot_breaker_threshold=int(
                number(ENV["bot_breaker_threshold"], bot_rules.BREAKER_THRESHOLD, 1, 1000)
            ),
            bot_breaker_cooldown_s=number(
                ENV["bot_breaker_cooldown_s"], bot_rules.BREAKER_COOLDOWN_S, 0, 3600
            ),
            user_limits=user_limits,
            session_sweep_s=number(ENV["session_sweep_s"], SESSION_SWEEP_INTERVAL_S, 0.1, 3600),
            fanout_pages_queue_url=optional(ENV["fanout_pages_queue_url"]),
            event_bus_name=optional(ENV["event_bus_name"]),
            push_queue_url=optional(ENV["push_queue_url"]),
            push_public_key=optional(ENV["push_public_key"]),
            vapid_parameter=optional(ENV["vapid_parameter"]),
            vapid_subject=optional(ENV["vapid_subject"]),
            ssm_endpoint=optional(ENV["ssm_endpoint"]),
            push_local_origin=optional(ENV["push_local_origin"]),
            message_retention_days=retention_days(ENV["message_retention_days"]),
            export_queue_url=optional(ENV["export_queue_url"]),
            erasure_queue_url=optional(ENV["erasure_queue_url"]),
            erase_policy=erase_policy(env.get(ENV["erase_policy"], "")),
        )


def environment(user_limits: UserLimits | None = None, **fields: object) -> dict[str, Any]:
    """The environment that sets these Settings fields (field=value; None leaves one unset),
    and every per-user limit when `user_limits` is given. Flags and numbers are written as
    from_env reads them; other values (text, or a Pulumi output of text) pass through."""
    variables: dict[str, Any] = {}
    for field, value in fields.items():
        if field not in ENV:
            raise TypeError(f"Settings has no environment variable for {field!r}")
        if value is None:
            continue
        if isinstance(value, bool):
            variables[ENV[field]] = "true" if value else "false"
        elif isinstance(value, int | float):
            variables[ENV[field]] = str(value)
        else:
            variables[ENV[field]] = value
        if field == "region":
            variables[DEFAULT_REGION_ENV] = variables[ENV[field]]
    if user_limits is not None:
        variables.update(limits_env(user_limits))
    return variables


def erase_policy(value: str) -> str:
    """The stage's `erasePolicy` (domain/erasure.ErasePolicy), its default when unset."""
    from dynamotalk.domain.erasure import DEFAULT_POLICY, ErasePolicy

    if not value.strip():
        return str(DEFAULT_POLICY)
    try:
        return str(ErasePolicy(value.strip()))
    except ValueError:
        choices = ", ".join(ErasePolicy)
        raise SettingsError(f"{ENV['erase_policy']} must be one of {choices}") from None
