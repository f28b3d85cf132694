"""A room's change feed as a client follows it (docs/PROTOCOL.md "Protocol v2", docs/WEB.md):
the last seq applied, the rule for each change that arrives, the sync that fills a gap, and the
room state the changes build. Pure: no socket, no clock. The terminal client (live.py) and the
MCP server hand it every frame and send the frames it asks for; web/feed.js is the same logic
for the browser.

The rule, per room, for a change carrying `seq`:
- seq <= lastSeq: a duplicate (a redelivery, or a change a sync already brought): dropped;
- seq == lastSeq + 1: applied, lastSeq = seq, and any change held past the gap that now follows
  is applied too;
- seq > lastSeq + 1: a gap. The change is held and the client syncs from lastSeq (sync v2),
  looping while `hasMore`; the sync brings the missing changes, the held one included.

Applying is idempotent, so a change applied twice leaves the same state: a post upserts its
message by id; an edit, a delete or a reaction replaces the message by id when the client holds
it (a message it never loaded stays unloaded); a reply sets (never adds) its parent's
`replyCount` and `lastReplyAt` from the post's `thread`; member.joined and member.left update
the members.
A room whose lastSeq is unknown (never loaded, never seen a change) starts following at the
first change it sees. A change without `seq` (a v1 server) is applied as it comes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from dynamotalk.client import frames
from dynamotalk.domain import events as ev
from dynamotalk.domain.errors import ErrorCode
from dynamotalk.domain.limits import Limits
from dynamotalk.wire import EVENT_TYPE

Frame = dict[str, Any]

POSTED, EDITED, DELETED, REACTED, JOINED, LEFT = (
    EVENT_TYPE[ev.MessagePosted],
    EVENT_TYPE[ev.MessageEdited],
    EVENT_TYPE[ev.MessageDeleted],
    EVENT_TYPE[ev.ReactionChanged],
    EVENT_TYPE[ev.MemberJoined],
    EVENT_TYPE[ev.MemberLeft],
)
CHANGES = frozenset({POSTED, EDITED, DELETED, REACTED, JOINED, LEFT}) | {
    EVENT_TYPE[ev.RoomUpdated],  # issue 17's room changes: numbered like the others, so a
    EVENT_TYPE[ev.MessagePinned],  # client that does not show them yet still follows the feed
    EVENT_TYPE[ev.MessageUnpinned],
}
"""Event types that are room changes: each carries the room's next `seq`."""
HELD_MESSAGES = 1000
"""Messages a feed keeps per room (the newest by id): a long session's memory stays bounded."""
STALLED_ROUNDS = 3
"""Sync rounds in a row that leave a gap open before the client stops asking; the next change
past the gap starts a sync again (the server's feed may lag what was already delivered)."""
SYNC_PAGE = Limits().page_size_max
"""Changes asked for per sync frame."""


@attrs.define
class RoomFeed:
    """One room's position in its feed and the state its changes built."""

    room_id: str
    last_seq: int | None = None
    """The seq of the newest change applied; None until history or a first change sets it."""
    messages: dict[str, Frame] = attrs.Factory(dict)
    """Message JSON by message id."""
    members: dict[str, Frame] = attrs.Factory(dict)
    """Membership JSON by user id (from member.joined / member.left)."""
    held: dict[int, Frame] = attrs.Factory(dict)
    """Changes that arrived past a gap, by seq, until the sync fills it."""
    syncing: bool = False
    stalled: int = 0

    def follow_from(
        self, seq: int | None, messages: Iterable[Frame] = (), reset: bool = False
    ) -> None:
        """A history page: hold its messages, and follow the feed from its `seq` (the feed's
        position read before the page). Without `reset` a feed already further on stays there
        (its state already has what came after); with it (feed_expired) it starts over."""
        if reset:
            self.messages.clear()
            self.held.clear()
            self.last_seq = None
        for message in messages:
            self.messages[message["id"]] = message
        self._trim()
        if seq is not None and (self.last_seq is None or seq > self.last_seq):
            self.last_seq = seq
            self.held = {s: c for s, c in self.held.items() if s > seq}

    def receive(self, change: Frame) -> list[Frame]:
        """Offer one change by the rule; the changes applied, oldest first (none: a duplicate,
        or held past a gap: see `gap`)."""
        seq = change.get("seq")
        if seq is None:  # a v1 server: no order to keep
            self.apply(change)
            return [change]
        if self.last_seq is None:
            self.last_seq = seq - 1
        if seq <= self.last_seq:
            return []
        if seq > self.last_seq + 1:
            self.held[seq] = change
            return []
        self.apply(change)
        self.last_seq = seq
        return [change, *self.release()]

    @property
    def gap(self) -> bool:
        """Changes are held past a gap: the feed needs a sync from `last_seq`."""
        return bool(self.held)

    def newest_id(self) -> str | None:
        return max(self.messages, default=None)

    def apply(self, change: Frame) -> None:
        """Change the room state as `change` says; applying it again changes nothing."""
        kind = change["type"]
        if kind == POSTED:
            message = change["message"]
            self.messages[message["id"]] = message
            self._trim()
            thread, parent = change.get("thread"), message.get("parentId")
            if thread and parent in self.messages:  # set, never added: a repeat counts once
                self.messages[parent] = {
                    **self.messages[parent],
                    "replyCount": thread["replyCount"],
                    "lastReplyAt": thread["lastReplyAt"],
                }
        elif kind in (EDITED, DELETED, REACTED):
            message = change["message"]
            if message["id"] in self.messages:
                self.messages[message["id"]] = message
        elif kind == JOINED:
            self.members[change["membership"]["userId"]] = change["membership"]
        elif kind == LEFT:
            self.members.pop(change["userId"], None)

    def release(self) -> Iterator[Frame]:
        """Apply the held changes that now follow on; drop the ones already passed."""
        assert self.last_seq is not None
        for seq in sorted(self.held):
            if seq <= self.last_seq:
                del self.held[seq]
            elif seq == self.last_seq + 1:
                change = self.held.pop(seq)
                self.apply(change)
                self.last_seq = seq
                yield change
            else:
                return

    def _trim(self) -> None:
        for message_id in sorted(self.messages)[: max(0, len(self.messages) - HELD_MESSAGES)]:
            del self.messages[message_id]


@attrs.define
class Step:
    """What a frame asks of the client: changes to show, frames to send, rooms to reload."""

    applied: list[Frame] = attrs.Factory(list)
    """Room changes applied to the feeds, oldest first."""
    send: list[Frame] = attrs.Factory(list)
    reload: list[str] = attrs.Factory(list)
    """Rooms whose feed expired (sync answered feed_expired): load their history again and
    `follow_from(page["seq"], page["messages"], reset=True)`."""
    consumed: bool = False
    """The frame was a room change or a sync's answer: the feeds dealt with it."""


@attrs.define
class Feeds:
    """Every room the client follows, and the syncs in flight (by request id)."""

    rooms: dict[str, RoomFeed] = attrs.Factory(dict)
    syncs: dict[str, str] = attrs.Factory(dict)
    """requestId -> roomId of each sync frame awaiting its answer."""
    limit: int = SYNC_PAGE
    _ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def room(self, room_id: str) -> RoomFeed:
        if room_id not in self.rooms:
            self.rooms[room_id] = RoomFeed(room_id)
        return self.rooms[room_id]

    def handle(self, frame: Frame) -> Step:
        """Take one frame from the socket (any frame; those not for the feeds are left alone)."""
        if frame.get("type") in CHANGES and "roomId" in frame:
            return self._on_change(frame)
        if frames.is_sync_reply(frame):
            return self._on_sync(frame)
        if frame.get("type") == "error" and frame.get("requestId") in self.syncs:
            return self._on_refused(frame)
        return Step()

    def resync(self, room_ids: Iterable[str] | None = None) -> list[Frame]:
        """After a reconnect: a sync from lastSeq for every room followed (or those given)
        whose lastSeq is known."""
        sends = []
        for room_id in list(self.rooms) if room_ids is None else room_ids:
            feed = self.rooms.get(room_id)
            if feed is not None and feed.last_seq is not None:
                feed.syncing, feed.stalled = False, 0
                sends.append(self._sync(feed))
        return sends

    def _sync(self, feed: RoomFeed) -> Frame:
        assert feed.last_seq is not None
        feed.syncing = True
        request_id = f"sync-{next(self._ids)}"
        self.syncs[request_id] = feed.room_id
        return frames.sync_changes(feed.room_id, feed.last_seq, self.limit, request_id)

    def _on_change(self, change: Frame) -> Step:
        feed = self.room(change["roomId"])
        step = Step(applied=feed.receive(change), consumed=True)
        if feed.gap and not feed.syncing:
            feed.stalled = 0
            step.send.append(self._sync(feed))
        return step

    def _on_sync(self, reply: Frame) -> Step:
        if "changes" not in reply:  # v1's answer (messages after afterId): the client's own
            return Step()
        room_id = self.syncs.pop(reply.get("requestId", ""), None) or reply.get("roomId")
        if room_id is None:
            return Step(consumed=True)
        feed = self.room(room_id)
        before = feed.last_seq
        step = Step(consumed=True)
        for change in reply["changes"]:
            step.applied += feed.receive(change)
        # The server has given everything up to its `seq`: follow on from there.
        if feed.last_seq is None or reply["seq"] > feed.last_seq:
            feed.last_seq = reply["seq"]
        step.applied += feed.release()
        feed.stalled = 0 if feed.last_seq != before else feed.stalled + 1
        if (reply.get("hasMore") or feed.gap) and feed.stalled < STALLED_ROUNDS:
            step.send.append(self._sync(feed))
        else:
            feed.syncing = False
        return step

    def _on_refused(self, frame: Frame) -> Step:
        room_id = self.syncs.pop(frame["requestId"])
        feed = self.room(room_id)
        feed.syncing = False
        step = Step(consumed=True)
        if frame.get("error", {}).get("code") == ErrorCode.FEED_EXPIRED.value:
            feed.held.clear()
            step.reload.append(room_id)
        return step
