"""The one table of routes -> Lambda handler modules, read by infra/ and the local gateway.

A handler is `lambdas/<module>.py` with a `handler(event, context)` function.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable

import attrs

from dynamotalk import export_function, quotas, search_function
from dynamotalk.domain.commands import (
    Command,
    DeleteMessage,
    EditMessage,
    MarkRead,
    Ping,
    React,
    Reauth,
    SendMessage,
    Subscribe,
    Sync,
    TypingCommand,
    Unsubscribe,
)
from dynamotalk.domain.limits import FANOUT_PAGE_WORKERS, SESSION_SWEEP_INTERVAL_S
from dynamotalk.workers import (
    BOT_BATCH_SIZE,
    BOT_MAX_CONCURRENCY,
    BOT_WORKER_TIMEOUT_S,
    ERASURE_NAMED,
    ERASURE_OPTIONS,
    FANOUT,
    FANOUT_BATCH_SIZE,
    FANOUT_PAGES,
    FANOUT_PAGES_BATCH_SIZE,
    FANOUT_TIMEOUT_S,
    PUSH_BATCH_SIZE,
    PUSH_MAX_CONCURRENCY,
    PUSH_SENDER,
    PUSH_SENDER_TIMEOUT_S,
    SESSION_REVOKED,
    SESSION_SWEEPER,
    SESSION_SWEEPER_TIMEOUT_S,
)


@attrs.frozen
class Function:
    module: str
    """Module under lambdas/ (also the Lambda function's logical name)."""
    description: str
    timeout_s: int = 10
    """Lambda timeout: what the function waits on, plus a margin (tests/infra checks it)."""
    memory_mb: int = 512
    """Lambda memory; the local gateway reports it in the context as Lambda does."""
    batch_size: int | None = None
    """Queue consumers only: SQS messages per invocation, handled one after another."""
    reserved_concurrency: int = 0
    """Reserved concurrency where the stage reserves (`reservedConcurrency`): at once this
    function's floor and its ceiling, so a flood of one route cannot take the account's
    concurrency from the others. 0: never reserved (the Cognito triggers run rarely)."""
    max_concurrency: int | None = None
    """Queue consumers only: the event source mapping's ScalingConfig.MaximumConcurrency (2..1000),
    the most invocations the queue may run at once whatever the stage reserves."""
    schedule_s: int | None = None
    """Scheduled functions only: run every this many seconds (an EventBridge schedule in the
    cloud, a timer in the local stack); a whole number of minutes."""

    @property
    def schedule_expression(self) -> str | None:
        """The EventBridge schedule expression, e.g. `rate(1 minute)`."""
        if self.schedule_s is None:
            return None
        minutes = max(1, self.schedule_s // 60)
        return f"rate({minutes} minute{'s' if minutes > 1 else ''})"

    def memory_for(self, stage_floor_mb: int) -> int:
        """Memory on a stage: this function's own need, raised to the stage's floor
        (`lambdaMemoryMb`; more memory also buys more CPU)."""
        return max(self.memory_mb, stage_floor_mb)


def vapid_parameter_name(stage: str) -> str:
    """The SSM parameter (SecureString) holding the stage's VAPID private key (PEM)."""
    return f"/{resource_name(stage)}/vapid-private-key"


ACTION_FIELD = "action"
"""The frame field API Gateway selects a WebSocket route by."""
ROUTE_SELECTION = f"$request.body.{ACTION_FIELD}"
"""The WebSocket API's route selection expression."""
TOKEN_PARAM = "token"  # noqa: S105 - a parameter name
"""The `$connect` query parameter carrying the Cognito ID token: the authorizer's identity
source (a browser cannot set headers on a WebSocket)."""


def socket_url(ws_url: str, id_token: str) -> str:
    """Where a client opens its WebSocket: the stage's `wsUrl` with the token as identity."""
    return f"{ws_url}?{urllib.parse.urlencode({TOKEN_PARAM: id_token})}"


@attrs.frozen
class WsRoute:
    route_key: str
    """`$connect`, `$disconnect`, `$default` or an action name (selection: ROUTE_SELECTION)."""
    module: str


@attrs.frozen
class HttpRoute:
    method: str
    path: str
    """API Gateway HTTP API path with `{param}` placeholders."""
    module: str
    handler: str
    """The function in the module that answers this route (checked when the module loads)."""
    authorized: bool = True
    """Behind the Cognito JWT authorizer; only /health is open."""

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "ws_authorizer",
        "REQUEST authorizer for WebSocket $connect (Cognito token)",
        reserved_concurrency=20,
    ),
    Function("ws_connect", "Registers a WebSocket connection", reserved_concurrency=20),
    Function(
        "ws_disconnect",
        "Unregisters a WebSocket connection and updates presence",
        reserved_concurrency=20,
    ),
    Function(
        "ws_default",
        "Every WebSocket action: messages, typing, subscriptions, sync",
        reserved_concurrency=100,
    ),
    Function(
        "http_api", "The REST API: rooms, history, profile, uploads", reserved_concurrency=100
    ),
    # Cognito stops waiting for a trigger after COGNITO_TRIGGER_TIMEOUT_S: no point running on.
    Function(
        "cognito_pre_signup",
        "Cognito pre sign-up trigger (auto-confirm per stage)",
        timeout_s=quotas.COGNITO_TRIGGER_TIMEOUT_S,
    ),
    Function(
        "cognito_post_confirmation",
        "Cognito post confirmation trigger (creates profile)",
        timeout_s=quotas.COGNITO_TRIGGER_TIMEOUT_S,
    ),
    Function(
        "bot_worker",
        "Answers @bot mentions from the bot queue with Amazon Bedrock",
        timeout_s=BOT_WORKER_TIMEOUT_S,
        batch_size=BOT_BATCH_SIZE,
        reserved_concurrency=BOT_MAX_CONCURRENCY,
        max_concurrency=BOT_MAX_CONCURRENCY,
    ),
    Function(
        FANOUT,
        "Delivers each stored room change to live connections and the event bus (stream)",
        timeout_s=FANOUT_TIMEOUT_S,
        batch_size=FANOUT_BATCH_SIZE,
        reserved_concurrency=50,
    ),
    Function(
        FANOUT_PAGES,
        "Delivers a room change to one page of a big room's connections (SQS)",
        timeout_s=FANOUT_TIMEOUT_S,
        batch_size=FANOUT_PAGES_BATCH_SIZE,
        reserved_concurrency=FANOUT_PAGE_WORKERS,
        max_concurrency=FANOUT_PAGE_WORKERS,
    ),
    Function(
        SESSION_SWEEPER,
        "Closes WebSocket sessions whose token expired (EventBridge schedule)",
        timeout_s=SESSION_SWEEPER_TIMEOUT_S,
        schedule_s=SESSION_SWEEP_INTERVAL_S,
    ),
    Function(SESSION_REVOKED, "Closes a user's sockets after a Cognito sign-out/disable/delete"),
    Function(
        PUSH_SENDER,
        "Sends Web Push to a new message's offline recipients (SQS)",
        timeout_s=PUSH_SENDER_TIMEOUT_S,
        batch_size=PUSH_BATCH_SIZE,
        reserved_concurrency=PUSH_MAX_CONCURRENCY,
        max_concurrency=PUSH_MAX_CONCURRENCY,
    ),
    Function(*search_function.NAMED, **search_function.OPTIONS),
    Function(*export_function.NAMED, **export_function.OPTIONS),  # issue 18: data_export
    Function(*ERASURE_NAMED, **ERASURE_OPTIONS),  # account_erasure (issue 18)
)

WS_AUTHORIZER = "ws_authorizer"
"""The module that authorizes `$connect` (identity source: the `token` query parameter)."""

WS_ACTIONS: dict[str, type[Command]] = {
    "sendMessage": SendMessage,
    "editMessage": EditMessage,
    "deleteMessage": DeleteMessage,
    "react": React,
    "typing": TypingCommand,
    "subscribe": Subscribe,
    "unsubscribe": Unsubscribe,
    "sync": Sync,
    "markRead": MarkRead,
    "ping": Ping,
    "reauth": Reauth,
}
"""Every WebSocket action: its name (the frame's `action`, also its API Gateway route key)
and the command it carries. The one place an action's name is spelled."""
_ACTION_OF: dict[type[Command], str] = {command: name for name, command in WS_ACTIONS.items()}


def action_of(command_type: type[Command]) -> str:
    """The action name of a command class (the `action` of its frame and of its ack)."""
    return _ACTION_OF[command_type]


WS_ROUTES: tuple[WsRoute, ...] = (
    WsRoute("$connect", "ws_connect"),
    WsRoute("$disconnect", "ws_disconnect"),
    WsRoute("$default", "ws_default"),
    *(WsRoute(action, "ws_default") for action in WS_ACTIONS),
)

HTTP_ROUTES: tuple[HttpRoute, ...] = (
    HttpRoute("GET", "/health", "http_api", "health", authorized=False),
    HttpRoute("GET", "/rooms", "http_api", "list_my_rooms"),
    HttpRoute("POST", "/rooms", "http_api", "create_room"),
    HttpRoute("GET", "/rooms/public", "http_api", "list_public_rooms"),
    HttpRoute("GET", "/rooms/{roomId}", "http_api", "get_room"),
    HttpRoute("POST", "/rooms/{roomId}/join", "http_api", "join_room"),
    HttpRoute("POST", "/rooms/{roomId}/leave", "http_api", "leave_room"),
    HttpRoute("GET", "/rooms/{roomId}/members", "http_api", "list_members"),
    HttpRoute("POST", "/rooms/{roomId}/members", "http_api", "add_member"),
    HttpRoute("DELETE", "/rooms/{roomId}/members/{userId}", "http_api", "remove_member"),
    HttpRoute("GET", "/rooms/{roomId}/messages", "http_api", "history"),
    HttpRoute("GET", "/rooms/{roomId}/presence", "http_api", "presence"),
    HttpRoute("POST", "/rooms/{roomId}/read", "http_api", "mark_read"),
    HttpRoute("POST", "/direct", "http_api", "open_direct"),
    HttpRoute("GET", "/invites", "http_api", "list_invites"),
    HttpRoute("POST", "/invites/{roomId}/accept", "http_api", "accept_invite"),
    HttpRoute("POST", "/invites/{roomId}/decline", "http_api", "decline_invite"),
    HttpRoute("POST", "/invites/decline-all", "http_api", "decline_all_invites"),
    HttpRoute("POST", "/invites/{roomId}/block", "http_api", "block_inviter"),
    HttpRoute("POST", "/blocks/{userId}", "http_api", "block_user"),
    HttpRoute("DELETE", "/blocks/{userId}", "http_api", "unblock"),
    HttpRoute("GET", "/blocks", "http_api", "list_blocks"),
    HttpRoute("POST", "/rooms/{roomId}/messages/{messageId}/report", "http_api", "report_message"),
    HttpRoute("GET", "/rooms/{roomId}/reports", "http_api", "list_reports"),
    HttpRoute("POST", "/rooms/{roomId}/reports/{reportId}/resolve", "http_api", "resolve_report"),
    HttpRoute("GET", "/me", "http_api", "get_me"),
    HttpRoute("PATCH", "/me", "http_api", "update_me"),
    HttpRoute("GET", "/users/{userId}", "http_api", "get_user"),
    HttpRoute("POST", "/uploads", "http_api", "request_upload"),
    HttpRoute("GET", "/attachments", "http_api", "attachment_url"),
    # Roles and moderation (issue 17): lambdas/http_moderation.py.
    HttpRoute("PATCH", "/rooms/{roomId}", "http_api", "update_room"),
    HttpRoute("PUT", "/rooms/{roomId}/members/{userId}/role", "http_api", "change_role"),
    HttpRoute("POST", "/rooms/{roomId}/mutes", "http_api", "mute_member"),
    HttpRoute("DELETE", "/rooms/{roomId}/mutes/{userId}", "http_api", "unmute_member"),
    HttpRoute("POST", "/rooms/{roomId}/bans", "http_api", "ban_user"),
    HttpRoute("DELETE", "/rooms/{roomId}/bans/{userId}", "http_api", "unban_user"),
    HttpRoute("GET", "/rooms/{roomId}/bans", "http_api", "list_bans"),
    HttpRoute("POST", "/rooms/{roomId}/pins", "http_api", "pin_message"),
    HttpRoute("DELETE", "/rooms/{roomId}/pins/{messageId}", "http_api", "unpin_message"),
    HttpRoute("GET", "/rooms/{roomId}/pins", "http_api", "list_pins"),
    HttpRoute("GET", "/rooms/{roomId}/audit", "http_api", "audit_log"),
    HttpRoute("GET", "/rooms/{roomId}/messages/{messageId}/thread", "http_api", "thread"),
    # Web Push (issue 18): lambdas/http_push.py.
    HttpRoute("GET", "/push/key", "http_api", "push_key"),
    HttpRoute("PUT", "/push/subscriptions/{deviceId}", "http_api", "put_push_subscription"),
    HttpRoute("DELETE", "/push/subscriptions/{deviceId}", "http_api", "delete_push_subscription"),
    HttpRoute("GET", "/push/subscriptions", "http_api", "list_push_subscriptions"),
    HttpRoute("PUT", "/rooms/{roomId}/notifications", "http_api", "put_room_notifications"),
    HttpRoute("GET", "/rooms/{roomId}/notifications", "http_api", "get_room_notifications"),
    HttpRoute("GET", "/search", "http_api", "search"),  # issue 18: lambdas/http_search.py
    HttpRoute("POST", "/me/exports", "http_api", "request_export"),  # issue 18: http_export.py
    HttpRoute("GET", "/me/exports/{exportId}", "http_api", "export_status"),
    HttpRoute("DELETE", "/me", "http_api", "erase_me"),  # issue 18: lambdas/http_erasure.py
)

FUNCTION_BY_MODULE: dict[str, Function] = {f.module: f for f in FUNCTIONS}


def resource_name(stage: str, what: str = "") -> str:
    """The name of a stage's AWS resource: `dynamotalk-{stage}-{what}` (or the stage's own)."""
    return f"dynamotalk-{stage}-{what}" if what else f"dynamotalk-{stage}"


BOT_QUEUE = "bot-jobs"
"""The bot's job queue (`resource_name(stage, BOT_QUEUE)`): infra creates it, the local IAM
check grants the same ARN."""


def function_name(stage: str, module: str) -> str:
    """The deployed Lambda function's name, which the local gateway also reports."""
    return resource_name(stage, module.replace("_", "-"))


HTTP_CORS_METHODS: tuple[str, ...] = tuple(
    sorted({route.method for route in HTTP_ROUTES} | {"OPTIONS"})
)
HTTP_CORS_HEADERS: tuple[str, ...] = ("authorization", "content-type")
"""Request headers the web client sends to the HTTP API."""
HTTP_CORS_MAX_AGE_S = 3600

COGNITO_TRIGGERS: dict[str, str] = {
    "pre_sign_up": "cognito_pre_signup",
    "post_confirmation": "cognito_post_confirmation",
}


def check_handlers(module: str, routed: Iterable[object], handled: Iterable[object]) -> None:
    """Refuse to load a handler module whose handlers and routes differ: every route this table
    sends to `module` has a handler there, and every handler there has a route."""
    routed, handled = set(routed), set(handled)
    if routed != handled:

        def names(things: set[object]) -> str:
            return ", ".join(sorted(getattr(t, "__name__", str(t)) for t in things)) or "none"

        raise RuntimeError(
            f"{module}: routes without a handler: {names(routed - handled)}; "
            f"handlers without a route: {names(handled - routed)}"
        )


def ws_route_for(action: object) -> str:
    """The route key API Gateway would select for a frame's `action` value."""
    if isinstance(action, str) and action in WS_ACTIONS:
        return action
    return "$default"


CLIENT_ACTIONS: dict[str, str] = {command.__name__: name for name, command in WS_ACTIONS.items()}
"""config.json `actions`: each WebSocket command's action name by the command's class name
(`{"SendMessage": "sendMessage", ...}`), so the web client sends `{action: actions.SendMessage}`
and spells no action name itself."""
