"""Who may reach the local stack: loopback Host names only (against DNS rebinding), and no
browser on the management API and the /_local hooks."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""The names the local stack listens on and answers to."""


def loopback_host(host: str) -> bool:
    """Whether a Host header (name, optional port) names the loopback interface."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
    return name.lower() in LOOPBACK_HOSTS


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
            if not loopback_host(host):
                answer = JSONResponse({"message": "Invalid host header"}, status_code=400)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


LOOPBACK_ONLY = [Middleware(_LoopbackHostOnly)]


def no_browsers(
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
