"""Authorization matrix: every use case x actor; refused cells raise, others succeed.

Actors: the room owner, a plain member, the author of the target message (a member), a
non-member, and a stranger to a direct room. Room kinds: public, private, direct.

Which refusal is DERIVED from one rule (issue 13, privacy): an actor who may not see the room
(not public, not a member) gets `not_found` with exactly the text of a room that does not
exist; an actor who sees it but lacks the role gets `forbidden`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dynamotalk.domain.errors import ChatError, NotFound
from dynamotalk.domain.models import Principal, RoomKind
from dynamotalk.domain.rules import NO_SUCH_ROOM
from tests.unit.world import ALICE, BOB, CAROL, MALLORY, World, make_world

OWNER, AUTHOR, MEMBER, OUTSIDER = ALICE, BOB, CAROL, MALLORY


def setup(kind: RoomKind) -> tuple[World, str, str]:
    world = make_world()
    s = world.service
    if kind is RoomKind.DIRECT:
        # Direct rooms have no owner: "owner" and "author" are the two participants.
        room_id = s.open_direct(OWNER, AUTHOR.user_id).room_id
    else:
        room_id = s.create_room(OWNER, "Room", kind, [AUTHOR.user_id, MEMBER.user_id]).room_id
        for invitee in (AUTHOR, MEMBER):
            s.accept_invite(invitee, room_id)
    message = s.post_message(AUTHOR, room_id, "the message", "k0")
    for principal in (OWNER, AUTHOR, MEMBER, OUTSIDER):
        s.connect(f"c-{principal.username}", principal)
    return world, room_id, message.message_id


Action = Callable[[World, Principal, str, str], Any]

ACTIONS: dict[str, Action] = {
    "history": lambda w, p, r, m: w.service.history(p, r, None, 10),
    "sync": lambda w, p, r, m: w.service.sync(p, r, None, 10),
    "members": lambda w, p, r, m: w.service.members(p, r),
    "presence": lambda w, p, r, m: w.service.presence(p, r),
    "get_room": lambda w, p, r, m: w.service.get_room(p, r),
    "subscribe": lambda w, p, r, m: w.service.subscribe(p, f"c-{p.username}", [r]),
    "post": lambda w, p, r, m: w.service.post_message(p, r, "hello", "k-new"),
    "typing": lambda w, p, r, m: w.service.typing(p, r),
    "react": lambda w, p, r, m: w.service.react(p, r, m, "👍"),
    "mark_read": lambda w, p, r, m: w.service.mark_read(p, r, m),
    "edit": lambda w, p, r, m: w.service.edit_message(p, r, m, "edited"),
    "delete": lambda w, p, r, m: w.service.delete_message(p, r, m),
    "upload": lambda w, p, r, m: w.service.request_upload(
        p, "attachment", "a.png", "image/png", 9, r
    ),
    "invite": lambda w, p, r, m: w.service.invite(p, r, "u-dave"),
    "remove_member": lambda w, p, r, m: w.service.remove_member(p, r, MEMBER.user_id),
    "join": lambda w, p, r, m: w.service.join_room(p, r),
    "leave": lambda w, p, r, m: w.service.leave_room(p, r),
}

ACTORS = {"owner": OWNER, "author": AUTHOR, "member": MEMBER, "outsider": OUTSIDER}
READ = {"history", "sync", "members", "get_room", "subscribe"}
# Presence (online, lastSeen) is for people who share the room: members only, public or not.
WRITE = {"post", "typing", "react", "mark_read", "upload", "presence"}

# Who may do what, per room kind. Anything not listed is refused (see visible()).
ALLOWED: dict[RoomKind, dict[str, set[str]]] = {
    RoomKind.PUBLIC: {
        **{a: {"owner", "author", "member", "outsider"} for a in READ},
        **{a: {"owner", "author", "member"} for a in WRITE},
        "edit": {"author"},
        "delete": {"owner", "author"},
        "invite": {"owner", "author", "member"},
        "remove_member": {"owner", "member"},  # the member removing themself is leaving
        "join": {"owner", "author", "member", "outsider"},
        "leave": {"owner", "author", "member"},
    },
    RoomKind.PRIVATE: {
        **{a: {"owner", "author", "member"} for a in READ | WRITE},
        "edit": {"author"},
        "delete": {"owner", "author"},
        "invite": {"owner"},
        "remove_member": {"owner", "member"},
        "join": {"owner", "author", "member"},  # already members: joining is a no-op
        "leave": {"owner", "author", "member"},
    },
    RoomKind.DIRECT: {
        # In a direct room "owner" and "author" are the two participants; member/outsider aren't in.
        **{a: {"owner", "author"} for a in READ | WRITE},
        "edit": {"author"},
        "delete": {"author"},
        "invite": set(),
        "remove_member": set(),
        "join": {"owner", "author"},
        "leave": set(),
    },
}

CELLS = [
    (kind, action, actor)
    for kind in (RoomKind.PUBLIC, RoomKind.PRIVATE, RoomKind.DIRECT)
    for action in ACTIONS
    for actor in ACTORS
]


IN_ROOM = {
    RoomKind.PUBLIC: {"owner", "author", "member"},
    RoomKind.PRIVATE: {"owner", "author", "member"},
    RoomKind.DIRECT: {"owner", "author"},
}


def visible(kind: RoomKind, actor: str) -> bool:
    """The one rule: public rooms are visible to everyone, the others to their members."""
    return kind is RoomKind.PUBLIC or actor in IN_ROOM[kind]


@pytest.mark.parametrize(("kind", "action", "actor"), CELLS)
def test_authorization_matrix(kind: RoomKind, action: str, actor: str) -> None:
    world, room_id, message_id = setup(kind)
    world.service.ensure_user(Principal("u-dave", "dave"))
    run = ACTIONS[action]
    if actor in ALLOWED[kind][action]:
        run(world, ACTORS[actor], room_id, message_id)
        return
    with pytest.raises(ChatError) as refused:
        run(world, ACTORS[actor], room_id, message_id)
    if visible(kind, actor):
        assert refused.value.code == "forbidden", refused.value.message
    else:
        assert refused.value.code == "not_found", refused.value.message
        # Word for word what a room that does not exist answers.
        with pytest.raises(NotFound) as missing:
            run(world, ACTORS[actor], "01ARZ3NDEKTSV4RRFFQ69G5FAV", message_id)
        assert refused.value.message == missing.value.message == NO_SUCH_ROOM
    # A refusal tells nothing about the room's content.
    assert "the message" not in refused.value.message


def test_matrix_covers_every_public_use_case() -> None:
    assert set(ACTIONS) == {a for kind in ALLOWED.values() for a in kind}
