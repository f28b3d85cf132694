"""Every WebSocket frame the clients send: a command of `domain.commands`, written by the wire's
one converter with its action from the route table (docs/PROTOCOL.md). No action name is spelled
in the clients."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from dynamotalk import routes, wire
from dynamotalk.domain import commands as cmd


def send_message(
    room_id: str,
    text: str,
    client_id: str | None = None,
    request_id: str | None = None,
    parent_id: str | None = None,
    also_in_room: bool = False,
    quote_id: str | None = None,
) -> dict[str, Any]:
    """Post `text`; `client_id` (a fresh one when None) makes a retry idempotent. A reply names
    its thread's first message (`parent_id`); a quote the message it quotes."""
    command = cmd.SendMessage(
        room_id=room_id,
        text=text,
        client_id=client_id or uuid.uuid4().hex,
        parent_id=parent_id,
        also_in_room=also_in_room or None,
        quote=cmd.QuoteRef(message_id=quote_id) if quote_id else None,
    )
    return wire.command_frame(command, request_id)


def edit_message(room_id: str, message_id: str, text: str) -> dict[str, Any]:
    return wire.command_frame(cmd.EditMessage(room_id=room_id, message_id=message_id, text=text))


def delete_message(room_id: str, message_id: str) -> dict[str, Any]:
    return wire.command_frame(cmd.DeleteMessage(room_id=room_id, message_id=message_id))


def react(room_id: str, message_id: str, emoji: str) -> dict[str, Any]:
    return wire.command_frame(cmd.React(room_id=room_id, message_id=message_id, emoji=emoji))


def typing(room_id: str) -> dict[str, Any]:
    return wire.command_frame(cmd.TypingCommand(room_id=room_id))


def subscribe(room_ids: Sequence[str]) -> dict[str, Any]:
    return wire.command_frame(cmd.Subscribe(room_ids=tuple(room_ids)))


def sync(room_id: str, after_id: str | None, limit: int) -> dict[str, Any]:
    """v1: messages of `room_id` after `after_id` (all recent ones when None)."""
    return wire.command_frame(cmd.Sync(room_id=room_id, after_id=after_id, limit=limit))


def sync_changes(room_id: str, after_seq: int, limit: int, request_id: str) -> dict[str, Any]:
    """v2: the changes of `room_id`'s feed after `after_seq`, oldest first (an ack with
    `changes`, `seq` and `hasMore`)."""
    return wire.command_frame(
        cmd.Sync(room_id=room_id, limit=limit, after_seq=after_seq), request_id
    )


def ping() -> dict[str, Any]:
    """Keep a quiet socket open (API Gateway closes one idle for WS_IDLE_TIMEOUT_S)."""
    return wire.command_frame(cmd.Ping())


def reauth(token: str) -> dict[str, Any]:
    return wire.command_frame(cmd.Reauth(token=token))


def is_sync_reply(frame: dict[str, Any]) -> bool:
    """The ack of a `sync` frame (v1: the missed messages; v2: the missed `changes`)."""
    return frame.get("type") == "ack" and frame.get("action") == routes.action_of(cmd.Sync)


def is_subscribe_reply(frame: dict[str, Any]) -> bool:
    """The ack of a `subscribe` frame: the socket is open and follows the rooms."""
    return frame.get("type") == "ack" and frame.get("action") == routes.action_of(cmd.Subscribe)
