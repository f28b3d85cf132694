"""Uploads are marked referenced exactly when a message or profile comes to name them
(upload_expiry.py): the unreferenced ones are left for the bucket's lifecycle rule."""

from __future__ import annotations

import pytest

from dynamotalk.domain.errors import Forbidden, InvalidInput
from dynamotalk.domain.models import Attachment
from tests.unit.world import ALICE, BOB, World


def uploaded(world: World, room_id: str, name: str) -> Attachment:
    form = world.service.request_upload(ALICE, "attachment", name, "image/png", 10, room_id)
    world.files.put(form.key, 10)
    return Attachment(form.key, name, "image/png", 10)


def test_only_the_attachments_a_message_carries_are_marked(world: World, public_room: str) -> None:
    sent, kept_back = uploaded(world, public_room, "a.png"), uploaded(world, public_room, "b.png")
    world.service.post_message(ALICE, public_room, "look", "c1", [sent])
    assert world.files.referenced == {sent.key}
    assert kept_back.key not in world.files.referenced


def test_a_refused_message_marks_nothing(world: World, public_room: str) -> None:
    mine = uploaded(world, public_room, "a.png")
    missing = Attachment(mine.key.replace("a.png", "gone.png"), "gone.png", "image/png", 10)
    with pytest.raises(InvalidInput):
        world.service.post_message(ALICE, public_room, "look", "c2", [mine, missing])
    with pytest.raises(Forbidden):
        world.service.post_message(BOB, public_room, "mine now", "c3", [mine])
    assert world.files.referenced == set()


def test_an_avatar_is_marked_when_set_on_the_profile(world: World) -> None:
    form = world.service.request_upload(ALICE, "avatar", "me.png", "image/png", 10)
    world.files.put(form.key, 10)
    assert world.files.referenced == set()
    world.service.update_profile(ALICE, avatar_key=form.key)
    assert world.files.referenced == {form.key}
