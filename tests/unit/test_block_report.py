"""Blocking and reports in the service and the fan-out worker, on the in-memory adapters
(issue 17, "Block and report"; the end-to-end tests are tests/e2e/test_block_report.py)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from dynamotalk.adapters.memory_limits import MemoryRateLimiter
from dynamotalk.domain.authz import Act
from dynamotalk.domain.blocking import HIDDEN_BLOCKED
from dynamotalk.domain.errors import Conflict, Forbidden, InvalidInput, RateLimited, Unavailable
from dynamotalk.domain.events import MessagePosted
from dynamotalk.domain.models import Role, SendReport
from dynamotalk.domain.user_limits import UserLimits
from dynamotalk.service.delivery import DeliveryFailed
from tests.unit.world import ALICE, BOB, CAROL, MALLORY, World


@attrs.define
class Pages:
    jobs: list[tuple[str, int, tuple[str, ...]]] = attrs.Factory(list)

    def enqueue(
        self,
        room_id: str,
        seq: int,
        connection_ids: Sequence[str],
        delay_s: int = 0,
        attempt: int = 0,
    ) -> None:
        self.jobs.append((room_id, seq, tuple(connection_ids)))


def crowd(world: World, room: str) -> None:
    for principal in (CAROL, MALLORY):
        world.service.join_room(principal, room)
    world.service.block_user(BOB, MALLORY.user_id)


def test_a_big_room_pages_the_full_change_and_sends_stubs_itself(
    world: World, public_room: str
) -> None:
    crowd(world, public_room)
    for n, principal in enumerate((ALICE, BOB, BOB, CAROL, MALLORY)):
        world.online(principal, f"c{n}", public_room)
    pages = Pages()
    delivery = attrs.evolve(world.delivery, pages=pages, page_size=2)
    spam = world.service.post_message(MALLORY, public_room, "spam", "s1")
    change = world.feed.get(public_room, spam.seq or 0)
    assert isinstance(change, MessagePosted)
    world.notifier.sent.clear()
    assert delivery.deliver(change) == 5
    paged = sorted(c for _, _, ids in pages.jobs for c in ids)
    assert paged == ["c0", "c3", "c4"], "the blocker's connections are never paged"
    [(ids, stub)] = world.notifier.sent
    assert sorted(ids) == ["c1", "c2"]
    assert isinstance(stub, MessagePosted)
    assert stub.seq == change.seq
    assert (stub.message.text, stub.message.hidden) == ("", HIDDEN_BLOCKED)


@attrs.define
class Failing:
    def send(self, connection_ids: Sequence[str], event: object) -> SendReport:
        return SendReport(0, failed=frozenset(connection_ids), retryable=frozenset(connection_ids))


def test_a_failed_stub_fails_the_record_rather_than_queue_the_full_change(
    world: World, public_room: str
) -> None:
    crowd(world, public_room)
    world.online(BOB, "c-bob", public_room)
    spam = world.service.post_message(MALLORY, public_room, "spam", "s1")
    change = world.feed.get(public_room, spam.seq or 0)
    assert change is not None
    pages = Pages()
    delivery = attrs.evolve(world.delivery, pages=pages, notifier=Failing())
    with pytest.raises(DeliveryFailed):
        delivery.deliver(change)
    assert pages.jobs == []


def test_who_blocked_an_author_is_asked_once_per_author_and_batch(
    world: World, public_room: str
) -> None:
    crowd(world, public_room)
    world.online(BOB, "c-bob", public_room)
    asked: list[str] = []
    rooms = world.service.rooms

    @attrs.define
    class Counting:
        def blockers_of(self, user_id: str) -> list[str]:
            asked.append(user_id)
            return rooms.blockers_of(user_id)

    delivery = attrs.evolve(world.delivery, block_list=Counting())
    posts = [world.service.post_message(MALLORY, public_room, f"m{n}", f"m{n}") for n in range(3)]
    cache: dict[str, frozenset[str]] = {}
    for post in posts:
        change = world.feed.get(public_room, post.seq or 0)
        assert change is not None
        delivery.deliver(change, cache)
    assert asked == [MALLORY.user_id]


def test_the_blocker_reads_stubs_and_the_author_reads_their_own(
    world: World, public_room: str
) -> None:
    crowd(world, public_room)
    spam = world.service.post_message(MALLORY, public_room, "spam", "s1")
    world.service.react(CAROL, public_room, spam.message_id, "🎉")
    [seen] = world.service.history(BOB, public_room, None, None).messages
    assert (seen.message_id, seen.author_id, seen.text) == (spam.message_id, MALLORY.user_id, "")
    assert (seen.hidden, dict(seen.reactions)) == (HIDDEN_BLOCKED, {})
    [own] = world.service.history(MALLORY, public_room, None, None).messages
    assert (own.text, own.hidden) == ("spam", None)
    assert [b.blocked_user_id for b in world.service.blocks(BOB)] == [MALLORY.user_id]
    assert world.service.blocks(MALLORY) == []


def test_reports_follow_the_table_and_the_limit(world: World, public_room: str) -> None:
    crowd(world, public_room)
    spam = world.service.post_message(MALLORY, public_room, "spam", "s1")
    report, created = world.service.report_message(BOB, public_room, spam.message_id, "spam")
    assert created
    assert report.message.text == "spam"
    with pytest.raises(Forbidden):
        world.service.reports_page(BOB, public_room, None, None, None)
    world.service.rooms.set_role(public_room, CAROL.user_id, Role.ADMIN)
    page = world.service.reports_page(CAROL, public_room, "open", None, None)
    assert [r.report_id for r in page.reports] == [report.report_id]
    world.service.rooms.set_role(public_room, CAROL.user_id, Role.MODERATOR)
    with pytest.raises(Forbidden):
        world.service.resolve_report(CAROL, public_room, report.report_id, "dismissed")
    done = world.service.resolve_report(ALICE, public_room, report.report_id, "dismissed")
    assert done.resolution is not None
    assert done.resolution.resolved_by == ALICE.user_id
    (logged,) = world.service.audit_log(ALICE, public_room, None, None).entries
    assert (logged.actor_id, logged.action, logged.target_message_id) == (
        ALICE.user_id,
        Act.MODERATE,
        spam.message_id,
    )
    assert logged.target_user_id == MALLORY.user_id
    assert report.report_id in logged.detail
    assert "dismissed" in logged.detail
    assert BOB.user_id not in logged.detail  # the reporter is not named
    with pytest.raises(Conflict):
        world.service.resolve_report(ALICE, public_room, report.report_id, "actioned")
    with pytest.raises(InvalidInput):
        world.service.reports_page(ALICE, public_room, None, None, 21)

    world.service = attrs.evolve(
        world.service, limiter=MemoryRateLimiter(), user_limits=UserLimits(reports_per_hour=1)
    )
    world.clock.now = 1_700_000_000_000
    world.service.report_message(CAROL, public_room, spam.message_id, "spam")
    with pytest.raises(RateLimited):
        world.service.report_message(CAROL, public_room, spam.message_id, "spam")
    world.service = attrs.evolve(world.service, reports=None)
    with pytest.raises(Unavailable):
        world.service.report_message(ALICE, public_room, spam.message_id, "spam")
