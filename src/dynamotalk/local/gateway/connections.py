"""The live WebSocket connections: each one's bounded outbound queue and the task that drains
it, the idle and maximum-life timers, and how the gateway closes a connection (the close codes
and the disconnectReason API Gateway reports with them).

PostToConnection returns once the message is queued; a connection whose queue overflows is
closed (1008) and answers 410 Gone from then on, so no sender ever waits on a slow reader.

A post may come from another thread (the management API's own server, management_server.py):
a connection's queue and its closing state change under one lock, and its writer, on the
gateway's loop, is woken at most once per batch of posts to it, not once per post.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import attrs
import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from dynamotalk import quotas

_log = structlog.get_logger("dynamotalk.gateway")

# Close codes (RFC 6455 section 7.4.1) and the disconnectReason API Gateway reports with them.
CLOSE_NORMAL = (1000, "Connection Closed Normally")
"""DeleteConnection."""
CLOSE_GOING_AWAY = (1001, "Going away")
"""Idle timeout and the connection's maximum life."""
CLOSE_UNSUPPORTED = (1003, "Binary frames are not supported")
CLOSE_TOO_BIG = (1009, "Message too big")
POLICY_VIOLATION = 1008
"""RFC 6455's code for a peer that broke the contract."""
CLOSE_SLOW_READER = (POLICY_VIOLATION, "Slow reader: outbound queue overflowed")
"""Our choice (AWS documents no code): the client broke the contract by not reading."""
CLIENT_REASONS = {
    **dict([CLOSE_NORMAL, CLOSE_GOING_AWAY]),
    1005: "Client-side close frame status not set",
    1006: "Connection closed abnormally",
}
"""The disconnectReason reported when the client closed with this code and gave no reason."""


@attrs.define(eq=False)
class LiveConnection:
    connection_id: str
    socket: WebSocket
    connected_at: int
    source_ip: str
    user_agent: str
    authorizer: dict[str, Any]
    last_active: int
    """Epoch ms of the last data frame either way (GetConnection's lastActiveAt)."""
    last_traffic: float
    """Loop time of the last data frame either way (the idle timer)."""
    loop: asyncio.AbstractEventLoop = attrs.Factory(asyncio.get_running_loop)
    """The gateway's loop, which owns the socket, the writer and the timers."""
    outbox: collections.deque[str] = attrs.Factory(collections.deque)
    outbox_bytes: int = 0
    wake: asyncio.Event = attrs.Factory(asyncio.Event)
    wake_pending: bool = False
    """A wake-up is on its way to the writer: later posts need not send another."""
    closing: tuple[int, str] | None = None
    """Set once the gateway decided to close: the code and reason $disconnect reports."""
    tasks: set[asyncio.Task[None]] = attrs.Factory(set)


@attrs.define
class Connections:
    """The gateway's open connections, by id, and the limits every one of them lives under."""

    idle_timeout_s: float = quotas.WS_IDLE_TIMEOUT_S
    max_connection_s: float = quotas.WS_CONNECTION_MAX_S
    outbound_max_messages: int = 256
    """Messages a connection may have waiting to be written before it is dropped."""
    outbound_max_bytes: int = attrs.field(default=4 * quotas.WS_MESSAGE_BYTES)
    """Bytes a connection may have waiting to be written before it is dropped (at least one
    message of the largest size PostToConnection accepts)."""
    close_grace_s: float = 2.0
    """How long a close frame may wait on a stalled socket before the TCP connection is cut."""
    by_id: dict[str, LiveConnection] = attrs.Factory(dict)
    lost: set[str] = attrs.Factory(set)
    """Connections cut by the test hook: their $disconnect never runs, as when AWS loses one."""
    outbound_high_water: dict[str, int] = attrs.Factory(lambda: {"messages": 0, "bytes": 0})
    """The most any connection ever had queued (local-only observability)."""
    slow_readers_dropped: int = 0
    _background: set[asyncio.Task[None]] = attrs.Factory(set)
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    """Guards every connection's queue and closing state (posts come from two threads)."""

    @outbound_max_bytes.validator
    def _holds_one_message(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < quotas.WS_MESSAGE_BYTES:
            raise ValueError("outbound_max_bytes must hold one message of WS_MESSAGE_BYTES")

    def touch(self, live: LiveConnection) -> None:
        live.last_traffic = asyncio.get_running_loop().time()
        live.last_active = int(time.time() * 1000)

    def post(self, live: LiveConnection, text: str) -> bool:
        """Queue a message for the connection; never waits, and may be called from any thread.
        A queue that would overflow closes the connection (a slow reader loses it) and the
        message is refused."""
        size = len(text.encode())
        with self._lock:
            if live.closing is not None:
                return False
            if (
                len(live.outbox) + 1 > self.outbound_max_messages
                or live.outbox_bytes + size > self.outbound_max_bytes
            ):
                queued, queued_bytes = len(live.outbox), live.outbox_bytes
                self._closing(live, *CLOSE_SLOW_READER)
                self.slow_readers_dropped += 1
                overflowed = True
            else:
                live.outbox.append(text)
                live.outbox_bytes += size
                high = self.outbound_high_water
                high["messages"] = max(high["messages"], len(live.outbox))
                high["bytes"] = max(high["bytes"], live.outbox_bytes)
                wake, live.wake_pending, overflowed = not live.wake_pending, True, False
        if overflowed:
            _log.warning(
                "ws_slow_reader_dropped", connection_id=live.connection_id,
                queued=queued, queued_bytes=queued_bytes,
            )  # fmt: skip
            self.on_loop(live, lambda: self.spawn(self._send_close(live)))
            return False
        if wake:
            self.on_loop(live, live.wake.set)
        return True

    def on_loop(self, live: LiveConnection, call: Callable[[], object]) -> None:
        """Run `call` on the connection's loop: now when already there, else soon."""
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is live.loop:
            call()
        else:
            with contextlib.suppress(RuntimeError):  # the gateway's loop closed: it is stopping
                live.loop.call_soon_threadsafe(call)

    def _next(self, live: LiveConnection) -> str | None:
        with self._lock:
            if not live.outbox or live.closing is not None:
                return None
            text = live.outbox.popleft()
            live.outbox_bytes -= len(text.encode())
            return text

    async def write(self, live: LiveConnection) -> None:
        """The connection's own writer: drains its queue in order; only it ever waits on the
        socket, so a post never waits on another connection's send."""
        try:
            while live.closing is None:
                await live.wake.wait()
                live.wake.clear()
                with self._lock:
                    live.wake_pending = False  # before draining: a later post wakes us again
                while (text := self._next(live)) is not None:
                    await live.socket.send_text(text)
                    self.touch(live)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass

    async def watch(self, live: LiveConnection) -> None:
        """Idle timeout and maximum connection life, as API Gateway applies them."""
        loop = asyncio.get_running_loop()
        opened = loop.time()
        while live.closing is None:
            deadline = min(live.last_traffic + self.idle_timeout_s, opened + self.max_connection_s)
            if loop.time() >= deadline:
                await self.close(live, *CLOSE_GOING_AWAY)
                return
            await asyncio.sleep(deadline - loop.time())

    async def close(self, live: LiveConnection, code: int, reason: str) -> None:
        """Close with a code the client sees and $disconnect reports; a socket too stalled to
        take the close frame within close_grace_s has its TCP connection cut."""
        with self._lock:
            if live.closing is not None:
                return
            self._closing(live, code, reason)
        await self._send_close(live)

    def _closing(self, live: LiveConnection, code: int, reason: str) -> None:
        """The decision to close (under the lock): no post is accepted from here on."""
        live.closing = (code, reason)
        self.by_id.pop(live.connection_id, None)
        live.outbox.clear()
        live.outbox_bytes = 0

    async def _send_close(self, live: LiveConnection) -> None:
        live.wake.set()
        code, reason = live.closing or CLOSE_NORMAL
        try:
            await asyncio.wait_for(live.socket.close(code, reason), timeout=self.close_grace_s)
        except (TimeoutError, RuntimeError, OSError, WebSocketDisconnect):
            _abort(live.socket)

    def forget(self, live: LiveConnection, client_close: tuple[int, str]) -> None:
        """The socket is gone (the client closed it, or the gateway did): no more posts."""
        with self._lock:
            self.by_id.pop(live.connection_id, None)
            if live.closing is None:
                live.closing = client_close
            live.outbox.clear()
            live.outbox_bytes = 0

    async def flush_then_close(self, live: LiveConnection) -> None:
        """DeleteConnection after what PostToConnection already accepted: on AWS a post answers
        200 once it is sent, so it reaches the client before the close (a session's last
        words, service/sessions.py). A reader too slow for close_grace_s loses them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.close_grace_s
        while live.outbox and live.closing is None and loop.time() < deadline:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.01)  # the writer's last send_text
        await self.close(live, *CLOSE_NORMAL)

    def spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _abort(socket: WebSocket) -> None:
    """Cut the TCP connection under a WebSocket whose peer no longer reads. ASGI has no abort;
    uvicorn's protocol object owns the transport and is the `receive` callable's owner."""
    owner = getattr(getattr(socket, "_receive", None), "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is not None:
        transport.abort()
