"""The terminal client's issue 17 commands end to end on the real local stack (`dynamotalk dev`
on DynamoDB Local): threads, quotes, mentions, every moderation command, blocking and reports,
typed as a user types them into `dynamotalk chat` (the client's own start, command table and
listener, in process, each on its own socket), and the first run landing in the lobby through
the real `dynamotalk chat` command."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable

import pytest

from dynamotalk.client.api import Api
from dynamotalk.client.chat import Chat
from dynamotalk.client.commands import run_line
from dynamotalk.client.config import ChatClientError
from dynamotalk.client.render import BLOCKED_STUB
from dynamotalk.client.terminal import first_room, start, stop
from dynamotalk.local.stack import WELCOME
from tests.e2e.client import User
from tests.support.dev_stack import ROOT

pytestmark = pytest.mark.timeout(300)

_SHORT_ID = re.compile(r"(#\w+)$")


class Term:
    """One user's terminal client, opened on a room."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.chat = Chat(Api(user.session), out=io.StringIO())
        self.tasks: list[asyncio.Task[None]] = []

    async def begin(self, room: str | None) -> Term:
        self.tasks = await start(self.chat)
        await first_room(self.chat, room)
        return self

    async def say(self, line: str) -> None:
        """A typed line, its refusal shown as `dynamotalk chat` shows it."""
        try:
            await run_line(self.chat, line)
        except ChatClientError as error:
            self.chat.show(f"! {error}")

    async def sees(self, text: str) -> str:
        """The first line printed that holds `text` (waiting for it)."""
        await self.chat.wait_for(text, timeout=30)
        return next(line for line in self.chat.printed if text in line)

    async def id_of(self, text: str) -> str:
        """The `#id` printed after the message holding `text`."""
        found = _SHORT_ID.search(await self.sees(text))
        assert found, text
        return found.group(1)

    async def end(self) -> None:
        await stop(self.chat, self.tasks)
        await self.chat.api.aclose()


def run(users: list[User], room: str | None, script: Callable[..., Awaitable[None]]) -> list[Term]:
    """Open a terminal for each user on `room`, run `script` with them, close them."""
    terms = [Term(user) for user in users]

    async def main() -> None:
        for term in terms:
            await term.begin(room)
        try:
            await script(*terms)
        finally:
            for term in terms:
                await term.end()

    asyncio.run(main())
    return terms


def room_with(owner: User, *members: User, name: str) -> str:
    room_id = owner.room(name)
    for member in members:
        member.post(f"/rooms/{room_id}/join")
    return room_id


def test_reply_thread_quote_and_mentions(stack_url: str) -> None:
    alice, bob = User(stack_url, "ta"), User(stack_url, "tb")
    name = f"threads-{alice.name}"
    room_id = room_with(alice, bob, name=name)

    async def script(a: Term, b: Term) -> None:
        await a.say("the first message")
        first = await b.id_of("the first message")
        await b.say(f"/reply {first} only in the thread")
        await a.sees(
            f"[{name}] ↳ {bob.name} in thread of {first} (thread only, 1 reply): only in the thread"
        )
        await b.say(f"/reply+ {first.lower()} in the room too")  # the #id in any case
        await a.sees(f"↳ {bob.name} in thread of {first} (2 replies): in the room too")
        await a.say(f"/thread {first}")
        await a.sees(f"* thread of {first}")
        await a.sees(f"  [{name}] {alice.name}: the first message [2 replies]  {first}")
        await a.sees("  [" + name + f"] ↳ {bob.name} in thread of {first} (thread only)")
        await a.say("/thread")
        await a.sees("* no more replies")
        await b.say(f"/quote {first} quoting alice")
        await a.sees(f"    > {alice.name}: the first message")
        await a.sees(f"[{name}] {bob.name}: quoting alice")
        await b.say(f"/reply {first}")
        await b.sees("! usage: /reply ID TEXT")
        await b.say("/reply #zzzzzz no such message")
        await b.sees("! no message #zzzzzz here")
        # A mention in the open room marks the message; in another room it is announced.
        await b.say(f"hey @{alice.name} look")
        await a.sees(f"(@you) [{name}] {bob.name}: hey @{alice.name} look")
        await a.say(f"/create elsewhere-{alice.name}")
        await a.sees(f"* room elsewhere-{alice.name}")
        await b.say(f"again @{alice.name}")
        await a.sees(f"* {bob.name} mentioned you in #{name}")
        await a.say("/rooms")
        await a.sees("2 mentioning you")
        assert not [line for line in b.chat.printed if "(@you)" in line]

    run([alice, bob], room_id, script)


def test_moderation_commands(stack_url: str) -> None:
    owner, mod, carol, dave = (User(stack_url, p) for p in ("to", "tm", "tc", "td"))
    name = f"moderated-{owner.name}"
    room_id = room_with(owner, mod, carol, dave, name=name)

    async def script(o: Term, m: Term, c: Term, d: Term) -> None:
        await o.say(f"/role {mod.name} moderator")
        await m.sees(f"* {mod.name} is now moderator in {name}")
        await o.say(f"/role {carol.name} king")
        await o.sees("! role 'king': one of owner, admin, moderator, member")
        await o.say(f"/mute {carol.name} forever")
        await o.sees("! mute 'forever': a number with s, m, h or d")
        await o.say("/kick nobody-at-all")
        await o.sees(f"! no user called 'nobody-at-all' in {name}")
        # Mute: the muted member's post is refused until the mute ends.
        await m.say(f"/mute @{carol.name} 10m")
        await m.sees(f"* muted {carol.name} for 10 m")
        await c.sees(f"* {carol.name} is muted in {name} for 10 m")
        await c.say("may I speak")
        await c.sees("! muted: you are muted in this room")
        await m.say(f"/unmute {carol.name}")
        await c.sees(f"* {carol.name} is no longer muted in {name}")
        await c.say("now I may")
        said = await m.id_of(f"{carol.name}: now I may")  # the moderator has it too
        # A moderator deletes it: recorded as theirs.
        await m.say(f"/delete {said}")
        await o.sees(f"* message {said} was deleted by {mod.name}")
        # Pins.
        await o.say("pin me")
        pinned = await o.id_of(f"{owner.name}: pin me")
        await o.say(f"/pin {pinned}")
        await c.sees(f"* {owner.name} pinned {pinned} in {name}: pin me")
        await c.say("/pins")
        await c.sees(f"  📌 {owner.name}: pin me  {pinned} (by {owner.name})")
        await o.say(f"/unpin {pinned}")
        await c.sees(f"* {pinned} unpinned in {name}")
        # Slow mode: a member's second post within the interval is refused.
        await o.say("/slow 30s")
        await c.sees(f"* room {name}: slow mode: one message per 30 s")
        await c.say("slow one")
        await o.sees(f"{carol.name}: slow one")
        await c.say("slow two")
        await c.sees("! slow_mode: slow mode: one message every 30 s")
        await o.say("/slow off")
        await c.sees(f"* room {name}: slow mode off")
        # Rename and archive.
        await o.say(f"/rename renamed-{owner.name}")
        await c.sees(f"* room {name}: renamed to renamed-{owner.name}")
        await o.say("/archive")
        await c.sees(f"* room renamed-{owner.name}: archived (read-only)")
        await c.say("in the archive")
        await c.sees("! room_archived:")
        await o.say("/unarchive")
        await c.sees(f"* room renamed-{owner.name}: unarchived")
        # Kick, ban, unban.
        await m.say(f"/kick {carol.name}")
        await c.sees(f"* you are no longer a member of renamed-{owner.name}")
        await m.say(f"/ban {dave.name} spam")
        await m.sees(f"* banned {dave.name}: spam")
        await d.sees(f"* you are no longer a member of renamed-{owner.name}")
        await d.say(f"/join {room_id}")
        await d.sees("! forbidden:")
        await m.say("/bans")
        await m.sees(f"  {dave.name} by {mod.name}: spam")
        await m.say(f"/unban {dave.name}")
        await m.sees(f"* unbanned {dave.name}")
        # The audit log: admins and owners only.
        await m.say("/audit")
        await m.sees("! forbidden:")
        await o.say("/audit")
        for entry in (
            f"{owner.name} changeRoles {mod.name} (member -> moderator)",
            f"{mod.name} mute {carol.name} (600 s)",
            f"{mod.name} deleteOthers {carol.name} {said}",
            f"{owner.name} slowMode",
            f"{mod.name} remove {carol.name}",
            f"{mod.name} ban {dave.name} (spam)",
        ):
            await o.sees(entry)

    run([owner, mod, carol, dave], room_id, script)


def test_block_report_and_resolve(stack_url: str) -> None:
    owner, alice, bob = (User(stack_url, p) for p in ("tro", "tra", "trb"))
    name = f"reports-{owner.name}"
    room_id = room_with(owner, alice, bob, name=name)

    async def script(o: Term, a: Term, b: Term) -> None:
        await a.say(f"/block {bob.name}")
        await a.sees(f"* blocked {bob.name} (they are not told)")
        await b.say("cheap pills here")
        await o.sees(f"{bob.name}: cheap pills here")
        stub = await a.id_of(f"[{name}] {bob.name}: {BLOCKED_STUB}")
        assert not [line for line in a.chat.printed if "cheap pills" in line]
        await a.say("/blocks")
        await a.sees(f"  {bob.name}")
        await a.say(f"/report {stub} rude")
        await a.sees("! reason 'rude': one of spam, harassment")
        await a.say(f"/report {stub} spam the same link everywhere")
        await a.sees(f"* reported {stub} as spam")
        await a.say("/reports")
        await a.sees("! forbidden:")
        await o.say("/reports")
        line = await o.sees(f"(the same link everywhere) by {alice.name} on {bob.name}")
        assert line.endswith(f"cheap pills here  {stub}")
        report = re.search(r"report (#\w+):", line)
        assert report
        await o.say(f"/resolve {report.group(1)} actioned")
        await o.sees(f"* report {report.group(1)} actioned")
        await o.say(f"/resolve {report.group(1)} dismissed")
        await o.sees("! conflict: this report is already resolved")
        await o.say("/reports resolved")
        await o.sees("    resolved: actioned")
        await a.say(f"/unblock {bob.name}")
        await b.say("visible again")
        await a.sees(f"[{name}] {bob.name}: visible again")

    run([owner, alice, bob], room_id, script)


def test_block_inviter_declines_and_blocks(stack_url: str) -> None:
    owner, guest = User(stack_url, "tio"), User(stack_url, "tig")
    name = f"invited-{owner.name}"
    owner.room(name, "private", [guest.id])

    async def script(g: Term) -> None:
        await g.say(f"/blockinviter {name}")
        await g.sees("* invite declined, inviter blocked")
        await g.say("/blocks")
        await g.sees(f"  {owner.name}")

    run([guest], None, script)
    assert guest.get("/invites")["invites"] == []


def test_dynamotalk_chat_opens_the_lobby_on_the_first_run(stack_url: str) -> None:
    name = f"tl{uuid.uuid4().hex[:6]}"
    result = subprocess.run(
        [
            sys.executable, "-m", "dynamotalk.cli", "chat", "--url", stack_url, "--user", name,
            "--password", "terminal-pass-1", "--email", f"{name}@example.com", "--script",
        ],
        cwd=ROOT,
        input=f"/wait {WELCOME[:20]}\n/help\n/quit\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"* signed in as {name}; 0 rooms" in result.stdout
    assert "* room lobby (" in result.stdout
    assert "/reply ID TEXT" in result.stdout
