"""F2-F4, F9 of the red team's second pass, through the real local stack (sockets and HTTP).

- F2: floods of `editMessage`/`deleteMessage` (each re-sends a whole message to every
  subscriber) and of `subscribe`/`unsubscribe` toggles (each announcing presence) were
  unlimited. Edits and deletes now share the `messages` limit with sendMessage; subscribe and
  unsubscribe share typing's limit; re-subscribing a room does not re-announce presence.
- F3: invite spam filled the victim's room cap so their own create/join answered 409. Pending
  invites no longer count against the invitee's rooms; they have their own cap per invitee
  (further invites are dropped unseen), and POST /invites/decline-all clears them at once.
- F4: POST /direct bypassed blocks, and opening a direct room exposed the target's presence and
  lastSeen. A blocked user is answered as for nobody (404); presence and lastSeen through a
  direct room wait until both members took part in it.
- F9: an invite outlived its sender's membership; accepting it now answers 404.

The limit floods run on a stack with tight limits (tests/security/test_limits.TIGHT); the rest
on the session's stack, whose per-user limits are out of the way.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.client import User
from tests.security.test_limits import TIGHT, refused_frame

pytestmark = pytest.mark.timeout(300)

MISSING_ROOM = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


@pytest.fixture(scope="module")
def tight(tight_stack_url: str) -> str:
    """The shared stack with TIGHT limits (tests/security/conftest.py)."""
    return tight_stack_url


def made(base: str, *names: str) -> list[User]:
    with ThreadPoolExecutor(4) as pool:  # sign-up is slowish: in parallel
        return list(pool.map(lambda n: User(base, n), names))


def wait_for(condition: Callable[[], bool], attempts: int = 100) -> None:
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition never held")


def posted(frame: dict[str, Any]) -> str | None:
    """The id of the message a message.posted event carries (None for any other frame)."""
    if frame.get("type") != "message.posted":
        return None
    return str(frame["message"]["id"])


def newest(user: User, room_id: str) -> dict[str, Any]:
    message: dict[str, Any] = user.get(f"/rooms/{room_id}/messages", limit=1)["messages"][0]
    return message


def test_edit_and_delete_floods_are_counted_in_the_messages_limit(tight: str) -> None:
    author, reader = made(tight, "f2edit", "f2read")
    room = author.room(f"edits {uuid.uuid4().hex[:4]}")
    reader.post(f"/rooms/{room}/join")
    s = author.socket()
    try:
        message = s.post(room, "v0")
        edits: list[int] = []
        for i in range(1, 25):  # the 10-second window allows 10, at most 20 across a boundary
            frame = {"action": "editMessage", "roomId": room, "messageId": message["id"]}
            reply = s.call({**frame, "text": f"v{i}"})
            if reply["type"] == "error":
                refused_frame(reply)
                break
            edits.append(i)
        else:
            raise AssertionError("24 edits in a row were all accepted")
        assert len(edits) < 2 * TIGHT.messages_per_second * 10
        # Nothing was stored for the refused edit: the last accepted one stands.
        assert newest(reader, room)["text"] == f"v{edits[-1]}"
        deletes = 0
        for _ in range(24):
            frame = {"action": "deleteMessage", "roomId": room, "messageId": message["id"]}
            reply = s.call(frame)
            if reply["type"] == "error":
                refused_frame(reply)
                break
            deletes += 1
        else:
            raise AssertionError("24 deletes in a row were all accepted")
        assert deletes < 2 * TIGHT.messages_per_second * 10
    finally:
        s.close()


def test_subscribe_toggle_floods_are_counted_and_presence_follows_the_acks(tight: str) -> None:
    owner, toggler = made(tight, "f2own", "f2tog")
    room = owner.room(f"toggles {uuid.uuid4().hex[:4]}")
    toggler.post(f"/rooms/{room}/join")
    watcher = owner.socket()
    s = toggler.socket()
    try:
        assert watcher.call({"action": "subscribe", "roomIds": [room]})["type"] == "ack"
        subscribed = 0
        for i in range(30):
            action = "subscribe" if i % 2 == 0 else "unsubscribe"
            reply = s.call({"action": action, "roomIds": [room]})
            if reply["type"] == "error":
                refused_frame(reply)
                break
            subscribed += action == "subscribe"
        else:
            raise AssertionError("30 subscribe/unsubscribe frames were all accepted")
        # The owner's socket still works, and heard at most one announcement per accepted one.
        marker = watcher.post(room, "still here")
        watcher.wait(lambda f: posted(f) == marker["id"])
        heard = [f for f in watcher.events("presence.changed") if f["userId"] == toggler.id]
        assert 1 <= len(heard) <= subscribed
    finally:
        s.close()
        watcher.close()


def test_resubscribing_a_followed_room_does_not_announce_presence_again(stack_url: str) -> None:
    owner, member = made(stack_url, "f2w", "f2m")
    room = owner.room(f"again {uuid.uuid4().hex[:4]}")
    member.post(f"/rooms/{room}/join")
    watcher = owner.socket()
    s = member.socket()
    try:
        assert watcher.call({"action": "subscribe", "roomIds": [room]})["type"] == "ack"
        for _ in range(5):
            assert s.call({"action": "subscribe", "roomIds": [room]})["type"] == "ack"
        marker = s.post(room, "barrier")  # sent after every announcement the acks caused
        watcher.wait(lambda f: posted(f) == marker["id"])
        heard = [f for f in watcher.events("presence.changed") if f["userId"] == member.id]
        assert [f["online"] for f in heard] == [True]
    finally:
        s.close()
        watcher.close()


def test_invite_spam_never_locks_the_victim_out_and_is_declined_at_once(stack_url: str) -> None:
    """Others' pending invites never count against the victim's own rooms. The per-invitee cap
    (Limits.max_pending_invites, further invites dropped unseen) is reached in the unit tests
    (tests/unit/test_membership.py): 100 room creations here would cost the CI budget."""
    spammer, victim, other = made(stack_url, "f3spam", "f3vic", "f3oth")
    public = other.room(f"open {uuid.uuid4().hex[:4]}")
    spam_count = 12

    def spam(i: int) -> int:
        body = {"name": f"spam {i}", "kind": "private", "members": [victim.id]}
        return spammer.request("POST", "/rooms", body).status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(spam, range(spam_count))) == [201] * spam_count
    assert len(victim.get("/invites")["invites"]) == spam_count
    assert victim.request("POST", "/rooms", {"name": "mine", "kind": "public"}).status_code == 201
    assert victim.request("POST", f"/rooms/{public}/join").status_code == 200
    first = victim.get("/invites")["invites"][0]["roomId"]
    assert victim.request("POST", f"/invites/{first}/accept").status_code == 200
    assert victim.post("/invites/decline-all") == {"declined": spam_count - 1}
    assert victim.get("/invites")["invites"] == []
    assert victim.post("/invites/decline-all") == {"declined": 0}
    mine = {r["room"]["roomId"] for r in victim.get("/rooms", limit=100)["rooms"]}
    assert {first, public} <= mine
    assert len(mine) == 3


def test_a_blocked_user_cannot_reach_the_blocker_through_a_direct_room(stack_url: str) -> None:
    victim, stranger = made(stack_url, "f4vic", "f4str")
    victim.socket().close()  # lastSeen is set once $disconnect ran
    wait_for(lambda: victim.get("/me")["user"]["lastSeen"] is not None)
    online = victim.socket()
    s = stranger.socket()
    try:
        dm = stranger.post("/direct", {"userId": victim.id})["room"]["roomId"]
        s.post(dm, "hi, stranger here")
        assert s.call({"action": "subscribe", "roomIds": [dm]})["type"] == "ack"
        # Until the victim takes part, the direct room reveals neither presence nor lastSeen.
        assert stranger.get(f"/users/{victim.id}")["user"]["lastSeen"] is None
        entry = next(
            p for p in stranger.get(f"/rooms/{dm}/presence")["members"] if p["userId"] == victim.id
        )
        assert (entry["online"], entry.get("lastSeen")) == (False, None)
        assert online.call({"action": "subscribe", "roomIds": [dm]})["type"] == "ack"
        # The victim blocks the stranger without any invite.
        assert victim.post(f"/blocks/{stranger.id}") == {"blocked": stranger.id}
        again = stranger.request("POST", "/direct", {"userId": victim.id})
        nobody = stranger.request("POST", "/direct", {"userId": MISSING_ROOM})
        assert again.status_code == nobody.status_code == 404
        assert again.json() == nobody.json()
        refused = s.call({"action": "sendMessage", "roomId": dm, "text": "hello?", "clientId": "x"})
        missing = s.call({"action": "sendMessage", "roomId": MISSING_ROOM, "text": "x", "clientId": "y"})  # fmt: skip
        assert refused["type"] == missing["type"] == "error"
        assert refused["error"] == missing["error"]
        assert newest(stranger, dm)["text"] == "hi, stranger here"  # "hello?" was not stored
        shown = newest(victim, dm)  # and the blocker reads the blocked author as a stub
        assert (shown["id"], shown["hidden"], shown["text"]) == (
            newest(stranger, dm)["id"],
            "blocked",
            "",
        )
        assert not [f for f in online.frames if f.get("type") == "presence.changed"]
        # Unblocked and once both posted, the direct room shares presence as any room does.
        assert victim.request("DELETE", f"/blocks/{stranger.id}").status_code == 200
        online.post(dm, "hello back")
        entry = next(
            p for p in stranger.get(f"/rooms/{dm}/presence")["members"] if p["userId"] == victim.id
        )
        assert entry["online"] is True
        assert stranger.get(f"/users/{victim.id}")["user"]["lastSeen"] is not None
    finally:
        s.close()
        online.close()


def test_an_invite_from_someone_who_left_is_void(stack_url: str) -> None:
    owner, heir, invitee = made(stack_url, "f9own", "f9heir", "f9inv")
    body = {"name": "soon left", "kind": "private", "members": [heir.id, invitee.id]}
    room = owner.post("/rooms", body)["room"]["roomId"]
    heir.post(f"/invites/{room}/accept")
    owner.post(f"/rooms/{room}/leave")
    late = invitee.request("POST", f"/invites/{room}/accept")
    assert late.status_code == 404, late.text
    assert late.json()["error"]["code"] == "not_found"
    assert invitee.get("/invites")["invites"] == []
    assert room not in {r["room"]["roomId"] for r in invitee.get("/rooms")["rooms"]}
    assert invitee.request("GET", f"/rooms/{room}/messages").status_code == 404
