"""Lambda on loopback: run a lambdas/ handler as Lambda would, with its function's context,
timeout and response cap, and say how an invocation failed (InvocationError)."""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import structlog

from dynamotalk import quotas
from dynamotalk.local import events
from dynamotalk.local.invocation import current_function
from dynamotalk.routes import FUNCTION_BY_MODULE

Handler = Callable[[dict[str, Any], object], Any]
_log = structlog.get_logger("dynamotalk.gateway")


def import_handler(module: str) -> Handler:
    handler: Handler = importlib.import_module(f"lambdas.{module}").handler
    return handler


class InvocationError(Exception):
    """A Lambda invocation that did not produce a usable response."""

    def __init__(self, kind: str, module: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind
        """error | timeout | integration_timeout | too_large"""
        self.module = module
        self.detail = detail


@attrs.define
class Functions:
    """The stage's Lambda functions, invoked in this process."""

    stage: str
    resolve: Callable[[str], Handler] = import_handler
    timeouts: Mapping[str, float] = attrs.Factory(dict)
    """Per-module Lambda timeout overrides for tests (default: routes.FUNCTION_BY_MODULE)."""
    concurrency: int = 32
    """How many invocations of one function run at once (threads, each blocking on I/O)."""
    _executors: dict[str, ThreadPoolExecutor] = attrs.Factory(dict)
    """Where handlers run: one pool per function, as each Lambda function scales on its own,
    so a flood of one (100 senders' ws_default) never queues another (the stream's fanout)."""

    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def executor(self, module: str) -> ThreadPoolExecutor:
        with self._lock:
            pool = self._executors.get(module)
            if pool is None:
                pool = self._executors[module] = ThreadPoolExecutor(
                    max_workers=self.concurrency, thread_name_prefix=f"lambda-{module}"
                )
            return pool

    def timeout_of(self, module: str) -> float:
        function = FUNCTION_BY_MODULE.get(module)
        return float(self.timeouts.get(module, function.timeout_s if function else 3))

    async def call(
        self, module: str, event: dict[str, Any], behind_api: bool = True
    ) -> dict[str, Any]:
        """Invoke a handler as Lambda would, off the event loop (handlers block on boto3).

        The handler gets a Lambda-like context (its function's memory and deadline) and runs
        with `invocation.current_function` set. An exception, a run past the function's timeout
        (or past API Gateway's integration timeout, whichever comes first) or a response over
        Lambda's 6 MB cap raise InvocationError; the callers answer as API Gateway does. A
        timed-out handler's thread cannot be killed: it finishes in the background, unheard.
        `behind_api=False` (a stream or queue invocation): no integration timeout applies.
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

        future = loop.run_in_executor(self.executor(module), contextvars.Context().run, run)
        # API Gateway's integration timeout counts from the request, waiting included.
        integration = float(quotas.INTEGRATION_TIMEOUT_S if behind_api else 10**6)
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


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)
