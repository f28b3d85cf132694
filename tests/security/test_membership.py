"""M1 and the privacy findings, through the real local stack over real sockets and HTTP.

The attacks: pull a stranger into a room without consent (and read their presence and
lastSeen through it), tell whether two other users ever talked from 403-vs-404, orphan a
private room by leaving it, keep receiving a room's events after being removed. Now an invite
is pending until accepted (decline and block too), hidden rooms answer exactly like missing
ones, an owner leaving hands the room over, and removal ends the subscriptions at once.
The per-user room cap is a unit test (tests/unit/test_membership.py): reaching 500 rooms
through the stack would cost the CI budget and the room-creation rate limit refuses it anyway.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.client import Socket, User

MISSING_ROOM = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


@pytest.fixture(scope="module")
def people(stack_url: str) -> dict[str, User]:
    return {name: User(stack_url, f"m1{name}") for name in ("owner", "victim", "bob", "carol")}


def private_room(owner: User, name: str, members: list[str] = ()) -> str:  # type: ignore[assignment]
    reply = owner.request("POST", "/rooms", {"name": name, "kind": "private", "members": members})
    assert reply.status_code == 201, reply.text
    room_id: str = reply.json()["room"]["roomId"]
    return room_id


def wait_for(condition: Callable[[], bool], attempts: int = 100) -> None:
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition never held")


def invites_of(user: User) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = user.get("/invites")["invites"]
    return found


def room_ids(user: User) -> set[str]:
    return {r["room"]["roomId"] for r in user.get("/rooms", limit=100)["rooms"]}


def test_a_stranger_pulled_into_a_private_room_sees_nothing_until_they_accept(
    people: dict[str, User],
) -> None:
    owner, victim = people["owner"], people["victim"]
    victim.socket().close()  # the victim has been seen: lastSeen is set once $disconnect ran
    wait_for(lambda: victim.get("/me")["user"]["lastSeen"] is not None)
    v = victim.socket()
    o = owner.socket()
    try:
        room = private_room(owner, f"trap {uuid.uuid4().hex[:4]}", [victim.id])
        o.call({"action": "subscribe", "roomIds": [room]})
        o.post(room, "owner-only history")
        invite = v.wait(lambda f: f.get("type") == "invite.received")["invite"]
        assert (invite["roomId"], invite["invitedBy"]) == (room, owner.id)
        # Pending is not a member: no room, no history, no subscription, no presence either way.
        assert room not in room_ids(victim)
        history = victim.request("GET", f"/rooms/{room}/messages")
        assert history.status_code == 404
        assert "owner-only" not in history.text
        refused = v.call({"action": "subscribe", "roomIds": [room]})
        assert refused["error"]["code"] == "not_found"
        presence = owner.get(f"/rooms/{room}/presence")["members"]
        assert [p["userId"] for p in presence] == [owner.id]
        assert not [f for f in o.frames if f.get("type") == "presence.changed"
                    and f.get("userId") == victim.id]  # fmt: skip
        assert owner.get(f"/users/{victim.id}")["user"]["lastSeen"] is None
        # Accepting makes the victim a member, and only then.
        assert [i["roomId"] for i in invites_of(victim)] == [room]
        accepted = victim.request("POST", f"/invites/{room}/accept")
        assert accepted.status_code == 200, accepted.text
        assert room in room_ids(victim)
        assert "owner-only history" in victim.request("GET", f"/rooms/{room}/messages").text
        assert owner.get(f"/users/{victim.id}")["user"]["lastSeen"] is not None  # now they share
    finally:
        v.close()
        o.close()


def test_decline_and_block_stop_unwanted_invites_and_the_inviter_is_never_told(
    people: dict[str, User],
) -> None:
    bob, victim = people["bob"], people["victim"]
    rooms = [private_room(bob, f"spam {n}") for n in range(3)]
    answer = bob.request("POST", f"/rooms/{rooms[0]}/members", {"userId": victim.id})
    assert answer.status_code == 202
    assert answer.json()["pending"] is True
    assert victim.request("POST", f"/invites/{rooms[0]}/decline").status_code == 200
    assert victim.request("POST", f"/invites/{rooms[0]}/accept").status_code == 404
    bob.request("POST", f"/rooms/{rooms[1]}/members", {"userId": victim.id})
    blocked = victim.request("POST", f"/invites/{rooms[1]}/block")
    assert blocked.json() == {"blocked": bob.id}
    v = victim.socket()
    try:
        v.call({"action": "ping"})
        after = bob.request("POST", f"/rooms/{rooms[2]}/members", {"userId": victim.id})
        assert (after.status_code, set(after.json())) == (202, {"invite", "pending"})
        assert not [i for i in invites_of(victim) if i["invitedBy"] == bob.id]
        v.call({"action": "ping"})
        assert not v.events("invite.received")
    finally:
        v.close()
    assert victim.request("DELETE", f"/blocks/{bob.id}").status_code == 200


def test_a_direct_room_between_two_others_is_answered_like_a_missing_room(
    people: dict[str, User],
) -> None:
    bob, carol, victim = people["bob"], people["carol"], people["victim"]
    dm = bob.post("/direct", {"userId": carol.id})["room"]["roomId"]
    never = "dm-" + "0" * 32
    for path in ("", "/messages", "/members", "/presence"):
        existing = victim.request("GET", f"/rooms/{dm}{path}")
        missing = victim.request("GET", f"/rooms/{never}{path}")
        assert (existing.status_code, existing.json()) == (404, missing.json()), path
        assert existing.json()["error"]["code"] == "not_found"
    joined = victim.request("POST", f"/rooms/{dm}/join")
    assert (joined.status_code, joined.json()) == (404, victim.request(
        "POST", f"/rooms/{MISSING_ROOM}/join").json())  # fmt: skip


def test_an_owner_leaving_hands_the_private_room_to_the_longest_standing_member(
    people: dict[str, User],
) -> None:
    owner, bob, carol = people["owner"], people["bob"], people["carol"]
    room = private_room(owner, "heirs", [bob.id, carol.id])
    assert bob.request("POST", f"/invites/{room}/accept").status_code == 200
    assert carol.request("POST", f"/rooms/{room}/join").status_code == 200  # join accepts too
    assert owner.request("POST", f"/rooms/{room}/leave").status_code == 200
    roles = {m["userId"]: m["role"] for m in bob.get(f"/rooms/{room}/members")["members"]}
    assert roles == {bob.id: "owner", carol.id: "member"}
    # The heir manages the room; a plain member who can see it gets 403, not 404.
    assert bob.request("POST", f"/rooms/{room}/members", {"userId": owner.id}).status_code == 202
    refused = carol.request("DELETE", f"/rooms/{room}/members/{bob.id}")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")


def test_a_removed_member_stops_receiving_the_room_at_once(people: dict[str, User]) -> None:
    owner, bob = people["owner"], people["bob"]
    room = private_room(owner, "removal", [bob.id])
    bob.request("POST", f"/invites/{room}/accept")
    b: Socket = bob.socket()
    o: Socket = owner.socket()
    try:
        b.call({"action": "subscribe", "roomIds": [room]})
        o.call({"action": "subscribe", "roomIds": [room]})
        assert owner.request("DELETE", f"/rooms/{room}/members/{bob.id}").status_code == 200
        b.wait(lambda f: f.get("type") == "member.left" and f.get("userId") == bob.id)
        secret = o.post(room, "after bob was removed")
        o.wait(lambda f: f.get("type") == "message.posted" and f["message"]["id"] == secret["id"])
        b.call({"action": "ping"})  # bob's socket has caught up with everything sent to it
        assert not [f for f in b.events("message.posted") if f["message"]["id"] == secret["id"]]
        assert b.call({"action": "subscribe", "roomIds": [room]})["error"]["code"] == "not_found"
    finally:
        b.close()
        o.close()


def test_the_room_list_is_paginated_with_a_cursor(people: dict[str, User]) -> None:
    carol = people["carol"]
    for n in range(3):
        carol.room(f"page {n}")
    first = carol.get("/rooms", limit=2)
    assert len(first["rooms"]) == 2
    assert first["nextCursor"]
    rest = carol.get("/rooms", limit=100, cursor=first["nextCursor"])
    ids = [r["room"]["roomId"] for r in first["rooms"] + rest["rooms"]]
    assert len(ids) == len(set(ids)) >= 3
    stolen = people["bob"].request("GET", "/rooms", cursor=first["nextCursor"])
    assert (stolen.status_code, stolen.json()["error"]["code"]) == (400, "invalid_input")
