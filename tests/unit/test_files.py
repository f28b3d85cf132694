"""The bucket's key layout: keys built by domain/files.py read back as what they are."""

from __future__ import annotations

from dynamotalk.domain import files
from dynamotalk.permissions import AVATARS, ROOM_FILES


def test_built_keys_read_back_as_what_they_are() -> None:
    attachment = files.attachment_key("r1", "u1", "01F", "../../etc/pass wd")
    assert attachment.startswith(files.attachments_of("r1", "u1"))
    assert files.parse_key(attachment) == files.FileKey("attachment", room_id="r1")
    avatar = files.avatar_key("u1", "01F", "C:\\me.png")
    assert avatar.startswith(files.avatars_of("u1"))
    assert files.parse_key(avatar) == files.FileKey("avatar")


def test_keys_that_are_neither_or_climb_out_are_refused() -> None:
    for key in ("rooms/r1/../x/y", "other/u/x/y", "avatars/u", "rooms/r1/u1/f", "a" * 2000):
        assert files.parse_key(key) is None, key


def test_the_permissions_grant_exactly_the_layouts_prefixes() -> None:
    granted = {ROOM_FILES.removesuffix("*"), AVATARS.removesuffix("*")}
    assert granted == set(files.PREFIXES)
