"""Per-user limits in the domain: which actions are counted, what a refusal carries, and what
a refused request leaves behind (nothing). In-memory limiter and manual clock."""

from __future__ import annotations

import attrs
import pytest

from dynamotalk.adapters.memory_limits import MemoryRateLimiter
from dynamotalk.domain.bot import BOT
from dynamotalk.domain.errors import RateLimited
from dynamotalk.domain.models import RoomKind
from dynamotalk.domain.user_limits import (
    LIMIT_SETTINGS,
    UserLimits,
    limits_env,
    parse_limits,
    unlimited_env,
)
from dynamotalk.wire import encode_error
from tests.unit.world import ALICE, BOB, CAROL, World


def limited(world: World, **limits: int) -> World:
    world.service = attrs.evolve(
        world.service, limiter=MemoryRateLimiter(), user_limits=UserLimits(**limits)
    )
    world.clock.now = 1_700_000_000_000  # 0 ms into a 10-second window
    return world


def test_messages_past_the_burst_are_refused_with_the_time_left(
    world: World, public_room: str
) -> None:
    limited(world, messages_per_second=1, messages_burst=2)
    world.online(BOB, "c-bob", public_room)
    for n in range(2):
        world.service.post_message(ALICE, public_room, f"hi {n}", f"c{n}")
    world.clock.advance(250)
    with pytest.raises(RateLimited) as refused:
        world.service.post_message(ALICE, public_room, "one too many", "c2")
    assert refused.value.retry_after_ms == 750  # until the next second
    assert refused.value.code == "rate_limited"
    frame = encode_error("r1", refused.value).decode()
    assert '"retryAfterMs":750' in frame
    assert '"requestId":"r1"' in frame
    # Nothing stored, nothing sent for the refused message; Bob may still post.
    history = world.service.history(ALICE, public_room, None, None).messages
    assert [m.text for m in history] == ["hi 1", "hi 0"]
    assert len(world.events("c-bob")) == 2
    world.service.post_message(BOB, public_room, "me too", "b0")
    # The next second admits again, until the 10-second window's 10 are used.
    world.clock.advance(750)
    world.service.post_message(ALICE, public_room, "again", "c2")


def test_each_action_has_its_own_counters(world: World, public_room: str) -> None:
    limited(world, rooms_per_hour=1, joins_per_hour=1, username_lookups_per_hour=1)
    world.service.create_room(CAROL, "one", RoomKind.PUBLIC)
    with pytest.raises(RateLimited) as refused:
        world.service.create_room(CAROL, "two", RoomKind.PUBLIC)
    assert 0 < (refused.value.retry_after_ms or 0) <= 3_600_000
    world.service.join_room(CAROL, public_room)
    with pytest.raises(RateLimited):
        world.service.join_room(CAROL, public_room)
    world.service.open_direct_by_username(CAROL, "alice")
    with pytest.raises(RateLimited):
        world.service.find_user("bob", CAROL)
    assert world.service.find_user("bob").user_id == BOB.user_id  # not on behalf of a user
    world.service.open_direct(CAROL, BOB.user_id)  # by id: not a look-up by name


def test_a_room_created_with_members_counts_each_as_an_invite(world: World) -> None:
    limited(world, invites_per_hour=2)
    with pytest.raises(RateLimited):
        world.service.create_room(
            ALICE, "crowd", RoomKind.PRIVATE, [BOB.user_id, "u-carol", "u-mallory"]
        )
    assert world.service.my_rooms(ALICE) == []
    world.service.create_room(ALICE, "pair", RoomKind.PRIVATE, [BOB.user_id, "u-carol"])


def test_bot_requests_are_counted_before_storing_and_the_bot_itself_is_not(
    world: World,
) -> None:
    queued: list[str] = []

    class Jobs:
        def enqueue(self, room_id: str, message_id: str) -> None:
            queued.append(message_id)

    limited(world, bot_requests_per_day=1, messages_per_second=1, messages_burst=1)
    world.service = attrs.evolve(world.service, bot_jobs=Jobs())
    world.service.ensure_user(BOT)
    room = world.service.open_direct(ALICE, BOT.user_id)
    world.service.post_message(ALICE, room.room_id, "question", "q1")
    world.clock.advance(1000)
    with pytest.raises(RateLimited) as refused:
        world.service.post_message(ALICE, room.room_id, "another", "q2")
    assert (refused.value.retry_after_ms or 0) > 10_000  # the day's window
    assert len(queued) == 1
    assert [m.text for m in world.service.history(ALICE, room.room_id, None, None).messages] == [
        "question"
    ]
    for n in range(5):  # the bot's own replies are never refused
        world.service.post_message(BOT, room.room_id, f"answer {n}", f"a{n}")


def test_live_connections_are_capped_and_a_refused_one_is_forgotten(world: World) -> None:
    limited(world, connections_per_user=2)
    world.service.connect("c1", ALICE)
    world.service.connect("c2", ALICE)
    with pytest.raises(RateLimited):
        world.service.connect("c3", ALICE)
    assert world.service.connections.get("c3", 0) is None
    world.service.disconnect("c1")
    world.service.connect("c3", ALICE)


def test_uploads_count_number_and_bytes(world: World, public_room: str) -> None:
    limited(world, uploads_per_day=5, upload_bytes_per_day=1500)
    service = world.service
    service.request_upload(ALICE, "attachment", "a.png", "image/png", 1000, public_room)
    with pytest.raises(RateLimited):
        service.request_upload(ALICE, "attachment", "b.png", "image/png", 600, public_room)
    service.request_upload(ALICE, "avatar", "c.png", "image/png", 500)


def test_settings_parse_validate_and_round_trip() -> None:
    limits = UserLimits(messages_per_second=3, upload_bytes_per_day=10)
    assert parse_limits(limits_env(limits)) == limits
    assert parse_limits({}) == UserLimits()
    assert parse_limits(unlimited_env()).messages_burst == 1_000_000
    assert len({s.env for s in LIMIT_SETTINGS}) == len({s.key for s in LIMIT_SETTINGS}) == 15
    with pytest.raises(ValueError, match="DYNAMOTALK_LIMIT_MESSAGES_BURST must be 1"):
        parse_limits({"DYNAMOTALK_LIMIT_MESSAGES_BURST": "0"})
