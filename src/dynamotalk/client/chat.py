"""The terminal client's state: the user's rooms, what it printed, and its one WebSocket.

`commands.py` runs what the user types, `live.py` prints what the socket brings, and
`terminal.py` ties them into `dynamotalk chat`."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import attrs
import websockets

from dynamotalk import routes
from dynamotalk.client import frames
from dynamotalk.client.api import PAGE_MAX, Api
from dynamotalk.client.arguments import pick
from dynamotalk.client.config import ChatClientError
from dynamotalk.client.feed import Feeds
from dynamotalk.client.keepalive import Backoff
from dynamotalk.client.render import mentions_me, message_lines
from dynamotalk.client.session import Session
from dynamotalk.domain.limits import MAX_ROOM_IDS
from dynamotalk.domain.text import escape_for_terminal

OPEN_PAGE = 20
"""Messages shown when a room opens, and the default of /history."""
KNOWN_IDS = 5000
"""Message ids (and their rooms) a session remembers for `#id` references: the newest."""
MAX_FRAME_IN = 256 * 1024
"""The largest frame the client takes from the server (a sync reply is at most 128 KB)."""


@attrs.define
class Chat:
    api: Api
    out: Any = sys.stdout
    rooms: dict[str, dict[str, Any]] = attrs.Factory(dict)
    names: dict[str, str] = attrs.Factory(dict)
    """user id -> username, learnt from members and events."""
    current: str | None = None
    last_seen: dict[str, str] = attrs.Factory(dict)
    """room id -> newest message id printed, for a v1 sync after a reconnect (a server whose
    history carries no `seq`)."""
    feeds: Feeds = attrs.Factory(Feeds)
    """Each followed room's position in its change feed (feed.py)."""
    backoff: Backoff = attrs.Factory(Backoff)
    oldest: dict[str, str | None] = attrs.Factory(dict)
    """room id -> history cursor for /history."""
    printed: list[str] = attrs.Factory(list)
    socket: Any = None
    closing: bool = False
    seen_ids: set[str] = attrs.Factory(set)
    me: str = ""
    """The signed-in user's id (mentions of them are marked)."""
    known: dict[str, str] = attrs.Factory(dict)
    """message id -> room id of every message printed, for `#id` references."""
    memberships: dict[tuple[str, str], dict[str, Any]] = attrs.Factory(dict)
    """(room id, user id) -> membership as last seen: tells a role change or a mute from a
    join."""
    blocked: set[str] = attrs.Factory(set)
    """Users the user blocked: their typing and presence are not shown."""
    thread: tuple[str, str, str | None] | None = None
    """(room id, parent id, next cursor) of the thread /thread showed last."""
    report_ids: list[str] = attrs.Factory(list)
    """Ids of the reports /reports listed, for `/resolve #id`."""
    mentions_seen: set[tuple[str, str]] = attrs.Factory(set)
    """(room id, message id) of each `mention` shown: a repeated delivery is dropped."""

    @property
    def session(self) -> Session:
        return self.api.session

    def show(self, line: str, bold: bool = False) -> None:
        # Names and text come from other users: escape what a terminal would act on, and
        # indent a message's own line breaks so none can start a line of its own.
        line = escape_for_terminal(line, newline="\n    ")
        self.printed.append(line)
        if bold and getattr(self.out, "isatty", lambda: False)():
            line = f"\x1b[1m{line}\x1b[0m"  # added after escaping: the client's own
        print(line, file=self.out, flush=True)

    # --- the HTTP API -------------------------------------------------------------------------

    async def load_rooms(self) -> None:
        summaries: list[dict[str, Any]] = []
        cursor = None
        while True:  # the room list comes in pages (each one bounded request)
            page = await self.api.call("GET", "/rooms", limit=PAGE_MAX, cursor=cursor)
            summaries += page["rooms"]
            cursor = page.get("nextCursor")
            if not cursor:
                break
        self.rooms = {
            s["room"]["roomId"]: {
                **s["room"],
                "unread": s["unread"],
                "unreadMentions": s.get("unreadMentions", 0),
            }
            for s in summaries
        }

    async def invite_id(self, ref: str) -> str:
        """The room id of a pending invite, by room id or room name."""
        for invite in (await self.api.call("GET", "/invites"))["invites"]:
            if ref in (invite["roomId"],) or invite["roomName"].casefold() == ref.casefold():
                return str(invite["roomId"])
        raise ChatClientError(f"no pending invite to {ref!r} (see /invites)")

    def room_id(self, ref: str) -> str:
        if ref in self.rooms:
            return ref
        for room_id, room in self.rooms.items():
            if room["name"].casefold() == ref.casefold():
                return room_id
        return ref

    def name_of(self, user_id: str) -> str:
        return self.names.get(user_id, user_id[:8])

    def room_name(self, room_id: str) -> str:
        return str(self.rooms.get(room_id, {}).get("name", room_id[:8]))

    def remember(self, message_id: str, room_id: str) -> None:
        self.known[message_id] = room_id
        if len(self.known) > KNOWN_IDS:
            del self.known[min(self.known)]

    def message_id(self, ref: str, room_id: str) -> str:
        """The id of the message of `room_id` that `ref` names: its printed `#` tail (`#`
        optional), or an id this client never printed, taken as it is (the server answers for
        it) when it has no `#` and is no held message's tail."""
        held = [i for i, r in self.known.items() if r == room_id]
        feed = self.feeds.rooms.get(room_id)
        held += list(feed.messages) if feed else []
        ref = ref.strip()
        tail = ref.casefold()
        if ref and not ref.startswith("#") and not any(i.casefold().endswith(tail) for i in held):
            return ref
        return pick(ref, held, "message")

    async def user_id(self, ref: str, room_id: str | None) -> str:
        """The id of the user called `ref` (`@` optional): a member of `room_id` (read again
        now), or someone this session has seen (by name or by user id)."""
        name = ref.strip().removeprefix("@")
        if not name:
            raise ChatClientError("which user? give a username")
        if room_id is not None:
            members = (await self.api.call("GET", f"/rooms/{room_id}/presence"))["members"]
            self.names.update({m["userId"]: m["username"] for m in members})
        for user_id, username in self.names.items():
            if username.casefold() == name.casefold() or user_id == name:
                return user_id
        where = f" in {self.room_name(room_id)}" if room_id else ""
        raise ChatClientError(f"no user called {name!r}{where} (see /who)")

    async def username(self, user_id: str) -> str:
        """The user's name, asked of the server once (GET /users/{userId}) when not known."""
        if user_id not in self.names:
            try:
                user = (await self.api.call("GET", f"/users/{user_id}"))["user"]
                self.names[user_id] = user["username"]
            except ChatClientError:
                return self.name_of(user_id)
        return self.names[user_id]

    def print_message(
        self, message: dict[str, Any], prefix: str = "", thread_count: int | None = None
    ) -> None:
        room = self.room_name(message["roomId"])
        mine = mentions_me(message, self.me) and not message.get("hidden")
        lines = message_lines(message, room, self.me, self.name_of, prefix, thread_count)
        for line in lines:
            self.show(line, bold=mine)
        self.remember(message["id"], message["roomId"])
        if message.get("parentId") and not message.get("alsoInRoom"):
            return  # a reply only in its thread is not in the timeline v1's sync follows
        if (
            message["roomId"] not in self.last_seen
            or message["id"] > self.last_seen[message["roomId"]]
        ):
            self.last_seen[message["roomId"]] = message["id"]

    async def open(self, ref: str) -> None:
        await self.load_rooms()
        room_id = self.room_id(ref)
        if room_id not in self.rooms:
            raise ChatClientError(f"you are not in a room called {ref!r} (try /join)")
        self.current = room_id
        await self.send(frames.subscribe([room_id]))
        members = (await self.api.call("GET", f"/rooms/{room_id}/presence"))["members"]
        self.names.update({m["userId"]: m["username"] for m in members})
        roles = (await self.api.call("GET", f"/rooms/{room_id}/members"))["members"]
        self.memberships.update({(room_id, m["userId"]): m for m in roles})
        page = await self.api.call("GET", f"/rooms/{room_id}/messages", limit=OPEN_PAGE)
        self.feeds.room(room_id).follow_from(page.get("seq"), page["messages"])
        self.oldest[room_id] = page["nextCursor"]
        self.show(f"* room {self.rooms[room_id]['name']} ({len(members)} members)")
        for message in reversed(page["messages"]):
            self.seen_ids.add(message["id"])
            self.print_message(message)

    async def reload(self, room_id: str) -> None:
        """The room's feed expired (the client was away longer than the feed keeps changes):
        load its newest page again and follow the feed from there."""
        page = await self.api.call("GET", f"/rooms/{room_id}/messages", limit=OPEN_PAGE)
        self.feeds.room(room_id).follow_from(page.get("seq"), page["messages"], reset=True)
        self.show(f"* {self.rooms.get(room_id, {}).get('name', room_id)}: too far behind; reloaded")
        for message in reversed(page["messages"]):
            if message["id"] not in self.seen_ids:
                self.seen_ids.add(message["id"])
                self.print_message(message, prefix="(missed) ")

    async def history(self, count: int) -> None:
        if self.current is None:
            return
        cursor = self.oldest.get(self.current)
        if cursor is None:
            self.show("* no older messages")
            return
        page = await self.api.call(
            "GET", f"/rooms/{self.current}/messages", cursor=cursor, limit=min(count, PAGE_MAX)
        )
        self.oldest[self.current] = page["nextCursor"]
        for message in reversed(page["messages"]):
            self.print_message(message, prefix="(older) ")

    async def wait_for(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.printed):
            if time.monotonic() > deadline:
                raise ChatClientError(f"timed out waiting for {text!r}")
            await asyncio.sleep(0.05)

    # --- the socket ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the socket, subscribe to the user's rooms, then sync each followed room from
        its lastSeq (on a first connect there is nothing to sync yet)."""
        url = routes.socket_url(self.session.config["wsUrl"], self.session.id_token)
        self.socket = await websockets.connect(url, max_size=MAX_FRAME_IN)
        followed = list(dict.fromkeys([*([self.current] if self.current else []), *self.rooms]))
        if not followed:
            self.backoff.reset()  # open, and nothing to subscribe to
            return
        await self.send(frames.subscribe(followed[:MAX_ROOM_IDS]))
        for frame in self.feeds.resync(followed):
            await self.send(frame)
        for room_id in followed:  # a v1 server: no seq to follow, sync by message id
            feed = self.feeds.rooms.get(room_id)
            if (feed is None or feed.last_seq is None) and room_id in self.last_seen:
                await self.send(frames.sync(room_id, self.last_seen[room_id], PAGE_MAX))

    async def send(self, frame: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(frame))
