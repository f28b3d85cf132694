"""Export my data's archive and limits (domain/export.py, service/exports.py) on the in-memory
stores: exactly the user's own live messages (threads included), their reactions on others'
messages as emoji only, memberships with roles; requests refused past the limits; a re-run of
a finished job writes nothing new."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from dynamotalk.adapters.memory import MemoryMessageStore, MemoryRoomStore, MemoryUserStore
from dynamotalk.adapters.memory.exports import MemoryExportJobs
from dynamotalk.domain import export as x
from dynamotalk.domain.errors import NotFound, RateLimited, Unavailable
from dynamotalk.domain.models import Membership, Message, Principal, Role, Room, RoomKind, User
from dynamotalk.service.exports import Exports, ExportWorker

NOW = 1_732_467_600_000


@attrs.define
class Clock:
    now: int = NOW

    def now_ms(self) -> int:
        return self.now


@attrs.define
class Ids:
    n: int = 0

    def new_id(self, now_ms: int) -> str:
        self.n += 1
        return f"01JD2V7B00000000000000{self.n:04d}"


@attrs.define
class Archives:
    written: dict[str, bytes] = attrs.Factory(dict)

    def put_archive(self, key: str, body: bytes) -> None:
        self.written[key] = body

    def archive_url(self, key: str, expires_in: int) -> str:
        return f"https://bucket/{key}?X-Amz-Expires={expires_in}"


@attrs.define
class Queue:
    jobs: list[tuple[str, str]] = attrs.Factory(list)

    def enqueue(self, user_id: str, export_id: str) -> None:
        self.jobs.append((user_id, export_id))


def message(n: int, author: str, room: str = "R1", **fields: Any) -> Message:
    return Message(f"01JD2V7B0000000000000000{n:02d}", room, author, f"text {n}", NOW, f"c{n}",
                   **fields)  # fmt: skip


def test_the_archive_holds_exactly_the_users_own_live_messages() -> None:
    ana = User("ana", "ana", "Ana", created_at=5)
    memberships = [Membership("R1", "ana", Role.OWNER, 7)]
    rooms = {"R1": Room("R1", "general", RoomKind.PUBLIC, "ana", 1)}
    kept = [message(1, "ana", reactions={"👍": frozenset({"ana", "bob"})})]
    archive = x.build_archive(ana, memberships, rooms, kept, [("R1", "m9", "🎉")], NOW, False)
    assert archive["profile"] == {"userId": "ana", "username": "ana", "displayName": "Ana",
                                  "avatarKey": None, "createdAt": 5}  # fmt: skip
    assert archive["memberships"] == [
        {"roomId": "R1", "roomName": "general", "role": "owner", "joinedAt": 7}
    ]
    assert archive["messages"][0]["myReactions"] == ["👍"]
    assert archive["reactions"] == [{"roomId": "R1", "messageId": "m9", "emoji": "🎉"}]
    assert x.own_message(message(2, "ana"), "ana", NOW // 1000)
    assert not x.own_message(message(3, "bob"), "ana", NOW // 1000)
    assert not x.own_message(message(4, "ana", deleted_at=NOW), "ana", NOW // 1000)
    assert not x.own_message(message(5, "ana", expires_at=NOW // 1000), "ana", NOW // 1000)
    assert x.reactions_given(message(6, "bob", reactions={"👍": frozenset({"ana"})}), "ana") == [
        "👍"
    ]


def test_limits_one_running_and_a_few_a_day() -> None:
    done = [x.ExportJob("ana", str(n), x.ExportStatus.READY, NOW - n) for n in range(3)]
    assert x.refusal(done[:2], NOW) is None
    assert x.refusal(done, NOW) == f"at most {x.EXPORTS_PER_DAY} exports a day"
    assert x.refusal(done, NOW + 86_400_000) is None
    running = [x.ExportJob("ana", "9", x.ExportStatus.PENDING, NOW - 1000)]
    assert x.refusal(running, NOW) == "an export is already running"
    assert x.refusal(running, NOW + x.EXPORT_STALE_S * 1000) is None


@pytest.fixture
def world() -> dict[str, Any]:
    messages, rooms, users = MemoryMessageStore(), MemoryRoomStore(), MemoryUserStore()
    users.put(User("ana", "ana", "Ana"))
    rooms.create(Room("R1", "general", RoomKind.PUBLIC, "ana", NOW),
                 [Membership("R1", "ana", Role.OWNER, NOW), Membership("R1", "bob", Role.MEMBER, NOW)])  # fmt: skip
    parent = message(1, "bob")
    messages.append(parent)
    messages.append(message(2, "ana", parent_id=parent.message_id))  # a reply in bob's thread
    messages.append(message(3, "ana"))
    messages.append(message(4, "ana"))
    messages.soft_delete("R1", message(4, "ana").message_id, NOW)
    jobs, archives, queue, clock = MemoryExportJobs(), Archives(), Queue(), Clock()
    exports = Exports(jobs, queue, archives, clock, Ids())
    worker = ExportWorker(jobs, archives, messages, rooms, users, clock)
    return {"exports": exports, "worker": worker, "archives": archives, "queue": queue,
            "clock": clock}  # fmt: skip


def test_a_job_writes_the_archive_once_and_only_its_owner_sees_it(world: dict[str, Any]) -> None:
    exports: Exports = world["exports"]
    ana = Principal("ana", "ana")
    job = exports.request(ana)
    with pytest.raises(RateLimited):
        exports.request(ana)  # one at a time
    assert world["queue"].jobs == [("ana", job.export_id)]
    assert exports.status(ana, job.export_id) == (job, None)
    with pytest.raises(NotFound):
        exports.status(Principal("bob", "bob"), job.export_id)
    worker: ExportWorker = world["worker"]
    assert worker.run("ana", job.export_id) is x.ExportStatus.READY
    body = world["archives"].written[job.key]
    archive = json.loads(body)
    assert sorted(m["text"] for m in archive["messages"]) == ["text 2", "text 3"]
    assert archive["messages"][0]["threadOf"] == message(1, "bob").message_id
    world["archives"].written.clear()
    assert worker.run("ana", job.export_id) is x.ExportStatus.READY  # a duplicate delivery
    assert world["archives"].written == {}
    done, url = exports.status(ana, job.export_id)
    assert done.status is x.ExportStatus.READY
    assert url == f"https://bucket/{job.key}?X-Amz-Expires={x.EXPORT_LINK_TTL_S}"
    assert exports.request(ana).export_id != job.export_id  # finished: another may start


def test_a_stage_without_an_export_queue_refuses_before_writing(world: dict[str, Any]) -> None:
    exports: Exports = attrs.evolve(world["exports"], queue=None)
    with pytest.raises(Unavailable):
        exports.request(Principal("ana", "ana"))
    assert exports.jobs.jobs_of("ana") == []
