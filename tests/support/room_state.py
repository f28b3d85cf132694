"""A room as a v2 client holds it, written from docs/PROTOCOL.md ("Sequence numbers and the
change feed"), not from dynamotalk.client, so the reliability tests check the documented rules.

Start from history and the member list (`lastSeq` = history's `seq`), then offer each change:
`seq <= lastSeq` is a repeat (dropped), `seq == lastSeq + 1` is applied, a bigger one is a gap
(the caller syncs from `lastSeq`, looping on `hasMore`, and offers what the sync returns).
Applying is idempotent: posted upserts by id; edited, deleted and reaction.changed replace a
message held; member.joined and member.left update the members.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dynamotalk.domain.limits import Limits

Frame = dict[str, Any]
PAGE = Limits().page_size_max
View = tuple[tuple[tuple[Any, ...], ...], tuple[tuple[str, str], ...]]
"""What every device of a room must agree on: messages (id, text, deleted, reactionCounts) in
id order, members (userId, role)."""


def is_change(frame: Frame) -> bool:
    """A room change event: it carries `seq` (a sync's ack carries one too, but is an ack)."""
    return "seq" in frame and "roomId" in frame and frame.get("type") not in ("ack", "error")


class RoomState:
    def __init__(self, messages: Iterable[Frame], members: Iterable[Frame], seq: int) -> None:
        self.messages: dict[str, Frame] = {m["id"]: m for m in messages}
        self.members: dict[str, Frame] = {m["userId"]: m for m in members}
        self.last_seq = seq
        self.applied: list[int] = []
        """Seqs applied, in the order applied: each once, consecutive."""
        self.repeats = 0

    def offer(self, change: Frame) -> bool:
        """Apply `change` by the seq rule; False on a gap (sync, then offer again)."""
        seq: int = change["seq"]
        if seq <= self.last_seq:
            self.repeats += 1
            return True
        if seq > self.last_seq + 1:
            return False
        self._apply(change)
        self.last_seq = seq
        self.applied.append(seq)
        return True

    def _apply(self, change: Frame) -> None:
        kind = change["type"]
        if kind == "member.joined":
            self.members[change["membership"]["userId"]] = change["membership"]
        elif kind == "member.left":
            self.members.pop(change["userId"], None)
        elif kind == "message.posted" or change["message"]["id"] in self.messages:
            self.messages[change["message"]["id"]] = change["message"]

    def view(self) -> View:
        return view(self.messages.values(), self.members.values())


def view(messages: Iterable[Frame], members: Iterable[Frame]) -> View:
    shown = sorted(
        (m["id"], m["text"], m["deleted"], tuple(sorted(m["reactionCounts"].items())))
        for m in messages
    )
    return tuple(shown), tuple(sorted((m["userId"], m["role"]) for m in members))


def catch_up(state: RoomState, sync: Callable[[int], Frame]) -> None:
    """`sync(afterSeq)` until `hasMore` is false, offering every change returned."""
    after = state.last_seq
    while True:
        reply = sync(after)
        assert reply["type"] == "ack", reply
        for change in reply["changes"]:
            assert state.offer(change), f"sync from {after} skipped a seq: {reply}"
        after = reply["seq"]
        if not reply["hasMore"]:
            return


def offer_all(state: RoomState, changes: Iterable[Frame], sync: Callable[[int], Frame]) -> None:
    """The client rule over changes received live, in arrival order."""
    for change in changes:
        if not state.offer(change):
            catch_up(state, sync)
            assert state.offer(change), f"the sync did not reach seq {change['seq']}"


def history(get: Callable[..., Frame], room_id: str) -> tuple[list[Frame], int]:
    """Every message of the room (newest first, all pages) and the feed position read before
    the first page."""
    page = get(f"/rooms/{room_id}/messages", limit=PAGE)
    seq: int = page["seq"]
    messages = list(page["messages"])
    while page["nextCursor"]:
        page = get(f"/rooms/{room_id}/messages", limit=PAGE, cursor=page["nextCursor"])
        messages += page["messages"]
    return messages, seq


def opened(get: Callable[..., Frame], room_id: str) -> RoomState:
    """The room as a client opens it: history, then members (a change made meanwhile comes again
    live or by sync and is applied idempotently)."""
    messages, seq = history(get, room_id)
    return RoomState(messages, get(f"/rooms/{room_id}/members")["members"], seq)
