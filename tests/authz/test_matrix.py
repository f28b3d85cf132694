"""The authorization matrix, generated from the permission table (domain/authz.LOWEST_ROLE):
every act x every part a user can hold in a room (owner, admin, moderator, member, non-member,
banned) x every room kind, performed through the real HTTP and WebSocket interfaces of a local
stack. An act is allowed exactly when the table says so; a refused act changes nothing the
room's owner can see (0 leaks), and a room hidden from the caller answers 404 like a missing one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dynamotalk.domain import authz
from dynamotalk.domain.authz import LOWEST_ROLE, Act
from dynamotalk.domain.models import Role, RoomKind
from dynamotalk.local.emulators import free_port
from tests.authz.world import OK, REFUSED, ROLES_OF, World
from tests.support.dev_stack import start_dev, stop, wait_healthy

pytestmark = pytest.mark.timeout(300)

OBSERVED_APART = frozenset({Act.SLOW_MODE_EXEMPT})
"""Acts seen through another act's effect (a second post in slow mode): their own test below."""
ROOM_MEMBERS = frozenset({"owner", "admin", "moderator", "member"})


def allowed(act: Act, kind: RoomKind, part: str) -> bool:
    """What the table says: members act by their role; non-members and banned users never."""
    return part in ROOM_MEMBERS and authz.may(Role(part), act, kind)


def hidden(kind: RoomKind, part: str) -> bool:
    return kind is not RoomKind.PUBLIC and part not in ROOM_MEMBERS


CASES = [
    pytest.param(act, kind, part, id=f"{act}-{kind}-{part}")
    for act in LOWEST_ROLE
    if act not in OBSERVED_APART
    for kind in RoomKind
    for part in ROLES_OF[kind]
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    port = free_port()
    process = start_dev(port, tmp_path_factory.mktemp("authz"), "--in-memory", "--quiet")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        built = World(base)
        yield built
        built.close()
    finally:
        stop(process)


def test_every_act_of_the_table_is_in_the_matrix() -> None:
    assert set(LOWEST_ROLE) == set(Act)
    tested = {act for act, _, _ in (c.values for c in CASES)} | OBSERVED_APART
    assert tested == set(Act)


@pytest.mark.parametrize(("act", "kind", "part"), CASES)
def test_an_act_is_allowed_exactly_when_the_table_says(
    world: World, act: Act, kind: RoomKind, part: str
) -> None:
    expected = allowed(act, kind, part)
    before = None if expected else world.snapshot(kind)
    status = world.perform(act, kind, part)
    if expected:
        assert status in OK, f"{part} may {act} in a {kind} room, but got {status}"
        world.restore(act, kind, part)
        return
    assert status in REFUSED, f"{part} may not {act} in a {kind} room, but got {status}"
    if hidden(kind, part):
        assert status == 404, "a hidden room answers like a missing one"
    assert world.snapshot(kind) == before, f"a refused {act} changed the room"


EXEMPT_CASES = [
    pytest.param(kind, part, id=f"{kind}-{part}")
    for kind in RoomKind
    if LOWEST_ROLE[Act.SLOW_MODE][kind] is not None
    for part in sorted(ROOM_MEMBERS)
]


@pytest.mark.parametrize(("kind", "part"), EXEMPT_CASES)
def test_slow_mode_holds_back_exactly_those_the_table_does_not_exempt(
    world: World, kind: RoomKind, part: str
) -> None:
    world.as_owner(kind, "PATCH", "", {"slowModeSeconds": 3600})
    try:
        assert world.perform(Act.POST, kind, part) == 200
        second = world.socket(part).call(
            {
                "action": "sendMessage",
                "roomId": world.rooms[kind],
                "text": "again",
                "clientId": part,
            }
        )
    finally:
        world.as_owner(kind, "PATCH", "", {"slowModeSeconds": 0})
    if allowed(Act.SLOW_MODE_EXEMPT, kind, part):
        assert second["type"] == "ack", second
    else:
        assert second["error"]["code"] == "slow_mode", second
        assert 0 < second["error"]["retryAfterMs"] <= 3600 * 1000


def test_a_direct_room_has_no_slow_mode_to_be_exempt_from() -> None:
    assert LOWEST_ROLE[Act.SLOW_MODE][RoomKind.DIRECT] is None
    assert LOWEST_ROLE[Act.SLOW_MODE_EXEMPT][RoomKind.DIRECT] is None
