"""R4 authorization through the real handlers: every WebSocket action and HTTP route, for a
stranger, a member, the author, the owner and an outsider to a direct room. Every disallowed
cell is refused and the refusal leaks nothing (no message text, no members).

The refusal's code is DERIVED from one rule (issue 13, privacy): someone who may not see the
room (a stranger to a private or direct room) gets 404 `not_found` with exactly the body a room
that does not exist gets; a member who sees it but lacks the role gets 403 `forbidden`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.lambda_stack import Stack

SECRET = "SECRET-TEXT-7f3a"
Cell = Callable[[Stack, dict[str, Any], dict[str, Any]], tuple[int, Any]]


def ws(frame: Callable[[dict[str, Any]], dict[str, Any]]) -> Cell:
    def run(stack: Stack, actor: dict[str, Any], w: dict[str, Any]) -> tuple[int, Any]:
        reply = stack.send(actor, actor["connection"], frame(w))
        status = (
            200
            if reply["type"] == "ack"
            else {"forbidden": 403, "not_found": 404}.get(reply["error"]["code"], 400)
        )
        return status, reply

    return run


def http(
    route: str,
    path: Callable[[dict[str, Any]], dict[str, str]],
    body: Any = None,
    query: Any = None,
) -> Cell:
    def run(stack: Stack, actor: dict[str, Any], w: dict[str, Any]) -> tuple[int, Any]:
        return stack.http(
            actor,
            route,
            path(w),
            query(w) if callable(query) else query,
            body(w) if callable(body) else body,
        )

    return run


ROOM = lambda w: {"roomId": w["room"]}  # noqa: E731
CELLS: dict[str, Cell] = {
    "ws sendMessage": ws(
        lambda w: {"action": "sendMessage", "roomId": w["room"], "text": "hi", "clientId": "m"}
    ),
    "ws editMessage": ws(
        lambda w: {
            "action": "editMessage",
            "roomId": w["room"],
            "messageId": w["message"],
            "text": "x",
        }
    ),
    "ws deleteMessage": ws(
        lambda w: {"action": "deleteMessage", "roomId": w["room"], "messageId": w["message"]}
    ),
    "ws react": ws(
        lambda w: {"action": "react", "roomId": w["room"], "messageId": w["message"], "emoji": "👍"}
    ),
    "ws typing": ws(lambda w: {"action": "typing", "roomId": w["room"]}),
    "ws subscribe": ws(lambda w: {"action": "subscribe", "roomIds": [w["room"]]}),
    "ws sync": ws(lambda w: {"action": "sync", "roomId": w["room"]}),
    "ws markRead": ws(
        lambda w: {"action": "markRead", "roomId": w["room"], "messageId": w["message"]}
    ),
    "GET room": http("GET /rooms/{roomId}", ROOM),
    "POST join": http("POST /rooms/{roomId}/join", ROOM),
    "GET members": http("GET /rooms/{roomId}/members", ROOM),
    "POST members": http(
        "POST /rooms/{roomId}/members", ROOM, body=lambda w: {"userId": w["extra"]}
    ),
    "DELETE member": http(
        "DELETE /rooms/{roomId}/members/{userId}",
        lambda w: {"roomId": w["room"], "userId": w["member_id"]},
    ),
    "GET messages": http("GET /rooms/{roomId}/messages", ROOM),
    "GET presence": http("GET /rooms/{roomId}/presence", ROOM),
    "POST read": http(
        "POST /rooms/{roomId}/read", ROOM, body=lambda w: {"messageId": w["message"]}
    ),
    "POST uploads": http(
        "POST /uploads",
        lambda w: {},
        body=lambda w: {
            "purpose": "attachment",
            "roomId": w["room"],
            "filename": "a.png",
            "contentType": "image/png",
            "size": 10,
        },
    ),
    "GET attachment": http(
        "GET /attachments",
        lambda w: {},
        query=lambda w: {
            "key": f"rooms/{w['room']}/{w['author_id']}/01ARZ3NDEKTSV4RRFFQ69G5FAV/a.png"
        },
    ),
    "POST leave": http("POST /rooms/{roomId}/leave", ROOM),
}
# Who may do what in a private room (the direct-room outsider and the stranger: nothing).
IN_ROOM = {"member", "author", "owner"}
MISSING_ROOM = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def expected_refusal(actor: str) -> int:
    """The one rule: the room is hidden from non-members (private), visible to members."""
    return 403 if actor in IN_ROOM else 404


def assert_same_as_missing(stack: Stack, actor: dict[str, Any], cell: str, world: Any) -> Any:
    """A hidden room's refusal is word for word that of a room that does not exist."""
    status, reply = CELLS[cell](stack, actor, world)
    _, missing = CELLS[cell](stack, actor, {**world, "room": MISSING_ROOM})
    assert (status, reply) == (404, missing), (cell, reply, missing)
    return reply


ALLOWED = {
    # The DELETE cell removes the member: for the member themself that is leaving, allowed.
    "member": set(CELLS) - {"ws editMessage", "ws deleteMessage", "POST members"},
    "author": set(CELLS) - {"POST members", "DELETE member"},
    "owner": set(CELLS) - {"ws editMessage"},
    "stranger": set(),
}


@pytest.fixture(scope="module")
def people(lambda_stack: Stack) -> dict[str, dict[str, Any]]:
    found = {}
    for role in ("owner", "author", "member", "stranger", "extra"):
        user = lambda_stack.user(role)
        user["connection"] = lambda_stack.connect(user)
        found[role] = user
    return found


def private_room(stack: Stack, people: dict[str, dict[str, Any]]) -> dict[str, Any]:
    members = [people["author"]["id"], people["member"]["id"]]
    _, created = stack.http(
        people["owner"],
        "POST /rooms",
        body={"name": "matrix", "kind": "private", "members": members},
    )
    room = created["room"]["roomId"]
    for invitee in ("author", "member"):  # invites are pending until accepted
        stack.http(people[invitee], "POST /invites/{roomId}/accept", {"roomId": room})
    posted = stack.send(
        people["author"],
        people["author"]["connection"],
        {"action": "sendMessage", "roomId": room, "text": SECRET, "clientId": "secret"},
    )
    return {
        "room": room,
        "message": posted["message"]["id"],
        "extra": people["extra"]["id"],
        "member_id": people["member"]["id"],
        "author_id": people["author"]["id"],
    }


@pytest.mark.parametrize("actor", ["stranger", "member", "author", "owner"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_private_room_matrix(
    lambda_stack: Stack, people: dict[str, dict[str, Any]], actor: str, cell: str
) -> None:
    world = private_room(lambda_stack, people)
    status, reply = CELLS[cell](lambda_stack, people[actor], world)
    if cell in ALLOWED[actor]:
        assert status < 400, (cell, actor, reply)
    else:
        assert status == expected_refusal(actor), (cell, actor, reply)
        if status == 404:
            assert_same_as_missing(lambda_stack, people[actor], cell, world)
        text = str(reply)
        assert SECRET not in text
        assert people["member"]["id"] not in text
        assert people["owner"]["id"] not in text


@pytest.mark.parametrize("cell", list(CELLS))
def test_direct_room_outsider_is_refused_everything(
    lambda_stack: Stack, people: dict[str, dict[str, Any]], cell: str
) -> None:
    owner, author = people["owner"], people["author"]
    _, opened = lambda_stack.http(owner, "POST /direct", body={"userId": author["id"]})
    room = opened["room"]["roomId"]
    posted = lambda_stack.send(
        author,
        author["connection"],
        {"action": "sendMessage", "roomId": room, "text": SECRET, "clientId": f"dm-{cell}"},
    )
    world = {
        "room": room,
        "message": posted["message"]["id"],
        "extra": people["extra"]["id"],
        "member_id": author["id"],
        "author_id": author["id"],
    }
    reply = assert_same_as_missing(lambda_stack, people["stranger"], cell, world)
    assert SECRET not in str(reply)
    assert author["id"] not in str(reply)


def test_a_cursor_from_one_room_is_refused_in_another(
    lambda_stack: Stack, people: dict[str, dict[str, Any]]
) -> None:
    owner = people["owner"]
    rooms = []
    for name in ("cursor a", "cursor b"):
        _, created = lambda_stack.http(owner, "POST /rooms", body={"name": name})
        rooms.append(created["room"]["roomId"])
    for n in range(3):
        lambda_stack.send(
            owner,
            owner["connection"],
            {"action": "sendMessage", "roomId": rooms[0], "text": f"m{n}", "clientId": f"c{n}"},
        )
    _, page = lambda_stack.http(
        owner, "GET /rooms/{roomId}/messages", {"roomId": rooms[0]}, {"limit": "1"}
    )
    status, reply = lambda_stack.http(
        owner, "GET /rooms/{roomId}/messages", {"roomId": rooms[1]}, {"cursor": page["nextCursor"]}
    )
    assert (status, reply["error"]["code"]) == (400, "invalid_input")
