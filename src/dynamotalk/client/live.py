"""The terminal client's live side: print what the socket brings (room changes through their
room's feed, feed.py), reconnect with jittered backoff and sync every followed room from its
lastSeq when it drops (keepalive.py), and renew the session before the token expires."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import websockets

from dynamotalk.client import frames
from dynamotalk.client.arguments import short, spoken
from dynamotalk.client.chat import Chat
from dynamotalk.client.feed import POSTED, Step
from dynamotalk.domain import events as ev
from dynamotalk.wire import EVENT_TYPE

REAUTH_LEAD_S = 120.0
"""Renew the socket's session this long before the token expires (the server closes a socket
whose token expired; docs/PROTOCOL.md "Session lifetime")."""


async def listen(chat: Chat) -> None:
    """Print events; on a dropped socket reconnect (chat.backoff) and sync what was missed."""
    while not chat.closing:
        try:
            async for raw in chat.socket:
                frame = json.loads(raw)
                await act(chat, on_frame(chat, frame))
                if frame.get("type") == MENTION:
                    await mentioned(chat, frame)
        except websockets.ConnectionClosed:
            pass
        if chat.closing:
            return
        chat.show("* connection lost; reconnecting")
        if await reconnect(chat):
            chat.show("* reconnected")


async def reconnect(chat: Chat) -> bool:
    """Connect again, waiting `chat.backoff` before each attempt. `Chat.connect` subscribes and
    syncs every followed room from its lastSeq; the subscribe's ack resets the backoff. False
    if the chat closed meanwhile."""
    while not chat.closing:
        await chat.backoff.wait()
        try:
            chat.session.refresh()
            await chat.connect()
            return True
        except (OSError, websockets.WebSocketException):
            continue
    return False


async def act(chat: Chat, step: Step) -> None:
    """Do what the feeds asked: send the next sync frames, reload rooms whose feed expired."""
    for frame in step.send:
        await chat.send(frame)
    for room_id in step.reload:
        await chat.reload(room_id)


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


def on_frame(chat: Chat, frame: dict[str, Any]) -> Step:
    """Show one frame: a room change through its room's feed (duplicates dropped, gaps synced),
    anything else as it comes. What the feeds ask for next is returned for `act`."""
    step = chat.feeds.handle(frame)
    if frames.is_subscribe_reply(frame):  # open and subscribed: the next drop starts over
        chat.backoff.reset()
    if not step.consumed:
        shown = EVENTS.get(frame.get("type", ""))
        if shown is not None:
            shown(chat, frame)
        return step
    missed = frames.is_sync_reply(frame)
    for change in step.applied:
        if missed and change["type"] == POSTED:
            print_missed(chat, change["message"])
        elif change["type"] in EVENTS:  # a change this client does not show (a pin) is kept
            EVENTS[change["type"]](chat, change)
    return step


# --- one line per event -----------------------------------------------------------------------


def posted(chat: Chat, frame: dict[str, Any]) -> None:
    if frame["message"]["id"] not in chat.seen_ids:
        chat.seen_ids.add(frame["message"]["id"])
        count = (frame.get("thread") or {}).get("replyCount")
        chat.print_message(frame["message"], thread_count=count)


def acked(chat: Chat, frame: dict[str, Any]) -> None:
    if frames.is_sync_reply(frame):  # v1: what was missed while the socket was down
        for message in frame.get("messages", []):
            print_missed(chat, message)


def print_missed(chat: Chat, message: dict[str, Any]) -> None:
    if message["id"] not in chat.seen_ids:
        chat.seen_ids.add(message["id"])
        chat.print_message(message, prefix="(missed) ")


def edited(chat: Chat, frame: dict[str, Any]) -> None:
    chat.print_message(frame["message"], prefix="(edited) ")


def deleted(chat: Chat, frame: dict[str, Any]) -> None:
    message = frame["message"]
    by = message.get("deletedBy")
    who = f" by {chat.name_of(by)}" if by and by != message["authorId"] else ""
    chat.show(f"* message {short(message['id'])} was deleted{who}")


def reacted(chat: Chat, frame: dict[str, Any]) -> None:
    verb = "reacted" if frame["added"] else "took back"
    chat.show(f"* {chat.name_of(frame['userId'])} {verb} {frame['emoji']} on {frame['messageId']}")


def typing(chat: Chat, frame: dict[str, Any]) -> None:
    chat.names[frame["userId"]] = frame["username"]
    if frame["userId"] in chat.blocked:  # the server does not filter these (no content)
        return
    chat.show(f"* {frame['username']} is typing…")


def presence(chat: Chat, frame: dict[str, Any]) -> None:
    chat.names[frame["userId"]] = frame["username"]
    if frame["userId"] in chat.blocked:
        return
    state = "online" if frame["online"] else "offline"
    chat.show(f"* {frame['username']} is {state}")


def invited(chat: Chat, frame: dict[str, Any]) -> None:
    invite = frame["invite"]
    chat.show(
        f"* {invite['inviterName']} invited you to {invite['roomName']} "
        f"({invite['roomKind']}): /accept, /decline or /blockinviter {invite['roomId']}"
    )


def joined(chat: Chat, frame: dict[str, Any]) -> None:
    """A join, or a membership that changed in place: a role given, a mute set or ended."""
    now = frame["membership"]
    key = (frame["roomId"], now["userId"])
    before = chat.memberships.get(key)
    chat.memberships[key] = now
    name, room = chat.name_of(now["userId"]), chat.room_name(frame["roomId"])
    changes = []
    if now["role"] != (before or {}).get("role", "member"):
        changes.append(f"is now {now['role']} in {room}")
    muted_until = now.get("mutedUntil")
    if muted_until and muted_until != (before or {}).get("mutedUntil"):
        left_s = max(60, round((muted_until / 1000 - time.time()) / 60) * 60)
        changes.append(f"is muted in {room} for {spoken(left_s)}")
    elif before and before.get("mutedUntil") and not muted_until:
        changes.append(f"is no longer muted in {room}")
    if not changes:
        changes.append(f"joined {room}")
    chat.show(f"* {name} {' and '.join(changes)}")


def left(chat: Chat, frame: dict[str, Any]) -> None:
    chat.memberships.pop((frame["roomId"], frame["userId"]), None)
    room = chat.room_name(frame["roomId"])
    if frame["userId"] == chat.me:
        chat.show(f"* you are no longer a member of {room}")
    else:
        chat.show(f"* {chat.name_of(frame['userId'])} left {room}")


def room_updated(chat: Chat, frame: dict[str, Any]) -> None:
    """Rename, slow mode, archive: what changed since the room as the client knew it."""
    now, before = frame["room"], chat.rooms.get(frame["roomId"], {})
    changes = []
    if before and now["name"] != before.get("name"):
        changes.append(f"renamed to {now['name']}")
    slow = now.get("slowModeSeconds") or 0
    if slow != (before.get("slowModeSeconds") or 0):
        changes.append(f"slow mode: one message per {spoken(slow)}" if slow else "slow mode off")
    if bool(now.get("archived")) != bool(before.get("archived")):
        changes.append("archived (read-only)" if now.get("archived") else "unarchived")
    name = before.get("name", now["name"])
    chat.rooms[frame["roomId"]] = {**before, **now}
    for absent in ("slowModeSeconds", "archived"):  # shown only when set
        if absent not in now:
            chat.rooms[frame["roomId"]].pop(absent, None)
    chat.show(f"* room {name}: {', '.join(changes) or 'updated'}")


def pinned(chat: Chat, frame: dict[str, Any]) -> None:
    pin = frame["pin"]
    chat.remember(pin["messageId"], frame["roomId"])
    chat.show(
        f"* {chat.name_of(pin['pinnedBy'])} pinned {short(pin['messageId'])} in "
        f"{chat.room_name(frame['roomId'])}: {pin['text']}"
    )


def unpinned(chat: Chat, frame: dict[str, Any]) -> None:
    chat.show(f"* {short(frame['messageId'])} unpinned in {chat.room_name(frame['roomId'])}")


async def mentioned(chat: Chat, frame: dict[str, Any]) -> None:
    """`mention`: shown once per message (a retried delivery repeats it), for a room other
    than the open one (there the message itself is marked)."""
    key = (frame["roomId"], frame["messageId"])
    if key in chat.mentions_seen or frame["roomId"] == chat.current:
        chat.mentions_seen.add(key)
        return
    chat.mentions_seen.add(key)
    author = await chat.username(frame["authorId"])
    room = chat.room_name(frame["roomId"])
    chat.show(f"* {author} mentioned you in #{room}  {short(frame['messageId'])}", bold=True)


def refused(chat: Chat, frame: dict[str, Any]) -> None:
    chat.show(f"! {frame['error']['code']}: {frame['error']['message']}")


EVENTS: dict[str, Callable[[Chat, dict[str, Any]], None]] = {
    EVENT_TYPE[ev.MessagePosted]: posted,
    "ack": acked,
    EVENT_TYPE[ev.MessageEdited]: edited,
    EVENT_TYPE[ev.MessageDeleted]: deleted,
    EVENT_TYPE[ev.ReactionChanged]: reacted,
    EVENT_TYPE[ev.Typing]: typing,
    EVENT_TYPE[ev.PresenceChanged]: presence,
    EVENT_TYPE[ev.InviteReceived]: invited,
    EVENT_TYPE[ev.MemberJoined]: joined,
    EVENT_TYPE[ev.MemberLeft]: left,
    EVENT_TYPE[ev.RoomUpdated]: room_updated,
    EVENT_TYPE[ev.MessagePinned]: pinned,
    EVENT_TYPE[ev.MessageUnpinned]: unpinned,
    "error": refused,
}
"""Frame type -> how the terminal shows it; other frames are not shown (`mention` is shown by
`mentioned`, which may ask the server for the author's name)."""
MENTION = EVENT_TYPE[ev.Mentioned]
