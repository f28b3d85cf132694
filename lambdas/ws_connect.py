"""$connect: register the connection the authorizer let in."""

from __future__ import annotations

import json
from typing import Any

from dynamotalk import bootstrap
from dynamotalk.apigw import WebSocketEvent
from dynamotalk.domain.errors import ChatError, RateLimited
from dynamotalk.logging import invocation
from lambdas import _failures

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
        except RateLimited as error:
            # Too many live connections: any non-2xx from $connect fails the handshake, and the
            # client sees this status (docs/SECURITY.md, "Per-user limits").
            log["outcome"] = str(error.code)
            return _refused(error)
        except ChatError as error:
            log["outcome"] = str(error.code)
            return {"statusCode": 401 if error.code == "unauthorized" else 400}
        except Exception as error:  # noqa: BLE001 - a refused connect, never an "ok" log line
            refusal = _failures.unexpected(error, log)
            return {"statusCode": 503 if refusal.code == "unavailable" else 500}
        # No subprotocol is chosen: the token travels in the query string (the identity source).
        return {"statusCode": 200}


def _refused(error: RateLimited) -> dict[str, Any]:
    retry_after_ms = error.retry_after_ms or RateLimited.DEFAULT_RETRY_AFTER_MS
    body = {"code": str(error.code), "message": error.message, "retryAfterMs": retry_after_ms}
    return {
        "statusCode": 429,
        "headers": {"Retry-After": str(max(1, -(-retry_after_ms // 1000)))},
        "body": json.dumps({"error": body}),
    }
