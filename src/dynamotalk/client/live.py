"""The terminal client's live side: print what the socket brings, reconnect and sync when it
drops, and renew the session before the token expires."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import websockets

from dynamotalk.client import frames
from dynamotalk.client.api import PAGE_MAX
from dynamotalk.client.chat import Chat

REAUTH_LEAD_S = 120.0
"""Renew the socket's session this long before the token expires (the server closes a socket
whose token expired; docs/PROTOCOL.md "Session lifetime")."""


async def listen(chat: Chat) -> None:
    """Print events; on a dropped socket reconnect with backoff and sync what was missed."""
    delay = 0.5
    while not chat.closing:
        try:
            async for raw in chat.socket:
                on_frame(chat, json.loads(raw))
                delay = 0.5
        except websockets.ConnectionClosed:
            pass
        if chat.closing:
            return
        chat.show("* connection lost; reconnecting")
        while not chat.closing:
            await asyncio.sleep(delay)
            try:
                chat.session.refresh()
                await chat.connect()
                break
            except (OSError, websockets.WebSocketException):
                delay = min(delay * 2, 15)
        for room_id in list(chat.rooms):
            await chat.send(frames.sync(room_id, chat.last_seen.get(room_id), PAGE_MAX))
        chat.show("* reconnected")


async def keep_session(chat: Chat) -> None:
    """Refresh the token before it expires and renew the open socket's session with it."""
    while not chat.closing:
        wait = chat.session.expires_at() - REAUTH_LEAD_S - time.time()
        await asyncio.sleep(max(5.0, wait))
        try:
            await asyncio.to_thread(chat.session.refresh)
            await chat.send(frames.reauth(chat.session.id_token))
        except (OSError, websockets.WebSocketException) as error:
            chat.show(f"! could not renew the session: {error}")
        except Exception as error:  # noqa: BLE001 - a refused refresh: sign in again
            chat.show(f"! session not renewed ({type(error).__name__}); sign in again")
            return


def on_frame(chat: Chat, frame: dict[str, Any]) -> None:
    shown = EVENTS.get(frame.get("type", ""))
    if shown is not None:
        shown(chat, frame)


# --- one line per event -----------------------------------------------------------------------


def posted(chat: Chat, frame: dict[str, Any]) -> None:
    if frame["message"]["id"] not in chat.seen_ids:
        chat.seen_ids.add(frame["message"]["id"])
        chat.print_message(frame["message"])


def acked(chat: Chat, frame: dict[str, Any]) -> None:
    if frames.is_sync_reply(frame):  # what was missed while the socket was down
        for message in frame.get("messages", []):
            if message["id"] not in chat.seen_ids:
                chat.seen_ids.add(message["id"])
                chat.print_message(message, prefix="(missed) ")


def edited(chat: Chat, frame: dict[str, Any]) -> None:
    chat.print_message(frame["message"], prefix="(edited) ")


def deleted(chat: Chat, frame: dict[str, Any]) -> None:
    chat.show(f"* message {frame['message']['id']} was deleted")


def reacted(chat: Chat, frame: dict[str, Any]) -> None:
    verb = "reacted" if frame["added"] else "took back"
    chat.show(f"* {chat.name_of(frame['userId'])} {verb} {frame['emoji']} on {frame['messageId']}")


def typing(chat: Chat, frame: dict[str, Any]) -> None:
    chat.names[frame["userId"]] = frame["username"]
    chat.show(f"* {frame['username']} is typing…")


def presence(chat: Chat, frame: dict[str, Any]) -> None:
    chat.names[frame["userId"]] = frame["username"]
    state = "online" if frame["online"] else "offline"
    chat.show(f"* {frame['username']} is {state}")


def invited(chat: Chat, frame: dict[str, Any]) -> None:
    invite = frame["invite"]
    chat.show(
        f"* {invite['inviterName']} invited you to {invite['roomName']} "
        f"({invite['roomKind']}): /accept, /decline or /block {invite['roomId']}"
    )


def joined(chat: Chat, frame: dict[str, Any]) -> None:
    chat.show(f"* {chat.name_of(frame['membership']['userId'])} joined")


def refused(chat: Chat, frame: dict[str, Any]) -> None:
    chat.show(f"! {frame['error']['code']}: {frame['error']['message']}")


EVENTS: dict[str, Callable[[Chat, dict[str, Any]], None]] = {
    "message.posted": posted,
    "ack": acked,
    "message.edited": edited,
    "message.deleted": deleted,
    "reaction.changed": reacted,
    "typing": typing,
    "presence.changed": presence,
    "invite.received": invited,
    "member.joined": joined,
    "error": refused,
}
"""Frame type -> how the terminal shows it; other frames are not shown."""
