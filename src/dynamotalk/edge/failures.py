"""What the edge answers when something other than the caller's request went wrong.

A dependency that cannot be reached (DynamoDB down, a connection refused or cut, a read that
timed out, an AWS 5xx) is `unavailable`: HTTP 503 or an error frame with a retryAfterMs hint,
logged as one plain warning line. Anything else is a bug: `internal`, logged with its traceback.
"""

from __future__ import annotations

from typing import Any

import structlog

from dynamotalk import metrics
from dynamotalk.domain.errors import ChatError, ErrorCode, Unavailable

_log = structlog.get_logger("dynamotalk.edge")


THROTTLED = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.SLOW_MODE})
"""Refusals that tell the caller to slow down (HTTP 429): each answered one is RateLimited."""


class InternalError(ChatError):
    code = ErrorCode.INTERNAL


def _is_dependency_failure(error: BaseException) -> bool:
    # Imported on the failure path only: botocore's exceptions are not needed at cold start.
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(error, BotoConnectionError | HTTPClientError):
        # EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError, ReadTimeoutError...
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return isinstance(status, int) and status >= 500
    return False


def dependency_failure(error: BaseException) -> BaseException | None:
    """The dependency failure behind `error` (itself or a cause in its chain), if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if _is_dependency_failure(current):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def refusal(error: Exception, log: dict[str, Any]) -> ChatError:
    """The ChatError to answer for whatever a handler raised; sets log['outcome'].

    A ChatError is the core's own refusal, answered as it is; anything else is unexpected."""
    if isinstance(error, ChatError):
        log["outcome"] = str(error.code)
        if error.code in THROTTLED:
            metrics.record(metrics.Metric.RATE_LIMITED)
        return error
    return unexpected(error, log)


def unexpected(error: Exception, log: dict[str, Any]) -> ChatError:
    """The error to answer for an exception the handler did not expect; sets log['outcome']."""
    cause = dependency_failure(error)
    if cause is not None:
        log["outcome"] = str(ErrorCode.UNAVAILABLE)
        _log.warning("dependency_unavailable", error=type(cause).__name__, detail=str(cause))
        return Unavailable("the chat's storage is unavailable right now; try again shortly")
    _log.exception("unhandled error")
    log["outcome"] = str(ErrorCode.INTERNAL)
    return InternalError("internal error, please retry")
