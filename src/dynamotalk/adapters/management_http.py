"""The lean PostToConnection path: botocore's credentials and SigV4 signer, our own HTTP.

botocore's request pipeline (parameter build, serialisation, endpoint rules, retry handler,
urllib3, response parsing) costs about 1 ms of CPU per post, and a fan-out is CPU-bound on it
(issue 16, P1). Here each post is `POST {endpoint}/@connections/{id}` with the payload as its
body, signed by botocore's own `SigV4Auth` (service `execute-api`, the stage's region) with
credentials frozen once per fan-out, and sent over a keep-alive `http.client` connection that
each worker thread keeps (HTTPS on AWS, HTTP to the loopback stacks). A connection the server
closed while idle is replaced before it is used; one that breaks mid-request is closed and the
post answers a transport error, which the notifier retries as it retries botocore's.

The client's `before-parameter-build` and `before-call` hooks for PostToConnection still run
(the local stack's IAM checks answer there, and a `before-call` answer replaces the request as
in botocore); the rest of botocore's pipeline does not.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import select
import socket
import ssl
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import attrs
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, NoCredentialsError

from dynamotalk.adapters.apigateway import Post, Reply

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

SERVICE = "execute-api"
"""SigV4's service name for the management API (botocore's signing name for it)."""
OPERATION = "PostToConnection"
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 3.0
"""As the botocore client's Config (adapters/apigateway.build_management_client)."""
USER_AGENT = "dynamotalk-lean-post"
CA_BUNDLE_ENV = "AWS_CA_BUNDLE"
"""The AWS SDK's own variable (botocore reads it too), not one of ours."""
_SAFE = "-._~"
"""What botocore's percent_encode leaves unquoted in a path parameter ('/' and '=' are quoted)."""


def _tls() -> ssl.SSLContext:
    """The CA bundle botocore would verify against: AWS_CA_BUNDLE, else its default."""
    from botocore.httpsession import get_cert_path

    return _tls_context(os.environ.get(CA_BUNDLE_ENV) or get_cert_path(True))


@functools.cache
def _tls_context(cafile: str) -> ssl.SSLContext:
    """One TLS context per CA bundle (per container, in practice)."""
    return ssl.create_default_context(cafile=cafile)


class _Connection(http.client.HTTPConnection):
    """Connects within CONNECT_TIMEOUT_S, then reads within READ_TIMEOUT_S, TCP keep-alive on."""

    def __init__(self, host: str, port: int | None) -> None:
        super().__init__(host, port, timeout=CONNECT_TIMEOUT_S)

    def connect(self) -> None:
        super().connect()
        _after_connect(self.sock)


class _TlsConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int | None) -> None:
        super().__init__(host, port, timeout=CONNECT_TIMEOUT_S, context=_tls())

    def connect(self) -> None:
        super().connect()
        _after_connect(self.sock)


def _after_connect(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.settimeout(READ_TIMEOUT_S)


def _dropped(sock: socket.socket) -> bool:
    """An idle keep-alive socket that is readable was closed by the server (or sent what it
    should not have): either way it must not carry the next request."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


@attrs.define
class LeanPoster:
    """The `Poster` of the lean path (adapters/apigateway.Poster)."""

    endpoint: str
    """The management API's URL, with the stage's path (https://{id}.execute-api.../{stage})."""
    region: str
    credentials: Any
    """botocore credentials (the session's `get_credentials()`), frozen once per fan-out."""
    events: Any = None
    """The management client's event emitter: its PostToConnection hooks run (module doc)."""
    model: Any = None
    """The client's PostToConnection operation model, handed to those hooks."""
    _base: str = attrs.field(init=False)
    _host: str = attrs.field(init=False)
    """The Host header as SigV4 signs it (set here: botocore's signer derives it twice a post)."""
    _service_id: str = attrs.field(init=False, default="apigatewaymanagementapi")
    _local: threading.local = attrs.field(init=False, factory=threading.local)

    def __attrs_post_init__(self) -> None:
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {self.endpoint!r}")
        self._base = self.endpoint.rstrip("/")
        default_port = {"http": 80, "https": 443}[parts.scheme]
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        self._host = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
        if self.model is not None:
            self._service_id = self.model.service_model.service_id.hyphenize()

    @classmethod
    def for_client(cls, client: ApiGatewayManagementApiClient, credentials: Any) -> LeanPoster:
        """Posting where `client` posts, signed with its session's `credentials`, its hooks run."""
        meta = client.meta
        return cls(
            meta.endpoint_url,
            meta.region_name,
            credentials,
            meta.events,
            meta.service_model.operation_model(OPERATION),
        )

    def fan_out(self) -> Post:
        try:
            if self.credentials is None:
                raise NoCredentialsError()
            frozen = self.credentials.get_frozen_credentials()
        except BotoCoreError as error:  # as botocore's client fails each post: never the sender
            return functools.partial(_unsigned, Reply(None, type(error).__name__))
        return functools.partial(self._post, SigV4Auth(frozen, SERVICE, self.region))

    def _post(self, signer: SigV4Auth, connection_id: str, payload: bytes) -> Reply:
        url = f"{self._base}/@connections/{quote(connection_id, safe=_SAFE)}"
        headers = {"Host": self._host}
        if self.events is not None:
            answered = self._hooks(connection_id, payload, url, headers)
            if answered is not None:
                return answered
        request = AWSRequest("POST", url, data=payload, headers=headers)
        signer.add_auth(request)
        sent = {"User-Agent": USER_AGENT, **dict(request.headers.items())}
        return self._send(urlsplit(url).path, payload, sent)

    def _hooks(
        self, connection_id: str, payload: bytes, url: str, headers: dict[str, str]
    ) -> Reply | None:
        """The client's hooks as botocore runs them; a `before-call` answer is the reply."""
        context: dict[str, Any] = {}
        params = {"ConnectionId": connection_id, "Data": payload}
        name = f"{self._service_id}.{OPERATION}"
        self.events.emit(
            f"before-parameter-build.{name}", params=params, model=self.model, context=context
        )
        request_dict = {
            "url_path": urlsplit(url).path,
            "query_string": {},
            "method": "POST",
            "headers": headers,
            "body": payload,
            "url": url,
            "context": context,
        }
        _, answer = self.events.emit_until_response(
            f"before-call.{name}",
            model=self.model,
            params=request_dict,
            request_signer=None,
            context=context,
        )
        if answer is None:
            return None
        response, parsed = answer
        if 200 <= response.status_code < 300:
            return Reply(response.status_code)
        return Reply(response.status_code, str(parsed.get("Error", {}).get("Code", "")))

    def _connection(self) -> http.client.HTTPConnection:
        """This thread's connection to the endpoint (opened on first use, reopened if lost)."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            parts = urlsplit(self._base)
            kind = _TlsConnection if parts.scheme == "https" else _Connection
            connection = kind(parts.hostname or "", parts.port)
            self._local.connection = connection
        elif connection.sock is not None and _dropped(connection.sock):
            connection.close()  # the next request opens a new one
        return connection

    def _send(self, path: str, payload: bytes, headers: dict[str, str]) -> Reply:
        connection = self._connection()
        try:
            connection.request("POST", path, body=payload, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            return Reply(None, _error_name(error))
        if response.will_close:
            connection.close()
        if 200 <= response.status < 300:
            return Reply(response.status)
        return Reply(response.status, _error_code(response, body))

    def close(self) -> None:
        """Closes the calling thread's connection (the others close with their threads)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()


def _unsigned(reply: Reply, connection_id: str, payload: bytes) -> Reply:
    """Every post of a fan-out without credentials: a transport error (retried, then failed)."""
    return reply


def _error_code(response: http.client.HTTPResponse, body: bytes) -> str:
    """The error code as botocore's rest-json parser reads it: the x-amzn-ErrorType header,
    else the body's `__type` or `code`, else the status."""
    header = response.getheader("x-amzn-ErrorType")
    if header:
        return header.split(":", 1)[0]
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    code = parsed.get("__type") or parsed.get("code") if isinstance(parsed, dict) else None
    if isinstance(code, str) and code:
        return code.split(":", 1)[0].rsplit("#", 1)[-1]
    return str(response.status)


def _error_name(error: BaseException) -> str:
    """A transport error's name in botocore's words where they map one to one (logs read the
    same on both transports), else the exception's own."""
    if isinstance(error, TimeoutError | socket.timeout):
        return "ReadTimeoutError"
    if isinstance(error, ConnectionRefusedError | socket.gaierror):
        return "EndpointConnectionError"
    if isinstance(error, ConnectionError | http.client.RemoteDisconnected):
        return "ConnectionClosedError"
    return type(error).__name__
