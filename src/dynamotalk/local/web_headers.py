"""The web origin's security headers on every response, as CloudFront's response headers policy
adds them (dynamotalk/webheaders.py is the one set; `override`: they replace the app's own)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class WithSecurityHeaders:
    """ASGI middleware: every HTTP response of the wrapped app carries `headers`."""

    def __init__(self, app: Any, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
        ]
        self._names = {name for name, _ in self.headers}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in self._names
                ]
                message = {**message, "headers": [*kept, *self.headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
