"""AWS's size limits where the gateway meets the network: uvicorn's WebSocket settings and a
request body read only up to its cap."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from dynamotalk import quotas


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
        "lifespan": "on",  # the API app starts the fan-out's stream and queue (local/delivery.py)
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


async def body_within(request: Request, limit: int) -> bytes | None:
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
