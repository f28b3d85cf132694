"""Export my data (issue 18): the routes' side (request a job, read its status and link) and
the worker's (build the archive and write it). The worker pages each room of the user's
memberships oldest first, keeps the user's own messages (there is no index by author: the
cost is priced in bench/export_cost.py) and writes one JSON object; a re-run of the same job
writes the same key, so SQS's at-least-once delivery is harmless."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import attrs

from dynamotalk.domain import export as x
from dynamotalk.domain.errors import NotFound, RateLimited, Unavailable
from dynamotalk.domain.models import Message, Principal, User
from dynamotalk.export_ports import ArchiveStore, ExportJobs, ExportQueue
from dynamotalk.ports import Clock, IdGenerator, MessageStore, RoomStore, UserStore
from dynamotalk.service.core import check_id
from dynamotalk.thread_ports import ThreadStore

PAGE = x.EXPORT_PAGE_MESSAGES


@attrs.define
class Exports:
    jobs: ExportJobs
    queue: ExportQueue | None
    """None: the stage has no export queue (refused before anything is written)."""
    archives: ArchiveStore
    clock: Clock
    ids: IdGenerator

    def request(self, principal: Principal) -> x.ExportJob:
        if self.queue is None:
            raise Unavailable("exports are not available on this stage")
        now = self.clock.now_ms()
        why = x.refusal(self.jobs.jobs_of(principal.user_id), now)
        if why is not None:
            raise RateLimited(why, retry_after_ms=x.EXPORT_STALE_S * 1000)
        job = x.ExportJob(principal.user_id, self.ids.new_id(now), x.ExportStatus.PENDING, now)
        if not self.jobs.start(job, now):
            raise RateLimited(
                "an export is already running", retry_after_ms=x.EXPORT_STALE_S * 1000
            )
        self.queue.enqueue(job.user_id, job.export_id)
        return job

    def status(self, principal: Principal, export_id: str) -> tuple[x.ExportJob, str | None]:
        """The caller's own job (another user's id is simply not found) and, when ready, a
        fresh link valid EXPORT_LINK_TTL_S."""
        job = self.jobs.get(principal.user_id, check_id(export_id, "exportId"))
        if job is None:
            raise NotFound("no such export")
        if job.status is not x.ExportStatus.READY:
            return job, None
        return job, self.archives.archive_url(job.key, x.EXPORT_LINK_TTL_S)


@attrs.define
class ExportWorker:
    jobs: ExportJobs
    archives: ArchiveStore
    messages: MessageStore
    rooms: RoomStore
    users: UserStore
    clock: Clock

    def run(self, user_id: str, export_id: str) -> x.ExportStatus:
        job = self.jobs.get(user_id, export_id)
        if job is None:
            return x.ExportStatus.FAILED  # expired or never stored: nothing to do
        if job.status is x.ExportStatus.READY:
            return job.status  # a duplicate delivery: already written
        user = self.users.get(user_id)
        if user is None:
            self.jobs.finish(user_id, export_id, x.ExportStatus.FAILED, self.clock.now_ms())
            return x.ExportStatus.FAILED
        archive = self.archive(user_id, user)
        body = json.dumps(archive, ensure_ascii=False, separators=(",", ":")).encode()
        self.archives.put_archive(job.key, body)
        self.jobs.finish(user_id, export_id, x.ExportStatus.READY, self.clock.now_ms())
        return x.ExportStatus.READY

    def archive(self, user_id: str, user: User) -> dict[str, Any]:
        memberships = self.rooms.rooms_of(user_id)
        rooms = {r.room_id: r for r in self.rooms.get_many([m.room_id for m in memberships])}
        now_ms = self.clock.now_ms()
        own: list[Message] = []
        reactions: list[tuple[str, str, str]] = []
        read = 0
        truncated = False
        for membership in memberships:
            for message in self._messages(membership.room_id):
                read += 1
                if read > x.EXPORT_MAX_MESSAGES_READ:
                    truncated = True
                    break
                if x.own_message(message, user_id, now_ms // 1000):
                    own.append(message)
                for emoji in x.reactions_given(message, user_id):
                    reactions.append((message.room_id, message.message_id, emoji))
            if truncated:
                break
        return x.build_archive(user, memberships, rooms, own, reactions, now_ms, truncated)

    def _messages(self, room_id: str) -> Iterator[Message]:
        """The room's timeline oldest first, then each thread's replies after its first
        message (threads are one level deep)."""
        after: str | None = None
        while True:
            page = self.messages.after(room_id, after, PAGE)
            for message in page:
                yield message
                if message.reply_count:
                    yield from self._replies(room_id, message.message_id)
            if len(page) < PAGE:
                return
            after = page[-1].message_id

    def _replies(self, room_id: str, parent_id: str) -> Iterator[Message]:
        after: str | None = None
        while True:
            page = cast("ThreadStore", self.messages).thread(room_id, parent_id, after, PAGE)
            yield from (m for m in page if not m.also_in_room)  # those are in the timeline
            if len(page) < PAGE:
                return
            after = page[-1].message_id
