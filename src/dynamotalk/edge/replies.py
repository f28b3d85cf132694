"""The one mapping of a refusal to what the edge answers: an HTTP status and body, a $connect
refusal, or a WebSocket error frame. Every entrypoint answers through it."""

from __future__ import annotations

import json
from typing import Any

from dynamotalk import wire
from dynamotalk.domain.errors import ChatError, ErrorCode, RateLimited

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_INPUT: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.FEED_EXPIRED: 410,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
    ErrorCode.ROOM_ARCHIVED: 403,
    ErrorCode.MUTED: 403,
    ErrorCode.SLOW_MODE: 429,
}
"""HTTP status per error code: the HTTP API's replies, $connect's and the local gateway's."""

CONNECT_SAYS: frozenset[ErrorCode] = frozenset(
    {ErrorCode.UNAUTHORIZED, ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL}
)
"""The refusals $connect reports with their own status; any other is a plain 400 (the client
sees only that the handshake failed)."""


def http_json(status: int, payload: object) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
    }


def _retry_after_s(retry_after_ms: int) -> str:
    """A Retry-After header: the wait in whole seconds, rounded up, at least 1."""
    return str(max(1, -(-retry_after_ms // 1000)))


def http_error(error: ChatError) -> dict[str, Any]:
    """An HTTP API error reply: the code's status, `{"error": {code, message}}`, and when the
    error says how long to wait, `retryAfterMs` and a `retry-after` header."""
    detail: dict[str, Any] = {"code": str(error.code), "message": error.message}
    retry_after_ms = error.retry_after_ms
    if retry_after_ms is not None:
        detail["retryAfterMs"] = retry_after_ms
    reply = http_json(HTTP_STATUS[error.code], {"error": detail})
    if retry_after_ms is not None:
        reply["headers"]["retry-after"] = _retry_after_s(retry_after_ms)
    return reply


def connect_refusal(error: ChatError) -> dict[str, Any]:
    """$connect's answer to a refusal: any non-2xx fails the handshake, and the client sees
    this status; too many connections also says how long to wait (docs/SECURITY.md)."""
    if error.code not in CONNECT_SAYS:
        return {"statusCode": 400}
    status = HTTP_STATUS[error.code]
    if not isinstance(error, RateLimited):
        return {"statusCode": status}
    retry_after_ms = error.retry_after_ms or RateLimited.DEFAULT_RETRY_AFTER_MS
    body = {"code": str(error.code), "message": error.message, "retryAfterMs": retry_after_ms}
    return {
        "statusCode": status,
        "headers": {"Retry-After": _retry_after_s(retry_after_ms)},
        "body": json.dumps({"error": body}),
    }


def error_frame(request_id: str | None, error: ChatError) -> bytes:
    """The WebSocket error frame answering the frame `request_id` identified."""
    return wire.encode_error(request_id, error)
