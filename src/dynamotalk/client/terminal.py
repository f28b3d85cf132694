"""`dynamotalk chat`: a terminal client for a local or deployed stage.

Signs up or in with Cognito, lists/creates/joins rooms over the HTTP API, follows every room
of the user on one WebSocket, prints live messages, typing and presence, pages back through
history, pings the quiet socket, opens `--room` (the stage's lobby by default, joining it on the
first run), and on a dropped connection reconnects (jittered backoff) and
syncs every followed room's change feed from its lastSeq.

Type text to send it to the open room; commands start with '/': see commands.HELP (threads,
quotes, blocks and reports in commands_threads.py, moderation in commands_moderation.py).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from dynamotalk.client.api import Api
from dynamotalk.client.chat import Chat
from dynamotalk.client.commands import run_line
from dynamotalk.client.config import ChatClientError, load_config
from dynamotalk.client.keepalive import keep_alive
from dynamotalk.client.live import keep_session, listen
from dynamotalk.client.session import Session


async def run(args: argparse.Namespace) -> int:
    config = load_config(args.url, args.config)
    username = args.user or input("username: ").strip()
    password = args.password or getpass.getpass("password: ")
    session = Session(config, username)
    await asyncio.to_thread(session.sign_in, password, args.email)
    chat = Chat(Api(session))
    try:
        tasks = await start(chat)
        try:
            await first_room(chat, args.room or config.get("lobby"))
            return await read_lines(chat, script=args.script)
        finally:
            await stop(chat, tasks)
    finally:
        await chat.api.aclose()


async def start(chat: Chat) -> list[asyncio.Task[None]]:
    """Learn who the user is, whom they blocked and their rooms, open the socket, and start
    listening, renewing the session and pinging (the tasks `stop` ends)."""
    me = (await chat.api.call("GET", "/me"))["user"]
    chat.names[me["userId"]] = me["username"]
    chat.me = me["userId"]
    chat.blocked = {b["userId"] for b in (await chat.api.call("GET", "/blocks"))["blocks"]}
    await chat.load_rooms()
    await chat.connect()
    tasks = [
        asyncio.create_task(listen(chat)),
        asyncio.create_task(keep_session(chat)),
        asyncio.create_task(keep_alive(chat.send)),
    ]
    chat.show(f"* signed in as {me['username']}; {len(chat.rooms)} rooms. /help for commands")
    return tasks


async def first_room(chat: Chat, room: str | None) -> None:
    """Open `room` (--room, or the stage's lobby from config.json), joining it if the user is
    not a member yet (a new user's first run lands in the lobby)."""
    if room:
        try:
            await run_line(chat, f"/open {room}")
        except ChatClientError:
            await run_line(chat, f"/join {room}")


async def stop(chat: Chat, tasks: list[asyncio.Task[None]]) -> None:
    chat.closing = True
    await chat.socket.close()
    for task in tasks:
        task.cancel()


async def read_lines(chat: Chat, script: bool) -> int:
    """Run stdin's lines until /quit or its end; in a script, the first error stops it (1)."""
    while True:
        if not script:
            print("> ", end="", flush=True)
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return 0
        try:
            if not await run_line(chat, line.rstrip("\n")):
                return 0
        except ChatClientError as error:
            chat.show(f"! {error}")
            if script:
                return 1


def main(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(run(args))
    except ChatClientError as error:
        print(f"dynamotalk chat: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
