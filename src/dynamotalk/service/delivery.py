"""The fan-out worker: delivers each stored room change to the room's live connections, and
publishes it for other systems. It runs behind the table's stream (lambdas/fanout.py) and the
page queue (lambdas/fanout_pages.py), never in the sender's invocation.

A change reaches a connection at least once: any failure before the end of a record fails the
invocation and the stream (or queue) delivers the record again. Clients drop what they already
hold by `seq`, so a repeat is harmless. A room with more live connections than one page is
split into pages handed to parallel page workers; a page's posts the endpoint failed (429
included, after the notifier's own retries) go back on the queue with a delay, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import structlog

from dynamotalk import metrics
from dynamotalk.domain import blocking
from dynamotalk.domain.events import MessagePosted, RoomChange, room_of
from dynamotalk.domain.limits import FANOUT_PAGE_SIZE
from dynamotalk.domain.mentions import mentions_of
from dynamotalk.ports import ChangeFeed, Clock, ConnectionRegistry, EventsOut, Notifier, PageQueue
from dynamotalk.ports_reports import BlockList

_log = structlog.get_logger("dynamotalk.delivery")

RETRY_DELAY_S = 2
"""How long a page of failed posts waits on the queue before its next try (doubling, capped)."""
MAX_RETRY_DELAY_S = 60
REQUEUES = 8
"""Re-queued tries of a page's failed posts (about six minutes in all); then the page job fails
as it is, and after the queue's own retries lands in the dead-letter queue, with an alarm."""


class DeliveryFailed(Exception):
    """Posts the endpoint failed and no queue to retry them later: the record is retried."""


def no_fault(step: str) -> None:
    """The crash-injection hook's default: every step goes ahead (the local stack's tests
    arm real faults, local/faults.py)."""


@attrs.define
class Delivery:
    connections: ConnectionRegistry
    notifier: Notifier
    feed: ChangeFeed
    clock: Clock
    pages: PageQueue | None = None
    """Where pages of a big room go; None: this worker delivers every page itself."""
    events_out: EventsOut | None = None
    page_size: int = FANOUT_PAGE_SIZE
    fault: Callable[[str], None] = no_fault
    """Called before each step (`publish`, `subscribers`, `enqueue`, `send`)."""
    block_list: BlockList | None = None
    """Who blocked an author: their connections get a stub of the author's messages
    (domain/blocking.py). None: everyone gets the change as it is."""

    def publish(self, changes: Sequence[RoomChange]) -> None:
        """Events out: the changes on the stage's bus (nothing where publishing is off)."""
        if self.events_out is not None and changes:
            self.fault("publish")
            self.events_out.publish(changes)

    def _blockers(self, change: RoomChange, cache: dict[str, frozenset[str]]) -> frozenset[str]:
        """Who blocked the author of the change's message: one Query per author and batch."""
        author = blocking.author_of(change)
        if author is None or self.block_list is None:
            return frozenset()
        if author not in cache:
            cache[author] = frozenset(self.block_list.blockers_of(author))
        return cache[author]

    @metrics.timed(metrics.Metric.FANOUT_MS)
    def deliver(self, change: RoomChange, cache: dict[str, frozenset[str]] | None = None) -> int:
        """The change to the room's live connections: the number reached, or handed to page
        workers. `cache` keeps who blocked whom across one batch of changes.

        Connections of users who blocked the message's author get a stub instead
        (domain/blocking.py), sent from here, never through a page job (a page job reads the
        full change back from the feed); a stub post the endpoint failed fails the record, which
        the stream retries (the full change's recipients dedupe the repeat by seq)."""
        self.fault("subscribers")
        room_id = room_of(change)
        now_s = self.clock.now_ms() // 1000
        cache = {} if cache is None else cache
        if isinstance(change, MessagePosted) and change.message.mentions:
            # Nobody who blocked the author hears of being called by them.
            self._send_mentions(change, now_s, self._blockers(change, cache))
        subscribers = self.connections.connections_in_room(room_id, now_s)
        blockers = self._blockers(change, cache) if subscribers else None
        if not blockers:  # the common case: nobody here blocked the author
            return self._deliver(change, [s.connection_id for s in subscribers])
        targets = [s.connection_id for s in subscribers if s.user_id not in blockers]
        stubs = [s.connection_id for s in subscribers if s.user_id in blockers]
        return self._deliver(change, targets) + self._send_stubs(change, stubs)

    def _send_stubs(self, change: RoomChange, connection_ids: list[str]) -> int:
        if not connection_ids:
            return 0
        stub = blocking.redact_change(change)
        size = self.page_size
        pages = [connection_ids[i : i + size] for i in range(0, len(connection_ids), size)]
        return sum(self._send(stub, page, attempt=0, requeue=False) for page in pages)

    def _deliver(self, change: RoomChange, targets: list[str]) -> int:
        room_id = room_of(change)
        pages = [targets[i : i + self.page_size] for i in range(0, len(targets), self.page_size)]
        if len(pages) > 1 and self.pages is not None:
            for page in pages:
                self.fault("enqueue")
                self.pages.enqueue(room_id, change.seq, page)
            _log.info("fanout_sharded", room_id=room_id, seq=change.seq, pages=len(pages))
            return len(targets)
        return sum(self._send(change, page, attempt=0) for page in pages)

    def _send_mentions(self, change: MessagePosted, now_s: int, blockers: frozenset[str]) -> None:
        """Each member the post calls by name hears of it on every live connection of theirs,
        subscribed to the room or not: one Query per member (at most MAX_MENTIONS). A retried
        record may send it again; clients drop a repeat by room and message id."""
        for event in mentions_of(change):
            if event.user_id in blockers:
                continue
            targets = [
                c.connection_id for c in self.connections.connections_of_user(event.user_id, now_s)
            ]
            if targets:
                report = self.notifier.send(targets, event)
                metrics.record_sends(report.delivered, len(report.failed), len(report.gone))
                if report.gone:
                    self.connections.unregister_many(sorted(report.gone))

    @metrics.timed(metrics.Metric.FANOUT_MS)
    def deliver_page(
        self, room_id: str, seq: int, connection_ids: Sequence[str], attempt: int = 0
    ) -> int:
        """One page of a big room (a page job): the change read back from the feed."""
        change = self.feed.get(room_id, seq)
        if change is None:  # expired from the feed: too old to be worth showing live
            _log.warning("fanout_change_gone", room_id=room_id, seq=seq)
            return 0
        return self._send(change, connection_ids, attempt)

    def _send(
        self, change: RoomChange, connection_ids: Sequence[str], attempt: int, requeue: bool = True
    ) -> int:
        self.fault("send")
        report = self.notifier.send(connection_ids, change)
        metrics.record_sends(report.delivered, len(report.failed), len(report.gone))
        if report.gone:
            self.connections.unregister_many(sorted(report.gone))
        if report.retryable:
            again = sorted(report.retryable)
            if self.pages is None or attempt >= REQUEUES or not requeue:
                raise DeliveryFailed(f"{len(again)} posts failed")
            delay = min(MAX_RETRY_DELAY_S, RETRY_DELAY_S * 2**attempt)
            self.pages.enqueue(room_of(change), change.seq, again, delay, attempt + 1)
            _log.warning("fanout_requeued", seq=change.seq, connections=len(again), delay_s=delay)
        return report.delivered
