"""docs/PROTOCOL.md's "Push notifications" against the code: its subscription example is one
the server accepts, its payload example has exactly the fields push_sender sends, and every
limit it names is the constant's value."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dynamotalk.adapters.memory import ManualClock, MemoryRoomStore
from dynamotalk.adapters.memory.push import MemoryPushStore
from dynamotalk.domain import push
from dynamotalk.domain.models import Message, Principal
from dynamotalk.service.push import MAX_BODY_BYTES, PushSettings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text()
EXAMPLES = dict(re.findall(r"<!-- push: (\w+) -->\n```json\n(.*?)\n```", DOC, re.S))
SECTION = DOC[DOC.index("## Push notifications") :]


def test_the_subscription_example_is_accepted() -> None:
    settings = PushSettings(MemoryPushStore(), MemoryRoomStore(), ManualClock(), "key")
    assert settings.subscribe(Principal("u-1", "bob"), "laptop", EXAMPLES["subscription"])


def test_the_payload_example_has_the_fields_push_sender_sends() -> None:
    message = Message("m", "r", "u", "hi", 1, "c", seq=1)
    sent = push.payload(message, "room", "Alice", push.Reason.MENTION)
    assert set(json.loads(EXAMPLES["payload"])) == set(sent)


def test_the_limits_named_are_the_constants() -> None:
    for value in (
        push.MAX_DEVICES,
        push.PREVIEW_CHARS,
        push.NAME_CHARS,
        push.TTL_S,
        push.MAX_PAYLOAD_BYTES,
        push.RECORD_SIZE,
        push.MAX_ENDPOINT_CHARS,
    ):
        assert f"{value:,}" in DOC or str(value) in SECTION, value
    assert MAX_BODY_BYTES == 4096
    assert "4 KB" in SECTION
    for host in push.PUSH_HOSTS:
        assert f"`{host}`" in SECTION, host
    for suffix in push.PUSH_HOST_SUFFIXES:
        assert f"`*{suffix}`" in SECTION, suffix
