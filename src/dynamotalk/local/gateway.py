"""The local gateway: one ASGI app that plays API Gateway (WebSocket + HTTP + management API)
and a Cognito front door, calling the very same lambdas/ handlers the cloud runs; and a second
app that serves the web client from its own origin, as CloudFront does.

API origin (`Gateway.app()`):
- `GET /ws` WebSocket: REQUEST authorizer on connect (refused upgrades answer JSON 401/403/500),
  `$connect`, one event per frame with the routeKey chosen by `action` (routes.py), invoked
  concurrently as AWS does (`ordered=True` is a debugging aid only), `$disconnect` with
  `disconnectStatusCode`/`disconnectReason`. AWS's limits from quotas.py: a frame over
  WS_FRAME_BYTES or a message over WS_MESSAGE_BYTES closes with 1009, a binary frame with 1003,
  no data frame either way for WS_IDLE_TIMEOUT_S or a life of WS_CONNECTION_MAX_S closes with
  1001 "Going away". A handler's returned body goes back to the sender (two-way route).
- Each connection has a bounded outbound queue drained by its own task: PostToConnection
  returns once the message is queued; a connection whose queue overflows is closed (1008) and
  answers 410 Gone from then on, so no sender ever waits on a slow reader.
- `POST/GET/DELETE /@connections/{id}`: the management API the real boto3 client calls
  (413 PayloadTooLargeException over WS_MESSAGE_BYTES).
- `/api/...`: the HTTP API, payload format 2.0, the Cognito JWT authorizer emulated (token with
  or without `Bearer `), unknown route or method -> 404 {"message":"Not Found"}, CORS for the
  configured origins only, per-function Lambda timeout and memory (routes.FUNCTION_BY_MODULE),
  the 6 MB response cap.
- `POST /cognito`: forwards Cognito's JSON API to the emulator and runs the pre sign-up and post
  confirmation triggers it does not run; CORS for any origin, as Cognito's public endpoint.
- Local-only conveniences: `/config.json` (for the terminal client), `/health`, `/_local/...`
  (`POST /_local/schedules/{module}` runs a scheduled function now, as its EventBridge rule
  would; local/schedules.py runs them on their schedule).

Web origin (`Gateway.web_app()`): web/ and a `/config.json` pointing at the API origin.

Where AWS's documentation is silent the gateway picks the stricter behaviour (docs/LOCAL.md).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import contextvars
import functools
import importlib
import inspect
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import httpx
import structlog
from botocore.exceptions import ClientError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from dynamotalk import quotas, webheaders
from dynamotalk.domain.text import replace_lone_surrogates
from dynamotalk.local import events
from dynamotalk.local.invocation import current_function
from dynamotalk.local.web_headers import WithSecurityHeaders
from dynamotalk.routes import CLIENT_ACTIONS as ACTIONS
from dynamotalk.routes import (
    FUNCTION_BY_MODULE,
    HTTP_CORS_HEADERS,
    HTTP_CORS_MAX_AGE_S,
    HTTP_CORS_METHODS,
    HTTP_ROUTES,
    WS_AUTHORIZER,
    WS_ROUTES,
    ws_route_for,
)
from dynamotalk.userpool import user_pool_spec

Handler = Callable[[dict[str, Any], object], Any]
_log = structlog.get_logger("dynamotalk.gateway")

# The HTTP API's CORS configuration (infra/http_api.py declares the same for the cloud).
COGNITO_CORS_HEADERS = "authorization, content-type, x-amz-target, x-amz-user-agent"

ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
"""Every method reaches the gateway, which answers unknown ones as API Gateway does (404)."""
WS_MODULE_BY_ROUTE = {route.route_key: route.module for route in WS_ROUTES}

# Close codes (RFC 6455 section 7.4.1) and the disconnectReason API Gateway reports with them.
CLOSE_NORMAL = (1000, "Connection Closed Normally")
"""DeleteConnection."""
CLOSE_GOING_AWAY = (1001, "Going away")
"""Idle timeout and the connection's maximum life."""
CLOSE_UNSUPPORTED = (1003, "Binary frames are not supported")
CLOSE_TOO_BIG = (1009, "Message too big")
CLOSE_SLOW_READER = (1008, "Slow reader: outbound queue overflowed")
"""Our choice (AWS documents no code): the client broke the contract by not reading."""
CLIENT_REASONS = {
    1000: "Connection Closed Normally",
    1001: "Going away",
    1005: "Client-side close frame status not set",
    1006: "Connection closed abnormally",
}

INTERNAL_HTTP = {"message": "Internal Server Error"}
"""What the HTTP API answers when the Lambda invocation fails (error, timeout, oversize)."""
UNAVAILABLE_HTTP = {"message": "Service Unavailable"}
"""What the HTTP API answers when its integration timeout passes first."""


def import_handler(module: str) -> Handler:
    handler: Handler = importlib.import_module(f"lambdas.{module}").handler
    return handler


def uvicorn_options() -> dict[str, Any]:
    """The uvicorn settings the gateway's WebSocket contract relies on (pass them to
    uvicorn.Config): websockets' sans-I/O protocol with AWS's frame and message limits, so an
    oversized frame or message closes the connection with 1009 before it is ever buffered; no
    compression extension and no server pings (API Gateway offers neither; a ping does not
    count as traffic for the idle timeout); an HTTP protocol that hands the upgrade request to
    the WebSocket side with its header names cased as the client sent them."""
    return {
        "http": _case_keeping_h11(),
        "ws": "websockets-sansio",
        "ws_max_size": (quotas.WS_MESSAGE_BYTES, quotas.WS_FRAME_BYTES),
        "ws_per_message_deflate": False,
        "ws_ping_interval": None,
        "lifespan": "off",
    }


def _case_keeping_h11() -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, except that a WebSocket upgrade keeps the raw header names
    (uvicorn lowercases them when it replays the request to the WebSocket protocol, and
    $connect events carry the headers as the client sent them)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class CaseKeepingH11Protocol(H11Protocol):
        def handle_websocket_upgrade(self, event: h11.Request) -> None:
            self.headers = list(event.headers.raw_items())
            super().handle_websocket_upgrade(event)

    return CaseKeepingH11Protocol


class InvocationError(Exception):
    """A Lambda invocation that did not produce a usable response."""

    def __init__(self, kind: str, module: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind
        """error | timeout | integration_timeout | too_large"""
        self.module = module
        self.detail = detail


def _gone() -> Response:
    return JSONResponse(
        {"message": "Gone"}, status_code=410, headers={"x-amzn-ErrorType": "GoneException"}
    )


@attrs.define(eq=False)
class LiveConnection:
    connection_id: str
    socket: WebSocket
    connected_at: int
    source_ip: str
    user_agent: str
    authorizer: dict[str, Any]
    last_active: int
    """Epoch ms of the last data frame either way (GetConnection's lastActiveAt)."""
    last_traffic: float
    """Loop time of the last data frame either way (the idle timer)."""
    outbox: collections.deque[str] = attrs.Factory(collections.deque)
    outbox_bytes: int = 0
    wake: asyncio.Event = attrs.Factory(asyncio.Event)
    closing: tuple[int, str] | None = None
    """Set once the gateway decided to close: the code and reason $disconnect reports."""
    tasks: set[asyncio.Task[None]] = attrs.Factory(set)


@attrs.define
class Gateway:
    """State of the local API Gateway: live sockets and how to reach the handlers."""

    stage: str
    host: str
    port: int
    verify_claims: Callable[[str], Mapping[str, Any]]
    """Token -> verified claims (raises on a bad token): the JWT authorizer."""
    resolve: Callable[[str], Handler] = import_handler
    cognito_endpoint: str | None = None
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    web_dir: Path | None = None
    allowed_origins: Sequence[str] = ()
    """Origins the HTTP API's CORS allows (the web client's origin); none by default."""
    s3_endpoint: str | None = None
    """Where browsers upload and download attachments (the web origin's CSP allows it)."""
    idle_timeout_s: float = quotas.WS_IDLE_TIMEOUT_S
    max_connection_s: float = quotas.WS_CONNECTION_MAX_S
    outbound_max_messages: int = 256
    """Messages a connection may have waiting to be written before it is dropped."""
    outbound_max_bytes: int = attrs.field(default=4 * quotas.WS_MESSAGE_BYTES)
    """Bytes a connection may have waiting to be written before it is dropped (at least one
    message of the largest size PostToConnection accepts)."""
    ordered: bool = False
    """Debugging only: handle a connection's frames one at a time. AWS does not."""
    timeouts: Mapping[str, float] = attrs.Factory(dict)
    """Per-module Lambda timeout overrides for tests (default: routes.FUNCTION_BY_MODULE)."""
    close_grace_s: float = 2.0
    """How long a close frame may wait on a stalled socket before the TCP connection is cut."""
    connections: dict[str, LiveConnection] = attrs.Factory(dict)
    executor: ThreadPoolExecutor = attrs.Factory(
        lambda: ThreadPoolExecutor(max_workers=32, thread_name_prefix="lambda")
    )
    """Where handlers run: like Lambda's concurrency, many at once, each blocking on I/O."""
    lost: set[str] = attrs.Factory(set)
    """Connections cut by the test hook: their $disconnect never runs, as when AWS loses one."""
    outbound_high_water: dict[str, int] = attrs.Factory(lambda: {"messages": 0, "bytes": 0})
    """The most any connection ever had queued (local-only observability)."""
    slow_readers_dropped: int = 0
    _background: set[asyncio.Task[None]] = attrs.Factory(set)

    @outbound_max_bytes.validator
    def _holds_one_message(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < quotas.WS_MESSAGE_BYTES:
            raise ValueError("outbound_max_bytes must hold one message of WS_MESSAGE_BYTES")

    @property
    def domain(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.domain}"

    def client_config(self) -> dict[str, object]:
        return {
            "wsUrl": f"ws://{self.domain}/ws",
            "httpUrl": f"{self.base_url}/api",
            "cognitoUrl": f"{self.base_url}/cognito",
            "region": events.REGION,
            "userPoolId": self.user_pool_id,
            "userPoolClientId": self.user_pool_client_id,
            "stage": self.stage,
            "actions": ACTIONS,
        }

    # --- Lambda -------------------------------------------------------------------------------

    def timeout_of(self, module: str) -> float:
        function = FUNCTION_BY_MODULE.get(module)
        return float(self.timeouts.get(module, function.timeout_s if function else 3))

    async def call(self, module: str, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke a handler as Lambda would, off the event loop (handlers block on boto3).

        The handler gets a Lambda-like context (its function's memory and deadline) and runs
        with `invocation.current_function` set. An exception, a run past the function's timeout
        (or past API Gateway's integration timeout, whichever comes first) or a response over
        Lambda's 6 MB cap raise InvocationError; the callers answer as API Gateway does. A
        timed-out handler's thread cannot be killed: it finishes in the background, unheard.
        """
        handler = self.resolve(module)
        function = FUNCTION_BY_MODULE.get(module)
        timeout = self.timeout_of(module)
        submitted = time.monotonic()
        loop = asyncio.get_running_loop()
        started: asyncio.Future[events.LambdaContext] = loop.create_future()

        def run() -> Any:
            # The function's timeout runs from when it starts, as on Lambda (a wait for a free
            # worker here stands for Lambda scaling out, not for the function's own time).
            context = events.LambdaContext.start(
                self.stage, module, function.memory_mb if function else 128, timeout
            )
            loop.call_soon_threadsafe(_resolve, started, context)
            current_function.set(module)
            return handler(event, context)

        future = loop.run_in_executor(self.executor, contextvars.Context().run, run)
        # API Gateway's integration timeout counts from the request, waiting included.
        integration = float(quotas.INTEGRATION_TIMEOUT_S)
        request_id = "-"
        try:
            context = await asyncio.wait_for(asyncio.shield(started), timeout=integration)
            request_id = context.aws_request_id
            left = integration - (time.monotonic() - submitted)
            limit = min(timeout, left)
            reply = await asyncio.wait_for(future, timeout=max(limit, 0.001))
        except TimeoutError:
            kind = "timeout" if started.done() and timeout <= limit else "integration_timeout"
            _log.error(
                "lambda_timeout", function=module, timeout_s=timeout, kind=kind,
                request_id=request_id,
            )  # fmt: skip
            detail = f"Task timed out after {timeout:.2f} seconds"
            raise InvocationError(kind, module, detail) from None
        except Exception as error:  # an unhandled error is a function error
            _log.warning("lambda_error", function=module, error=repr(error))
            raise InvocationError("error", module, str(error)) from error
        try:  # Lambda's runtime serialises the result as JSON, or fails the invocation
            size = len(json.dumps(reply).encode())
        except (TypeError, ValueError) as error:
            _log.warning("lambda_marshal_error", function=module, error=repr(error))
            raise InvocationError("error", module, f"Runtime.MarshalError: {error}") from None
        if size > quotas.LAMBDA_SYNC_RESPONSE_BYTES:
            _log.error("lambda_response_too_large", function=module, bytes=size)
            raise InvocationError("too_large", module, f"response of {size} bytes")
        if not isinstance(reply, dict):
            reply = {"statusCode": 200, "body": json.dumps(reply)}
        return reply

    # --- WebSocket API ------------------------------------------------------------------------

    async def websocket(self, socket: WebSocket) -> None:
        try:
            live = await self._open(socket)
        except Exception:  # noqa: BLE001 - a refused upgrade is always the gateway's JSON
            _log.exception("ws_upgrade_failed")
            await self._deny(socket, 500, "Internal server error")
            return
        if live is not None:
            await self._serve(live)

    async def _open(self, socket: WebSocket) -> LiveConnection | None:
        connection_id = uuid.uuid4().hex[:12] + "="
        connected_at = int(time.time() * 1000)
        source_ip = socket.client.host if socket.client else "127.0.0.1"
        headers, multi = _connect_headers(socket, source_ip)
        user_agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), "")
        query = dict(socket.query_params)
        auth_event = events.ws_authorizer_event(
            connection_id, headers, query, self.domain, self.stage, connected_at, source_ip,
            user_agent, multi,
        )  # fmt: skip
        try:
            policy = await self.call(WS_AUTHORIZER, auth_event)
        except InvocationError as error:  # the authorizer refuses by raising "Unauthorized"
            if error.kind == "error" and error.detail == "Unauthorized":
                await self._deny(socket, 401, "Unauthorized")
            else:
                await self._deny(socket, 500, "Internal server error")
            return None
        statement = (policy.get("policyDocument") or {}).get("Statement") or [{}]
        if statement[0].get("Effect") != "Allow":
            await self._deny(socket, 403, "Forbidden")
            return None
        authorizer = {"principalId": policy.get("principalId"), **(policy.get("context") or {})}
        connect = events.ws_event(
            "$connect", "CONNECT", connection_id, self.domain, self.stage, connected_at,
            source_ip, authorizer, headers=headers, query=query, user_agent=user_agent,
            multi_headers=multi,
        )  # fmt: skip
        try:
            reply = await self.call(WS_MODULE_BY_ROUTE["$connect"], connect)
        except InvocationError:
            await self._deny(socket, 500, "Internal server error")
            return None
        status = int(reply.get("statusCode", 500))
        if not 200 <= status < 300:
            await self._deny(socket, status, "Forbidden" if status == 403 else "Refused")
            return None
        protocol = (reply.get("headers") or {}).get("Sec-WebSocket-Protocol")
        await socket.accept(subprotocol=protocol)
        loop = asyncio.get_running_loop()
        live = LiveConnection(
            connection_id, socket, connected_at, source_ip, user_agent, authorizer,
            connected_at, loop.time(),
        )  # fmt: skip
        self.connections[connection_id] = live
        return live

    def _event(
        self,
        live: LiveConnection,
        route_key: str,
        kind: str,
        body: str | None = None,
        disconnect: tuple[int, str] | None = None,
    ) -> dict[str, Any]:
        return events.ws_event(
            route_key, kind, live.connection_id, self.domain, self.stage, live.connected_at,
            live.source_ip, live.authorizer, body, user_agent=live.user_agent,
            disconnect=disconnect,
        )  # fmt: skip

    async def _serve(self, live: LiveConnection) -> None:
        writer = asyncio.create_task(self._write(live))
        watchdog = asyncio.create_task(self._watch(live))
        client_close: tuple[int, str] = (1006, CLIENT_REASONS[1006])
        try:
            while True:
                message = await live.socket.receive()
                if message["type"] == "websocket.disconnect":
                    code = int(message.get("code") or 1005)
                    reason = str(message.get("reason") or "") or CLIENT_REASONS.get(code, "")
                    client_close = (code, reason)
                    break
                if live.closing is not None:
                    continue  # frames after the gateway decided to close are dropped
                text = message.get("text")
                if text is None:
                    await self._close(live, *CLOSE_UNSUPPORTED)
                    continue
                if len(text.encode()) > quotas.WS_MESSAGE_BYTES:
                    await self._close(live, *CLOSE_TOO_BIG)
                    continue
                self._touch(live)
                if self.ordered:
                    await self._frame(live, text)
                else:
                    task = asyncio.create_task(self._frame(live, text))
                    live.tasks.add(task)
                    task.add_done_callback(live.tasks.discard)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the client went away, or the server closed the socket
        finally:
            self.connections.pop(live.connection_id, None)
            if live.closing is None:
                live.closing = client_close
            live.outbox.clear()
            live.outbox_bytes = 0
            writer.cancel()
            watchdog.cancel()
            if live.connection_id in self.lost:
                self.lost.discard(live.connection_id)
            else:
                route = "$disconnect"
                event = self._event(live, route, "DISCONNECT", disconnect=live.closing)
                with contextlib.suppress(InvocationError):  # logged by call(); nobody to tell
                    await self.call(WS_MODULE_BY_ROUTE[route], event)

    def _touch(self, live: LiveConnection) -> None:
        live.last_traffic = asyncio.get_running_loop().time()
        live.last_active = int(time.time() * 1000)

    async def _frame(self, live: LiveConnection, body: str) -> None:
        route = self._route_of(body)
        event = self._event(live, route, "MESSAGE", body)
        try:
            reply = await self.call(WS_MODULE_BY_ROUTE[route], event)
            text = reply.get("body")
        except InvocationError:
            # What API Gateway sends the caller when the route's integration fails.
            text = json.dumps(
                {
                    "message": "Internal server error",
                    "connectionId": live.connection_id,
                    "requestId": event["requestContext"]["requestId"],
                }
            )
        if text:
            self.post(live, replace_lone_surrogates(str(text)))

    def post(self, live: LiveConnection, text: str) -> bool:
        """Queue a message for the connection; never waits. A queue that would overflow closes
        the connection (a slow reader loses it) and the message is refused."""
        if live.closing is not None:
            return False
        size = len(text.encode())
        if (
            len(live.outbox) + 1 > self.outbound_max_messages
            or live.outbox_bytes + size > self.outbound_max_bytes
        ):
            self.slow_readers_dropped += 1
            _log.warning(
                "ws_slow_reader_dropped", connection_id=live.connection_id,
                queued=len(live.outbox), queued_bytes=live.outbox_bytes,
            )  # fmt: skip
            self._spawn(self._close(live, *CLOSE_SLOW_READER))
            return False
        live.outbox.append(text)
        live.outbox_bytes += size
        high = self.outbound_high_water
        high["messages"] = max(high["messages"], len(live.outbox))
        high["bytes"] = max(high["bytes"], live.outbox_bytes)
        live.wake.set()
        return True

    async def _write(self, live: LiveConnection) -> None:
        """The connection's own writer: drains its queue; only it ever waits on the socket."""
        try:
            while live.closing is None:
                await live.wake.wait()
                live.wake.clear()
                while live.outbox and live.closing is None:
                    text = live.outbox.popleft()
                    live.outbox_bytes -= len(text.encode())
                    await live.socket.send_text(text)
                    self._touch(live)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass

    async def _watch(self, live: LiveConnection) -> None:
        """Idle timeout and maximum connection life, as API Gateway applies them."""
        loop = asyncio.get_running_loop()
        opened = loop.time()
        while live.closing is None:
            deadline = min(live.last_traffic + self.idle_timeout_s, opened + self.max_connection_s)
            if loop.time() >= deadline:
                await self._close(live, *CLOSE_GOING_AWAY)
                return
            await asyncio.sleep(deadline - loop.time())

    async def _close(self, live: LiveConnection, code: int, reason: str) -> None:
        """Close with a code the client sees and $disconnect reports; a socket too stalled to
        take the close frame within close_grace_s has its TCP connection cut."""
        if live.closing is not None:
            return
        live.closing = (code, reason)
        self.connections.pop(live.connection_id, None)
        live.outbox.clear()
        live.outbox_bytes = 0
        live.wake.set()
        try:
            await asyncio.wait_for(live.socket.close(code, reason), timeout=self.close_grace_s)
        except (TimeoutError, RuntimeError, OSError, WebSocketDisconnect):
            _abort(live.socket)

    async def _flush_then_close(self, live: LiveConnection) -> None:
        """DeleteConnection after what PostToConnection already accepted: on AWS a post answers
        200 once it is sent, so it reaches the client before the close (a session's last
        words, sessions.py). A reader too slow for close_grace_s loses them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.close_grace_s
        while live.outbox and live.closing is None and loop.time() < deadline:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.01)  # the writer's last send_text
        await self._close(live, *CLOSE_NORMAL)

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    def _route_of(body: str) -> str:
        """The route API Gateway selects: `$request.body.action`, or `$default` for a body it
        cannot evaluate (not JSON, or nested deeper than a parser takes) or no matching route."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return "$default"
        return ws_route_for(data.get("action") if isinstance(data, dict) else None)

    @staticmethod
    async def _deny(socket: WebSocket, status: int, message: str) -> None:
        response = JSONResponse({"message": message}, status_code=status)
        try:
            await socket.send_denial_response(response)
        except RuntimeError:
            await socket.close(code=1008)

    # --- management API -----------------------------------------------------------------------

    async def manage(self, request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        live = self.connections.get(connection_id)
        if request.method == "POST":
            data = await _body_within(request, quotas.WS_MESSAGE_BYTES)
            if data is None:
                return JSONResponse(
                    {"message": "Message too long"},
                    status_code=413,
                    headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
                )
            if live is None or not self.post(live, data.decode("utf-8", "replace")):
                return _gone()
            return Response(status_code=200)
        if live is None:
            return _gone()
        if request.method == "DELETE":
            self._spawn(self._flush_then_close(live))
            return Response(status_code=204)
        return JSONResponse(
            {
                "connectedAt": _iso(live.connected_at),
                "identity": {"sourceIp": live.source_ip, "userAgent": live.user_agent},
                "lastActiveAt": _iso(live.last_active),
            }
        )

    async def drop(self, request: Request) -> Response:
        """Local-only test hook: cut a socket without a $disconnect, as when one is lost."""
        connection_id = request.path_params["connection_id"]
        live = self.connections.pop(connection_id, None)
        if live is None:
            return JSONResponse({"message": "no such connection"}, status_code=404)
        self.lost.add(connection_id)
        self._spawn(self._close(live, *CLOSE_GOING_AWAY))
        return Response(status_code=204)

    def connection_ids(self, request: Request) -> Response:
        return JSONResponse({"connections": sorted(self.connections)})

    def outbound(self, request: Request) -> Response:
        """Local-only: the outbound queues' bounds and the most ever queued."""
        return JSONResponse(
            {
                "limits": {
                    "messages": self.outbound_max_messages,
                    "bytes": self.outbound_max_bytes,
                },
                "highWater": dict(self.outbound_high_water),
                "slowReadersDropped": self.slow_readers_dropped,
                "queued": {
                    cid: {"messages": len(live.outbox), "bytes": live.outbox_bytes}
                    for cid, live in self.connections.items()
                },
            }
        )

    async def run_scheduled(self, request: Request) -> Response:
        """Local-only test hook: run a scheduled function now, as its EventBridge rule would."""
        from dynamotalk.local.schedules import scheduled_event

        module = request.path_params["module"]
        function = FUNCTION_BY_MODULE.get(module)
        if function is None or function.schedule_s is None:
            return JSONResponse({"message": "no such scheduled function"}, status_code=404)
        try:
            result = await self.call(module, scheduled_event(self.stage, module))
        except InvocationError as error:
            return JSONResponse({"message": error.kind}, status_code=500)
        return JSONResponse(result)

    # --- HTTP API -----------------------------------------------------------------------------

    def _cors(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        if not origin or origin not in self.allowed_origins:
            return {}
        return {"access-control-allow-origin": origin, "vary": "origin"}

    async def http_api(self, request: Request) -> Response:
        path = "/" + request.path_params.get("path", "")
        method = request.method
        cors = self._cors(request)
        if method == "OPTIONS" and "access-control-request-method" in request.headers:
            # API Gateway answers preflights itself; an origin it doesn't allow gets no CORS.
            preflight = {
                **cors,
                "access-control-allow-methods": ", ".join(HTTP_CORS_METHODS),
                "access-control-allow-headers": ", ".join(HTTP_CORS_HEADERS),
                "access-control-max-age": str(HTTP_CORS_MAX_AGE_S),
            }
            return Response(status_code=204, headers=preflight if cors else {})
        for route, pattern in HTTP_PATTERNS:
            match = pattern.match(path)
            if match and route.method == method:
                break
        else:
            return JSONResponse({"message": "Not Found"}, status_code=404, headers=cors)
        body = await _body_within(request, quotas.HTTP_PAYLOAD_BYTES)
        if body is None:  # counted as it arrives: a chunked body has no Content-Length
            return JSONResponse(
                {"message": "Request Entity Too Large"}, status_code=413, headers=cors
            )
        claims: Mapping[str, Any] | None = None
        if route.authorized:
            claims = self._jwt_claims(request.headers.get("authorization", ""))
            if claims is None:
                return JSONResponse({"message": "Unauthorized"}, status_code=401, headers=cors)
        headers = _joined(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
        )
        headers.setdefault("x-forwarded-for", request.client.host if request.client else "")
        headers.setdefault("x-forwarded-proto", request.url.scheme)
        headers.setdefault("x-forwarded-port", str(request.url.port or self.port))
        cookies = [c.strip() for c in headers.get("cookie", "").split(";") if c.strip()]
        query = _joined(request.query_params.multi_items(), lower=False)
        event = events.http_event(
            route.route_key, method, path, request.url.query, query, match.groupdict(), headers,
            body, claims, request.client.host if request.client else "127.0.0.1",
            self.domain, cookies,
        )  # fmt: skip
        try:
            reply = await self.call(route.module, event)
        except InvocationError as error:
            unavailable = error.kind == "integration_timeout"
            answer, status = (UNAVAILABLE_HTTP, 503) if unavailable else (INTERNAL_HTTP, 500)
            return JSONResponse(answer, status_code=status, headers=cors)
        return _http_reply(reply, cors)

    def _jwt_claims(self, header: str) -> Mapping[str, Any] | None:
        """The JWT authorizer: the identity source holds the token alone or after `Bearer `."""
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else header
        token = token.strip()
        if not token:
            return None
        try:
            return self.verify_claims(token)
        except Exception:  # noqa: BLE001 - any refusal is API Gateway's plain 401
            return None

    async def not_found(self, request: Request) -> Response:
        return JSONResponse({"message": "Not Found"}, status_code=404)

    # --- Cognito front door -------------------------------------------------------------------

    async def cognito(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_cognito_cors(request, preflight=True))
        target = request.headers.get("x-amz-target", "")
        operation = target.rsplit(".", 1)[-1]
        if operation not in _public_cognito_operations():
            # Admin and pool operations need a SigV4-signed IAM caller on AWS; this front door
            # is the public endpoint a browser reaches, so it serves the public ones only.
            return _cognito_error(
                request, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        raw = await request.body()
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            return _cognito_error(request, "InvalidParameterException", "body is not JSON")
        trigger = _SignUpTrigger()
        if operation == "SignUp":
            refused, trigger = await self._pre_signup(payload)
            if refused is not None:
                return _cognito_error(request, "UserLambdaValidationException", refused)
        headers = {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": target,
            # moto routes by SigV4 scope; browsers don't sign Cognito's public calls.
            "authorization": _UNSIGNED_COGNITO,
        }
        async with httpx.AsyncClient(timeout=10) as client:
            upstream = await client.post(f"{self.cognito_endpoint}/", content=raw, headers=headers)
        content = upstream.content
        if upstream.status_code == 200 and operation in ("SignUp", "ConfirmSignUp"):
            try:
                await self._after_signup(operation, payload, trigger)
            except (InvocationError, ClientError) as error:
                # Cognito reports a failed post confirmation trigger to the caller.
                detail = error.detail if isinstance(error, InvocationError) else str(error)
                return _cognito_error(
                    request,
                    "UserLambdaValidationException",
                    f"PostConfirmation failed with error {detail}.",
                )
            if operation == "SignUp" and trigger.auto_confirm:
                # What Cognito answers when the pre sign-up trigger confirmed the user.
                content = json.dumps({**upstream.json(), "UserConfirmed": True}).encode()
        return Response(
            content,
            status_code=upstream.status_code,
            headers={"content-type": "application/x-amz-json-1.1", **_cognito_cors(request)},
        )

    async def _pre_signup(self, payload: Mapping[str, Any]) -> tuple[str | None, _SignUpTrigger]:
        attributes = {a.get("Name"): a.get("Value") for a in payload.get("UserAttributes") or []}
        event = events.cognito_event(
            "PreSignUp_SignUp",
            self.user_pool_id,
            self.user_pool_client_id,
            _trigger_username(str(payload.get("Username", ""))),
            attributes,
        )
        try:
            reply = await self.call("cognito_pre_signup", event)
        except InvocationError as error:  # Cognito reports trigger failures to the user
            return f"PreSignUp failed with error {error.detail}.", _SignUpTrigger()
        response = reply.get("response") or {}
        return None, _SignUpTrigger(
            auto_confirm=bool(response.get("autoConfirmUser")),
            auto_verify_email=bool(response.get("autoVerifyEmail")),
        )

    async def _after_signup(
        self, operation: str, payload: Mapping[str, Any], trigger: _SignUpTrigger
    ) -> None:
        import boto3

        username = str(payload.get("Username", ""))
        cognito = boto3.client(
            "cognito-idp",
            endpoint_url=self.cognito_endpoint,
            region_name=events.REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - loopback emulator
        )
        if operation == "SignUp":
            if not trigger.auto_confirm:
                return
            await asyncio.to_thread(
                cognito.admin_confirm_sign_up, UserPoolId=self.user_pool_id, Username=username
            )
            if trigger.auto_verify_email:
                # What Cognito does when the trigger answers autoVerifyEmail: the address is
                # verified, and so usable as a sign-in alias at once.
                await asyncio.to_thread(
                    cognito.admin_update_user_attributes,
                    UserPoolId=self.user_pool_id,
                    Username=username,
                    UserAttributes=[{"Name": "email_verified", "Value": "true"}],
                )
        user = await asyncio.to_thread(
            cognito.admin_get_user, UserPoolId=self.user_pool_id, Username=username
        )
        attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        event = events.cognito_event(
            "PostConfirmation_ConfirmSignUp",
            self.user_pool_id,
            self.user_pool_client_id,
            user["Username"],
            attributes,
        )
        await self.call("cognito_post_confirmation", event)

    # --- the apps -----------------------------------------------------------------------------

    async def _config(self, request: Request) -> Response:
        return JSONResponse(self.client_config(), headers={"cache-control": "no-store"})

    def app(self) -> Starlette:
        """The API origin: WebSocket, management API, HTTP API, Cognito front door."""

        async def health(request: Request) -> Response:
            return JSONResponse({"status": "ok", "connections": len(self.connections)})

        manage = ["GET", "POST", "DELETE"]
        routes: list[Any] = [
            WebSocketRoute("/ws", self.websocket),
            Route("/@connections/{connection_id}", _no_browsers(self.manage), methods=manage),
            Route(
                "/{stage}/@connections/{connection_id}", _no_browsers(self.manage), methods=manage
            ),
            Route("/_local/connections", _no_browsers(self.connection_ids), methods=["GET"]),
            Route(
                "/_local/connections/{connection_id}/drop",
                _no_browsers(self.drop),
                methods=["POST"],
            ),
            Route("/_local/outbound", _no_browsers(self.outbound), methods=["GET"]),
            Route("/_local/schedules/{module}", _no_browsers(self.run_scheduled), methods=["POST"]),
            Route("/api/{path:path}", self.http_api, methods=ANY_METHOD),
            Route("/cognito", self.cognito, methods=["POST", "OPTIONS"]),
            Route("/cognito/", self.cognito, methods=["POST", "OPTIONS"]),
            # Local-only: lets the terminal client find the endpoints from the API's URL.
            Route("/config.json", self._config, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/{path:path}", self.not_found, methods=ANY_METHOD),
        ]
        return Starlette(routes=routes, middleware=_LOOPBACK_ONLY)

    def web_app(self) -> Starlette:
        """The web origin, as CloudFront serves it: web/ and a config.json naming the API, with
        the security headers of CloudFront's response headers policy (webheaders.py)."""
        routes: list[Any] = [Route("/config.json", self._config, methods=["GET"])]
        if self.web_dir is not None and self.web_dir.is_dir():
            routes.append(Mount("/", StaticFiles(directory=self.web_dir, html=True)))
        headers = webheaders.security_headers(self.web_origins()).as_http()
        secured = [Middleware(WithSecurityHeaders, headers=headers), *_LOOPBACK_ONLY]
        return Starlette(routes=routes, middleware=secured)

    def web_origins(self) -> webheaders.WebOrigins:
        """What the web client served by `web_app` talks to: this gateway (HTTP API and
        Cognito front door), its WebSocket, and the S3 endpoint."""
        return webheaders.WebOrigins(
            api=self.base_url,
            websocket=f"ws://{self.domain}",
            cognito=self.base_url,
            files=(webheaders.source_of(self.s3_endpoint),) if self.s3_endpoint else (),
        )


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")


HTTP_PATTERNS = [(route, _route_pattern(route.path)) for route in HTTP_ROUTES]


@attrs.frozen
class _SignUpTrigger:
    """What the pre sign-up trigger answered."""

    auto_confirm: bool = False
    auto_verify_email: bool = False


def _trigger_username(username: str) -> str:
    """The user name as Cognito hands it to triggers: lower-cased in a case-insensitive pool."""
    return (
        username if user_pool_spec(protected=False).case_sensitive_usernames else username.lower()
    )


_UNSIGNED_COGNITO = (
    "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/cognito-idp/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def _connect_headers(
    socket: WebSocket, source_ip: str
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The upgrade request's headers cased as the client sent them (uvicorn's websockets
    protocol keeps the raw names), plus the X-Forwarded-* headers API Gateway adds."""
    multi: dict[str, list[str]] = {}
    for raw_name, raw_value in socket.scope.get("headers", []):
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        multi.setdefault(name, []).append(value)
    server = socket.scope.get("server") or ("127.0.0.1", 0)
    added = {
        "X-Forwarded-For": source_ip,
        "X-Forwarded-Port": str(server[1]),
        "X-Forwarded-Proto": "http",
        "X-Amzn-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
    }
    for name, value in added.items():
        if not any(existing.lower() == name.lower() for existing in multi):
            multi[name] = [value]
    return {name: values[-1] for name, values in multi.items()}, multi


def _joined(pairs: Iterable[tuple[str, str]], lower: bool = True) -> dict[str, str]:
    """Payload 2.0 joins repeated headers (and query parameters) with commas."""
    joined: dict[str, str] = {}
    for raw_name, value in pairs:
        name = raw_name.lower() if lower else raw_name
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _http_reply(reply: Mapping[str, Any], cors: Mapping[str, str]) -> Response:
    """A payload 2.0 response as API Gateway turns it into HTTP; CORS headers from the
    integration are ignored (API Gateway's own configuration wins)."""
    try:
        status = int(reply.get("statusCode", 200))
        headers = {
            str(k): str(v)
            for k, v in (reply.get("headers") or {}).items()
            if not str(k).lower().startswith("access-control-")
        }
        body: str | bytes = reply.get("body") or ""
        if reply.get("isBase64Encoded") and isinstance(body, str):
            body = base64.b64decode(body)
        elif isinstance(body, str):  # a lone surrogate has no UTF-8: sent as U+FFFD, not a 500
            body = replace_lone_surrogates(body)
    except (TypeError, ValueError, AttributeError):
        _log.error("lambda_bad_response", reply_type=type(reply).__name__)
        return JSONResponse(INTERNAL_HTTP, status_code=500, headers=dict(cors))
    response = Response(body, status_code=status, headers={**headers, **cors})
    for cookie in reply.get("cookies") or []:
        response.headers.append("set-cookie", str(cookie))
    return response


def _abort(socket: WebSocket) -> None:
    """Cut the TCP connection under a WebSocket whose peer no longer reads. ASGI has no abort;
    uvicorn's protocol object owns the transport and is the `receive` callable's owner."""
    owner = getattr(getattr(socket, "_receive", None), "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is not None:
        transport.abort()


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class _LoopbackHostOnly:
    """A page on another site that rebinds its DNS name to 127.0.0.1 still sends its own Host:
    refuse it (400), so only loopback names reach the stack. Header names are compared without
    case: the gateway's HTTP protocol keeps them as the client sent them, as AWS does."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            host = next(
                (v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"host"), ""
            )
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
            if name.lower() not in LOOPBACK_HOSTS:
                answer = JSONResponse({"message": "Invalid host header"}, status_code=400)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


_LOOPBACK_ONLY = [Middleware(_LoopbackHostOnly)]


def _no_browsers(
    endpoint: Callable[[Request], Awaitable[Response] | Response],
) -> Callable[[Request], Awaitable[Response]]:
    """The management API and the /_local hooks are for the stage's functions and tests: on
    AWS @connections needs a SigV4-signed IAM caller. A browser always names its page's origin,
    so a request with an Origin header (a cross-site form post, say) is refused."""

    async def guarded(request: Request) -> Response:
        if request.headers.get("origin") is not None:
            return JSONResponse({"message": "Forbidden"}, status_code=403)
        answer = endpoint(request)
        return await answer if inspect.isawaitable(answer) else answer

    return guarded


@functools.cache
def _public_cognito_operations() -> frozenset[str]:
    """Cognito operations AWS serves without credentials (SignUp, InitiateAuth, ...), from
    botocore's own service model."""
    import botocore.session

    from dynamotalk.local.iam import served_without_credentials

    model = botocore.session.get_session().get_service_model("cognito-idp")
    return frozenset(
        name
        for name in model.operation_names
        if served_without_credentials(model.operation_model(name))
    )


async def _body_within(request: Request, limit: int) -> bytes | None:
    """The request body, or None once it passes `limit` bytes (never held whole in memory)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _iso(epoch_ms: int) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms / 1000))
    return f"{seconds}.{epoch_ms % 1000:03d}Z"


def _cognito_cors(request: Request, preflight: bool = False) -> dict[str, str]:
    """Cognito's public API answers browsers from any origin (it has no per-origin CORS)."""
    if not request.headers.get("origin"):
        return {}
    headers = {"access-control-allow-origin": "*"}
    if preflight:
        headers.update(
            {
                "access-control-allow-methods": "POST, OPTIONS",
                "access-control-allow-headers": COGNITO_CORS_HEADERS,
                "access-control-max-age": "600",
            }
        )
    return headers


def _cognito_error(request: Request, kind: str, message: str) -> Response:
    return JSONResponse(
        {"__type": kind, "message": message},
        status_code=400,
        headers={"x-amzn-ErrorType": kind, **_cognito_cors(request)},
    )
