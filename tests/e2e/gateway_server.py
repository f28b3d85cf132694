"""A local gateway with test settings, run in its own process by tests/e2e/gateway_stack.py.

It is `dynamotalk dev`'s gateway (the real lambdas/ handlers, DynamoDB Local, moto's Cognito
and S3, the API on one port and the web client on another) built with the Gateway parameters a
test needs (short idle timeout, tiny outbound queue, short Lambda timeouts), plus test-only
hooks: handlers that misbehave on request (`stub` in the query string or in a frame) and a
record of the $connect/$disconnect events. A process of its own keeps the handlers' cached
wiring and the environment apart from the other fixtures.

    python -m tests.e2e.gateway_server <dynamodb> <aws> <api port> <web port> '<options json>'
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import json
import os
import signal
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RECORDED: list[dict[str, Any]] = []
HANGING: list[threading.Event] = []
SECOND_STARTED = threading.Event()
ORDER: list[str] = []
LOCK = threading.Lock()
HUGE = 6 * 1024 * 1024 + 1


def _stub(module: str, event: dict[str, Any]) -> str | None:
    if module == "ws_default":
        try:
            frame = json.loads(event.get("body") or "")
        except ValueError:
            return None
        return str(frame.get("stub")) if isinstance(frame, dict) and "stub" in frame else None
    query = event.get("queryStringParameters") or {}
    return query.get("stub")


def stub_resolver(real_resolve: Any) -> Any:
    def resolve(module: str) -> Any:
        real = real_resolve(module)

        def handler(event: dict[str, Any], context: Any) -> Any:
            if module in ("ws_authorizer", "ws_connect", "ws_disconnect"):
                with LOCK:
                    RECORDED.append({"module": module, "event": event})
            stub = _stub(module, event)
            if stub is None:
                return real(event, context)
            return _misbehave(module, stub, event, context, real)

        return handler

    return resolve


def _misbehave(module: str, stub: str, event: dict[str, Any], context: Any, real: Any) -> Any:
    from dynamotalk.local.invocation import current_function

    if stub == f"crash_{module}":
        raise RuntimeError("stub crash")
    if stub == "hang":
        hold = threading.Event()
        with LOCK:
            HANGING.append(hold)
        hold.wait(60)
        return real(event, context)
    if stub == "huge":
        return {"statusCode": 200, "body": "x" * HUGE}
    if stub == "not_json":  # Lambda's runtime cannot serialise this result
        return {"statusCode": 200, "body": {1, 2, 3}}
    if stub == "context":
        facts = {
            "functionName": context.function_name,
            "memoryLimitInMb": context.memory_limit_in_mb,
            "remainingMs": context.get_remaining_time_in_millis(),
            "awsRequestId": context.aws_request_id,
            "currentFunction": current_function.get(),
        }
        return {"statusCode": 200, "headers": {"content-type": "application/json"},
                "body": json.dumps(facts)}  # fmt: skip
    if stub == "event":
        return {"statusCode": 200, "body": json.dumps(event)}
    if stub == "first":
        saw = SECOND_STARTED.wait(30)
        return {"statusCode": 200, "body": json.dumps({"stub": "first", "sawSecond": saw})}
    if stub == "second":
        SECOND_STARTED.set()
        return {"statusCode": 200, "body": json.dumps({"stub": "second"})}
    if stub.startswith("seq"):
        with LOCK:
            ORDER.append(f"enter {stub}")
        time.sleep(0.05)
        with LOCK:
            ORDER.append(f"exit {stub}")
        return {"statusCode": 200, "body": json.dumps({"stub": stub})}
    return real(event, context)


def main() -> None:
    faulthandler.register(signal.SIGUSR1)  # a stuck server's stacks, on request
    dynamodb, aws, api_port, web_port, raw_options = sys.argv[1:6]
    options: dict[str, Any] = json.loads(raw_options)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import attrs
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from dynamotalk.local.gateway import Functions, Gateway, import_handler, uvicorn_options
    from dynamotalk.local.gateway.connections import Connections
    from dynamotalk.local.provision import provision

    host = "127.0.0.1"
    api, web = f"http://{host}:{api_port}", f"http://{host}:{web_port}"
    stage = f"gw{uuid.uuid4().hex[:8]}"
    resources = provision(stage, dynamodb, aws, [web])
    os.environ.update(resources.environment(management_endpoint=api, auto_confirm=True))
    from dynamotalk import bootstrap

    # The test's options, each to the part of the gateway it sets.
    timeouts = options.pop("timeouts", {})
    limits = {f.name for f in attrs.fields(Connections)}
    connections = Connections(**{k: v for k, v in options.items() if k in limits})
    functions = Functions(stage, stub_resolver(import_handler), timeouts)
    gateway = Gateway(
        stage=stage,
        host=host,
        port=int(api_port),
        verify_claims=bootstrap.identity().claims,
        functions=functions,
        connections=connections,
        cognito_endpoint=aws,
        user_pool_id=resources.user_pool_id,
        user_pool_client_id=resources.user_pool_client_id,
        web_dir=ROOT / "web",
        allowed_origins=[web],
        s3_endpoint=aws,
        **{k: v for k, v in options.items() if k not in limits},
    )
    app = gateway.app()

    async def recorded(request: Request) -> Response:
        with LOCK:
            return JSONResponse({"events": list(RECORDED), "order": list(ORDER)})

    async def release(request: Request) -> Response:
        with LOCK:
            for hold in HANGING:
                hold.set()
            HANGING.clear()
        return Response(status_code=204)

    # Test-only routes go before the API app's catch-all 404.
    app.router.routes[0:0] = [
        Route("/_test/recorded", recorded, methods=["GET"]),
        Route("/_test/release", release, methods=["POST"]),
    ]

    def server(asgi: Any, port: int) -> uvicorn.Server:
        config = uvicorn.Config(
            asgi, host=host, port=port, log_level="warning", **uvicorn_options()
        )
        return uvicorn.Server(config)

    async def serve() -> None:
        await asyncio.gather(
            server(app, int(api_port)).serve(), server(gateway.web_app(), int(web_port)).serve()
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
