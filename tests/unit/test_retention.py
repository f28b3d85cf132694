"""Retention's rules (domain/retention.py) and its settings: the choices, a room never longer
than the stage, the expiry a message is stamped with, the stubs of expired messages in a page
of changes, and the stage setting from Pulumi config to the handlers' Limits."""

from __future__ import annotations

import attrs
import pytest

from dynamotalk.domain import retention
from dynamotalk.domain.errors import InvalidInput
from dynamotalk.domain.events import MemberLeft, MessagePosted
from dynamotalk.domain.models import Message, Pin
from dynamotalk.settings import (
    ENV,
    LOCAL_RETENTION_DAY_S_ENV,
    Settings,
    SettingsError,
    stage_limits,
)

DAY_MS = 86_400_000


def message(expires_at: int | None) -> Message:
    return Message("m1", "r1", "u1", "hello", 1_000, "c1", expires_at=expires_at)


def test_a_room_chooses_among_the_choices_and_never_longer_than_the_stage() -> None:
    assert retention.check_room_days(7, 0) == 7
    assert retention.check_room_days(30, 30) == 30
    assert retention.check_room_days(0, 30) == 0  # the stage's default
    for wrong in (-1, 2, 400):
        with pytest.raises(InvalidInput, match="one of"):
            retention.check_room_days(wrong, 0)
    with pytest.raises(InvalidInput, match="exceed"):
        retention.check_room_days(90, 30)
    assert retention.effective_days(0, 30) == 30
    assert retention.effective_days(7, 30) == 7
    assert retention.effective_days(0, 0) == 0


def test_a_message_expires_its_retention_after_posting() -> None:
    assert retention.expires_at(10 * DAY_MS + 999, 7, 86_400) == 17 * 86_400
    assert retention.expires_at(10 * DAY_MS, 0, 86_400) is None
    assert retention.expired(message(100), 100)
    assert not retention.expired(message(100), 99.5)
    assert not retention.expired(message(None), 10**12)
    pin = Pin("r1", "m1", "u2", 5, "u1", "hello", 1, expires_at=100)
    assert retention.pin_expired(pin, 100)
    assert not retention.pin_expired(pin, 99)


def test_expired_messages_in_a_page_of_changes_are_stubs_and_keep_their_seq() -> None:
    gone = MessagePosted(attrs.evolve(message(50), seq=1), 1)
    kept = MessagePosted(attrs.evolve(message(500), message_id="m2", seq=2), 2)
    left = MemberLeft("r1", "u3", 3)
    shown = retention.hide_expired_changes((gone, kept, left), now_s=100)
    assert [c.seq for c in shown] == [1, 2, 3]
    assert isinstance(shown[0], MessagePosted)
    assert (shown[0].message.text, shown[0].message.hidden) == ("", retention.HIDDEN_EXPIRED)
    assert shown[1:] == (kept, left)


def test_the_stage_default_and_the_local_day_reach_the_limits() -> None:
    base = {ENV["stage"]: "dev", ENV["table_name"]: "t", ENV["bucket_name"]: "b"}
    env = {**base, ENV["region"]: "eu-west-1", ENV["message_retention_days"]: "30"}
    assert Settings.from_env(env).message_retention_days == 30
    with pytest.raises(SettingsError, match="RETENTION"):
        Settings.from_env({**env, ENV["message_retention_days"]: "31"})
    limits = stage_limits(100, 30, env={})
    assert (limits.max_text, limits.message_retention_days, limits.retention_day_s) == (
        100,
        30,
        86_400,
    )
    assert stage_limits(100, 1, env={LOCAL_RETENTION_DAY_S_ENV: "2"}).retention_day_s == 2
    with pytest.raises(SettingsError):
        stage_limits(100, 1, env={LOCAL_RETENTION_DAY_S_ENV: "soon"})
