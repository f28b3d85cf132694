"""MessageStore in memory: messages per room in id order, client-id claims, reactions, and
each thread's replies and each member's mentions in id order."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Collection, Iterable

import attrs

from dynamotalk.adapters.memory.feed import MemoryChangeFeed
from dynamotalk.domain.errors import NotFound
from dynamotalk.domain.events import MessageDeleted, MessageEdited, MessagePosted, ReactionChanged
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import Message, ThreadCount
from dynamotalk.domain.retention import expired
from dynamotalk.domain.rules import check_reaction_caps


@attrs.define
class MemoryMessageStore:
    _messages: dict[str, dict[str, Message]] = attrs.Factory(dict)
    _order: dict[str, list[str]] = attrs.Factory(dict)
    """Per room, ids of the messages in its timeline kept sorted (ids are time-ordered)."""
    _threads: dict[tuple[str, str], list[str]] = attrs.Factory(dict)
    """Per (room, parent), reply ids kept sorted."""
    _mentions: dict[tuple[str, str], list[str]] = attrs.Factory(dict)
    """Per (room, member), ids of the messages that mention them, kept sorted."""
    _claims: dict[tuple[str, str, str], str] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    feed: MemoryChangeFeed = attrs.Factory(MemoryChangeFeed)
    """The room's change feed, shared with the room store."""

    def _live_ones(self, room_id: str, ids: Iterable[str], limit: int) -> list[Message]:
        """Up to `limit` messages of `ids`, in order, skipping those past their retention."""
        now, found = time.time(), list[Message]()
        for message_id in ids:
            if len(found) >= limit:
                break
            message = self._messages[room_id][message_id]
            if not expired(message, now):
                found.append(message)
        return found

    def append(self, message: Message) -> tuple[Message, bool]:
        claim = (message.room_id, message.author_id, message.client_id)
        with self._lock:
            existing = self._claims.get(claim)
            if existing is not None:
                return self._messages[message.room_id][existing], False
            parent = self._parent_of(message)
            counts = (
                ThreadCount(parent.message_id, parent.reply_count + 1, message.created_at)
                if parent is not None
                else None
            )
            posted = self.feed.append(
                message.room_id,
                lambda seq: MessagePosted(attrs.evolve(message, seq=seq), seq, counts),
            )
            assert isinstance(posted, MessagePosted)
            stored = posted.message
            self._claims[claim] = stored.message_id
            self._messages.setdefault(stored.room_id, {})[stored.message_id] = stored
            if stored.in_room:
                bisect.insort(self._order.setdefault(stored.room_id, []), stored.message_id)
            if parent is not None and counts is not None:
                self._replace(
                    attrs.evolve(
                        parent, reply_count=counts.reply_count, last_reply_at=counts.last_reply_at
                    )
                )
                thread = self._threads.setdefault((stored.room_id, parent.message_id), [])
                bisect.insort(thread, stored.message_id)
            for user_id in stored.mentions:
                mentions = self._mentions.setdefault((stored.room_id, user_id), [])
                bisect.insort(mentions, stored.message_id)
            return stored, True

    def _parent_of(self, message: Message) -> Message | None:
        if message.parent_id is None:
            return None
        parent = self._messages.get(message.room_id, {}).get(message.parent_id)
        if parent is None or parent.deleted or parent.parent_id is not None:
            raise NotFound("no such message to reply to")
        return parent

    def get(self, room_id: str, message_id: str) -> Message | None:
        with self._lock:
            message = self._messages.get(room_id, {}).get(message_id)
        return None if message is None or expired(message, time.time()) else message

    def _replace(self, message: Message) -> Message:
        self._messages[message.room_id][message.message_id] = message
        return message

    def _change(self, message: Message, make: type[MessageEdited | MessageDeleted]) -> Message:
        self.feed.append(message.room_id, lambda seq: make(message, seq))
        return self._replace(message)

    def _live(self, room_id: str, message_id: str) -> Message:
        message = self._messages.get(room_id, {}).get(message_id)
        if message is None or message.deleted:
            raise NotFound("no such message")
        return message

    def edit(self, room_id: str, message_id: str, text: str, edited_at: int) -> Message:
        with self._lock:
            message = self._live(room_id, message_id)
            return self._change(
                attrs.evolve(message, text=text, edited_at=edited_at), MessageEdited
            )

    def soft_delete(self, room_id: str, message_id: str, deleted_at: int) -> Message:
        return self.soft_delete_by(room_id, message_id, deleted_at, None)

    def soft_delete_by(
        self, room_id: str, message_id: str, deleted_at: int, deleted_by: str | None
    ) -> Message:
        with self._lock:
            message = self._messages.get(room_id, {}).get(message_id)
            if message is None:
                raise NotFound("no such message")
            if message.deleted:
                return message
            deleted = attrs.evolve(
                message,
                text="",
                attachments=(),
                reactions={},
                deleted_at=deleted_at,
                deleted_by=deleted_by,
            )
            return self._change(deleted, MessageDeleted)

    def set_reaction(
        self, room_id: str, message_id: str, emoji: str, user_id: str, on: bool, limits: Limits
    ) -> Message:
        with self._lock:
            message = self._live(room_id, message_id)
            reactions = dict(message.reactions)
            users = set(reactions.get(emoji, frozenset()))
            if on and user_id not in users:
                check_reaction_caps(message, emoji, user_id, limits)
                users.add(user_id)
            elif on or user_id not in users:
                return message  # already as asked: no change
            else:
                users.discard(user_id)
            if users:
                reactions[emoji] = frozenset(users)
            else:
                reactions.pop(emoji, None)
            updated = attrs.evolve(message, reactions=reactions)
            self.feed.append(room_id, lambda seq: ReactionChanged(updated, emoji, user_id, on, seq))
            return self._replace(updated)

    def before(self, room_id: str, before_id: str | None, limit: int) -> list[Message]:
        with self._lock:
            order = self._order.get(room_id, [])
            end = len(order) if before_id is None else bisect.bisect_left(order, before_id)
            return self._live_ones(room_id, reversed(order[:end]), limit)

    def after(self, room_id: str, after_id: str | None, limit: int) -> list[Message]:
        with self._lock:
            order = self._order.get(room_id, [])
            start = 0 if after_id is None else bisect.bisect_right(order, after_id)
            return self._live_ones(room_id, order[start:], limit)

    def count_after(self, room_id: str, after_id: str | None, cap: int) -> int:
        with self._lock:
            order = self._order.get(room_id, [])
            start = 0 if after_id is None else bisect.bisect_right(order, after_id)
            return len(self._live_ones(room_id, order[start:], cap))

    def thread(
        self, room_id: str, parent_id: str, after_id: str | None, limit: int
    ) -> list[Message]:
        with self._lock:
            replies = self._threads.get((room_id, parent_id), [])
            start = 0 if after_id is None else bisect.bisect_right(replies, after_id)
            return self._live_ones(room_id, replies[start:], max(0, limit))

    def count_mentions(
        self,
        room_id: str,
        user_id: str,
        after_id: str | None,
        cap: int,
        hidden: Collection[str] = (),
    ) -> int:
        with self._lock:
            mentions = self._mentions.get((room_id, user_id), [])
            start = 0 if after_id is None else bisect.bisect_right(mentions, after_id)
            found = self._live_ones(room_id, mentions[start:], len(mentions))
            return min(cap, sum(1 for m in found if m.author_id not in hidden))
