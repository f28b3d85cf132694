"""Every WebSocket frame the clients send, built here and nowhere else (docs/PROTOCOL.md).

One function per command, each through `_frame`: the protocol's action names appear in the
clients only in this module."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any


def _frame(action: str, request_id: str | None = None, **fields: Any) -> dict[str, Any]:
    frame = {"action": action, **fields}
    if request_id is not None:
        frame["requestId"] = request_id
    return frame


def send_message(
    room_id: str, text: str, client_id: str | None = None, request_id: str | None = None
) -> dict[str, Any]:
    """Post `text`; `client_id` (a fresh one when None) makes a retry idempotent."""
    client_id = client_id or uuid.uuid4().hex
    return _frame("sendMessage", request_id, roomId=room_id, text=text, clientId=client_id)


def edit_message(room_id: str, message_id: str, text: str) -> dict[str, Any]:
    return _frame("editMessage", roomId=room_id, messageId=message_id, text=text)


def delete_message(room_id: str, message_id: str) -> dict[str, Any]:
    return _frame("deleteMessage", roomId=room_id, messageId=message_id)


def react(room_id: str, message_id: str, emoji: str) -> dict[str, Any]:
    return _frame("react", roomId=room_id, messageId=message_id, emoji=emoji)


def typing(room_id: str) -> dict[str, Any]:
    return _frame("typing", roomId=room_id)


def subscribe(room_ids: Sequence[str]) -> dict[str, Any]:
    return _frame("subscribe", roomIds=list(room_ids))


def sync(room_id: str, after_id: str | None, limit: int) -> dict[str, Any]:
    """Messages of `room_id` after `after_id` (all recent ones when None)."""
    return _frame("sync", roomId=room_id, afterId=after_id, limit=limit)


def reauth(token: str) -> dict[str, Any]:
    return _frame("reauth", token=token)


def is_sync_reply(frame: dict[str, Any]) -> bool:
    """The ack of a `sync` frame (it carries the missed messages)."""
    return frame.get("type") == "ack" and frame.get("action") == "sync"
