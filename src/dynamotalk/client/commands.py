"""What the terminal client does with a typed line: text goes to the open room, and a line
starting with '/' runs the command of that name from the tables below (see HELP)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from dynamotalk.client import commands_moderation as mod
from dynamotalk.client import commands_search, frames
from dynamotalk.client import commands_threads as threads
from dynamotalk.client.chat import OPEN_PAGE, Chat
from dynamotalk.client.config import ChatClientError

HELP = """commands (ID: the #id shown after a message; USER: a username):
  /rooms                 your rooms, unread and mentions    /public        public rooms
  /create NAME [private] create a room                      /join ROOM     join a public room
  /open ROOM             switch to a room (name or id)      /dm USER       open a direct room
  /history [N]           page back through older messages   /who           presence in the room
  /typing                tell the room you are typing       /delete ID
  /react ID EMOJI        toggle a reaction                  /edit ID TEXT
  /reply ID TEXT         reply in the thread of ID          /reply+ ID TEXT  ...and in the room
  /thread ID             a thread and its replies           /thread        its next replies
  /quote ID TEXT         post quoting ID                    /report ID REASON [NOTE]
  /block USER            hide their messages                /unblock USER  /blocks
  /invites               your pending invites               /accept ROOM   accept an invite
  /decline ROOM          decline an invite                  /blockinviter ROOM  decline, block
  /search WORDS          find messages in your rooms        /search        its next results
 moderating the open room (as the room's roles allow):
  /mute USER [10m|2h|1d] (default 1h)  /unmute USER         /kick USER     /role USER ROLE
  /ban USER [REASON]     /unban USER   /bans                /pin ID   /unpin ID   /pins
  /slow SECONDS|30s|off  slow mode     /rename NAME         /archive       /unarchive
  /audit                 the moderation log (admins)        /reports [resolved]  the queue
  /resolve REPORT dismissed|actioned [NOTE]                 (admins)
  /wait TEXT             (scripts) wait until TEXT is seen  /sleep SECONDS (scripts)
  /help                  this list                          /quit"""

Command = Callable[[Chat, str], Awaitable[None]]
"""A command: the chat and the rest of the line after the command's name."""
RoomCommand = Callable[[Chat, str, str], Awaitable[None]]
"""A command on the open room: the chat, the room's id and the rest of the line."""


async def run_line(chat: Chat, line: str) -> bool:
    """Run one input line; False means quit."""
    if not line.startswith("/"):
        if chat.current is None:
            raise ChatClientError("open a room first: /open NAME")
        await chat.send(frames.send_message(chat.current, line))
        return True
    name, _, rest = line[1:].partition(" ")
    rest = rest.strip()
    if name == "quit":
        return False
    if name in COMMANDS:
        await COMMANDS[name](chat, rest)
    elif name in ROOM_COMMANDS and chat.current:
        await ROOM_COMMANDS[name](chat, chat.current, rest)
    else:  # a room command without an open room, too
        chat.show(f"! unknown command /{name}; /help lists them")
    return True


# --- rooms and invites ------------------------------------------------------------------------


async def show_help(chat: Chat, rest: str) -> None:
    chat.show(HELP)


async def list_rooms(chat: Chat, rest: str) -> None:
    await chat.load_rooms()
    for room in chat.rooms.values():
        counts = [f"{room['unread']} unread"] if room["unread"] else []
        if room.get("unreadMentions"):
            counts.append(f"{room['unreadMentions']} mentioning you")
        badge = f" ({', '.join(counts)})" if counts else ""
        chat.show(f"  {room['name']} [{room['kind']}] {room['roomId']}{badge}")


async def public_rooms(chat: Chat, rest: str) -> None:
    for room in (await chat.api.call("GET", "/rooms/public"))["rooms"]:
        chat.show(f"  {room['name']} {room['roomId']}")


async def create(chat: Chat, rest: str) -> None:
    name, _, kind = rest.rpartition(" ") if rest.endswith(" private") else (rest, "", "public")
    room = (await chat.api.call("POST", "/rooms", {"name": name, "kind": kind}))["room"]
    await chat.open(room["roomId"])


async def join(chat: Chat, rest: str) -> None:
    room_id = rest
    for room in (await chat.api.call("GET", "/rooms/public"))["rooms"]:
        if room["name"].casefold() == rest.casefold():
            room_id = room["roomId"]
    await chat.api.call("POST", f"/rooms/{room_id}/join")
    await chat.open(room_id)


async def open_room(chat: Chat, rest: str) -> None:
    await chat.open(rest)


async def direct(chat: Chat, rest: str) -> None:
    room = (await chat.api.call("POST", "/direct", {"username": rest}))["room"]
    await chat.open(room["roomId"])


async def invites(chat: Chat, rest: str) -> None:
    for invite in (await chat.api.call("GET", "/invites"))["invites"]:
        chat.show(
            f"  {invite['roomName']} [{invite['roomKind']}] from "
            f"{invite['inviterName']} {invite['roomId']}"
        )


async def accept(chat: Chat, rest: str) -> None:
    room_id = await chat.invite_id(rest)
    await chat.api.call("POST", f"/invites/{room_id}/accept")
    await chat.open(room_id)


async def decline(chat: Chat, rest: str) -> None:
    room_id = await chat.invite_id(rest)
    await chat.api.call("POST", f"/invites/{room_id}/decline")
    chat.show("* invite declined")


# --- the open room ----------------------------------------------------------------------------


async def history(chat: Chat, rest: str) -> None:
    await chat.history(int(rest) if rest.isdigit() else OPEN_PAGE)


async def who(chat: Chat, rest: str) -> None:
    if chat.current:
        for m in (await chat.api.call("GET", f"/rooms/{chat.current}/presence"))["members"]:
            chat.show(f"  {m['username']}: {'online' if m['online'] else 'offline'}")


async def typing(chat: Chat, room_id: str, rest: str) -> None:
    await chat.send(frames.typing(room_id))


async def react(chat: Chat, room_id: str, rest: str) -> None:
    message_id, _, emoji = rest.partition(" ")
    await chat.send(frames.react(room_id, chat.message_id(message_id, room_id), emoji))


async def edit(chat: Chat, room_id: str, rest: str) -> None:
    message_id, _, text = rest.partition(" ")
    await chat.send(frames.edit_message(room_id, chat.message_id(message_id, room_id), text))


async def delete(chat: Chat, room_id: str, rest: str) -> None:
    await chat.send(frames.delete_message(room_id, chat.message_id(rest, room_id)))


# --- scripts ----------------------------------------------------------------------------------


async def sleep(chat: Chat, rest: str) -> None:
    await asyncio.sleep(float(rest or 1))


async def wait(chat: Chat, rest: str) -> None:
    await chat.wait_for(rest)


COMMANDS: dict[str, Command] = {
    "help": show_help,
    "rooms": list_rooms,
    "public": public_rooms,
    "create": create,
    "join": join,
    "open": open_room,
    "dm": direct,
    "invites": invites,
    "accept": accept,
    "decline": decline,
    "blockinviter": threads.block_inviter,
    "block": threads.block,
    "unblock": threads.unblock,
    "blocks": threads.blocks,
    "history": history,
    "who": who,
    "search": commands_search.search,
    "sleep": sleep,
    "wait": wait,
}
ROOM_COMMANDS: dict[str, RoomCommand] = {
    "typing": typing,
    "react": react,
    "edit": edit,
    "delete": delete,
    "reply": threads.reply,
    "reply+": threads.reply_also,
    "thread": threads.thread,
    "quote": threads.quote,
    "report": threads.report,
    "mute": mod.mute,
    "unmute": mod.unmute,
    "kick": mod.kick,
    "ban": mod.ban,
    "unban": mod.unban,
    "bans": mod.bans,
    "role": mod.give_role,
    "pin": mod.pin,
    "unpin": mod.unpin,
    "pins": mod.pins,
    "slow": mod.slow,
    "rename": mod.rename,
    "archive": mod.archive,
    "unarchive": mod.unarchive,
    "audit": mod.audit,
    "reports": mod.reports,
    "resolve": mod.resolve,
}
