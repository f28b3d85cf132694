"""A loopback stand-in for API Gateway's management API, run as its own process for P1.

Every PostToConnection is answered after `--delay` seconds; ids whose number is divisible by
10 answer 410 Gone (10%), the rest 200. It counts what it received per connection id so the
benchmark can check that every live connection got the message exactly once.

So that it is not the bottleneck it measures through, it runs in its own process (its own GIL)
as one asyncio loop: keep-alive connections, the delay a timer (not a thread asleep), requests
parsed by hand (~5x less CPU per post than http.server's thread per connection, same run).
`GET /_stats` reports its CPU time and the most requests it held at once: P1 prints both, to
show C posts in flight and the server's share of the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import Counter


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
    asyncio.run(serve(args.port, args.delay))


async def serve(port: int, delay: float) -> None:
    received: Counter[str] = Counter()
    in_flight = [0, 0]  # now, most since the last reset
    loop = asyncio.get_running_loop()

    def respond(transport: asyncio.Transport, status: int, reason: str, payload: bytes) -> None:
        kind = b"x-amzn-ErrorType: GoneException\r\n" if status == 410 else b""
        head = b"HTTP/1.1 %d %s\r\ncontent-length: %d\r\n" % (status, reason.encode(), len(payload))
        if not transport.is_closing():
            transport.write(head + kind + b"\r\n" + payload)

    def post(transport: asyncio.Transport, connection_id: str, body: bytes) -> None:
        in_flight[0] -= 1
        if is_gone(connection_id):
            respond(transport, 410, "Gone", b'{"message":"Gone"}')
            return
        received[connection_id] += 1 if body else 0
        respond(transport, 200, "OK", b"")

    def get(transport: asyncio.Transport, path: str) -> None:
        if path == "/_stats":
            stats = {"cpu_s": time.process_time(), "max_in_flight": in_flight[1]}
            payload = json.dumps(stats).encode()
        else:
            payload = json.dumps(dict(received)).encode()
        if path == "/_reset":
            received.clear()
            in_flight[1] = 0
        respond(transport, 200, "OK", payload)

    class Http(asyncio.Protocol):
        """HTTP/1.1 keep-alive, one request at a time per connection (as every client here)."""

        def __init__(self) -> None:
            self.buffer = b""
            self.transport: asyncio.Transport | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
                head = self.buffer[:end].decode("latin-1").split("\r\n")
                length = 0
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if len(self.buffer) < end + 4 + length:
                    return  # the body is still on its way
                body = self.buffer[end + 4 : end + 4 + length]
                self.buffer = self.buffer[end + 4 + length :]
                method, path = head[0].split(" ")[:2]
                assert self.transport is not None
                if method == "POST":
                    in_flight[0] += 1
                    in_flight[1] = max(in_flight)
                    connection_id = path.rsplit("/", 1)[-1]
                    loop.call_later(delay, post, self.transport, connection_id, body)
                else:
                    get(self.transport, path)

    server = await loop.create_server(Http, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    main()
