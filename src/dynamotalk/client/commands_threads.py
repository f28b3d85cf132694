"""The terminal client's thread, quote, block and report commands (issue 17; docs/PROTOCOL.md
"Threads, quotes and mentions", "Blocking and reports"). Messages are named by the `#id` the
client prints after each one; users by username."""

from __future__ import annotations

from dynamotalk.client import frames
from dynamotalk.client.arguments import reason, short, words
from dynamotalk.client.chat import Chat
from dynamotalk.client.config import ChatClientError

THREAD_PAGE = 20
"""Replies shown per /thread page (oldest first)."""


async def reply(chat: Chat, room_id: str, rest: str) -> None:
    """`/reply ID TEXT`: a reply seen only in the thread."""
    await _reply(chat, room_id, rest, also_in_room=False)


async def reply_also(chat: Chat, room_id: str, rest: str) -> None:
    """`/reply+ ID TEXT`: a reply also sent to the room's timeline (Slack's "also send")."""
    await _reply(chat, room_id, rest, also_in_room=True)


async def _reply(chat: Chat, room_id: str, rest: str, also_in_room: bool) -> None:
    ref, text = words(rest, 1, "/reply ID TEXT")
    if not text:
        raise ChatClientError("usage: /reply ID TEXT")
    parent = chat.message_id(ref, room_id)
    await chat.send(frames.send_message(room_id, text, parent_id=parent, also_in_room=also_in_room))


async def quote(chat: Chat, room_id: str, rest: str) -> None:
    """`/quote ID TEXT`: a message with a snapshot of the one it quotes."""
    ref, text = words(rest, 1, "/quote ID TEXT")
    if not text:
        raise ChatClientError("usage: /quote ID TEXT")
    await chat.send(frames.send_message(room_id, text, quote_id=chat.message_id(ref, room_id)))


async def thread(chat: Chat, room_id: str, rest: str) -> None:
    """`/thread ID`: the thread's first message and its first replies; `/thread` alone shows
    the next page of the thread shown last."""
    if rest:
        parent_id, cursor = chat.message_id(rest, room_id), None
    elif chat.thread is not None and chat.thread[0] == room_id:
        parent_id, cursor = chat.thread[1], chat.thread[2]
        if cursor is None:
            chat.show("* no more replies")
            return
    else:
        raise ChatClientError("usage: /thread ID")
    page = await chat.api.call(
        "GET",
        f"/rooms/{room_id}/messages/{parent_id}/thread",
        cursor=cursor,
        limit=THREAD_PAGE,
    )
    if cursor is None:
        chat.show(f"* thread of {short(parent_id)}")
        chat.print_message(page["parent"], prefix="  ")
    for message in page["replies"]:
        chat.print_message(message, prefix="  ")
    chat.thread = (room_id, parent_id, page.get("nextCursor"))
    if page.get("nextCursor"):
        chat.show("* more replies: /thread")


# --- blocking and reports ---------------------------------------------------------------------


async def block(chat: Chat, rest: str) -> None:
    """`/block USER`: their messages reach you as stubs, they never know."""
    user_id = await chat.user_id(rest, chat.current)
    await chat.api.call("POST", f"/blocks/{user_id}")
    chat.blocked.add(user_id)
    chat.show(f"* blocked {chat.name_of(user_id)} (they are not told)")


async def unblock(chat: Chat, rest: str) -> None:
    user_id = await chat.user_id(rest, chat.current)
    await chat.api.call("DELETE", f"/blocks/{user_id}")
    chat.blocked.discard(user_id)
    chat.show(f"* unblocked {chat.name_of(user_id)}")


async def blocks(chat: Chat, rest: str) -> None:
    listed = (await chat.api.call("GET", "/blocks"))["blocks"]
    chat.blocked = {b["userId"] for b in listed}
    if not listed:
        chat.show("* you have blocked nobody")
    for entry in listed:
        chat.show(f"  {await chat.username(entry['userId'])}")


async def block_inviter(chat: Chat, rest: str) -> None:
    """`/blockinviter ROOM`: decline an invite and block the user who sent it."""
    room_id = await chat.invite_id(rest)
    await chat.api.call("POST", f"/invites/{room_id}/block")
    chat.show("* invite declined, inviter blocked")


async def report(chat: Chat, room_id: str, rest: str) -> None:
    """`/report ID REASON [NOTE]`: into the room's moderation queue (its author is not told)."""
    ref, why, note = words(rest, 2, "/report ID REASON [NOTE]")
    message_id = chat.message_id(ref, room_id)
    body = {"reason": reason(why).value, **({"note": note} if note else {})}
    made = await chat.api.call("POST", f"/rooms/{room_id}/messages/{message_id}/report", body)
    chat.show(f"* reported {short(message_id)} as {made['report']['reason']}")
