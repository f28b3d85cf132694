"""The terminal client's moderation commands on the open room (issue 17; docs/PROTOCOL.md
"Roles and moderation", "Blocking and reports"): mute, kick, ban, roles, pins, slow mode,
rename, archive, the audit log and the reports queue. Who may do what is the server's table
(domain/authz.py): the client sends, and shows a refusal as `! code: message`."""

from __future__ import annotations

import time
from typing import Any

from dynamotalk.client.arguments import (
    mute_seconds,
    outcome,
    pick,
    role,
    short,
    slow_seconds,
    spoken,
    words,
)
from dynamotalk.client.chat import Chat
from dynamotalk.client.config import ChatClientError


def clock(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch_ms / 1000))


async def mute(chat: Chat, room_id: str, rest: str) -> None:
    """`/mute USER [DURATION]` (default an hour): no posting, editing or reacting until then."""
    name, length = words(rest, 1, "/mute USER [DURATION like 10m or 2h]")
    seconds = mute_seconds(length)
    user_id = await chat.user_id(name, room_id)
    body = {"userId": user_id, "seconds": seconds}
    await chat.api.call("POST", f"/rooms/{room_id}/mutes", body)
    chat.show(f"* muted {chat.name_of(user_id)} for {spoken(seconds)}")


async def unmute(chat: Chat, room_id: str, rest: str) -> None:
    user_id = await chat.user_id(rest, room_id)
    await chat.api.call("DELETE", f"/rooms/{room_id}/mutes/{user_id}")
    chat.show(f"* unmuted {chat.name_of(user_id)}")


async def kick(chat: Chat, room_id: str, rest: str) -> None:
    """`/kick USER`: removed from the room (they may join a public room again)."""
    user_id = await chat.user_id(rest, room_id)
    await chat.api.call("DELETE", f"/rooms/{room_id}/members/{user_id}")
    chat.show(f"* kicked {chat.name_of(user_id)}")


async def ban(chat: Chat, room_id: str, rest: str) -> None:
    """`/ban USER [REASON]`: removed, and refused when they try to join again."""
    name, why = words(rest, 1, "/ban USER [REASON]")
    user_id = await chat.user_id(name, room_id)
    await chat.api.call("POST", f"/rooms/{room_id}/bans", {"userId": user_id, "reason": why})
    chat.show(f"* banned {chat.name_of(user_id)}" + (f": {why}" if why else ""))


async def unban(chat: Chat, room_id: str, rest: str) -> None:
    """`/unban USER`: a banned user is no member, so the name is one this session has seen
    (see /bans)."""
    user_id = await chat.user_id(rest, None)
    await chat.api.call("DELETE", f"/rooms/{room_id}/bans/{user_id}")
    chat.show(f"* unbanned {chat.name_of(user_id)}")


async def bans(chat: Chat, room_id: str, rest: str) -> None:
    listed = (await chat.api.call("GET", f"/rooms/{room_id}/bans"))["bans"]
    if not listed:
        chat.show("* nobody is banned here")
    for entry in listed:
        why = f": {entry['reason']}" if entry.get("reason") else ""
        by = await chat.username(entry["bannedBy"])
        chat.show(f"  {await chat.username(entry['userId'])} by {by}{why}")


async def give_role(chat: Chat, room_id: str, rest: str) -> None:
    """`/role USER ROLE`: owner, admin, moderator or member."""
    name, given = words(rest, 1, "/role USER ROLE")
    wanted = role(given)
    user_id = await chat.user_id(name, room_id)
    path = f"/rooms/{room_id}/members/{user_id}/role"
    await chat.api.call("PUT", path, {"role": wanted.value})
    chat.show(f"* {chat.name_of(user_id)} is now {wanted.value}")


async def pin(chat: Chat, room_id: str, rest: str) -> None:
    message_id = chat.message_id(rest, room_id)
    await chat.api.call("POST", f"/rooms/{room_id}/pins", {"messageId": message_id})


async def unpin(chat: Chat, room_id: str, rest: str) -> None:
    message_id = chat.message_id(rest, room_id)
    await chat.api.call("DELETE", f"/rooms/{room_id}/pins/{message_id}")


async def pins(chat: Chat, room_id: str, rest: str) -> None:
    listed = (await chat.api.call("GET", f"/rooms/{room_id}/pins"))["pins"]
    if not listed:
        chat.show("* no pinned messages")
    for entry in listed:
        chat.remember(entry["messageId"], room_id)
        author = await chat.username(entry["authorId"])
        by = await chat.username(entry["pinnedBy"])
        chat.show(f"  📌 {author}: {entry['text']}  {short(entry['messageId'])} (by {by})")


async def slow(chat: Chat, room_id: str, rest: str) -> None:
    """`/slow SECONDS` (or 30s, 2m, off): one message per interval per member."""
    await _update(chat, room_id, {"slowModeSeconds": slow_seconds(rest or "off")})


async def rename(chat: Chat, room_id: str, rest: str) -> None:
    if not rest:
        raise ChatClientError("usage: /rename NAME")
    await _update(chat, room_id, {"name": rest})


async def archive(chat: Chat, room_id: str, rest: str) -> None:
    await _update(chat, room_id, {"archived": True})


async def unarchive(chat: Chat, room_id: str, rest: str) -> None:
    await _update(chat, room_id, {"archived": False})


async def _update(chat: Chat, room_id: str, body: dict[str, Any]) -> None:
    """PATCH the room; what changed is shown when its `room.updated` arrives (live.py)."""
    await chat.api.call("PATCH", f"/rooms/{room_id}", body)


async def audit(chat: Chat, room_id: str, rest: str) -> None:
    """`/audit`: the room's moderation log, newest first (admins and owners)."""
    page = await chat.api.call("GET", f"/rooms/{room_id}/audit")
    if not page["entries"]:
        chat.show("* the audit log is empty")
    for entry in page["entries"]:
        target = ""
        if entry.get("targetUserId"):
            target = f" {await chat.username(entry['targetUserId'])}"
        if entry.get("targetMessageId"):
            target += f" {short(entry['targetMessageId'])}"
        detail = f" ({entry['detail']})" if entry.get("detail") else ""
        actor = await chat.username(entry["actorId"])
        chat.show(f"  {clock(entry['at'])} {actor} {entry['action']}{target}{detail}")


async def reports(chat: Chat, room_id: str, rest: str) -> None:
    """`/reports [resolved]`: the room's moderation queue (admins and owners)."""
    status = "resolved" if rest.strip() == "resolved" else "open"
    listed = (await chat.api.call("GET", f"/rooms/{room_id}/reports", status=status))["reports"]
    chat.report_ids = [r["id"] for r in listed] + chat.report_ids
    if not listed:
        chat.show(f"* no {status} reports")
    for entry in listed:
        message = entry["message"]
        author = await chat.username(message["authorId"])
        reporter = await chat.username(entry["reporterId"])
        note = f" ({entry['note']})" if entry.get("note") else ""
        chat.show(
            f"  report {short(entry['id'])}: {entry['reason']}{note} by {reporter} on "
            f"{author}: {message['text']}  {short(message['id'])}"
        )
        if entry.get("resolution"):
            chat.show(f"    resolved: {entry['resolution']['outcome']}")


async def resolve(chat: Chat, room_id: str, rest: str) -> None:
    """`/resolve REPORT dismissed|actioned [NOTE]` (REPORT: its #id from /reports)."""
    ref, result, note = words(rest, 2, "/resolve REPORT dismissed|actioned [NOTE]")
    report_id = pick(ref, chat.report_ids, "report")
    body = {"outcome": outcome(result).value, **({"note": note} if note else {})}
    await chat.api.call("POST", f"/rooms/{room_id}/reports/{report_id}/resolve", body)
    chat.show(f"* report {short(report_id)} {body['outcome']}")
