"""Blocking and reports end to end on the local stack (issue 17, "Block and report"): real
sockets and HTTP, the real handlers, the fan-out from the table's stream, on DynamoDB Local.

A blocker reads a blocked author's messages in a shared public room as stubs (same id, seq and
author, no text, `hidden: "blocked"`) in history, sync v1, sync v2 and live, while a third user
reads them in full; the blocked author sees no difference from an unblocked one. A report keeps
its snapshot through an edit and a delete; only the room's admins (here its owner) read the
queue and resolve it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.client import Socket, User

pytestmark = pytest.mark.timeout(180)

HIDDEN = "blocked"
UNKNOWN_ID = "01J00000000000000000000000"


def subscribed(user: User, room_id: str) -> Socket:
    socket = user.socket()
    assert socket.call({"action": "subscribe", "roomIds": [room_id]})["type"] == "ack"
    return socket


def posted(socket: Socket, message_id: str, kind: str = "message.posted") -> dict[str, Any]:
    frame = socket.wait(lambda f: f["type"] == kind and f["message"]["id"] == message_id)
    message: dict[str, Any] = frame["message"]
    return message


def is_stub(message: dict[str, Any], author: User) -> bool:
    return (
        message.get("hidden") == HIDDEN
        and message["authorId"] == author.id
        and message["text"] == ""
        and message["attachments"] == []
        and message["reactions"] == {}
    )


@pytest.fixture
def crowd(stack_url: str) -> dict[str, Any]:
    """A public room with its owner, a blocker, a watcher, the blocked author and a control
    author nobody blocked; the blocker has blocked the author."""
    tag = uuid.uuid4().hex[:4]
    owner, blocker, watcher = (User(stack_url, f"{p}{tag}") for p in ("own", "blk", "wat"))
    spammer, control = User(stack_url, f"spm{tag}"), User(stack_url, f"ctl{tag}")
    room_id = owner.room(f"e2e block {tag}")
    for user in (blocker, watcher, spammer, control):
        user.post(f"/rooms/{room_id}/join")
    assert blocker.post(f"/blocks/{spammer.id}") == {"blocked": spammer.id}
    return {
        "room": room_id,
        "owner": owner,
        "blocker": blocker,
        "watcher": watcher,
        "spammer": spammer,
        "control": control,
    }


def test_the_blocker_gets_stubs_everywhere_and_a_third_user_the_full_message(
    crowd: dict[str, Any],
) -> None:
    room_id, blocker, watcher = crowd["room"], crowd["blocker"], crowd["watcher"]
    spammer, control = crowd["spammer"], crowd["control"]
    listed = blocker.get("/blocks")["blocks"]
    assert [b["userId"] for b in listed] == [spammer.id]
    assert watcher.get("/blocks") == {"blocks": []}

    seq_before = blocker.get(f"/rooms/{room_id}/messages")["seq"]
    b, w = subscribed(blocker, room_id), subscribed(watcher, room_id)
    s, c = spammer.socket(), control.socket()
    first = c.post(room_id, "from the control")
    spam = s.post(room_id, "buy cheap pills")

    # Live: the blocker's socket gets the stub with the change's seq; the watcher the message.
    live = posted(b, spam["id"])
    assert is_stub(live, spammer), live
    assert live["seq"] == spam["seq"]
    assert posted(w, spam["id"])["text"] == "buy cheap pills"
    assert posted(b, first["id"])["text"] == "from the control", "others' messages in full"
    assert (
        s.call(
            {
                "action": "editMessage",
                "roomId": room_id,
                "messageId": spam["id"],
                "text": "buy cheaper pills",
            }
        )["type"]
        == "ack"
    )
    edited = posted(b, spam["id"], "message.edited")
    assert is_stub(edited, spammer), edited
    assert posted(w, spam["id"], "message.edited")["text"] == "buy cheaper pills"

    # History.
    def by_id(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {m["id"]: m for m in messages}

    seen = by_id(blocker.get(f"/rooms/{room_id}/messages")["messages"])
    assert is_stub(seen[spam["id"]], spammer)
    assert seen[first["id"]]["text"] == "from the control"
    full = by_id(watcher.get(f"/rooms/{room_id}/messages")["messages"])
    assert full[spam["id"]]["text"] == "buy cheaper pills"
    assert "hidden" not in full[spam["id"]]

    # Sync v1 (afterId) and v2 (afterSeq): nothing dropped, the author's message a stub.
    v1 = b.call({"action": "sync", "roomId": room_id, "afterId": first["id"]})
    assert [m["id"] for m in v1["messages"]] == [spam["id"]]
    assert is_stub(v1["messages"][0], spammer)
    v2 = b.call({"action": "sync", "roomId": room_id, "afterSeq": seq_before, "limit": 50})
    seqs = [change["seq"] for change in v2["changes"]]
    assert seqs == list(range(seq_before + 1, seq_before + 1 + len(seqs))), "no gap by seq"
    spam_changes = [ch for ch in v2["changes"] if ch.get("message", {}).get("id") == spam["id"]]
    assert [ch["type"] for ch in spam_changes] == ["message.posted", "message.edited"]
    assert all(is_stub(ch["message"], spammer) for ch in spam_changes)
    w2 = w.call({"action": "sync", "roomId": room_id, "afterSeq": seq_before, "limit": 50})
    assert [ch["seq"] for ch in w2["changes"]] == seqs
    assert all("hidden" not in ch.get("message", {}) for ch in w2["changes"])

    # Unblocked, the messages read in full again.
    assert blocker.request("DELETE", f"/blocks/{spammer.id}").status_code == 200
    assert blocker.get("/blocks") == {"blocks": []}
    again = by_id(blocker.get(f"/rooms/{room_id}/messages")["messages"])
    assert again[spam["id"]]["text"] == "buy cheaper pills"
    for socket in (b, w, s, c):
        socket.close()


def _shape(value: Any) -> Any:
    """The shape of an answer: keys and value types, not the values (ids, times differ)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def _experience(user: User, room_id: str, other: User) -> list[Any]:
    """What one author meets doing the usual things in the room: statuses and shapes."""
    socket = subscribed(user, room_id)
    answers: list[Any] = []
    mine = socket.post(room_id, f"hello from {user.name}")
    answers.append(_shape({k: v for k, v in mine.items() if k != "text"}))
    edit = {"action": "editMessage", "roomId": room_id, "messageId": mine["id"], "text": "edit"}
    answers.append(_shape(socket.call(edit)))
    react = {"action": "react", "roomId": room_id, "messageId": mine["id"], "emoji": "🎉"}
    answers.append(_shape(socket.call(react)))
    page = user.get(f"/rooms/{room_id}/messages")
    own = [m for m in page["messages"] if m["id"] == mine["id"]]
    answers.append((own[0]["text"], own[0].get("hidden"), own[0]["reactionCounts"]))
    answers.append(sorted({str(m.get("hidden")) for m in page["messages"]}))
    synced = socket.call({"action": "sync", "roomId": room_id, "afterSeq": 0, "limit": 50})
    answers.append(sorted({str(ch.get("message", {}).get("hidden")) for ch in synced["changes"]}))
    for path in (f"/rooms/{room_id}", f"/rooms/{room_id}/members", f"/users/{other.id}"):
        reply = user.request("GET", path)
        answers.append((path.replace(room_id, "R").replace(other.id, "U"), reply.status_code))
    answers.append(user.get("/blocks"))
    socket.close()
    return answers


def test_the_blocked_author_sees_no_difference_from_an_unblocked_one(
    crowd: dict[str, Any],
) -> None:
    room_id, blocker = crowd["room"], crowd["blocker"]
    blocked = _experience(crowd["spammer"], room_id, blocker)
    unblocked = _experience(crowd["control"], room_id, blocker)
    assert blocked == unblocked
    assert blocked[3] == ("edit", None, {"🎉": 1}), "their own message, in full"


def test_a_report_keeps_its_snapshot_and_only_admins_see_the_queue(
    crowd: dict[str, Any],
) -> None:
    room_id, owner, watcher = crowd["room"], crowd["owner"], crowd["watcher"]
    spammer, control = crowd["spammer"], crowd["control"]
    s, c = spammer.socket(), control.socket()
    for n in range(3):
        c.post(room_id, f"context {n}")
    spam = s.post(room_id, "click my link")
    path = f"/rooms/{room_id}/messages/{spam['id']}/report"

    made = watcher.request("POST", path, {"reason": "spam", "note": "a link farm"})
    assert made.status_code == 201, made.text
    receipt = made.json()["report"]
    assert receipt["messageId"] == spam["id"]
    assert receipt["reason"] == "spam"
    assert set(receipt) == {"id", "roomId", "messageId", "reason", "note", "createdAt"}
    repeat = watcher.request("POST", path, {"reason": "other"})
    assert repeat.status_code == 200
    assert repeat.json()["report"]["id"] == receipt["id"], "one open report per reporter"

    for body, code in (
        ({"reason": "boring"}, "invalid_input"),
        ({"reason": "spam", "note": "x" * 501}, "invalid_input"),
        ({"reason": "spam", "extra": 1}, "invalid_input"),
    ):
        bad = watcher.request("POST", path, body)
        assert (bad.status_code, bad.json()["error"]["code"]) == (400, code), body
    own = spammer.request("POST", path, {"reason": "spam"})
    assert own.status_code == 400
    nowhere = f"/rooms/{room_id}/messages/{UNKNOWN_ID}/report"
    assert watcher.request("POST", nowhere, {"reason": "spam"}).status_code == 404

    # Edited, then deleted: the report keeps what was reported.
    edit = {"action": "editMessage", "roomId": room_id, "messageId": spam["id"], "text": "nothing"}
    assert s.call(edit)["type"] == "ack"
    gone = {"action": "deleteMessage", "roomId": room_id, "messageId": spam["id"]}
    assert s.call(gone)["type"] == "ack"

    queue = f"/rooms/{room_id}/reports"
    for outsider in (watcher, spammer, control):
        refused = outsider.request("GET", queue)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "forbidden"
    listed = owner.get(queue)
    assert listed["nextCursor"] is None
    [report] = listed["reports"]
    assert report["id"] == receipt["id"]
    assert report["status"] == "open"
    assert report["reporterId"] == watcher.id
    assert report["note"] == "a link farm"
    assert report["message"]["text"] == "click my link"
    assert report["message"]["authorId"] == spammer.id
    assert [m["text"] for m in report["context"]] == ["context 1", "context 2"]
    assert report["resolution"] is None

    resolve = f"{queue}/{report['id']}/resolve"
    assert watcher.request("POST", resolve, {"outcome": "dismissed"}).status_code == 403
    done = owner.request("POST", resolve, {"outcome": "actioned", "note": "deleted"})
    assert done.status_code == 200, done.text
    resolved = done.json()["report"]
    assert resolved["status"] == "resolved"
    assert resolved["resolution"]["outcome"] == "actioned"
    assert resolved["resolution"]["resolvedBy"] == owner.id
    twice = owner.request("POST", resolve, {"outcome": "dismissed"})
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "conflict")
    assert owner.get(queue)["reports"] == []
    assert [r["id"] for r in owner.get(queue, status="resolved")["reports"]] == [report["id"]]
    assert owner.request("GET", f"{queue}?status=closed").status_code == 400
    for socket in (s, c):
        socket.close()


def test_the_queue_pages_newest_first_and_direct_rooms_have_no_reports(
    crowd: dict[str, Any],
) -> None:
    room_id, owner, watcher = crowd["room"], crowd["owner"], crowd["watcher"]
    spammer = crowd["spammer"]
    s = spammer.socket()
    spam = [s.post(room_id, f"spam {n}") for n in range(3)]
    ids = []
    for message in spam:
        made = watcher.post(f"/rooms/{room_id}/messages/{message['id']}/report", {"reason": "spam"})
        ids.append(made["report"]["id"])
    queue = f"/rooms/{room_id}/reports"
    first = owner.get(queue, limit=2)
    assert [r["id"] for r in first["reports"]] == ids[:0:-1]
    rest = owner.get(queue, limit=2, cursor=first["nextCursor"])
    assert [r["id"] for r in rest["reports"]] == ids[:1]
    assert rest["nextCursor"] is None
    history_cursor = owner.get(f"/rooms/{room_id}/messages", limit=1)["nextCursor"]
    assert owner.request("GET", f"{queue}?cursor={history_cursor}").status_code == 400

    direct = watcher.post("/direct", {"userId": spammer.id})["room"]["roomId"]
    d = spammer.socket()
    there = d.post(direct, "hi")
    refused = watcher.request(
        "POST", f"/rooms/{direct}/messages/{there['id']}/report", {"reason": "spam"}
    )
    assert refused.status_code == 403
    for socket in (s, d):
        socket.close()
