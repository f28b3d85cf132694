"""The clients' room feed (client/feed.py) fed frames by hand: the apply rule with duplicates
and gaps, idempotent changes, the sync v2 loop on hasMore against a fake feed, feed_expired,
the resync after a reconnect, and the terminal client acting on what the feed asks."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
import websockets

from dynamotalk.client.feed import SYNC_PAGE, Feeds, RoomFeed, Step
from dynamotalk.client.live import act, on_frame
from dynamotalk.client.mcp_server import AssistantChat
from dynamotalk.client.session import Session
from tests.unit.test_clients import CONFIG, ROOM, api, terminal

Frame = dict[str, Any]


def message(n: int, text: str | None = None, **more: Any) -> Frame:
    return {
        "id": f"m{n:03d}",
        "roomId": "r1",
        "authorId": "u1",
        "text": f"text {n}" if text is None else text,
        "deleted": False,
        "seq": n,
        **more,
    }


def posted(seq: int, n: int | None = None, v: int = 2) -> Frame:
    return {
        "v": v,
        "type": "message.posted",
        "roomId": "r1",
        "seq": seq,
        "message": message(n or seq),
    }


def edited(seq: int, n: int, text: str) -> Frame:
    return {
        "v": 2,
        "type": "message.edited",
        "roomId": "r1",
        "seq": seq,
        "message": message(n, text),
    }


def seqs(step: Step) -> list[int]:
    return [change["seq"] for change in step.applied]


def test_a_duplicate_is_dropped_the_next_is_applied_and_a_gap_asks_for_a_sync() -> None:
    feeds = Feeds()
    feeds.room("r1").follow_from(5, [])
    assert seqs(feeds.handle(posted(6))) == [6]
    assert seqs(feeds.handle(posted(6))) == []  # redelivered
    assert seqs(feeds.handle(posted(3))) == []  # older than the history page
    gap = feeds.handle(posted(9))
    assert (gap.applied, gap.consumed) == ([], True)
    assert gap.send == [
        {"action": "sync", "requestId": "sync-1", "roomId": "r1", "limit": SYNC_PAGE, "afterSeq": 6}
    ]
    # Another change past the gap while the sync is out: held, no second sync.
    assert feeds.handle(posted(8)).send == []
    # A change that closes part of the gap live is applied; the held ones wait their turn.
    assert seqs(feeds.handle(posted(7))) == [7, 8, 9]
    assert feeds.rooms["r1"].last_seq == 9
    assert not feeds.rooms["r1"].gap


def test_the_sync_fills_the_gap_and_releases_the_held_change() -> None:
    feeds = Feeds()
    feeds.room("r1").follow_from(2, [])
    ask = feeds.handle(posted(5)).send[0]
    reply = {
        "v": 2,
        "type": "ack",
        "action": "sync",
        "requestId": ask["requestId"],
        "roomId": "r1",
        "changes": [posted(3), posted(4), posted(5)],  # the sync includes the triggering one
        "seq": 5,
        "hasMore": False,
    }
    step = feeds.handle(reply)
    assert seqs(step) == [3, 4, 5]
    assert step.send == []
    assert sorted(feeds.rooms["r1"].messages) == ["m003", "m004", "m005"]
    assert not feeds.rooms["r1"].syncing
    assert seqs(feeds.handle(copy.deepcopy(reply))) == []  # the same answer twice: nothing new


def test_a_room_never_loaded_follows_from_its_first_change() -> None:
    feeds = Feeds()
    assert seqs(feeds.handle(posted(41))) == [41]
    assert feeds.rooms["r1"].last_seq == 41
    assert feeds.resync() == [
        {
            "action": "sync",
            "requestId": "sync-1",
            "roomId": "r1",
            "limit": SYNC_PAGE,
            "afterSeq": 41,
        }
    ]


def test_applying_each_change_twice_gives_the_state_of_applying_it_once() -> None:
    feed = RoomFeed("r1")
    feed.follow_from(1, [message(1)])
    membership = {"roomId": "r1", "userId": "u2", "role": "member", "joinedAt": 1}
    changes: list[Frame] = [
        posted(2),
        edited(3, 2, "edited"),
        {**edited(4, 1, "reacted"), "type": "reaction.changed", "messageId": "m001"},
        {**edited(5, 2, ""), "type": "message.deleted"},
        {"type": "member.joined", "roomId": "r1", "seq": 6, "membership": membership},
        edited(7, 99, "a message this client never loaded"),
        {
            "type": "member.joined",
            "roomId": "r1",
            "seq": 8,
            "membership": {**membership, "userId": "u3"},
        },
        {"type": "member.left", "roomId": "r1", "seq": 9, "userId": "u2"},
    ]
    for change in changes:
        feed.apply(change)
        once = copy.deepcopy((feed.messages, feed.members))
        feed.apply(change)
        assert (feed.messages, feed.members) == once, change["type"]
    assert feed.messages["m001"]["text"] == "reacted"
    assert feed.messages["m002"]["text"] == ""
    assert "m099" not in feed.messages
    assert list(feed.members) == ["u3"]


class FakeFeed:
    """A server's change feed for one room: answers sync v2 a page at a time."""

    def __init__(self, changes: list[Frame]) -> None:
        self.changes = changes
        self.asked: list[int] = []

    def answer(self, frame: Frame) -> Frame:
        after, limit = frame["afterSeq"], frame["limit"]
        self.asked.append(after)
        page = [c for c in self.changes if c["seq"] > after][:limit]
        head = self.changes[-1]["seq"]
        seq = page[-1]["seq"] if page else after
        return {
            "v": 2,
            "type": "ack",
            "action": "sync",
            "requestId": frame["requestId"],
            "roomId": frame["roomId"],
            "changes": page,
            "seq": seq,
            "hasMore": seq < head,
        }


def converse(feeds: Feeds, server: FakeFeed, sends: list[Frame]) -> list[int]:
    """Send every frame the feeds ask for to `server` and hand back its answers."""
    applied: list[int] = []
    while sends:
        step = feeds.handle(server.answer(sends.pop(0)))
        applied += seqs(step)
        sends += step.send
    return applied


def test_a_sync_loops_while_has_more_and_applies_every_change_in_order() -> None:
    changes = [posted(n) for n in range(1, 11)]
    changes[6] = edited(7, 3, "edited while away")
    server = FakeFeed(changes)
    feeds = Feeds(limit=3)
    feeds.room("r1").follow_from(1, [message(1)])
    applied = converse(feeds, server, feeds.resync())
    assert server.asked == [1, 4, 7]  # three pages of 3, the last without more
    assert applied == list(range(2, 11))
    feed = feeds.rooms["r1"]
    assert feed.last_seq == 10
    assert feed.messages["m003"]["text"] == "edited while away"
    assert not feed.syncing
    assert feeds.syncs == {}


def test_a_gap_the_feed_cannot_fill_stops_asking_after_a_few_rounds() -> None:
    server = FakeFeed([posted(n) for n in range(1, 4)])  # lags: knows nothing past 3
    feeds = Feeds()
    feeds.room("r1").follow_from(3, [])
    applied = converse(feeds, server, feeds.handle(posted(6)).send)
    assert applied == []
    assert server.asked == [3, 3, 3]
    assert not feeds.rooms["r1"].syncing
    # The next change past the gap asks again.
    assert len(feeds.handle(posted(7)).send) == 1


def test_feed_expired_asks_the_client_to_reload_the_room() -> None:
    feeds = Feeds()
    feeds.room("r1").follow_from(2, [message(1)])
    [ask] = feeds.resync()
    refused = {
        "v": 2,
        "type": "error",
        "requestId": ask["requestId"],
        "error": {"code": "feed_expired", "message": "too old"},
    }
    step = feeds.handle(refused)
    assert (step.reload, step.consumed) == (["r1"], True)
    feed = feeds.rooms["r1"]
    assert not feed.syncing
    feed.follow_from(90, [message(88)], reset=True)
    assert (feed.last_seq, list(feed.messages)) == (90, ["m088"])
    # Other errors are not the feeds' business.
    assert not feeds.handle({"type": "error", "requestId": "x", "error": {"code": "c"}}).consumed


def test_history_moves_a_feed_forward_never_back() -> None:
    feed = RoomFeed("r1")
    feed.follow_from(7, [message(7)])
    feed.follow_from(4, [message(4)])  # an older page (scrolling back): position kept
    assert feed.last_seq == 7
    feed.receive(posted(10))
    feed.follow_from(12, [])  # the held change is now behind the page: dropped
    assert (feed.last_seq, feed.gap) == (12, False)


def test_frames_of_v1_and_v2_are_both_taken() -> None:
    feeds = Feeds()
    assert seqs(feeds.handle(posted(1, v=2))) == [1]
    v1 = posted(2, v=1)
    del v1["seq"]
    assert feeds.handle(v1).applied == [v1]


def test_the_terminal_prints_changes_once_and_sends_the_sync_a_gap_needs() -> None:
    chat, socket, out = terminal()
    chat.rooms = {"r1": {**ROOM, "unread": 0}}
    chat.feeds.room("r1").follow_from(1, [])

    async def feed(frame: Frame) -> None:
        await act(chat, on_frame(chat, frame))

    async def script() -> None:
        await feed(posted(2))
        await feed(posted(2))  # a duplicate delivery prints nothing
        await feed(edited(4, 2, "fixed"))  # a gap: held, and a sync from 2
        await feed(
            {
                "v": 2,
                "type": "ack",
                "action": "sync",
                "requestId": socket.sent[0]["requestId"],
                "roomId": "r1",
                "changes": [posted(3), edited(4, 2, "fixed")],  # 4 again, as sync brings it
                "seq": 4,
                "hasMore": False,
            }
        )
        await feed(edited(4, 2, "fixed"))  # redelivered: dropped

    asyncio.run(script())
    assert [f["afterSeq"] for f in socket.sent] == [2]
    assert out.getvalue().splitlines() == [
        "[lobby] u1: text 2  #m002",
        "(missed) [lobby] u1: text 3  #m003",
        "(edited) [lobby] u1: fixed  #m002",
    ]


def test_the_mcp_server_waits_on_the_feed_syncing_from_the_historys_seq() -> None:
    """A real socket to a fake stage: history gives seq 3, the wait's sync loops on hasMore
    (an edit made meanwhile lands too), and the post that arrives live ends the wait."""
    asked: list[Frame] = []
    pages = {3: ([posted(4), edited(5, 1, "edited meanwhile")], 5, True), 5: ([], 5, False)}

    async def stage_socket(socket: Any) -> None:
        async for raw in socket:
            frame = json.loads(raw)
            asked.append(frame)
            if frame["action"] == "sync":
                changes, seq, more = pages[frame["afterSeq"]]
                reply = {"changes": changes, "seq": seq, "hasMore": more, "roomId": "r1"}
                await socket.send(
                    json.dumps(
                        {
                            "v": 2,
                            "type": "ack",
                            "action": "sync",
                            "requestId": frame["requestId"],
                            **reply,
                        }
                    )
                )
                if not more:
                    await socket.send(json.dumps(posted(6)))

    def history(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/users/"):
            return httpx.Response(200, json={"user": {"username": "ann"}})
        return httpx.Response(200, json={"messages": [message(1)], "nextCursor": None, "seq": 3})

    async def scenario() -> list[str]:
        async with websockets.serve(stage_socket, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            chat = AssistantChat(
                Session({**CONFIG, "wsUrl": f"ws://127.0.0.1:{port}"}, "me", user_id="u9")
            )
            chat.client = api(history)
            waited = await chat.catch_up("r1", lambda feed: "m006" in feed.messages, 10)
            assert waited.messages["m001"]["text"] == "edited meanwhile"
            return sorted(waited.messages)

    assert asyncio.run(scenario()) == ["m001", "m004", "m006"]
    assert [(f["action"], f.get("afterSeq")) for f in asked] == [
        ("subscribe", None),
        ("sync", 3),
        ("sync", 5),
    ]
