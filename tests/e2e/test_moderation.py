"""Roles and moderation end to end on the real local stack (DynamoDB Local, the real handlers
behind the local gateway, real sockets): role changes, kick, ban (DeleteConnection of a socket
that followed only that room), mute, slow mode, archive, pins, a moderator's delete recorded,
and the audit log, readable by admins only."""

from __future__ import annotations

from typing import Any

import pytest

from dynamotalk.client import frames
from dynamotalk.domain.limits import MAX_SLOW_MODE_S
from tests.e2e.client import Socket, User

pytestmark = pytest.mark.timeout(180)


def status(user: User, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    reply = user.request(method, path, body)
    data: dict[str, Any] = reply.json()
    return reply.status_code, data


def ok(user: User, method: str, path: str, body: Any = None) -> dict[str, Any]:
    code, data = status(user, method, path, body)
    assert code == 200, data
    return data


def refused(user: User, method: str, path: str, body: Any = None) -> tuple[int, str]:
    code, data = status(user, method, path, body)
    assert code >= 400, data
    return code, data["error"]["code"]


def following(user: User, *room_ids: str) -> Socket:
    socket = user.socket()
    assert socket.call(frames.subscribe(list(room_ids)))["type"] == "ack"
    return socket


def posted(socket: Socket, message_id: str) -> dict[str, Any]:
    return socket.wait(lambda f: f["type"] == "message.posted" and f["message"]["id"] == message_id)


def settled(socket: Socket) -> None:
    """Every frame queued to the socket before now has been read (a ping's ack comes after)."""
    assert socket.call(frames.ping())["type"] == "ack"


def crew(stack_url: str, kind: str = "public") -> tuple[User, User, User, str]:
    """An owner, a moderator and a member in a new room."""
    owner, mod, member = User(stack_url, "own"), User(stack_url, "mod"), User(stack_url, "mem")
    room = owner.room(f"moderated {kind}", kind, [mod.id, member.id])
    for user in (mod, member):
        if kind == "public":
            user.post(f"/rooms/{room}/join")
        else:
            user.post(f"/invites/{room}/accept")
    ok(owner, "PUT", f"/rooms/{room}/members/{mod.id}/role", {"role": "moderator"})
    return owner, mod, member, room


def test_roles_change_live_and_only_within_what_the_giver_holds(stack_url: str) -> None:
    owner, mod, member, room = crew(stack_url)
    watcher = following(member, room)
    made = ok(owner, "PUT", f"/rooms/{room}/members/{member.id}/role", {"role": "admin"})
    assert made["membership"]["role"] == "admin"
    joined = watcher.wait(
        lambda f: f["type"] == "member.joined" and f["membership"]["role"] == "admin"
    )
    assert joined["membership"]["userId"] == member.id
    # An admin makes at most moderators, and never acts on an equal or higher role.
    body = {"role": "owner"}
    assert refused(member, "PUT", f"/rooms/{room}/members/{mod.id}/role", body) == (
        403,
        "forbidden",
    )
    assert refused(mod, "PUT", f"/rooms/{room}/members/{member.id}/role", {"role": "member"})[0]
    bad = refused(owner, "PUT", f"/rooms/{room}/members/{mod.id}/role", {"role": "king"})
    assert bad == (400, "invalid_input")
    # The owner leaves: the admin (highest remaining role) owns the room.
    owner.post(f"/rooms/{room}/leave")
    roles = {m["userId"]: m["role"] for m in member.get(f"/rooms/{room}/members")["members"]}
    assert roles == {member.id: "owner", mod.id: "moderator"}
    watcher.close()


def test_an_owner_leaving_beside_another_owner_hands_nothing_over(stack_url: str) -> None:
    owner, mod, member, room = crew(stack_url)
    ok(owner, "PUT", f"/rooms/{room}/members/{member.id}/role", {"role": "owner"})
    owner.post(f"/rooms/{room}/leave")
    roles = {m["userId"]: m["role"] for m in member.get(f"/rooms/{room}/members")["members"]}
    assert roles == {member.id: "owner", mod.id: "moderator"}


def test_a_kick_ends_the_kicked_members_live_subscription_at_once(stack_url: str) -> None:
    owner, mod, member, room = crew(stack_url, "private")
    kicked, stays = following(member, room), following(mod, room)
    assert refused(member, "DELETE", f"/rooms/{room}/members/{mod.id}") == (403, "forbidden")
    ok(mod, "DELETE", f"/rooms/{room}/members/{member.id}")
    kicked.wait(lambda f: f["type"] == "member.left" and f["userId"] == member.id)
    sender = owner.socket()
    first, second = sender.post(room, "after the kick"), sender.post(room, "and again")
    posted(stays, second["id"])
    settled(kicked)
    assert not [f for f in kicked.events("message.posted") if f["roomId"] == room]
    assert refused(member, "GET", f"/rooms/{room}/messages") == (404, "not_found")
    entry = ok(owner, "GET", f"/rooms/{room}/audit")["entries"][0]
    assert (entry["action"], entry["actorId"], entry["targetUserId"]) == (
        "remove",
        mod.id,
        member.id,
    )
    assert first["id"] != second["id"]
    for socket in (kicked, stays, sender):
        socket.close()


def test_a_ban_removes_closes_the_only_room_socket_and_blocks_return(stack_url: str) -> None:
    owner, mod, member, room = crew(stack_url)
    other = owner.room("elsewhere")
    member.post(f"/rooms/{other}/join")
    only_here, also_elsewhere = following(member, room), following(member, room, other)
    ban = ok(mod, "POST", f"/rooms/{room}/bans", {"userId": member.id, "reason": "spam"})["ban"]
    assert (ban["userId"], ban["bannedBy"], ban["reason"]) == (member.id, mod.id, "spam")
    only_here.wait(lambda f: f["type"] == "member.left" and f["userId"] == member.id)
    with only_here.changed:
        assert only_here.changed.wait_for(lambda: only_here.closed, timeout=10), "DeleteConnection"
    settled(also_elsewhere)  # the socket that follows another room stays open
    also_elsewhere.wait(lambda f: f["type"] == "member.left" and f["roomId"] == room)
    assert refused(member, "POST", f"/rooms/{room}/join") == (403, "forbidden")
    invited = owner.request("POST", f"/rooms/{room}/members", {"userId": member.id})
    assert invited.status_code == 202  # answered as pending, yet nothing is stored
    assert not [i for i in member.get("/invites")["invites"] if i["roomId"] == room]
    assert [b["userId"] for b in mod.get(f"/rooms/{room}/bans")["bans"]] == [member.id]
    ok(mod, "DELETE", f"/rooms/{room}/bans/{member.id}")
    assert refused(mod, "DELETE", f"/rooms/{room}/bans/{member.id}") == (404, "not_found")
    assert member.post(f"/rooms/{room}/join")["membership"]["role"] == "member"
    also_elsewhere.close()


def test_a_muted_member_reads_but_neither_posts_nor_reacts(stack_url: str) -> None:
    owner, mod, member, room = crew(stack_url)
    socket, watcher = following(member, room), following(owner, room)
    message = watcher.post(room, "react to me if you can")
    muted = ok(mod, "POST", f"/rooms/{room}/mutes", {"userId": member.id, "seconds": 600})
    until = muted["membership"]["mutedUntil"]
    watcher.wait(lambda f: f["type"] == "member.joined" and f["membership"].get("mutedUntil"))
    refusal = socket.call(frames.send_message(room, "let me speak"))["error"]
    assert refusal["code"] == "muted"
    assert 0 < refusal["retryAfterMs"] <= 600_000
    assert socket.call(frames.react(room, message["id"], "👍"))["error"]["code"] == "muted"
    assert member.get(f"/rooms/{room}/messages")["messages"][0]["id"] == message["id"]
    # Leaving and coming back does not lift it.
    member.post(f"/rooms/{room}/leave")
    assert member.post(f"/rooms/{room}/join")["membership"]["mutedUntil"] == until
    too_long = {"userId": member.id, "seconds": 10**9}
    assert refused(mod, "POST", f"/rooms/{room}/mutes", too_long) == (400, "invalid_input")
    assert refused(member, "POST", f"/rooms/{room}/mutes", {"userId": mod.id, "seconds": 5})[0]
    lifted = ok(mod, "DELETE", f"/rooms/{room}/mutes/{member.id}")["membership"]
    assert "mutedUntil" not in lifted
    assert socket.post(room, "thank you")["text"] == "thank you"
    socket.close()
    watcher.close()


def test_slow_mode_spaces_a_members_posts_but_not_a_moderators(stack_url: str) -> None:
    owner, mod, member, room = crew(stack_url)
    watcher = following(member, room)
    too_slow = {"slowModeSeconds": MAX_SLOW_MODE_S + 1}
    assert refused(owner, "PATCH", f"/rooms/{room}", too_slow) == (400, "invalid_input")
    assert refused(member, "PATCH", f"/rooms/{room}", {"slowModeSeconds": 30})[0] == 403
    set_ = ok(mod, "PATCH", f"/rooms/{room}", {"slowModeSeconds": 30})["room"]
    assert set_["slowModeSeconds"] == 30
    watcher.wait(lambda f: f["type"] == "room.updated" and f["room"].get("slowModeSeconds"))
    watcher.post(room, "one")
    again = watcher.call(frames.send_message(room, "two"))["error"]
    assert again["code"] == "slow_mode"
    assert 0 < again["retryAfterMs"] <= 30_000
    moderator = mod.socket()
    moderator.post(room, "mods are exempt")
    moderator.post(room, "twice")
    ok(mod, "PATCH", f"/rooms/{room}", {"slowModeSeconds": 0})
    assert watcher.post(room, "three")["text"] == "three"
    watcher.close()
    moderator.close()


def test_an_archived_room_is_read_only_and_its_change_reaches_sync(stack_url: str) -> None:
    owner, mod, member, room = crew(stack_url)
    socket = following(member, room)
    message = socket.post(room, "before the archive")
    seq = message["seq"]
    assert refused(mod, "PATCH", f"/rooms/{room}", {"archived": True})[0] == 403
    archived = ok(owner, "PATCH", f"/rooms/{room}", {"archived": True, "name": "old times"})
    assert archived["room"]["archived"]
    assert archived["room"]["name"] == "old times"
    socket.wait(lambda f: f["type"] == "room.updated" and f["room"].get("archived"))
    assert socket.call(frames.send_message(room, "hello?"))["error"]["code"] == "room_archived"
    react = socket.call(frames.react(room, message["id"], "👍"))
    assert react["error"]["code"] == "room_archived"
    edit = socket.call(frames.edit_message(room, message["id"], "edited"))
    assert edit["error"]["code"] == "room_archived"
    newcomer = User(stack_url, "late")
    assert refused(newcomer, "POST", f"/rooms/{room}/join") == (403, "room_archived")
    invite = {"userId": newcomer.id}
    assert refused(owner, "POST", f"/rooms/{room}/members", invite) == (403, "room_archived")
    assert newcomer.get(f"/rooms/{room}/messages")["messages"][0]["id"] == message["id"]
    changes = socket.call(frames.sync_changes(room, seq, 50, "sync-1"))
    updates = [c for c in changes["changes"] if c["type"] == "room.updated"]
    assert updates[-1]["room"]["archived"]
    assert updates[-1]["room"]["name"] == "old times"
    ok(owner, "PATCH", f"/rooms/{room}", {"archived": False})
    assert socket.post(room, "back again")["text"] == "back again"
    socket.close()


def test_pins_are_live_listed_and_go_with_their_message(stack_url: str) -> None:
    _owner, mod, member, room = crew(stack_url)
    socket = following(member, room)
    message = socket.post(room, "pin me")
    body = {"messageId": message["id"]}
    assert refused(member, "POST", f"/rooms/{room}/pins", body) == (403, "forbidden")
    pin = ok(mod, "POST", f"/rooms/{room}/pins", body)["pin"]
    assert (pin["messageId"], pin["text"], pin["pinnedBy"]) == (message["id"], "pin me", mod.id)
    socket.wait(lambda f: f["type"] == "message.pinned" and f["pin"]["messageId"] == message["id"])
    assert ok(mod, "POST", f"/rooms/{room}/pins", body)["pin"] == pin, "pinning twice is harmless"
    assert member.get(f"/rooms/{room}/pins")["pins"] == [pin]
    ok(mod, "DELETE", f"/rooms/{room}/pins/{message['id']}")
    socket.wait(lambda f: f["type"] == "message.unpinned" and f["messageId"] == message["id"])
    assert member.get(f"/rooms/{room}/pins")["pins"] == []
    ok(mod, "POST", f"/rooms/{room}/pins", body)
    assert socket.call(frames.delete_message(room, message["id"]))["type"] == "ack"
    socket.wait(lambda f: f["type"] == "message.unpinned" and f["seq"] > pin_seq(socket))
    assert member.get(f"/rooms/{room}/pins")["pins"] == []
    socket.close()


def pin_seq(socket: Socket) -> int:
    seqs: list[int] = [f["seq"] for f in socket.events("message.pinned")]
    return max(seqs)


def test_a_moderators_delete_is_recorded_and_the_audit_log_is_for_admins(stack_url: str) -> None:
    owner, mod, member, room = crew(stack_url)
    socket, moderator = following(member, room), mod.socket()
    theirs = socket.post(room, "something rude")
    mine = moderator.post(room, "a moderator's word")
    deleted = moderator.call(frames.delete_message(room, theirs["id"]))
    assert deleted["message"]["deletedBy"] == mod.id
    live = socket.wait(lambda f: f["type"] == "message.deleted")
    assert live["message"]["deletedBy"] == mod.id
    assert live["message"]["text"] == ""
    refusal = socket.call(frames.delete_message(room, mine["id"]))["error"]
    assert refusal["code"] == "forbidden"
    own = socket.post(room, "my own")
    assert "deletedBy" not in socket.call(frames.delete_message(room, own["id"]))["message"]
    # The log, newest first, in pages, for admins and owners only.
    ok(owner, "PATCH", f"/rooms/{room}", {"name": "renamed room"})
    first = ok(owner, "GET", f"/rooms/{room}/audit?limit=2")
    actions = [e["action"] for e in first["entries"]]
    assert actions == ["rename", "deleteOthers"]
    assert first["entries"][1]["targetMessageId"] == theirs["id"]
    rest = owner.get(f"/rooms/{room}/audit", limit=2, cursor=first["nextCursor"])
    assert [e["action"] for e in rest["entries"]] == ["changeRoles"]
    assert rest["nextCursor"] is None
    assert refused(mod, "GET", f"/rooms/{room}/audit") == (403, "forbidden")
    assert refused(User(stack_url, "out"), "GET", f"/rooms/{room}/audit") == (403, "forbidden")
    socket.close()
    moderator.close()
