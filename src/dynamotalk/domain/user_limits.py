"""Per-user limits: what one user may do per second, minute, hour or day (issue 13, M2).

The one home of every per-user limit: its name, default, stage config key and environment
variable (both derived from the field name), and the quotas an action is charged against.
The counting itself is the RateLimiter port's (ports.py): fixed windows, counted atomically with
one conditional UpdateItem in DynamoDB (adapters/dynamodb_limits.py) or under a lock in memory.

Model: fixed windows aligned on the epoch. "N per second with bursts of B" is two windows
counted in the same item by the same update: at most B in any one calendar second and at most
10*N in any one 10-second window. A window that refuses answers `rate_limited` with
retryAfterMs = the time left until that window ends; nothing is counted for a refused request.
A fixed window lets up to twice its limit through across one window boundary (the end of one
window and the start of the next); docs/SECURITY.md lists that as a residual risk.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence

import attrs

SECOND, SUSTAIN, HOUR, DAY = 1, 10, 3600, 86400
"""Window lengths in seconds; SUSTAIN is the window of a sustained rate per second."""


class Action(enum.StrEnum):
    """What a user does that is counted; also the group (one item per window) it is counted in."""

    MESSAGE = "message"
    REACTION = "reaction"
    TYPING = "typing"
    ROOM = "room"
    JOIN = "join"
    INVITE = "invite"
    UPLOAD = "upload"
    BOT = "bot"
    LOOKUP = "lookup"
    REPORT = "report"


@attrs.frozen
class Quota:
    """At most `limit` units per `window_s`-second window (aligned on the epoch)."""

    name: str
    limit: int
    window_s: int

    def window_of(self, now_ms: int) -> int:
        return now_ms // 1000 // self.window_s

    def ends_in_ms(self, now_ms: int) -> int:
        """Milliseconds until the current window ends (at least 1)."""
        end_ms = (self.window_of(now_ms) + 1) * self.window_s * 1000
        return max(1, end_ms - now_ms)


@attrs.frozen
class Charge:
    quota: Quota
    amount: int = 1


def _setting(default: int, highest: int, doc: str) -> int:
    result: int = attrs.field(default=default, metadata={"highest": highest, "doc": doc})
    return result


_BIG = 1_000_000
_GIB = 1024 * 1024 * 1024


@attrs.frozen
class UserLimits:
    """Every per-user limit with its default. Each field is a stage setting (see LIMIT_SETTINGS).

    Defaults are far above what a person does (typing, reading, sharing a few files) and far
    below what a script does; a stage may raise or lower each one.
    """

    messages_per_second: int = _setting(2, _BIG, "messages per second, sustained (over 10 s)")
    messages_burst: int = _setting(10, _BIG, "messages in any one second")
    reactions_per_second: int = _setting(2, _BIG, "reactions per second, sustained (over 10 s)")
    reactions_burst: int = _setting(10, _BIG, "reactions in any one second")
    typing_per_second: int = _setting(1, _BIG, "typing frames per second, sustained (over 10 s)")
    typing_burst: int = _setting(5, _BIG, "typing frames in any one second")
    rooms_per_hour: int = _setting(30, _BIG, "rooms created per hour")
    joins_per_hour: int = _setting(100, _BIG, "public rooms joined per hour")
    invites_per_hour: int = _setting(200, _BIG, "users added to rooms per hour (invites)")
    uploads_per_day: int = _setting(200, _BIG, "upload forms (POST /uploads) per day")
    upload_bytes_per_day: int = _setting(_GIB, 1024 * _GIB, "bytes of uploads per day")
    connections_per_user: int = _setting(10, 10_000, "live WebSocket connections per user")
    bot_requests_per_day: int = _setting(200, _BIG, "messages to the bot per day")
    username_lookups_per_hour: int = _setting(120, _BIG, "look-ups of a user by name per hour")
    reports_per_hour: int = _setting(30, _BIG, "messages reported per hour")

    def charges(self, action: Action, amount: int = 1, size: int = 0) -> tuple[Charge, ...]:
        """The quotas one `action` (of `amount` units; `size` bytes for uploads) is counted in."""

        def rate(name: str, per_second: int, burst: int) -> tuple[Charge, ...]:
            return (
                Charge(Quota(f"{name}_s", burst, SECOND), amount),
                Charge(Quota(f"{name}_10s", per_second * SUSTAIN, SUSTAIN), amount),
            )

        match action:
            case Action.MESSAGE:
                return rate("msg", self.messages_per_second, self.messages_burst)
            case Action.REACTION:
                return rate("react", self.reactions_per_second, self.reactions_burst)
            case Action.TYPING:
                return rate("typing", self.typing_per_second, self.typing_burst)
            case Action.ROOM:
                return (Charge(Quota("rooms_h", self.rooms_per_hour, HOUR), amount),)
            case Action.JOIN:
                return (Charge(Quota("joins_h", self.joins_per_hour, HOUR), amount),)
            case Action.INVITE:
                return (Charge(Quota("invites_h", self.invites_per_hour, HOUR), amount),)
            case Action.UPLOAD:
                return (
                    Charge(Quota("uploads_d", self.uploads_per_day, DAY), amount),
                    Charge(Quota("upload_bytes_d", self.upload_bytes_per_day, DAY), size),
                )
            case Action.BOT:
                return (Charge(Quota("bot_d", self.bot_requests_per_day, DAY), amount),)
            case Action.LOOKUP:
                return (Charge(Quota("lookups_h", self.username_lookups_per_hour, HOUR), amount),)
            case Action.REPORT:
                return (Charge(Quota("reports_h", self.reports_per_hour, HOUR), amount),)

    def refusal(self, action: Action) -> str:
        """The message of the `rate_limited` error for `action` (safe to show to the user)."""
        return f"too many {_WHAT[action]}; slow down and retry after retryAfterMs"


_WHAT: dict[Action, str] = {
    Action.MESSAGE: "messages",
    Action.REACTION: "reactions",
    Action.TYPING: "typing notifications",
    Action.ROOM: "rooms created",
    Action.JOIN: "rooms joined",
    Action.INVITE: "users added to rooms",
    Action.UPLOAD: "uploads today",
    Action.BOT: "requests to the bot today",
    Action.LOOKUP: "look-ups of users by name",
    Action.REPORT: "reports",
}


def attribute_of(quota: Quota, now_ms: int) -> str:
    """The counter of `quota` in its current window, inside the item of the longest window."""
    return f"{quota.name}@{quota.window_of(now_ms)}"


def retry_after_ms(charges: Sequence[Charge], counts: dict[str, int], now_ms: int) -> int:
    """When the refused request could pass: the latest end among the windows that refused."""
    refusing = [
        c.quota.ends_in_ms(now_ms)
        for c in charges
        if counts.get(attribute_of(c.quota, now_ms), 0) + c.amount > c.quota.limit
    ]
    return max(refusing or [max(c.quota.ends_in_ms(now_ms) for c in charges)])


def item_window(charges: Sequence[Charge]) -> Quota:
    """The quota with the longest window: its window names the item."""
    return max((c.quota for c in charges), key=lambda q: q.window_s)


CONNECTIONS_RETRY_AFTER_MS = 5000
"""The hint when a user already has connections_per_user live sockets: until one closes."""


@attrs.frozen
class LimitSetting:
    field: str
    """UserLimits field."""
    key: str
    """Stage config key (Pulumi.<stage>.yaml, namespace `dynamotalk:`)."""
    env: str
    """Environment variable of the functions and the local stack."""
    default: int
    highest: int
    doc: str


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


LIMIT_SETTINGS: tuple[LimitSetting, ...] = tuple(
    LimitSetting(
        field=a.name,
        key="limit" + _camel(a.name)[0].upper() + _camel(a.name)[1:],
        env=f"DYNAMOTALK_LIMIT_{a.name.upper()}",
        default=a.default if isinstance(a.default, int) else 0,
        highest=a.metadata["highest"],
        doc=a.metadata["doc"],
    )
    for a in attrs.fields(UserLimits)
)
"""One row per limit: field, config key (limitMessagesPerSecond), env var
(DYNAMOTALK_LIMIT_MESSAGES_PER_SECOND), default, highest allowed value, meaning."""

LIMIT_BY_KEY: dict[str, LimitSetting] = {s.key: s for s in LIMIT_SETTINGS}


def parse_limits(values: Mapping[str, object], by: str = "env") -> UserLimits:
    """UserLimits from raw values keyed by env var (`by="env"`) or config key (`by="key"`).

    Missing or empty values take the default. Raises ValueError naming every bad one.
    """
    chosen: dict[str, int] = {}
    problems = []
    for setting in LIMIT_SETTINGS:
        name = setting.env if by == "env" else setting.key
        raw = values.get(name)
        if raw is None or str(raw).strip() == "":
            continue
        text = str(raw).strip()
        if isinstance(raw, bool) or not re.fullmatch(r"\d+", text):
            problems.append(f"{name} must be an integer, got {raw!r}")
            continue
        value = int(text)
        if not 1 <= value <= setting.highest:
            problems.append(f"{name} must be 1..{setting.highest}, got {value}")
            continue
        chosen[setting.field] = value
    limits = UserLimits(**chosen)
    for field, low, high in (
        ("messages", limits.messages_per_second, limits.messages_burst),
        ("reactions", limits.reactions_per_second, limits.reactions_burst),
        ("typing", limits.typing_per_second, limits.typing_burst),
    ):
        if high > low * SUSTAIN:
            problems.append(f"{field}: the burst must not exceed {SUSTAIN} x the rate per second")
    if problems:
        raise ValueError("; ".join(problems))
    return limits


def limits_env(limits: UserLimits) -> dict[str, str]:
    """The environment variables that carry `limits` to a function (every limit, explicitly)."""
    return {s.env: str(getattr(limits, s.field)) for s in LIMIT_SETTINGS}


def unlimited_env() -> dict[str, str]:
    """Every limit at its highest allowed value: for the test suite's and the load benchmarks'
    stacks, whose scripted users post hundreds of messages back to back on purpose (history
    paging, load). docs/SECURITY.md says so; the limits' own tests set tight values instead."""
    return {s.env: str(s.highest) for s in LIMIT_SETTINGS}
