"""The @connections management API the real boto3 client calls (`POST/GET/DELETE
/@connections/{id}`; 413 PayloadTooLargeException over WS_MESSAGE_BYTES, 410 Gone for a
connection that is closed or closing), and the local-only hooks on the live connections."""

from __future__ import annotations

import json
import time

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dynamotalk import quotas
from dynamotalk.local.gateway.connections import CLOSE_GOING_AWAY, Connections
from dynamotalk.local.gateway.limits import body_within


@attrs.frozen
class Answer:
    """A management API answer, whichever server carries it (app.py's route on the API port,
    or management_server.py's own)."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@attrs.define
class Management:
    connections: Connections

    async def manage(self, request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        data = None
        if request.method == "POST":
            data = await body_within(request, quotas.WS_MESSAGE_BYTES)
        answer = self.answer(request.method, connection_id, data)
        return Response(answer.body, answer.status, headers=dict(answer.headers))

    def answer(self, method: str, connection_id: str, data: bytes | None) -> Answer:
        """POST (`data` is the body, None when it passed WS_MESSAGE_BYTES), GET or DELETE
        /@connections/{id}, as API Gateway answers them. Safe from any thread."""
        live = self.connections.by_id.get(connection_id)
        if method == "POST":
            if data is None:
                return TOO_LARGE
            if live is None or not self.connections.post(live, data.decode("utf-8", "replace")):
                return GONE
            return Answer(200)
        if live is None:
            return GONE
        if method == "DELETE":
            connections = self.connections
            connections.on_loop(live, lambda: connections.spawn(connections.flush_then_close(live)))
            return Answer(204)
        return _json(
            200,
            {
                "connectedAt": _iso(live.connected_at),
                "identity": {"sourceIp": live.source_ip, "userAgent": live.user_agent},
                "lastActiveAt": _iso(live.last_active),
            },
        )

    async def drop(self, request: Request) -> Response:
        """Local-only test hook: cut a socket without a $disconnect, as when one is lost."""
        connection_id = request.path_params["connection_id"]
        live = self.connections.by_id.pop(connection_id, None)
        if live is None:
            return JSONResponse({"message": "no such connection"}, status_code=404)
        self.connections.lost.add(connection_id)
        self.connections.spawn(self.connections.close(live, *CLOSE_GOING_AWAY))
        return Response(status_code=204)

    def connection_ids(self, request: Request) -> Response:
        return JSONResponse({"connections": sorted(self.connections.by_id)})

    def outbound(self, request: Request) -> Response:
        """Local-only: the outbound queues' bounds and the most ever queued."""
        connections = self.connections
        return JSONResponse(
            {
                "limits": {
                    "messages": connections.outbound_max_messages,
                    "bytes": connections.outbound_max_bytes,
                },
                "highWater": dict(connections.outbound_high_water),
                "slowReadersDropped": connections.slow_readers_dropped,
                "queued": {
                    cid: {"messages": len(live.outbox), "bytes": live.outbox_bytes}
                    for cid, live in list(connections.by_id.items())  # posts pop from others
                },
            }
        )


def _json(status: int, payload: object, error_type: str = "") -> Answer:
    headers = [("content-type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return Answer(status, json.dumps(payload, separators=(",", ":")).encode(), tuple(headers))


GONE = _json(410, {"message": "Gone"}, "GoneException")
TOO_LARGE = _json(413, {"message": "Message too long"}, "PayloadTooLargeException")


def _iso(epoch_ms: int) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms / 1000))
    return f"{seconds}.{epoch_ms % 1000:03d}Z"
