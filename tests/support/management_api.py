"""A loopback stand-in for API Gateway's management API (`POST /@connections/{id}`).

The real boto3 `apigatewaymanagementapi` client talks to it over HTTP. It records what each
connection received, answers 410 Gone for connections it was told are gone, and can fail or
slow down chosen connections to exercise retries and concurrency.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.define
class ManagementApi:
    server: ThreadingHTTPServer
    received: dict[str, list[bytes]] = attrs.Factory(lambda: defaultdict(list))
    gone: set[str] = attrs.Factory(set)
    failures: dict[str, int] = attrs.Factory(dict)
    """connection id -> how many more requests answer 500 before success."""
    always_fail: set[str] = attrs.Factory(set)
    answers: dict[str, tuple[int, str]] = attrs.Factory(dict)
    """connection id -> the (status, x-amzn-ErrorType) every request for it gets."""
    delay_s: float = 0.0
    attempts: dict[str, int] = attrs.Factory(lambda: defaultdict(int))
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = attrs.Factory(threading.Lock)

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @classmethod
    def start(cls) -> ManagementApi:
        holder: dict[str, ManagementApi] = {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                api = holder["api"]
                connection_id = self.path.rsplit("/@connections/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with api.lock:
                    api.attempts[connection_id] += 1
                    api.in_flight += 1
                    api.max_in_flight = max(api.max_in_flight, api.in_flight)
                try:
                    if api.delay_s:
                        time.sleep(api.delay_s)
                    with api.lock:
                        if connection_id in api.gone:
                            status, kind = 410, "GoneException"
                        elif connection_id in api.answers:
                            status, kind = api.answers[connection_id]
                        elif connection_id in api.always_fail or api.failures.get(connection_id, 0):
                            if api.failures.get(connection_id):
                                api.failures[connection_id] -= 1
                            status, kind = 500, "InternalServerErrorException"
                        else:
                            api.received[connection_id].append(body)
                            status, kind = 200, ""
                finally:
                    with api.lock:
                        api.in_flight -= 1
                payload = b"{}" if status == 200 else b'{"message": "%s"}' % kind.encode()
                self.send_response(status)
                if kind:
                    self.send_header("x-amzn-ErrorType", kind)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        api = cls(server=server)
        holder["api"] = api
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return api

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
