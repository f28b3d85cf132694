"""The local gateway: one ASGI app that plays API Gateway (WebSocket + HTTP + management API)
and a Cognito front door, calling the very same lambdas/ handlers the cloud runs.

- `GET /ws` WebSocket: REQUEST authorizer on connect (refused upgrades answer its 401/403),
  `$connect`, one event per frame with the routeKey chosen by `action` (routes.py),
  `$disconnect`; a handler's returned body goes back to the sender (two-way route).
- `POST/GET/DELETE /@connections/{id}`: the management API the real boto3 client calls.
- `/api/...`: the HTTP API, v2 payloads, the Cognito JWT authorizer emulated.
- `POST /cognito`: forwards Cognito's JSON API to moto and runs the pre sign-up and post
  confirmation triggers that moto does not run.
- `/config.json` and `web/` at `/`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import httpx
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from dynamotalk.local import events
from dynamotalk.routes import HTTP_ROUTES, WS_AUTHORIZER, ws_route_for

Handler = Callable[[dict[str, Any], object], dict[str, Any]]
_log = structlog.get_logger("dynamotalk.gateway")


def import_handler(module: str) -> Handler:
    handler: Handler = importlib.import_module(f"lambdas.{module}").handler
    return handler


@attrs.define
class LiveConnection:
    socket: WebSocket
    connected_at: int
    source_ip: str
    authorizer: dict[str, Any]
    last_active: int


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")


HTTP_PATTERNS = [(route, _route_pattern(route.path)) for route in HTTP_ROUTES]


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
    connections: dict[str, LiveConnection] = attrs.Factory(dict)
    executor: ThreadPoolExecutor = attrs.Factory(
        lambda: ThreadPoolExecutor(max_workers=32, thread_name_prefix="lambda")
    )
    """Where handlers run: like Lambda's concurrency, many at once, each blocking on I/O."""
    lost: set[str] = attrs.Factory(set)
    """Connections cut by the test hook: their $disconnect never runs, as when AWS loses one."""

    @property
    def domain(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.domain}"

    def client_config(self) -> dict[str, str]:
        return {
            "wsUrl": f"ws://{self.domain}/ws",
            "httpUrl": f"{self.base_url}/api",
            "cognitoUrl": f"{self.base_url}/cognito",
            "region": events.REGION,
            "userPoolId": self.user_pool_id,
            "userPoolClientId": self.user_pool_client_id,
            "stage": self.stage,
        }

    async def call(self, module: str, event: dict[str, Any]) -> dict[str, Any]:
        """Run a handler off the event loop (handlers block on boto3, as in Lambda)."""
        handler = self.resolve(module)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, handler, event, None)

    # --- WebSocket API ------------------------------------------------------------------------

    async def websocket(self, socket: WebSocket) -> None:
        connection_id = uuid.uuid4().hex[:12] + "="
        connected_at = int(time.time() * 1000)
        source_ip = socket.client.host if socket.client else "127.0.0.1"
        headers = {k.title(): v for k, v in socket.headers.items()}
        query = dict(socket.query_params)
        auth_event = events.ws_authorizer_event(
            connection_id, headers, query, self.domain, self.stage, connected_at, source_ip
        )
        try:
            policy = await self.call(WS_AUTHORIZER, auth_event)
        except Exception as error:  # noqa: BLE001 - the authorizer refuses by raising
            status = 401 if str(error) == "Unauthorized" else 500
            await self._deny(socket, status, "Unauthorized" if status == 401 else "Internal")
            return
        statement = (policy.get("policyDocument") or {}).get("Statement") or [{}]
        if statement[0].get("Effect") != "Allow":
            await self._deny(socket, 403, "Forbidden")
            return
        authorizer = {"principalId": policy.get("principalId"), **(policy.get("context") or {})}

        def event(route_key: str, kind: str, body: str | None = None) -> dict[str, Any]:
            return events.ws_event(
                route_key, kind, connection_id, self.domain, self.stage, connected_at,
                source_ip, authorizer, body,
                headers=headers if kind == "CONNECT" else None,
                query=query if kind == "CONNECT" else None,
            )  # fmt: skip

        reply = await self.call("ws_connect", event("$connect", "CONNECT"))
        if not 200 <= int(reply.get("statusCode", 500)) < 300:
            await self._deny(socket, int(reply.get("statusCode", 500)), "Refused")
            return
        protocol = (reply.get("headers") or {}).get("Sec-WebSocket-Protocol")
        await socket.accept(subprotocol=protocol)
        live = LiveConnection(socket, connected_at, source_ip, authorizer, connected_at)
        self.connections[connection_id] = live
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                body = message.get("text")
                if body is None and message.get("bytes") is not None:
                    body = message["bytes"].decode("utf-8", "replace")
                live.last_active = int(time.time() * 1000)
                route = self._route_of(body or "")
                reply = await self.call("ws_default", event(route, "MESSAGE", body or ""))
                if reply.get("body") and connection_id in self.connections:
                    await socket.send_text(str(reply["body"]))
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client went away, or the server closed the socket
        finally:
            self.connections.pop(connection_id, None)
            if connection_id in self.lost:
                self.lost.discard(connection_id)
            else:
                await self.call("ws_disconnect", event("$disconnect", "DISCONNECT"))

    @staticmethod
    def _route_of(body: str) -> str:
        try:
            data = json.loads(body)
        except ValueError:
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
        if live is None:
            return JSONResponse(
                {"message": "Gone"}, status_code=410, headers={"x-amzn-ErrorType": "GoneException"}
            )
        if request.method == "POST":
            data = await request.body()
            try:
                await live.socket.send_text(data.decode("utf-8", "replace"))
            except Exception:  # noqa: BLE001 - a socket that died between lookup and send
                self.connections.pop(connection_id, None)
                return JSONResponse(
                    {"message": "Gone"},
                    status_code=410,
                    headers={"x-amzn-ErrorType": "GoneException"},
                )
            return Response(status_code=200)
        if request.method == "DELETE":
            await live.socket.close(code=1000)
            return Response(status_code=204)
        return JSONResponse(
            {
                "connectedAt": _iso(live.connected_at),
                "identity": {"sourceIp": live.source_ip, "userAgent": "local"},
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
        await live.socket.close(code=1001)
        return Response(status_code=204)

    def connection_ids(self, request: Request) -> Response:
        return JSONResponse({"connections": sorted(self.connections)})

    # --- HTTP API -----------------------------------------------------------------------------

    async def http_api(self, request: Request) -> Response:
        path = "/" + request.path_params.get("path", "")
        method = request.method
        if method == "OPTIONS":
            return Response(status_code=204, headers=_cors(request))
        for route, pattern in HTTP_PATTERNS:
            match = pattern.match(path)
            if match and route.method == method:
                break
        else:
            return JSONResponse({"message": "Not Found"}, status_code=404, headers=_cors(request))
        claims: Mapping[str, Any] | None = None
        if route.authorized:
            header = request.headers.get("authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else ""
            try:
                claims = self.verify_claims(token) if token else None
            except Exception:  # noqa: BLE001 - any refusal is API Gateway's plain 401
                claims = None
            if claims is None:
                return JSONResponse(
                    {"message": "Unauthorized"}, status_code=401, headers=_cors(request)
                )
        event = events.http_event(
            route.route_key, method, path, request.url.query, dict(request.query_params),
            match.groupdict(), dict(request.headers), await request.body(),
            claims, request.client.host if request.client else "127.0.0.1", self.domain,
        )  # fmt: skip
        reply = await self.call(route.module, event)
        headers = {**(reply.get("headers") or {}), **_cors(request)}
        body = reply.get("body") or ""
        return Response(body, status_code=int(reply.get("statusCode", 200)), headers=headers)

    # --- Cognito front door -------------------------------------------------------------------

    async def cognito(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_cors(request))
        target = request.headers.get("x-amz-target", "")
        operation = target.rsplit(".", 1)[-1]
        raw = await request.body()
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            return _cognito_error(request, "InvalidParameterException", "body is not JSON")
        auto_confirm = False
        if operation == "SignUp":
            refused, auto_confirm = await self._pre_signup(payload)
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
            await self._after_signup(operation, payload, auto_confirm)
            if operation == "SignUp" and auto_confirm:
                # What Cognito answers when the pre sign-up trigger confirmed the user.
                content = json.dumps({**upstream.json(), "UserConfirmed": True}).encode()
        return Response(
            content,
            status_code=upstream.status_code,
            headers={"content-type": "application/x-amz-json-1.1", **_cors(request)},
        )

    async def _pre_signup(self, payload: Mapping[str, Any]) -> tuple[str | None, bool]:
        attributes = {a.get("Name"): a.get("Value") for a in payload.get("UserAttributes") or []}
        event = events.cognito_event(
            "PreSignUp_SignUp",
            self.user_pool_id,
            self.user_pool_client_id,
            str(payload.get("Username", "")),
            attributes,
        )
        try:
            reply = await self.call("cognito_pre_signup", event)
        except Exception as error:  # noqa: BLE001 - Cognito reports trigger failures to the user
            return f"PreSignUp failed with error {error}.", False
        return None, bool(reply.get("response", {}).get("autoConfirmUser"))

    async def _after_signup(
        self, operation: str, payload: Mapping[str, Any], auto_confirm: bool
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
            if not auto_confirm:
                return
            await asyncio.to_thread(
                cognito.admin_confirm_sign_up, UserPoolId=self.user_pool_id, Username=username
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

    # --- the app ------------------------------------------------------------------------------

    def app(self) -> Starlette:
        async def config(request: Request) -> Response:
            return JSONResponse(self.client_config(), headers={"cache-control": "no-store"})

        async def health(request: Request) -> Response:
            return JSONResponse({"status": "ok", "connections": len(self.connections)})

        methods = ["GET", "POST", "PATCH", "DELETE", "OPTIONS"]
        routes: list[Any] = [
            WebSocketRoute("/ws", self.websocket),
            Route("/@connections/{connection_id}", self.manage, methods=["GET", "POST", "DELETE"]),
            Route(
                "/{stage}/@connections/{connection_id}",
                self.manage,
                methods=["GET", "POST", "DELETE"],
            ),
            Route("/_local/connections", self.connection_ids, methods=["GET"]),
            Route("/_local/connections/{connection_id}/drop", self.drop, methods=["POST"]),
            Route("/api/{path:path}", self.http_api, methods=methods),
            Route("/cognito", self.cognito, methods=["POST", "OPTIONS"]),
            Route("/cognito/", self.cognito, methods=["POST", "OPTIONS"]),
            Route("/config.json", config, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ]
        if self.web_dir is not None and self.web_dir.is_dir():
            routes.append(Mount("/", StaticFiles(directory=self.web_dir, html=True)))
        return Starlette(routes=routes)


_UNSIGNED_COGNITO = (
    "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/cognito-idp/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def _iso(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_ms / 1000))


def _cors(request: Request) -> dict[str, str]:
    origin = request.headers.get("origin")
    if not origin:
        return {}
    return {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "GET, POST, PATCH, DELETE, OPTIONS",
        "access-control-allow-headers": (
            "authorization, content-type, x-amz-target, x-amz-user-agent"
        ),
        "access-control-max-age": "600",
    }


def _cognito_error(request: Request, kind: str, message: str) -> Response:
    return JSONResponse(
        {"__type": kind, "message": message},
        status_code=400,
        headers={"x-amzn-ErrorType": kind, **_cors(request)},
    )
