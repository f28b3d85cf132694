"""The HTTP API on `/api/...`: payload format 2.0, the Cognito JWT authorizer emulated (token
with or without `Bearer `), unknown route or method -> 404 {"message":"Not Found"}, CORS for the
configured origins only, per-function Lambda timeout and memory (routes.FUNCTION_BY_MODULE),
the request payload cap and the 6 MB response cap."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dynamotalk import quotas
from dynamotalk.domain.text import replace_lone_surrogates
from dynamotalk.local import events
from dynamotalk.local.gateway.invoke import Functions, InvocationError
from dynamotalk.local.gateway.limits import body_within
from dynamotalk.routes import (
    HTTP_CORS_HEADERS,
    HTTP_CORS_MAX_AGE_S,
    HTTP_CORS_METHODS,
    HTTP_ROUTES,
)

_log = structlog.get_logger("dynamotalk.gateway")

ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
"""Every method reaches the gateway, which answers unknown ones as API Gateway does (404)."""
NOT_FOUND = {"message": "Not Found"}
INTERNAL_HTTP = {"message": "Internal Server Error"}
"""What the HTTP API answers when the Lambda invocation fails (error, timeout, oversize)."""
UNAVAILABLE_HTTP = {"message": "Service Unavailable"}
"""What the HTTP API answers when its integration timeout passes first."""


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")


HTTP_PATTERNS = [(route, _route_pattern(route.path)) for route in HTTP_ROUTES]


@attrs.define
class HttpApi:
    functions: Functions
    verify_claims: Callable[[str], Mapping[str, Any]]
    """Token -> verified claims (raises on a bad token): the JWT authorizer."""
    allowed_origins: Sequence[str]
    """Origins the HTTP API's CORS allows (the web client's origin)."""
    domain: str
    """host:port, the event's domainName."""
    port: int

    def _cors(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        if not origin or origin not in self.allowed_origins:
            return {}
        return {"access-control-allow-origin": origin, "vary": "origin"}

    async def http_api(self, request: Request) -> Response:
        path = "/" + request.path_params.get("path", "")
        method = request.method
        cors = self._cors(request)
        if method == "OPTIONS" and "access-control-request-method" in request.headers:
            # API Gateway answers preflights itself; an origin it doesn't allow gets no CORS.
            preflight = {
                **cors,
                "access-control-allow-methods": ", ".join(HTTP_CORS_METHODS),
                "access-control-allow-headers": ", ".join(HTTP_CORS_HEADERS),
                "access-control-max-age": str(HTTP_CORS_MAX_AGE_S),
            }
            return Response(status_code=204, headers=preflight if cors else {})
        for route, pattern in HTTP_PATTERNS:
            match = pattern.match(path)
            if match and route.method == method:
                break
        else:
            return JSONResponse(NOT_FOUND, status_code=404, headers=cors)
        body = await body_within(request, quotas.HTTP_PAYLOAD_BYTES)
        if body is None:  # counted as it arrives: a chunked body has no Content-Length
            return JSONResponse(
                {"message": "Request Entity Too Large"}, status_code=413, headers=cors
            )
        claims: Mapping[str, Any] | None = None
        if route.authorized:
            claims = self._jwt_claims(request.headers.get("authorization", ""))
            if claims is None:
                return JSONResponse({"message": "Unauthorized"}, status_code=401, headers=cors)
        headers = _joined(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
        )
        headers.setdefault("x-forwarded-for", request.client.host if request.client else "")
        headers.setdefault("x-forwarded-proto", request.url.scheme)
        headers.setdefault("x-forwarded-port", str(request.url.port or self.port))
        cookies = [c.strip() for c in headers.get("cookie", "").split(";") if c.strip()]
        query = _joined(request.query_params.multi_items(), lower=False)
        event = events.http_event(
            route.route_key, method, path, request.url.query, query, match.groupdict(), headers,
            body, claims, request.client.host if request.client else "127.0.0.1",
            self.domain, cookies,
        )  # fmt: skip
        try:
            reply = await self.functions.call(route.module, event)
        except InvocationError as error:
            unavailable = error.kind == "integration_timeout"
            answer, status = (UNAVAILABLE_HTTP, 503) if unavailable else (INTERNAL_HTTP, 500)
            return JSONResponse(answer, status_code=status, headers=cors)
        return _http_reply(reply, cors)

    def _jwt_claims(self, header: str) -> Mapping[str, Any] | None:
        """The JWT authorizer: the identity source holds the token alone or after `Bearer `."""
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else header
        token = token.strip()
        if not token:
            return None
        try:
            return self.verify_claims(token)
        except Exception:  # noqa: BLE001 - any refusal is API Gateway's plain 401
            return None


async def not_found(request: Request) -> Response:
    return JSONResponse(NOT_FOUND, status_code=404)


def _joined(pairs: Iterable[tuple[str, str]], lower: bool = True) -> dict[str, str]:
    """Payload 2.0 joins repeated headers (and query parameters) with commas."""
    joined: dict[str, str] = {}
    for raw_name, value in pairs:
        name = raw_name.lower() if lower else raw_name
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _http_reply(reply: Mapping[str, Any], cors: Mapping[str, str]) -> Response:
    """A payload 2.0 response as API Gateway turns it into HTTP; CORS headers from the
    integration are ignored (API Gateway's own configuration wins)."""
    try:
        status = int(reply.get("statusCode", 200))
        headers = {
            str(k): str(v)
            for k, v in (reply.get("headers") or {}).items()
            if not str(k).lower().startswith("access-control-")
        }
        body: str | bytes = reply.get("body") or ""
        if reply.get("isBase64Encoded") and isinstance(body, str):
            body = base64.b64decode(body)
        elif isinstance(body, str):  # a lone surrogate has no UTF-8: sent as U+FFFD, not a 500
            body = replace_lone_surrogates(body)
    except (TypeError, ValueError, AttributeError):
        _log.error("lambda_bad_response", reply_type=type(reply).__name__)
        return JSONResponse(INTERNAL_HTTP, status_code=500, headers=dict(cors))
    response = Response(body, status_code=status, headers={**headers, **cors})
    for cookie in reply.get("cookies") or []:
        response.headers.append("set-cookie", str(cookie))
    return response
