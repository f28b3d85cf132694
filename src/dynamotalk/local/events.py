"""Builders of the event dicts API Gateway, Cognito and EventBridge hand to the Lambda handlers.

The local gateway uses them, so the handlers see locally exactly the shapes they see in the
cloud (see tests/events/*.json for the recorded originals).
"""

from __future__ import annotations

import base64
import datetime as dt
import time
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

from dynamotalk.routes import function_name

API_ID = "localwsapi"
"""The local API's id in every ARN and event (the IAM check's resources use it too)."""
ACCOUNT = "123456789012"
"""The local account: moto's default, so S3 and Cognito ARNs agree with the events'."""
REGION = "us-east-1"

DISCONNECT_HEADERS = {"Host": "", "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
"""What API Gateway puts in a $disconnect event's headers (not the client's: see the recorded
tests/events/ws_disconnect.json); Host is filled with the gateway's domain."""


@attrs.define
class LambdaContext:
    """The context object Lambda's Python runtime passes as a handler's second argument.

    Same attributes as awslambdaric's LambdaContext (memory_limit_in_mb is a string there too,
    read from AWS_LAMBDA_FUNCTION_MEMORY_SIZE), with the deadline of this invocation.
    """

    function_name: str
    memory_limit_in_mb: str
    aws_request_id: str
    deadline_ms: int
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"
    client_context: None = None
    identity: None = None

    @classmethod
    def start(cls, stage: str, module: str, memory_mb: int, timeout_s: float) -> LambdaContext:
        name = function_name(stage, module)
        return cls(
            function_name=name,
            memory_limit_in_mb=str(memory_mb),
            aws_request_id=str(uuid.uuid4()),
            deadline_ms=int(time.time() * 1000 + timeout_s * 1000),
            invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            log_group_name=f"/aws/lambda/{name}",
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def _request_time() -> tuple[str, int]:
    now = time.time()
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), int(now * 1000)


def ws_context(
    route_key: str,
    event_type: str,
    connection_id: str,
    domain: str,
    stage: str,
    connected_at: int,
    source_ip: str,
    authorizer: Mapping[str, Any] | None,
    user_agent: str = "",
) -> dict[str, Any]:
    request_time, epoch = _request_time()
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": uuid.uuid4().hex[:16],
        "requestTime": request_time,
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": connected_at,
        "requestTimeEpoch": epoch,
        "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        "requestId": uuid.uuid4().hex[:16],
        "domainName": domain,
        "connectionId": connection_id,
        "apiId": API_ID,
    }
    if event_type == "MESSAGE":
        context["messageId"] = uuid.uuid4().hex[:16]
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return context


def ws_authorizer_event(
    connection_id: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    domain: str,
    stage: str,
    connected_at: int,
    source_ip: str,
    user_agent: str = "",
    multi_headers: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{stage}/$connect",
        "headers": dict(headers),
        "multiValueHeaders": dict(multi_headers or {k: [v] for k, v in headers.items()}),
        "queryStringParameters": dict(query),
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "stageVariables": {},
        "requestContext": ws_context(
            "$connect", "CONNECT", connection_id, domain, stage, connected_at, source_ip, None,
            user_agent,
        ),
    }  # fmt: skip


def ws_event(
    route_key: str,
    event_type: str,
    connection_id: str,
    domain: str,
    stage: str,
    connected_at: int,
    source_ip: str,
    authorizer: Mapping[str, Any],
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    user_agent: str = "",
    multi_headers: Mapping[str, list[str]] | None = None,
    disconnect: tuple[int, str] | None = None,
) -> dict[str, Any]:
    """A WebSocket route event. $connect carries the client's headers (cased as sent) and query;
    $disconnect carries API Gateway's own headers and `disconnectStatusCode`/`disconnectReason`;
    message events carry neither."""
    context = ws_context(
        route_key, event_type, connection_id, domain, stage, connected_at, source_ip, authorizer,
        user_agent,
    )  # fmt: skip
    if disconnect is not None:
        context["disconnectStatusCode"], context["disconnectReason"] = disconnect
        headers = {**DISCONNECT_HEADERS, "Host": domain}
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if headers is not None:
        event["headers"] = dict(headers)
        event["multiValueHeaders"] = dict(
            multi_headers or {k: [v] for k, v in headers.items() if v}
        )
    if query:
        event["queryStringParameters"] = dict(query)
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    if body is not None:
        event["body"] = body
    return event


def http_event(
    route_key: str,
    method: str,
    path: str,
    raw_query: str,
    query: Mapping[str, str],
    path_parameters: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    claims: Mapping[str, Any] | None,
    source_ip: str,
    domain: str,
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    """Payload format 2.0: duplicate headers and query parameters arrive joined with commas
    (the caller joins them), cookies in `cookies` and not in the headers."""
    request_time, epoch = _request_time()
    text_body: str | None = None
    encoded = False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, encoded = base64.b64encode(body).decode(), True
    context: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": API_ID,
        "domainName": domain,
        "domainPrefix": domain.split(".")[0],
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": uuid.uuid4().hex[:16],
        "routeKey": route_key,
        "stage": "$default",
        "time": request_time,
        "timeEpoch": epoch,
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        **({"cookies": list(cookies)} if cookies else {}),
        "headers": {k.lower(): v for k, v in headers.items() if k.lower() != "cookie"},
        "requestContext": context,
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if text_body is not None:
        event["body"] = text_body
    return event


def cognito_event(
    trigger_source: str,
    user_pool_id: str,
    client_id: str,
    username: str,
    attributes: Mapping[str, str],
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "1",
        "region": REGION,
        "userPoolId": user_pool_id,
        "userName": username,
        "callerContext": {"awsSdkVersion": "local", "clientId": client_id},
        "triggerSource": trigger_source,
        "request": {"userAttributes": dict(attributes)},
        "response": {},
    }
    if trigger_source.startswith("PreSignUp"):
        event["request"]["validationData"] = None
        event["response"] = {
            "autoConfirmUser": False,
            "autoVerifyEmail": False,
            "autoVerifyPhone": False,
        }
    return event


def scheduled_event(stage: str, module: str) -> dict[str, Any]:
    """What EventBridge Scheduler's rule target receives ("Scheduled Event")."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{function_name(stage, module)}-schedule"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": now,
        "region": REGION,
        "resources": [rule],
        "detail": {},
    }
