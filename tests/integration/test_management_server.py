"""The management API's own server (gateway/management_server.py) over real HTTP: the real
boto3 client and plain HTTP clients post from many threads while the connections live on
another loop, as in `dynamotalk dev`. Each connection's socket is a recorder: what the gateway
would write to the client, in order."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import attrs
import boto3
import httpx
import pytest

from dynamotalk import quotas
from dynamotalk.local.gateway.connections import (
    CLOSE_NORMAL,
    CLOSE_SLOW_READER,
    Connections,
    LiveConnection,
)
from dynamotalk.local.gateway.management import Management
from dynamotalk.local.gateway.management_server import ManagementServer


@attrs.define
class Recorder:
    """Stands for a client's WebSocket: records what the connection's writer sends."""

    sent: list[str] = attrs.Factory(list)
    closed: tuple[int, str] | None = None
    stalled: bool = False
    """A reader that stopped reading: the first send never returns."""

    async def send_text(self, text: str) -> None:
        if self.stalled:
            await asyncio.Event().wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


@attrs.define
class Gateway:
    """A gateway's loop on its own thread, its connections, and the management server."""

    loop: asyncio.AbstractEventLoop
    connections: Connections
    server: ManagementServer
    writers: list[asyncio.Task[None]] = attrs.Factory(list)

    def open(self, connection_id: str, stalled: bool = False) -> Recorder:
        recorder = Recorder(stalled=stalled)

        async def opened() -> None:
            live = LiveConnection(
                connection_id, recorder, 1_700_000_000_000, "127.0.0.1", "agent/1", {},  # type: ignore[arg-type]
                1_700_000_000_000, self.loop.time(),
            )  # fmt: skip
            self.connections.by_id[connection_id] = live
            self.writers.append(asyncio.create_task(self.connections.write(live)))

        asyncio.run_coroutine_threadsafe(opened(), self.loop).result(5)
        return recorder

    def stop(self) -> None:
        self.server.stop()

        async def stopped() -> None:
            for writer in self.writers:
                writer.cancel()
            await asyncio.gather(*self.writers, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stopped(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def settle(self) -> None:
        """Let the gateway's loop run what the posts queued."""
        for _ in range(5):
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01), self.loop).result(5)


def start_gateway(**limits: Any) -> Gateway:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    connections = Connections(**limits)
    server = ManagementServer(Management(connections), "127.0.0.1", 0)
    server.start()
    return Gateway(loop, connections, server)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    started = start_gateway()
    yield started
    started.stop()


def management(endpoint: str) -> Any:
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip


def test_the_real_client_posts_and_a_gone_connection_is_410(gateway: Gateway) -> None:
    recorder = gateway.open("abc123def456=")
    client = management(gateway.server.endpoint)
    client.post_to_connection(ConnectionId="abc123def456=", Data=b'{"n": 1}')
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="nobody000000=", Data=b"{}")
    gateway.settle()
    assert recorder.sent == ['{"n": 1}']


def test_posts_from_many_threads_arrive_once_each_in_each_senders_order(
    gateway: Gateway,
) -> None:
    ids = [f"conn{n:08d}=" for n in range(4)]
    recorders = {cid: gateway.open(cid) for cid in ids}

    def sender(thread: int) -> None:
        with httpx.Client(base_url=gateway.server.endpoint) as http:  # one keep-alive connection
            for k in range(50):
                for cid in ids:
                    reply = http.post(f"/@connections/{cid}", content=f"{thread}-{k}")
                    assert reply.status_code == 200

    threads = [threading.Thread(target=sender, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gateway.settle()
    for recorder in recorders.values():
        assert sorted(recorder.sent) == sorted(f"{t}-{k}" for t in range(4) for k in range(50))
        for t in range(4):
            mine = [int(m.split("-")[1]) for m in recorder.sent if m.startswith(f"{t}-")]
            assert mine == list(range(50))


def test_a_message_over_128_kb_is_payload_too_large_counted_or_chunked(
    gateway: Gateway,
) -> None:
    recorder = gateway.open("big000000000=")
    url = f"{gateway.server.endpoint}/@connections/big000000000="
    largest = b"x" * quotas.WS_MESSAGE_BYTES
    assert httpx.post(url, content=largest).status_code == 200
    too_big = httpx.post(url, content=largest + b"x")
    assert too_big.status_code == 413
    assert too_big.headers["x-amzn-ErrorType"] == "PayloadTooLargeException"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(3):
            yield b"y" * quotas.WS_MESSAGE_BYTES

    assert httpx.post(url, content=chunks()).status_code == 413
    with pytest.raises(management(gateway.server.endpoint).exceptions.PayloadTooLargeException):
        management(gateway.server.endpoint).post_to_connection(
            ConnectionId="big000000000=", Data=largest + b"x"
        )
    gateway.settle()
    assert recorder.sent == [largest.decode()]


def test_browsers_and_foreign_host_names_are_refused(gateway: Gateway) -> None:
    recorder = gateway.open("guard0000000=")
    url = f"{gateway.server.endpoint}/@connections/guard0000000="
    evil = {"origin": "https://evil.example"}
    assert httpx.post(url, content=b"{}", headers=evil).status_code == 403
    assert httpx.post(url, content=b"{}", headers={"host": "evil.example"}).status_code == 400
    assert httpx.post(f"{gateway.server.endpoint}/elsewhere", content=b"{}").status_code == 404
    assert httpx.put(url, content=b"{}").status_code == 405
    gateway.settle()
    assert recorder.sent == []


def test_a_request_that_is_not_http_is_answered_400_and_cut(gateway: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", gateway.server.port), timeout=5) as raw:
        raw.sendall(b"NONSENSE\x00\r\n\r\n")
        answer = raw.recv(4096)
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert raw.recv(4096) == b""


def test_a_client_that_expects_100_continue_gets_it_before_sending_the_body(
    gateway: Gateway,
) -> None:
    recorder = gateway.open("cont00000000=")
    head = (
        "POST /@connections/cont00000000%3D HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", gateway.server.port), timeout=5) as raw:
        raw.sendall(head.encode())
        assert raw.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        raw.sendall(b"hello")
        assert raw.recv(4096).startswith(b"HTTP/1.1 200 ")
    gateway.settle()
    assert recorder.sent == ["hello"]


def test_get_describes_and_delete_closes_after_what_was_posted(gateway: Gateway) -> None:
    recorder = gateway.open("gd0000000000=")
    client = management(gateway.server.endpoint)
    info = client.get_connection(ConnectionId="gd0000000000=")
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "agent/1"}
    client.post_to_connection(ConnectionId="gd0000000000=", Data=b"last words")
    client.delete_connection(ConnectionId="gd0000000000=")
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0.3), gateway.loop).result(5)
    assert recorder.sent == ["last words"]
    assert recorder.closed == CLOSE_NORMAL
    with pytest.raises(client.exceptions.GoneException):
        client.get_connection(ConnectionId="gd0000000000=")


def test_a_reader_that_stops_reading_is_closed_and_gone_from_then_on() -> None:
    gateway = start_gateway(outbound_max_messages=2)
    try:
        recorder = gateway.open("slow00000000=", stalled=True)
        url = f"{gateway.server.endpoint}/@connections/slow00000000="
        with httpx.Client() as http:
            statuses = []
            for n in range(6):
                statuses.append(http.post(url, content=json.dumps(n)).status_code)
                gateway.settle()  # the writer takes the first message and stalls on it
        assert statuses == [200, 200, 200, 410, 410, 410]
        assert recorder.closed == CLOSE_SLOW_READER
        assert gateway.connections.slow_readers_dropped == 1
    finally:
        gateway.stop()
