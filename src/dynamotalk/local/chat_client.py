"""`dynamotalk chat`: a terminal client for a local or deployed stage.

Signs up or in with Cognito, lists/creates/joins rooms over the HTTP API, follows every room
of the user on one WebSocket, prints live messages, typing and presence, pages back through
history, and on a dropped connection reconnects and syncs what it missed.

Type text to send it to the open room; commands start with '/': see HELP.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx
import websockets

from dynamotalk.client_config import cognito_url_problem
from dynamotalk.domain.text import escape_for_terminal

HELP = """commands:
  /rooms                 your rooms with unread counts      /public        public rooms
  /create NAME [private] create a room                      /join ROOM     join a public room
  /open ROOM             switch to a room (name or id)      /dm USER       open a direct room
  /history [N]           page back through older messages   /who           presence in the room
  /typing                tell the room you are typing       /delete ID
  /react ID EMOJI        toggle a reaction                  /edit ID TEXT
  /wait TEXT             (scripts) wait until TEXT is seen  /sleep SECONDS (scripts)
  /invites               your pending invites               /accept ROOM   accept an invite
  /decline ROOM          decline an invite                  /block ROOM    decline, block inviter
  /quit"""


class ChatClientError(Exception):
    """A clear, user-facing failure (bad config, refused sign-in, API error)."""


def load_config(url: str | None, config: str | None) -> dict[str, str]:
    source = config or (f"{url.rstrip('/')}/config.json" if url else None)
    if source is None:
        raise ChatClientError("give --url of a local stack or --config of a stage's config.json")
    try:
        if source.startswith(("http://", "https://")):
            data: dict[str, str] = httpx.get(source, timeout=10).raise_for_status().json()
        else:
            data = json.loads(Path(source).read_text())
    except (httpx.HTTPError, OSError, ValueError) as error:
        raise ChatClientError(f"cannot read config from {source}: {error}") from None
    missing = {"wsUrl", "httpUrl", "userPoolClientId", "region"} - set(data)
    if missing:
        raise ChatClientError(f"config {source} lacks {sorted(missing)}")
    if data.get("cognitoUrl") is not None:
        remote = source.startswith(("http://", "https://"))
        origin = urlsplit(source if remote else str(data["httpUrl"])).hostname
        problem = cognito_url_problem(str(data["cognitoUrl"]), str(data["region"]), origin)
        if problem is not None:
            raise ChatClientError(f"refusing config {source}: {problem}")
    return data


@attrs.define
class Session:
    config: dict[str, str]
    username: str
    id_token: str = ""
    refresh_token: str = ""
    user_id: str = ""

    def cognito(self) -> Any:
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        endpoint = self.config.get("cognitoUrl")
        return boto3.client(
            "cognito-idp",
            region_name=self.config["region"],
            endpoint_url=endpoint,
            config=Config(signature_version=UNSIGNED),
        )

    def sign_in(self, password: str, email: str | None) -> None:
        """Sign in; with --email, sign up first if the name is free.

        A deployed pool hides whether a user exists (an unknown name and a wrong password both
        answer NotAuthorizedException), so "unknown user" is learnt from SignUp, not sign-in.
        """
        client = self.cognito()
        try:
            reply = self._initiate(client, password)
        except (client.exceptions.NotAuthorizedException, client.exceptions.UserNotFoundException):
            if not email:
                raise ChatClientError(
                    "wrong username or password (add --email to sign up a new user)"
                ) from None
            if not self.sign_up(client, password, email):
                raise ChatClientError("wrong username or password") from None
            reply = self._initiate(client, password)
        result = reply["AuthenticationResult"]
        self.id_token = result["IdToken"]
        self.refresh_token = result.get("RefreshToken", self.refresh_token)

    def _initiate(self, client: Any, password: str) -> Any:
        return client.initiate_auth(
            ClientId=self.config["userPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": self.username, "PASSWORD": password},
        )

    def sign_up(self, client: Any, password: str, email: str) -> bool:
        """Sign up and confirm; False if the name is taken (then the password was wrong)."""
        try:
            answer = client.sign_up(
                ClientId=self.config["userPoolClientId"],
                Username=self.username,
                Password=password,
                UserAttributes=[{"Name": "email", "Value": email}],
            )
        except client.exceptions.UsernameExistsException:
            return False
        except client.exceptions.ClientError as error:
            raise ChatClientError(
                f"sign-up refused: {error.response['Error']['Message']}"
            ) from None
        if not answer.get("UserConfirmed"):
            code = input(f"verification code sent to {email}: ").strip()
            client.confirm_sign_up(
                ClientId=self.config["userPoolClientId"],
                Username=self.username,
                ConfirmationCode=code,
            )
        return True

    def refresh(self) -> None:
        if not self.refresh_token:
            return
        reply = self.cognito().initiate_auth(
            ClientId=self.config["userPoolClientId"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": self.refresh_token},
        )
        self.id_token = reply["AuthenticationResult"]["IdToken"]

    def expires_at(self) -> float:
        """The ID token's `exp` (epoch seconds), read without verifying: the server verifies."""
        import jwt

        claims = jwt.decode(self.id_token, options={"verify_signature": False})
        return float(claims.get("exp", 0))


REAUTH_LEAD_S = 120.0
"""Renew the socket's session this long before the token expires (the server closes a socket
whose token expired; docs/PROTOCOL.md "Session lifetime")."""


@attrs.define
class Chat:
    session: Session
    http: httpx.AsyncClient
    out: Any = sys.stdout
    rooms: dict[str, dict[str, Any]] = attrs.Factory(dict)
    names: dict[str, str] = attrs.Factory(dict)
    """user id -> username, learnt from members and events."""
    current: str | None = None
    last_seen: dict[str, str] = attrs.Factory(dict)
    """room id -> newest message id printed, for sync after a reconnect."""
    oldest: dict[str, str | None] = attrs.Factory(dict)
    """room id -> history cursor for /history."""
    printed: list[str] = attrs.Factory(list)
    socket: Any = None
    closing: bool = False
    seen_ids: set[str] = attrs.Factory(set)

    def show(self, line: str) -> None:
        # Names and text come from other users: escape what a terminal would act on, and
        # indent a message's own line breaks so none can start a line of its own.
        line = escape_for_terminal(line, newline="\n    ")
        self.printed.append(line)
        print(line, file=self.out, flush=True)

    async def api(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        headers = {"authorization": f"Bearer {self.session.id_token}"}
        reply = await self.http.request(
            method, path, json=body, params=params or None, headers=headers
        )
        if reply.status_code == 401:
            self.session.refresh()
            headers = {"authorization": f"Bearer {self.session.id_token}"}
            reply = await self.http.request(
                method, path, json=body, params=params or None, headers=headers
            )
        data = reply.json() if reply.content else {}
        if reply.status_code >= 400:
            error = data.get("error", {"code": reply.status_code, "message": data.get("message")})
            raise ChatClientError(f"{error['code']}: {error['message']}")
        return data

    async def load_rooms(self) -> None:
        summaries: list[dict[str, Any]] = []
        cursor = None
        while True:  # the room list comes in pages (each one bounded request)
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = await self.api("GET", "/rooms", **params)
            summaries += page["rooms"]
            cursor = page.get("nextCursor")
            if not cursor:
                break
        self.rooms = {s["room"]["roomId"]: {**s["room"], "unread": s["unread"]} for s in summaries}

    async def invite_id(self, ref: str) -> str:
        """The room id of a pending invite, by room id or room name."""
        for invite in (await self.api("GET", "/invites"))["invites"]:
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

    def print_message(self, message: dict[str, Any], prefix: str = "") -> None:
        room = self.rooms.get(message["roomId"], {}).get("name", message["roomId"][:8])
        text = "(deleted)" if message["deleted"] else message["text"]
        files = " ".join(f"[{a['name']}]" for a in message.get("attachments", []))
        author = self.name_of(message["authorId"])
        kind = message.get("authorKind", "user")
        if kind != "user":  # set by the server from the author id, never by the sender
            author = f"{author} [{kind}]"
        self.show(f"{prefix}[{room}] {author}: {text} {files}".rstrip())
        if (
            message["roomId"] not in self.last_seen
            or message["id"] > self.last_seen[message["roomId"]]
        ):
            self.last_seen[message["roomId"]] = message["id"]

    # --- the socket ---------------------------------------------------------------------------

    async def connect(self) -> None:
        url = f"{self.session.config['wsUrl']}?token={self.session.id_token}"
        self.socket = await websockets.connect(url, max_size=256 * 1024)
        if self.rooms:
            await self.send({"action": "subscribe", "roomIds": list(self.rooms)[:100]})

    async def send(self, frame: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(frame))

    async def listen(self) -> None:
        """Print events; on a dropped socket reconnect with backoff and sync what was missed."""
        delay = 0.5
        while not self.closing:
            try:
                async for raw in self.socket:
                    self.on_frame(json.loads(raw))
                    delay = 0.5
            except websockets.ConnectionClosed:
                pass
            if self.closing:
                return
            self.show("* connection lost; reconnecting")
            while not self.closing:
                await asyncio.sleep(delay)
                try:
                    self.session.refresh()
                    await self.connect()
                    break
                except (OSError, websockets.WebSocketException):
                    delay = min(delay * 2, 15)
            for room_id in list(self.rooms):
                await self.send(
                    {
                        "action": "sync",
                        "roomId": room_id,
                        "afterId": self.last_seen.get(room_id),
                        "limit": 100,
                    }
                )
            self.show("* reconnected")

    async def keep_session(self) -> None:
        """Refresh the token before it expires and renew the open socket's session with it."""
        while not self.closing:
            wait = self.session.expires_at() - REAUTH_LEAD_S - time.time()
            await asyncio.sleep(max(5.0, wait))
            try:
                await asyncio.to_thread(self.session.refresh)
                await self.send({"action": "reauth", "token": self.session.id_token})
            except (OSError, websockets.WebSocketException) as error:
                self.show(f"! could not renew the session: {error}")
            except Exception as error:  # noqa: BLE001 - a refused refresh: sign in again
                self.show(f"! session not renewed ({type(error).__name__}); sign in again")
                return

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "message.posted":
            if frame["message"]["id"] not in self.seen_ids:
                self.seen_ids.add(frame["message"]["id"])
                self.print_message(frame["message"])
        elif kind == "ack" and frame.get("action") == "sync":
            for message in frame.get("messages", []):
                if message["id"] not in self.seen_ids:
                    self.seen_ids.add(message["id"])
                    self.print_message(message, prefix="(missed) ")
        elif kind == "message.edited":
            self.print_message(frame["message"], prefix="(edited) ")
        elif kind == "message.deleted":
            self.show(f"* message {frame['message']['id']} was deleted")
        elif kind == "reaction.changed":
            verb = "reacted" if frame["added"] else "took back"
            self.show(
                f"* {self.name_of(frame['userId'])} {verb} {frame['emoji']} on {frame['messageId']}"
            )
        elif kind == "typing":
            self.names[frame["userId"]] = frame["username"]
            self.show(f"* {frame['username']} is typing…")
        elif kind == "presence.changed":
            self.names[frame["userId"]] = frame["username"]
            state = "online" if frame["online"] else "offline"
            self.show(f"* {frame['username']} is {state}")
        elif kind == "invite.received":
            invite = frame["invite"]
            self.show(
                f"* {invite['inviterName']} invited you to {invite['roomName']} "
                f"({invite['roomKind']}): /accept, /decline or /block {invite['roomId']}"
            )
        elif kind == "member.joined":
            self.show(f"* {self.name_of(frame['membership']['userId'])} joined")
        elif kind == "error":
            self.show(f"! {frame['error']['code']}: {frame['error']['message']}")

    # --- commands -----------------------------------------------------------------------------

    async def open(self, ref: str) -> None:
        await self.load_rooms()
        room_id = self.room_id(ref)
        if room_id not in self.rooms:
            raise ChatClientError(f"you are not in a room called {ref!r} (try /join)")
        self.current = room_id
        await self.send({"action": "subscribe", "roomIds": [room_id]})
        members = (await self.api("GET", f"/rooms/{room_id}/presence"))["members"]
        self.names.update({m["userId"]: m["username"] for m in members})
        page = await self.api("GET", f"/rooms/{room_id}/messages", limit=20)
        self.oldest[room_id] = page["nextCursor"]
        self.show(f"* room {self.rooms[room_id]['name']} ({len(members)} members)")
        for message in reversed(page["messages"]):
            self.seen_ids.add(message["id"])
            self.print_message(message)

    async def command(self, line: str) -> bool:
        """Run one input line; False means quit."""
        if not line.startswith("/"):
            if self.current is None:
                raise ChatClientError("open a room first: /open NAME")
            await self.send(
                {
                    "action": "sendMessage",
                    "roomId": self.current,
                    "text": line,
                    "clientId": uuid.uuid4().hex,
                }
            )
            return True
        name, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        if name == "quit":
            return False
        if name == "help":
            self.show(HELP)
        elif name == "rooms":
            await self.load_rooms()
            for room in self.rooms.values():
                badge = f" ({room['unread']} unread)" if room["unread"] else ""
                self.show(f"  {room['name']} [{room['kind']}] {room['roomId']}{badge}")
        elif name == "public":
            for room in (await self.api("GET", "/rooms/public"))["rooms"]:
                self.show(f"  {room['name']} {room['roomId']}")
        elif name == "create":
            room_name, _, kind = (
                rest.rpartition(" ") if rest.endswith(" private") else (rest, "", "public")
            )
            room = (await self.api("POST", "/rooms", {"name": room_name, "kind": kind}))["room"]
            await self.open(room["roomId"])
        elif name == "join":
            room_id = rest
            for room in (await self.api("GET", "/rooms/public"))["rooms"]:
                if room["name"].casefold() == rest.casefold():
                    room_id = room["roomId"]
            await self.api("POST", f"/rooms/{room_id}/join")
            await self.open(room_id)
        elif name == "open":
            await self.open(rest)
        elif name == "invites":
            for invite in (await self.api("GET", "/invites"))["invites"]:
                self.show(
                    f"  {invite['roomName']} [{invite['roomKind']}] from "
                    f"{invite['inviterName']} {invite['roomId']}"
                )
        elif name == "accept":
            room_id = await self.invite_id(rest)
            await self.api("POST", f"/invites/{room_id}/accept")
            await self.open(room_id)
        elif name in ("decline", "block"):
            room_id = await self.invite_id(rest)
            await self.api("POST", f"/invites/{room_id}/{name}")
            self.show(
                f"* invite {'declined' if name == 'decline' else 'declined, inviter blocked'}"
            )
        elif name == "dm":
            room = (await self.api("POST", "/direct", {"username": rest}))["room"]
            await self.open(room["roomId"])
        elif name == "history":
            await self.history(int(rest) if rest.isdigit() else 20)
        elif name == "who":
            if self.current:
                for m in (await self.api("GET", f"/rooms/{self.current}/presence"))["members"]:
                    self.show(f"  {m['username']}: {'online' if m['online'] else 'offline'}")
        elif name == "typing" and self.current:
            await self.send({"action": "typing", "roomId": self.current})
        elif name == "react" and self.current:
            message_id, _, emoji = rest.partition(" ")
            await self.send(
                {"action": "react", "roomId": self.current, "messageId": message_id, "emoji": emoji}
            )
        elif name == "edit" and self.current:
            message_id, _, text = rest.partition(" ")
            await self.send(
                {
                    "action": "editMessage",
                    "roomId": self.current,
                    "messageId": message_id,
                    "text": text,
                }
            )
        elif name == "delete" and self.current:
            await self.send({"action": "deleteMessage", "roomId": self.current, "messageId": rest})
        elif name == "sleep":
            await asyncio.sleep(float(rest or 1))
        elif name == "wait":
            await self.wait_for(rest)
        else:
            self.show(f"! unknown command /{name}; /help lists them")
        return True

    async def history(self, count: int) -> None:
        if self.current is None:
            return
        cursor = self.oldest.get(self.current)
        if cursor is None:
            self.show("* no older messages")
            return
        page = await self.api(
            "GET", f"/rooms/{self.current}/messages", cursor=cursor, limit=min(count, 100)
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


async def run(args: argparse.Namespace) -> int:
    config = load_config(args.url, args.config)
    username = args.user or input("username: ").strip()
    password = args.password or getpass.getpass("password: ")
    session = Session(config, username)
    await asyncio.to_thread(session.sign_in, password, args.email)
    async with httpx.AsyncClient(base_url=config["httpUrl"], timeout=15) as http:
        chat = Chat(session, http)
        me = (await chat.api("GET", "/me"))["user"]
        session.user_id = me["userId"]
        chat.names[me["userId"]] = me["username"]
        await chat.load_rooms()
        await chat.connect()
        listener = asyncio.create_task(chat.listen())
        keeper = asyncio.create_task(chat.keep_session())
        chat.show(f"* signed in as {me['username']}; {len(chat.rooms)} rooms. /help for commands")
        if args.room:
            try:
                await chat.command(f"/open {args.room}")
            except ChatClientError:
                await chat.command(f"/join {args.room}")
        try:
            while True:
                if not args.script:
                    print("> ", end="", flush=True)
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    break
                try:
                    if not await chat.command(line.rstrip("\n")):
                        break
                except ChatClientError as error:
                    chat.show(f"! {error}")
                    if args.script:
                        return 1
        finally:
            chat.closing = True
            await chat.socket.close()
            listener.cancel()
            keeper.cancel()
    return 0


def main(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(run(args))
    except ChatClientError as error:
        print(f"dynamotalk chat: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
