"""The management API's own server: `POST/GET/DELETE /@connections/{id}` on a port and a thread
of its own, so the fan-out's posts never queue behind the gateway's loop (WebSocket frames,
invocations, the HTTP API) and cost a parse, not a framework's request pipeline.

Each post is a real HTTP request over a keep-alive connection, as on AWS, and answered exactly
as the API port's route answers it (management.py has the one set of answers): 413 over
WS_MESSAGE_BYTES, 410 for a gone connection, the loopback Host check and no browsers (an Origin
header is refused, as guards.py refuses it). httptools (llhttp, the parser Node.js uses) reads
the requests; a body past the limit is counted, never kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
from http import HTTPStatus
from urllib.parse import unquote

import attrs
import httptools

from dynamotalk import quotas
from dynamotalk.local.gateway.guards import loopback_host
from dynamotalk.local.gateway.management import Answer, Management

MANAGEMENT_PATH = re.compile(r"^(?:/[^/]+)?/@connections/(?P<connection_id>[^/]+)$")
"""`/@connections/{id}`, or with the stage in front (`/{stage}/@connections/{id}`)."""
METHODS = frozenset({"GET", "POST", "DELETE"})


def _json(status: int, message: str) -> Answer:
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return Answer(status, body, (("content-type", "application/json"),))


BAD_HOST = _json(400, "Invalid host header")
BAD_REQUEST = _json(400, "Bad Request")
FORBIDDEN = _json(403, "Forbidden")
NOT_FOUND = _json(404, "Not Found")
NOT_ALLOWED = _json(405, "Method Not Allowed")


class _Requests(asyncio.Protocol):
    """One client's keep-alive connection: requests parsed as they arrive, each answered in
    order, at once (an answer never waits: a post only queues the message)."""

    def __init__(self, management: Management, open_: set[asyncio.Transport]) -> None:
        self.management = management
        self.open = open_
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.host = ""
        self.origin = False
        self.expects_continue = False
        self.body: list[bytes] = []
        self.size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.open.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.open.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._send(BAD_REQUEST, keep_alive=False)

    # httptools' callbacks
    def on_message_begin(self) -> None:
        self._reset()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"host":
            self.host = value.decode("latin-1")
        elif lowered == b"origin":
            self.origin = True
        elif lowered == b"expect" and value.lower() == b"100-continue":
            self.expects_continue = True

    def on_headers_complete(self) -> None:
        if self.expects_continue and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size <= quotas.WS_MESSAGE_BYTES:
            self.body.append(body)

    def on_message_complete(self) -> None:
        answer = self._answer(self.parser.get_method().decode("latin-1"))
        self._send(answer, keep_alive=self.parser.should_keep_alive())

    def _answer(self, method: str) -> Answer:
        if not loopback_host(self.host):
            return BAD_HOST
        matched = MANAGEMENT_PATH.match(unquote(httptools.parse_url(self.url).path.decode()))
        if matched is None:
            return NOT_FOUND
        if method not in METHODS:
            return NOT_ALLOWED
        if self.origin:  # a browser: on AWS @connections needs a SigV4-signed IAM caller
            return FORBIDDEN
        data = b"".join(self.body) if self.size <= quotas.WS_MESSAGE_BYTES else None
        return self.management.answer(method, matched["connection_id"], data)

    def _send(self, answer: Answer, keep_alive: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        status = HTTPStatus(answer.status)
        lines = [f"HTTP/1.1 {status.value} {status.phrase}", f"content-length: {len(answer.body)}"]
        lines += [f"{name}: {value}" for name, value in answer.headers]
        if not keep_alive:
            lines.append("connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.transport.write(head + answer.body)
        if not keep_alive:
            self.transport.close()


@attrs.define
class ManagementServer:
    """The management API on `host:port`, served by its own thread and event loop."""

    management: Management
    host: str
    port: int
    _loop: asyncio.AbstractEventLoop | None = attrs.field(default=None, init=False)
    _thread: threading.Thread | None = attrs.field(default=None, init=False)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Listen now (a post right after start is accepted), serve on a thread of its own."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(512)
        self.port = listener.getsockname()[1]
        loop = self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            clients: set[asyncio.Transport] = set()
            server = loop.run_until_complete(
                loop.create_server(lambda: _Requests(self.management, clients), sock=listener)
            )
            ready.set()
            try:
                loop.run_forever()
            finally:
                server.close()
                for transport in list(clients):  # idle keep-alive connections of the handlers
                    transport.abort()
                loop.run_until_complete(asyncio.sleep(0))
                loop.close()

        self._thread = threading.Thread(target=serve, name="management-api", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already closed
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = self._thread = None
