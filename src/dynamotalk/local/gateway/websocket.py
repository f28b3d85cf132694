"""The WebSocket API on `GET /ws`: the REQUEST authorizer on upgrade (a refused upgrade answers
JSON 401/403/500), `$connect`, one invocation per frame on the route its `action` selects
(routes.py), run concurrently as AWS does (`ordered=True` is a debugging aid only), and
`$disconnect` with `disconnectStatusCode`/`disconnectReason`.

AWS's limits from quotas.py: a frame over WS_FRAME_BYTES or a message over WS_MESSAGE_BYTES
closes with 1009, a binary frame with 1003 (connections.py has the codes and the timers). A
handler's returned body goes back to the sender (two-way route).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

import attrs
import structlog
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from dynamotalk import quotas
from dynamotalk.domain.text import replace_lone_surrogates
from dynamotalk.local import events
from dynamotalk.local.gateway.connections import (
    CLIENT_REASONS,
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED,
    POLICY_VIOLATION,
    Connections,
    LiveConnection,
)
from dynamotalk.local.gateway.invoke import Functions, InvocationError
from dynamotalk.routes import ACTION_FIELD, WS_AUTHORIZER, WS_ROUTES, ws_route_for

_log = structlog.get_logger("dynamotalk.gateway")
WS_MODULE_BY_ROUTE = {route.route_key: route.module for route in WS_ROUTES}


@attrs.define
class WebSocketApi:
    functions: Functions
    connections: Connections
    domain: str
    """host:port, the domainName of every event."""
    ordered: bool = False
    """Debugging only: handle a connection's frames one at a time. AWS does not."""

    async def websocket(self, socket: WebSocket) -> None:
        try:
            live = await self._open(socket)
        except Exception:  # noqa: BLE001 - a refused upgrade is always the gateway's JSON
            _log.exception("ws_upgrade_failed")
            await _deny(socket, 500, "Internal server error")
            return
        if live is not None:
            await self._serve(live)

    async def _open(self, socket: WebSocket) -> LiveConnection | None:
        stage = self.functions.stage
        connection_id = uuid.uuid4().hex[:12] + "="
        connected_at = int(time.time() * 1000)
        source_ip = socket.client.host if socket.client else "127.0.0.1"
        headers, multi = _connect_headers(socket, source_ip)
        user_agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), "")
        query = dict(socket.query_params)
        auth_event = events.ws_authorizer_event(
            connection_id, headers, query, self.domain, stage, connected_at, source_ip,
            user_agent, multi,
        )  # fmt: skip
        try:
            policy = await self.functions.call(WS_AUTHORIZER, auth_event)
        except InvocationError as error:  # the authorizer refuses by raising "Unauthorized"
            if error.kind == "error" and error.detail == "Unauthorized":
                await _deny(socket, 401, "Unauthorized")
            else:
                await _deny(socket, 500, "Internal server error")
            return None
        statement = (policy.get("policyDocument") or {}).get("Statement") or [{}]
        if statement[0].get("Effect") != "Allow":
            await _deny(socket, 403, "Forbidden")
            return None
        authorizer = {"principalId": policy.get("principalId"), **(policy.get("context") or {})}
        connect = events.ws_event(
            "$connect", "CONNECT", connection_id, self.domain, stage, connected_at,
            source_ip, authorizer, headers=headers, query=query, user_agent=user_agent,
            multi_headers=multi,
        )  # fmt: skip
        try:
            reply = await self.functions.call(WS_MODULE_BY_ROUTE["$connect"], connect)
        except InvocationError:
            await _deny(socket, 500, "Internal server error")
            return None
        status = int(reply.get("statusCode", 500))
        if not 200 <= status < 300:
            await _deny(socket, status, "Forbidden" if status == 403 else "Refused")
            return None
        protocol = (reply.get("headers") or {}).get("Sec-WebSocket-Protocol")
        await socket.accept(subprotocol=protocol)
        loop = asyncio.get_running_loop()
        live = LiveConnection(
            connection_id, socket, connected_at, source_ip, user_agent, authorizer,
            connected_at, loop.time(),
        )  # fmt: skip
        self.connections.by_id[connection_id] = live
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
            route_key, kind, live.connection_id, self.domain, self.functions.stage,
            live.connected_at, live.source_ip, live.authorizer, body, user_agent=live.user_agent,
            disconnect=disconnect,
        )  # fmt: skip

    async def _serve(self, live: LiveConnection) -> None:
        connections = self.connections
        writer = asyncio.create_task(connections.write(live))
        watchdog = asyncio.create_task(connections.watch(live))
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
                    await connections.close(live, *CLOSE_UNSUPPORTED)
                    continue
                if len(text.encode()) > quotas.WS_MESSAGE_BYTES:
                    await connections.close(live, *CLOSE_TOO_BIG)
                    continue
                connections.touch(live)
                if self.ordered:
                    await self._frame(live, text)
                else:
                    task = asyncio.create_task(self._frame(live, text))
                    live.tasks.add(task)
                    task.add_done_callback(live.tasks.discard)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the client went away, or the server closed the socket
        finally:
            connections.forget(live, client_close)
            writer.cancel()
            watchdog.cancel()
            if live.connection_id in connections.lost:
                connections.lost.discard(live.connection_id)
            else:
                route = "$disconnect"
                event = self._event(live, route, "DISCONNECT", disconnect=live.closing)
                with contextlib.suppress(InvocationError):  # logged by call(); nobody to tell
                    await self.functions.call(WS_MODULE_BY_ROUTE[route], event)

    async def _frame(self, live: LiveConnection, body: str) -> None:
        route = route_of(body)
        event = self._event(live, route, "MESSAGE", body)
        try:
            reply = await self.functions.call(WS_MODULE_BY_ROUTE[route], event)
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
            self.connections.post(live, replace_lone_surrogates(str(text)))


def route_of(body: str) -> str:
    """The route API Gateway selects: `$request.body.action`, or `$default` for a body it
    cannot evaluate (not JSON, or nested deeper than a parser takes) or no matching route."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ws_route_for(None)  # $default
    return ws_route_for(data.get(ACTION_FIELD) if isinstance(data, dict) else None)


async def _deny(socket: WebSocket, status: int, message: str) -> None:
    response = JSONResponse({"message": message}, status_code=status)
    try:
        await socket.send_denial_response(response)
    except RuntimeError:
        await socket.close(code=POLICY_VIOLATION)  # a client that cannot take a denial


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
