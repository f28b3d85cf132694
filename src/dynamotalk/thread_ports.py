"""What the core needs from the message store for threads and mentions (issue 17), beside
ports.MessageStore: every MessageStore has these too (tests/integration's contract suite runs
them on the fakes, DynamoDB Local and moto); service/threads.py reaches them via `threads_of`.

The rest of the thread contract is `MessageStore.append`'s: a reply (`parent_id` set) is
counted on its parent in the same atomic step (`reply_count` + 1, `last_reply_at`), exact however
many reply at once, and its MessagePosted carries the counts it left (ThreadCount); NotFound if
the parent is gone, deleted or itself a reply. A reply seen only in its thread (`in_room`
False) is not in before/after/count_after. Each id of `message.mentions` gets a mention.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, runtime_checkable

from dynamotalk.domain.models import Message


@runtime_checkable
class ThreadStore(Protocol):
    def thread(
        self, room_id: str, parent_id: str, after_id: str | None, limit: int
    ) -> list[Message]:
        """Up to `limit` replies to `parent_id` with id > after_id, oldest first."""
        ...

    def count_mentions(
        self,
        room_id: str,
        user_id: str,
        after_id: str | None,
        cap: int,
        hidden: Collection[str] = (),
    ) -> int:
        """How many messages after `after_id` mention the user, counting no further than `cap`;
        mentions by `hidden` authors (those the user blocked) do not count."""
        ...
