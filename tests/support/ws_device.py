"""One device of a user for the convergence test: an asyncio WebSocket following one room by
the documented client rule (tests/support/room_state.py): changes applied in arrival order,
repeats dropped by seq, a gap healed by syncing from the last seq (looping on hasMore).

A reader task answers calls (by requestId) and queues the room's changes; a follower task
applies them, so a gap's sync can wait for its reply while frames keep arriving.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from dynamotalk.client import frames
from tests.support.room_state import PAGE, Frame, RoomState, is_change

CALL_TIMEOUT_S = 60
RETRIES = 10


class Device:
    def __init__(self, socket: ClientConnection, room_id: str) -> None:
        self.socket = socket
        self.room_id = room_id
        self.state: RoomState | None = None
        self.received = 0
        """Change frames of the room received live (repeats included)."""
        self.syncs = 0
        """Gaps healed by a sync."""
        self.retried = 0
        """Frames refused with a retryable error, then sent again."""
        self.closed_by: Exception | None = None
        self._pending: dict[str, asyncio.Future[Frame]] = {}
        self._queue: asyncio.Queue[Frame] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())
        self._follower: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, ws_url: str, token: str, room_id: str) -> Device:
        socket = await connect(f"{ws_url}?token={token}", max_size=2**20, open_timeout=30)
        device = cls(socket, room_id)
        reply = await device.call(frames.subscribe([room_id]))
        assert reply["type"] == "ack", reply
        return device

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                frame = json.loads(raw)
                request_id = frame.get("requestId")
                if frame.get("type") in ("ack", "error") and request_id in self._pending:
                    self._pending.pop(request_id).set_result(frame)
                elif "type" not in frame:  # the gateway's own answer: the invocation failed
                    failed = AssertionError(f"the gateway failed a frame: {frame}")
                    for waiting in self._pending.values():
                        waiting.set_exception(failed)
                    self._pending.clear()
                elif is_change(frame) and frame["roomId"] == self.room_id:
                    self.received += 1
                    self._queue.put_nowait(frame)
        except Exception as error:  # handed to the calls waiting for a reply
            self.closed_by = error
        closed = ConnectionError(f"the socket closed: {self.closed_by!r}")
        for waiting in self._pending.values():
            waiting.set_exception(closed)

    async def call(self, frame: dict[str, Any]) -> Frame:
        request_id = uuid.uuid4().hex[:16]
        reply: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = reply
        await self.socket.send(json.dumps({**frame, "requestId": request_id}))
        return await asyncio.wait_for(reply, CALL_TIMEOUT_S)

    async def ok(self, frame: dict[str, Any]) -> Frame:
        """Its ack; a retryable error (`rate_limited`: the room is busy) is retried after
        `retryAfterMs`, the same frame (the same clientId), as the protocol says."""
        for _ in range(RETRIES):
            reply = await self.call(frame)
            if reply["type"] == "error" and reply["error"]["retryable"]:
                self.retried += 1
                await asyncio.sleep(reply["error"].get("retryAfterMs", 1000) / 1000)
                continue
            assert reply["type"] == "ack", reply
            return reply
        raise AssertionError(f"still refused after {RETRIES} tries: {reply}")

    def follow(self, state: RoomState) -> None:
        """Apply the room's changes from `state` on (what arrived meanwhile is queued)."""
        self.state = state
        self._follower = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        state = self._held()
        while True:
            change = await self._queue.get()
            if not state.offer(change):
                self.syncs += 1
                await self.catch_up()
                assert state.offer(change), f"the sync did not reach seq {change['seq']}"

    async def catch_up(self) -> None:
        """Sync from the last seq until hasMore is false."""
        state = self._held()
        after = state.last_seq
        while True:
            reply = await self.ok(frames.sync_changes(self.room_id, after, PAGE, "sync"))
            for change in reply["changes"]:
                assert state.offer(change), f"sync from {after} skipped a seq: {reply}"
            after = reply["seq"]
            if not reply["hasMore"]:
                return

    def check(self) -> None:
        """Raise what stopped the follower, if anything did."""
        if self._follower is not None and self._follower.done():
            self._follower.result()

    async def stop_following(self) -> None:
        self.check()
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None

    async def close(self) -> None:
        await self.stop_following()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self.socket.close()

    def _held(self) -> RoomState:
        assert self.state is not None, "follow() first"
        return self.state
