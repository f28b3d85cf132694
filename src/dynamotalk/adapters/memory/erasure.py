"""ErasureStore in memory (erasure_ports.py), over the other in-memory stores: what the table
keeps under `USER#{id}` lives in the user and push stores here."""

from __future__ import annotations

import threading

import attrs

from dynamotalk.adapters.memory.messages import MemoryMessageStore
from dynamotalk.adapters.memory.push import MemoryPushStore
from dynamotalk.adapters.memory.rooms import MemoryRoomStore
from dynamotalk.adapters.memory.users import MemoryUserStore
from dynamotalk.domain.erasure import ERASED_AUTHOR, ErasePolicy, ErasureJob
from dynamotalk.domain.erasure_scrub import scrub_change, scrub_others


@attrs.define
class MemoryErasureStore:
    users: MemoryUserStore
    messages: MemoryMessageStore
    rooms: MemoryRoomStore
    push: MemoryPushStore | None = None
    _jobs: dict[str, ErasureJob] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def create(self, job: ErasureJob) -> ErasureJob:
        with self._lock:
            return self._jobs.setdefault(job.user_id, job)

    def get(self, user_id: str) -> ErasureJob | None:
        with self._lock:
            return self._jobs.get(user_id)

    def save(self, job: ErasureJob) -> None:
        with self._lock:
            self._jobs[job.user_id] = job

    def wipe_user(self, user_id: str, limit: int) -> bool:
        with self.users._lock:
            self.users._users.pop(user_id, None)
        if self.push is not None:
            with self.push._lock:
                for key in [key for key in self.push._subscriptions if key[0] == user_id]:
                    del self.push._subscriptions[key]
                for key in [key for key in self.push._notify if key[0] == user_id]:
                    del self.push._notify[key]
        return True

    def free_username(self, username: str, user_id: str) -> None:
        with self.users._lock:
            if self.users._names.get(username.casefold()) == user_id:
                del self.users._names[username.casefold()]

    def authors(self, room_id: str, before_id: str | None, limit: int) -> list[tuple[str, str]]:
        with self.messages._lock:
            messages = self.messages._messages.get(room_id, {})
            older = sorted(
                (m for m in messages if before_id is None or m < before_id), reverse=True
            )
            return [(m, messages[m].author_id) for m in older[:limit]]

    def anonymise_room(self, room_id: str, user_id: str) -> None:
        with self.rooms._lock:
            room = self.rooms._rooms.get(room_id)
            if room is not None and room.created_by == user_id:
                self.rooms._rooms[room_id] = attrs.evolve(room, created_by=ERASED_AUTHOR)

    def anonymise(self, room_id: str, message_id: str, user_id: str) -> None:
        with self.messages._lock:
            message = self.messages._messages.get(room_id, {}).get(message_id)
            if message is not None and message.author_id == user_id:
                self.messages._replace(attrs.evolve(message, author_id=ERASED_AUTHOR))

    def scrub_messages(
        self, room_id: str, before_id: str | None, limit: int, user_id: str
    ) -> list[tuple[str, str]]:
        page = self.authors(room_id, before_id, limit)
        with self.messages._lock:
            for message_id, _author in page:
                message = self.messages._messages[room_id][message_id]
                scrubbed = scrub_others(message, user_id)
                if scrubbed != message:
                    self.messages._replace(scrubbed)
        return page

    def drop_mentions(self, room_id: str, user_id: str) -> None:
        with self.messages._lock:
            self.messages._mentions.pop((room_id, user_id), None)

    def scrub_changes(
        self, room_id: str, after_seq: int, limit: int, user_id: str, policy: ErasePolicy
    ) -> int | None:
        feed = self.messages.feed
        with feed._lock:
            log = feed._rooms.get(room_id, [])
            end = min(len(log), after_seq + limit)
            for index in range(after_seq, end):
                log[index] = scrub_change(log[index], user_id, policy)
            return end if end < len(log) else None
