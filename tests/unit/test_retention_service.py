"""Retention in the service (issue 18): who sets a room's retention, the date each new message
and its files are stamped with (the room's choice or the stage's default), and reads hiding a
message once it is due."""

from __future__ import annotations

import time

import pytest

from dynamotalk.domain.errors import Forbidden, InvalidInput, NotFound
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import Attachment, RoomKind
from tests.unit.world import ALICE, BOB, World, make_world

DAY_S = 86_400


def world_keeping(days: int) -> World:
    world = make_world(limits=Limits(message_retention_days=days))
    world.clock.now = int(time.time() * 1000)  # the stores hide by the wall clock
    return world


def test_admins_choose_a_rooms_retention_within_the_stages() -> None:
    world = world_keeping(30)
    room = world.service.create_room(ALICE, "General", RoomKind.PUBLIC).room_id
    world.service.join_room(BOB, room)
    with pytest.raises(Forbidden):
        world.service.update_room(BOB, room, retention_days=7)
    with pytest.raises(InvalidInput, match="exceed"):
        world.service.update_room(ALICE, room, retention_days=90)
    assert world.service.update_room(ALICE, room, retention_days=7).retention_days == 7
    audit = world.service.audit_log(ALICE, room, None, None).entries
    assert (audit[0].action, audit[0].detail) == ("retention", "7 days")


def test_a_message_is_stamped_with_the_room_or_the_stage_retention_and_so_are_its_files() -> None:
    world = world_keeping(30)
    service, now_s = world.service, world.clock.now // 1000
    room = service.create_room(ALICE, "General", RoomKind.PUBLIC).room_id
    assert service.post_message(ALICE, room, "default", "c1").expires_at == now_s + 30 * DAY_S
    service.update_room(ALICE, room, retention_days=1)
    form = service.request_upload(ALICE, "attachment", "cat.png", "image/png", 50, room)
    world.files.put(form.key, 50)
    ref = Attachment(form.key, "cat.png", "image/png", 50)
    message = service.post_message(ALICE, room, "short", "c2", [ref])
    assert message.expires_at == now_s + DAY_S
    assert world.files.retention[form.key] == 1
    kept = make_world()  # a stage that keeps forever stamps nothing
    plain = kept.service.create_room(ALICE, "Plain", RoomKind.PUBLIC).room_id
    assert kept.service.post_message(ALICE, plain, "forever", "c1").expires_at is None


def test_reads_hide_a_message_once_its_retention_passed() -> None:
    world = world_keeping(0)
    service = world.service
    room = service.create_room(ALICE, "General", RoomKind.PUBLIC).room_id
    service.update_room(ALICE, room, retention_days=1)
    world.clock.now -= 2 * DAY_S * 1000  # posted two days ago: due a day ago
    old = service.post_message(ALICE, room, "old news", "c1")
    world.clock.now += 2 * DAY_S * 1000
    fresh = service.post_message(ALICE, room, "fresh", "c2")
    assert [m.text for m in service.history(ALICE, room, None, None).messages] == ["fresh"]
    assert [m.text for m in service.sync(ALICE, room, None, None).messages] == ["fresh"]
    with pytest.raises(NotFound):  # nor pinned, nor replied to: it is gone
        service.pin(ALICE, room, old.message_id)
    changes = service.changes(ALICE, room, 0, None).changes
    posted = [c for c in changes if getattr(c, "message", None) is not None]
    texts = {c.message.message_id: c.message.text for c in posted}  # type: ignore[attr-defined]
    assert texts[old.message_id] == ""
    assert texts[fresh.message_id] == "fresh"


def test_a_quote_expires_no_later_than_the_message_it_copies() -> None:
    world = world_keeping(0)
    service, now_s = world.service, world.clock.now // 1000
    room = service.create_room(ALICE, "General", RoomKind.PUBLIC).room_id
    service.update_room(ALICE, room, retention_days=1)
    short = service.post_message(ALICE, room, "gone tomorrow", "c1")
    service.update_room(ALICE, room, retention_days=0)  # back to forever
    quoting = service.post_message(ALICE, room, "as she said", "c2", quote_id=short.message_id)
    assert quoting.quote is not None
    assert quoting.expires_at == short.expires_at == now_s + DAY_S
    assert service.post_message(ALICE, room, "plain", "c3").expires_at is None
