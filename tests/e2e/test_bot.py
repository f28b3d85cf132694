"""The bot participant end to end on the local stack: a mention, typing, a live reply that is
in history, context from earlier messages, an apology on a model failure, and recovery once the
breaker closes (the local stack's breaker: 2 failures, 2 s cooldown, set by tests/support)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.client import User

pytestmark = pytest.mark.timeout(120)


def bot_reply(socket: object, after: str, timeout: float = 15) -> dict[str, object]:
    frame = socket.wait(  # type: ignore[attr-defined]
        lambda f: (
            f["type"] == "message.posted" and f["message"]["clientId"] == f"bot-reply-{after}"
        ),
        timeout,
    )
    return frame["message"]  # type: ignore[no-any-return]


def test_mention_typing_reply_context_apology_and_recovery(stack_url: str) -> None:
    alice, bob = User(stack_url, "botalice"), User(stack_url, "botbob")
    room_id = alice.room("bot room")
    assert alice.post(f"/rooms/{room_id}/members", {"username": "bot"})["membership"]["userId"]
    bob.post(f"/rooms/{room_id}/join")
    a, b = alice.socket(), bob.socket()
    for s in (a, b):
        s.call({"action": "subscribe", "roomIds": [room_id]})
    b.post(room_id, "we deploy on Fridays")
    b.post(room_id, "never on Mondays")
    started = time.monotonic()
    asked = a.post(room_id, "@bot when do we deploy?")
    assert time.monotonic() - started < 5, "the sender's ack does not wait for the model"
    typing = b.wait(lambda f: f["type"] == "typing" and f["username"] == "bot")
    assert typing["roomId"] == room_id
    reply = bot_reply(b, asked["id"])
    assert reply["text"] == "You said: when do we deploy? (I saw 2 earlier messages)"
    history = alice.get(f"/rooms/{room_id}/messages", limit=5)["messages"]
    assert history[0]["id"] == reply["id"]
    assert history[0]["authorId"] == "dynamotalk-bot"

    # The model fails: the bot apologises; twice in a row opens its breaker.
    for n in range(2):
        failed = a.post(room_id, f"@bot /fail {n}")
        assert bot_reply(b, failed["id"])["text"].startswith("Sorry, I can't answer right now")
    while_open = a.post(room_id, "@bot are you back?")
    assert bot_reply(b, while_open["id"])["text"].startswith("Sorry")
    time.sleep(2.5)  # the breaker's cooldown
    recovered = a.post(room_id, "@bot hello again")
    assert bot_reply(b, recovered["id"])["text"].startswith("You said: hello again")
    a.close()
    b.close()


def test_a_direct_room_with_the_bot_needs_no_mention(stack_url: str) -> None:
    carol = User(stack_url, "botcarol")
    room = carol.post("/direct", {"username": "bot"})["room"]
    s = carol.socket()
    s.call({"action": "subscribe", "roomIds": [room["roomId"]]})
    asked = s.post(room["roomId"], "/help")
    assert "Mention @bot" in str(bot_reply(s, asked["id"])["text"])
    s.close()
