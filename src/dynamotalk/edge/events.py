"""Typed views of the events the handlers receive: API Gateway (WebSocket, HTTP) and Cognito.

Handlers read `view.connection_id`, not `event["requestContext"]["connectionId"]` chains; a
missing field becomes a clear refusal instead of a KeyError.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import attrs

from dynamotalk.domain.errors import InvalidInput, Unauthorized
from dynamotalk.domain.models import Principal

Event = Mapping[str, Any]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@attrs.frozen
class WebSocketEvent:
    """A WebSocket route invocation ($connect, $disconnect, $default or an action)."""

    raw: Event

    @property
    def context(self) -> Mapping[str, Any]:
        return _mapping(self.raw.get("requestContext"))

    @property
    def headers(self) -> Mapping[str, str]:
        """Request headers, names in lower case ($connect only: later frames carry none)."""
        return {str(k).lower(): str(v) for k, v in _mapping(self.raw.get("headers")).items()}

    def query(self, name: str) -> str | None:
        """A query-string parameter of the upgrade request ($connect and its authorizer)."""
        value = _mapping(self.raw.get("queryStringParameters")).get(name)
        return str(value) if value is not None else None

    @property
    def method_arn(self) -> str:
        """The route's ARN (REQUEST authorizer events only): what the policy allows."""
        return str(self.raw.get("methodArn", ""))

    @property
    def connection_id(self) -> str:
        value = self.context.get("connectionId")
        if not isinstance(value, str) or not value:
            raise InvalidInput("event has no connection id")
        return value

    @property
    def route_key(self) -> str:
        return str(self.context.get("routeKey", ""))

    @property
    def event_type(self) -> str:
        return str(self.context.get("eventType", ""))

    @property
    def request_id(self) -> str | None:
        value = self.context.get("requestId")
        return value if isinstance(value, str) else None

    @property
    def body(self) -> str | bytes:
        body = self.raw.get("body")
        if body is None:
            return ""
        if self.raw.get("isBase64Encoded"):
            try:
                return base64.b64decode(str(body), validate=True)
            except (binascii.Error, ValueError):
                raise InvalidInput("frame is not valid base64") from None
        return str(body)

    @property
    def principal(self) -> Principal:
        """Who the $connect authorizer let in; API Gateway repeats its context on every event."""
        auth = _mapping(self.context.get("authorizer"))
        user_id = auth.get("userId") or auth.get("principalId")
        username = auth.get("username")
        if not isinstance(user_id, str) or not user_id or not isinstance(username, str):
            raise Unauthorized("connection is not authorized")
        return Principal(user_id=user_id, username=username)

    @property
    def token_expires_at(self) -> int | None:
        """The `exp` of the token the socket was opened with (the authorizer's context), if any.
        API Gateway passes context values as strings, numbers or booleans."""
        value = _mapping(self.context.get("authorizer")).get("exp")
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return None


@attrs.frozen
class HttpEvent:
    """An HTTP API (payload format 2.0) invocation."""

    raw: Event

    @property
    def context(self) -> Mapping[str, Any]:
        return _mapping(self.raw.get("requestContext"))

    @property
    def route_key(self) -> str:
        return str(self.raw.get("routeKey") or self.context.get("routeKey") or "")

    @property
    def request_id(self) -> str | None:
        value = self.context.get("requestId")
        return value if isinstance(value, str) else None

    @property
    def path_parameters(self) -> Mapping[str, str]:
        return {k: str(v) for k, v in _mapping(self.raw.get("pathParameters")).items()}

    def path(self, name: str) -> str:
        value = self.path_parameters.get(name)
        if not value:
            raise InvalidInput(f"path parameter {name} is missing")
        return value

    def query(self, name: str) -> str | None:
        value = _mapping(self.raw.get("queryStringParameters")).get(name)
        return str(value) if value is not None else None

    def query_int(self, name: str) -> int | None:
        value = self.query(name)
        if value is None or value == "":
            return None
        if not value.isdigit() or len(value) > 6:
            raise InvalidInput(f"{name} must be a whole number")
        return int(value)

    @property
    def body(self) -> str | bytes | None:
        body = self.raw.get("body")
        if body is None:
            return None
        if self.raw.get("isBase64Encoded"):
            try:
                return base64.b64decode(str(body), validate=True)
            except (binascii.Error, ValueError):
                raise InvalidInput("body is not valid base64") from None
        return str(body)

    @property
    def claims(self) -> Mapping[str, Any]:
        authorizer = _mapping(self.context.get("authorizer"))
        return _mapping(_mapping(authorizer.get("jwt")).get("claims"))

    @property
    def principal(self) -> Principal:
        """From the JWT authorizer's claims (id tokens: cognito:username; access: username)."""
        claims = self.claims
        user_id = claims.get("sub")
        username = claims.get("cognito:username") or claims.get("username")
        if not isinstance(user_id, str) or not user_id or not isinstance(username, str):
            raise Unauthorized("request is not authorized")
        return Principal(user_id=user_id, username=username)


@attrs.frozen
class CognitoTriggerEvent:
    """A Cognito user-pool trigger (pre sign-up, post confirmation): returned, with its
    `response` filled in, as the trigger's answer."""

    raw: dict[str, Any]

    @property
    def username(self) -> str:
        return str(self.raw.get("userName", ""))

    @property
    def response(self) -> dict[str, Any]:
        """The trigger's answer, created empty when the event has none."""
        response: dict[str, Any] = self.raw.setdefault("response", {})
        return response
