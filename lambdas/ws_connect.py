"""$connect: register the connection the authorizer let in."""

from __future__ import annotations

from typing import Any

from dynamotalk import bootstrap
from dynamotalk.edge.events import WebSocketEvent
from dynamotalk.edge.failures import refusal
from dynamotalk.edge.replies import connect_refusal
from dynamotalk.logging import invocation
from lambdas import initialized

SERVICE = bootstrap.service()
SESSIONS = bootstrap.sessions()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    view = WebSocketEvent(event)
    with invocation(route="$connect", request_id=view.request_id) as log:
        try:
            principal = view.principal
            log.update(connection_id=view.connection_id, user_id=principal.user_id)
            expires_at = view.token_expires_at
            SERVICE.connect(view.connection_id, principal, expires_at)
            SESSIONS.started(view.connection_id, expires_at)
        except Exception as error:  # noqa: BLE001 - a refused connect, never an "ok" log line
            # Any non-2xx from $connect fails the handshake, and the client sees this status
            # (too many connections: 429 and a Retry-After; docs/SECURITY.md, "Per-user limits").
            return connect_refusal(refusal(error, log))
        # No subprotocol is chosen: the token travels in the query string (the identity source).
        return {"statusCode": 200}


initialized()
