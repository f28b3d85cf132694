"""The local gateway assembled: its settings, the API origin's routes (one per door: WebSocket,
management API, HTTP API, Cognito front door, local-only hooks) and the web origin."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from dynamotalk import webheaders
from dynamotalk.domain.limits import Limits
from dynamotalk.local import events
from dynamotalk.local.gateway.cognito import CognitoProxy
from dynamotalk.local.gateway.connections import Connections
from dynamotalk.local.gateway.guards import LOOPBACK_ONLY, no_browsers
from dynamotalk.local.gateway.http import ANY_METHOD, HttpApi, not_found
from dynamotalk.local.gateway.invoke import Functions, InvocationError
from dynamotalk.local.gateway.management import Management
from dynamotalk.local.gateway.management_server import ManagementServer
from dynamotalk.local.gateway.websocket import WebSocketApi
from dynamotalk.local.metrics import LocalMetrics
from dynamotalk.local.provision import LOCAL_POOL
from dynamotalk.local.push import local_push
from dynamotalk.local.web_headers import WithSecurityHeaders
from dynamotalk.routes import FUNCTION_BY_MODULE
from dynamotalk.stage_config import stage_config

if TYPE_CHECKING:
    from dynamotalk.local.delivery import LocalDelivery


@attrs.define
class Gateway:
    """The local API Gateway: where it listens, what it fronts, and the state it shares between
    its doors (the functions it invokes, the live connections)."""

    stage: str
    host: str
    port: int
    verify_claims: Callable[[str], Mapping[str, Any]]
    """Token -> verified claims (raises on a bad token): the JWT authorizer."""
    cognito_endpoint: str | None = None
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    web_dir: Path | None = None
    allowed_origins: Sequence[str] = ()
    """Origins the HTTP API's CORS allows (the web client's origin); none by default."""
    s3_endpoint: str | None = None
    """Where browsers upload and download attachments (the web origin's CSP allows it)."""
    ordered: bool = False
    """Debugging only: handle a connection's frames one at a time. AWS does not."""
    max_message_chars: int = Limits().max_text
    """The stage's message length (`Settings.max_message_chars`), published in config.json."""
    min_password: int = LOCAL_POOL.password_policy.minimum_length
    """The local pool's shortest password (provision.LOCAL_POOL), published in config.json."""
    functions: Functions = attrs.Factory(lambda self: Functions(self.stage), takes_self=True)
    """The stage's handlers (lambdas/ by default), with any per-module timeout overrides."""
    connections: Connections = attrs.Factory(Connections)
    """The live WebSockets and the limits they live under (idle timeout, outbound queue)."""
    delivery: LocalDelivery | None = None
    """The table's stream, the page queue and the event bus, once the app has started."""
    lobby: str | None = None
    """The id of the public room a new user lands in, published in config.json (the stack's
    DEMO_ROOM)."""
    management_port: int | None = None
    """Where the management API also listens on a thread of its own (management_server.py),
    for the stage's notifier; None: only on this port's `/@connections` route."""
    metrics: LocalMetrics = attrs.Factory(LocalMetrics)
    """The business metrics the functions record (local/metrics.py), at GET /_local/metrics."""
    _management_server: ManagementServer | None = attrs.field(default=None, init=False)
    _cognito: CognitoProxy | None = attrs.field(default=None, init=False)

    @property
    def domain(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.domain}"

    @property
    def management_endpoint(self) -> str:
        """What the stage's notifier posts to: the management API's own server when it has
        one, else this port's route."""
        if self.management_port is None:
            return self.base_url
        return f"http://{self.host}:{self.management_port}"

    def client_config(self) -> dict[str, object]:
        return stage_config(
            ws_url=f"ws://{self.domain}/ws",
            http_url=f"{self.base_url}/api",
            cognito_url=f"{self.base_url}/cognito",
            region=events.REGION,
            user_pool_id=self.user_pool_id,
            user_pool_client_id=self.user_pool_client_id,
            stage=self.stage,
            max_message_chars=self.max_message_chars,
            min_password=self.min_password,
            lobby=self.lobby,
        )

    def app(self) -> Starlette:
        """The API origin: WebSocket, management API, HTTP API, Cognito front door."""
        websocket = WebSocketApi(self.functions, self.connections, self.domain, self.ordered)
        management = Management(self.connections)
        http = HttpApi(
            self.functions, self.verify_claims, self.allowed_origins, self.domain, self.port
        )
        cognito = self._cognito = CognitoProxy(
            self.functions, self.cognito_endpoint, self.user_pool_id, self.user_pool_client_id
        )
        manage, methods = no_browsers(management.manage), ["GET", "POST", "DELETE"]
        routes: list[Any] = [
            WebSocketRoute("/ws", websocket.websocket),
            Route("/@connections/{connection_id}", manage, methods=methods),
            Route("/{stage}/@connections/{connection_id}", manage, methods=methods),
            Route("/_local/connections", no_browsers(management.connection_ids), methods=["GET"]),
            Route(
                "/_local/connections/{connection_id}/drop",
                no_browsers(management.drop),
                methods=["POST"],
            ),
            Route("/_local/outbound", no_browsers(management.outbound), methods=["GET"]),
            Route("/_local/schedules/{module}", no_browsers(self.run_scheduled), methods=["POST"]),
            Route("/_local/events", no_browsers(self._events), methods=["GET"]),
            Route("/_local/faults", no_browsers(self._faults), methods=["GET", "POST", "DELETE"]),
            Route("/_local/dead-letters", no_browsers(self._dead_letters), methods=["GET"]),
            Route("/_local/metrics", no_browsers(self._metrics), methods=["GET"]),
            Route("/_local/push", no_browsers(local_push), methods=["GET", "POST"]),
            Route("/api/{path:path}", http.http_api, methods=ANY_METHOD),
            Route("/cognito", cognito.cognito, methods=["POST", "OPTIONS"]),
            Route("/cognito/", cognito.cognito, methods=["POST", "OPTIONS"]),
            # Local-only: lets the terminal client find the endpoints from the API's URL.
            Route("/config.json", self._config, methods=["GET"]),
            Route("/health", self._health, methods=["GET"]),
            Route("/{path:path}", not_found, methods=ANY_METHOD),
        ]
        return Starlette(routes=routes, middleware=LOOPBACK_ONLY, lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """The fan-out's stream, queue and bus, and the management API's own server, start with
        the API and stop with it; so does the Cognito front door's connection pool."""
        from dynamotalk import metrics
        from dynamotalk.local import delivery, erasure, export, indexing, push

        previous_sink = metrics.send_to(self.metrics.record)
        if self.management_port is not None:
            self._management_server = ManagementServer(
                Management(self.connections), self.host, self.management_port
            )
            self._management_server.start()
        self.delivery = delivery.start(self.functions)
        push.start(self.functions)  # the push queue, beside the fan-out's (local/push.py)
        stop_indexing = indexing.start(self.functions)  # the stream's second reader (search)
        export.start(self.functions)  # the export queue (local/export.py)

        erasure.start(self.functions)  # the erasure queue (local/erasure.py)
        try:
            yield
        finally:
            stop_indexing()
            metrics.send_to(previous_sink)
            self.delivery.stop()
            if self._management_server is not None:
                self._management_server.stop()
            if self._cognito is not None:
                await self._cognito.aclose()

    def _local_delivery(self) -> LocalDelivery:
        if self.delivery is None:
            raise RuntimeError("the gateway has not started")
        return self.delivery

    async def _events(self, request: Request) -> Response:
        """Local-only: what the stage published to its event bus, from `?after=` (an index)."""
        raw = request.query_params.get("after", "0") or "0"
        if not raw.isdigit():
            return JSONResponse({"message": "after must be a whole number"}, status_code=400)
        after = int(raw)
        found = self._local_delivery().events.since(after)
        return JSONResponse({"events": found, "next": after + len(found)})

    async def _faults(self, request: Request) -> Response:
        """Test hook: arm a fan-out fault point ({"step", "after", "times"}), clear them, or
        read what is armed and how often each fired."""
        faults = self._local_delivery().faults
        if request.method == "GET":
            return JSONResponse({"armed": dict(faults.armed), "fired": dict(faults.fired)})
        if request.method == "DELETE":
            faults.clear()
            return Response(status_code=204)
        try:
            body = await request.json()
            step, after, times = (
                str(body["step"]),
                int(body.get("after", 0)),
                int(body.get("times", 1)),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            message = 'expected {"step": str, "after": int, "times": int}'
            return JSONResponse({"message": message}, status_code=400)
        faults.arm(step, after, times)
        return Response(status_code=204)

    async def _metrics(self, request: Request) -> Response:
        """Local-only: the business metrics' totals since the stack started (local/metrics.py)."""
        return JSONResponse({"metrics": self.metrics.totals()})

    async def _dead_letters(self, request: Request) -> Response:
        local = self._local_delivery()
        records = [r["dynamodb"]["SequenceNumber"] for r in local.stream.dead]
        return JSONResponse({"streamRecords": records, "pageJobs": local.pages.dead})

    def web_app(self) -> Starlette:
        """The web origin, as CloudFront serves it: web/ and a config.json naming the API, with
        the security headers of CloudFront's response headers policy (webheaders.py)."""
        routes: list[Any] = [Route("/config.json", self._config, methods=["GET"])]
        if self.web_dir is not None and self.web_dir.is_dir():
            routes.append(Mount("/", StaticFiles(directory=self.web_dir, html=True)))
        headers = webheaders.security_headers(self.web_origins()).as_http()
        secured = [Middleware(WithSecurityHeaders, headers=headers), *LOOPBACK_ONLY]
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

    async def run_scheduled(self, request: Request) -> Response:
        """Local-only test hook: run a scheduled function now, as its EventBridge rule would."""
        module = request.path_params["module"]
        function = FUNCTION_BY_MODULE.get(module)
        if function is None or function.schedule_s is None:
            return JSONResponse({"message": "no such scheduled function"}, status_code=404)
        try:
            result = await self.functions.call(module, events.scheduled_event(self.stage, module))
        except InvocationError as error:
            return JSONResponse({"message": error.kind}, status_code=500)
        return JSONResponse(result)

    async def _config(self, request: Request) -> Response:
        return JSONResponse(self.client_config(), headers={"cache-control": "no-store"})

    async def _health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "connections": len(self.connections.by_id)})
