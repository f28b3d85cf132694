"""A loopback stand-in for API Gateway's management API, run as its own process for P1.

Every PostToConnection is answered after `--delay` seconds; ids whose number is divisible by
10 answer 410 Gone (10%), the rest 200. It counts what it received per connection id so the
benchmark can check that every live connection got the message exactly once.

So that it is not the bottleneck it measures through: its own process (its own GIL), a thread
per keep-alive connection, and `GET /_stats` reports its CPU time and the most requests it held
at once (P1 prints both: the pool's C in flight, and far less than a core of CPU).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def is_gone(connection_id: str) -> bool:
    return (
        connection_id.rsplit("-", 1)[-1].isdigit()
        and int(connection_id.rsplit("-", 1)[-1]) % 10 == 0
    )


def start(delay: float) -> tuple[subprocess.Popen[str], str]:
    """This server in its own process, once it listens: the process and its endpoint."""
    from dynamotalk.local.emulators import free_port

    port = free_port()
    argv = [sys.executable, "-m", "bench.fake_management_api", "--port", str(port)]
    server = subprocess.Popen([*argv, "--delay", str(delay)], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    server.stdout.readline()  # "ready"
    return server, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.02)
    args = parser.parse_args()
    received: Counter[str] = Counter()
    lock = threading.Lock()
    in_flight = [0, 0]  # now, most since the last reset

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK wait

        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            connection_id = self.path.rsplit("/", 1)[-1]
            with lock:
                in_flight[0] += 1
                in_flight[1] = max(in_flight)
            time.sleep(args.delay)
            with lock:
                in_flight[0] -= 1
            if is_gone(connection_id):
                status, payload = 410, b'{"message":"Gone"}'
            else:
                status, payload = 200, b""
                with lock:
                    received[connection_id] += 1 if body else 0
            self.send_response(status)
            if status == 410:
                self.send_header("x-amzn-ErrorType", "GoneException")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # the benchmark's read-out and reset, and the server's stats
            with lock:
                if self.path == "/_stats":
                    stats = {"cpu_s": time.process_time(), "max_in_flight": in_flight[1]}
                    payload = json.dumps(stats).encode()
                else:
                    payload = json.dumps(dict(received)).encode()
                if self.path == "/_reset":
                    received.clear()
                    in_flight[1] = 0
            self.send_response(200)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 1024
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
