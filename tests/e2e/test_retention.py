"""Retention end to end (issue 18) on the real local stack (DynamoDB Local, the real handlers,
real HTTP and sockets): an admin sets a room's retention through PATCH /rooms/{roomId}, a
message posted after it expires, and every read hides it from then on (history, thread, sync
v1 and v2, pins, GET of the room's unread count) though DynamoDB's TTL has not deleted it; a
message posted before the change keeps no expiry. A retention day lasts RETENTION_DAY_S here
(the local-only knob settings.LOCAL_RETENTION_DAY_S_ENV); the refusals are checked too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dynamotalk.client import frames
from dynamotalk.settings import LOCAL_RETENTION_DAY_S_ENV
from tests.e2e.client import User, eventually

pytestmark = pytest.mark.timeout(180)

RETENTION_DAY_S = 10
"""A retention "day" in this stack: a 1-day room's message is gone after 10 seconds (long
enough for the reads that see it first, on a loaded machine)."""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from dynamotalk.local.emulators import free_port
    from tests.support.dev_stack import start_dev, stop, wait_healthy

    port = free_port()
    knobs = {LOCAL_RETENTION_DAY_S_ENV: str(RETENTION_DAY_S)}
    process = start_dev(port, tmp_path_factory.mktemp("retention"), "--quiet", env=knobs)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process)
    yield url
    stop(process)


def patch(user: User, room: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    reply = user.request("PATCH", f"/rooms/{room}", body)
    data: dict[str, Any] = reply.json()
    return reply.status_code, data


def test_a_rooms_retention_hides_expired_messages_from_every_read(base: str) -> None:
    owner, member = User(base, "keep"), User(base, "read")
    room = owner.room("short memory", "public")
    member.post(f"/rooms/{room}/join")
    socket = owner.socket()
    assert socket.call(frames.subscribe([room]))["type"] == "ack"
    before = socket.post(room, "said before the retention")

    code, data = patch(owner, room, {"retentionDays": 1})
    assert code == 200, data
    assert data["room"]["retentionDays"] == 1
    assert owner.get(f"/rooms/{room}")["room"]["retentionDays"] == 1

    doomed = socket.post(room, "said under a 1-day retention")
    reply = socket.call(frames.send_message(room, "a reply", parent_id=doomed["id"]))
    assert reply["type"] == "ack", reply
    assert owner.post(f"/rooms/{room}/pins", {"messageId": doomed["id"]})

    def texts(path: str, key: str = "messages") -> list[str]:
        return [m["text"] for m in member.get(f"/rooms/{room}{path}")[key]]

    assert "said under a 1-day retention" in texts("/messages")
    assert texts(f"/messages/{doomed['id']}/thread", "replies") == ["a reply"]

    # Expired: DynamoDB Local has deleted nothing, yet no read shows it any more.
    eventually(
        lambda: texts("/messages") == ["said before the retention"],
        timeout=4 * RETENTION_DAY_S,
        what="history hides the expired message",
    )
    gone = member.request("GET", f"/rooms/{room}/messages/{doomed['id']}/thread")
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "not_found")
    assert member.get(f"/rooms/{room}/pins")["pins"] == []
    reader = member.socket()
    synced = reader.call(frames.sync(room, None, 50))
    assert [m["text"] for m in synced["messages"]] == ["said before the retention"]
    changes = reader.call(frames.sync_changes(room, 0, 100, "r-changes"))["changes"]
    shown = [c["message"] for c in changes if c["type"] == "message.posted"]
    assert [m["text"] for m in shown if m["id"] == doomed["id"]] == [""]
    assert all(m.get("hidden") == "expired" for m in shown if m["id"] == doomed["id"])
    assert before["text"] == "said before the retention"
    socket.close()
    reader.close()


def test_only_admins_set_a_retention_from_the_choices(base: str) -> None:
    owner, member = User(base, "own"), User(base, "mem")
    room = owner.room("rules", "public")
    member.post(f"/rooms/{room}/join")
    code, data = patch(member, room, {"retentionDays": 7})
    assert (code, data["error"]["code"]) == (403, "forbidden")
    code, data = patch(owner, room, {"retentionDays": 5})
    assert (code, data["error"]["code"]) == (400, "invalid_input")
    code, data = patch(owner, room, {"retentionDays": -1})
    assert code == 400, data
    code, data = patch(owner, room, {"retentionDays": 30})
    assert code == 200
    assert data["room"]["retentionDays"] == 30
    code, data = patch(owner, room, {"retentionDays": 0})  # back to the server's default
    assert code == 200
    assert "retentionDays" not in data["room"]
