"""The bot participant through ChatService with the in-memory adapters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from dynamotalk.adapters.bedrock import EchoAssistant
from dynamotalk.bot import BotWorker
from dynamotalk.domain import events as ev
from dynamotalk.domain.bot import APOLOGY, BOT, mentions_bot
from dynamotalk.domain.models import Message, RoomKind
from dynamotalk.resilience import CircuitBreaker
from tests.unit.world import ALICE, BOB, CAROL, World, make_world


@attrs.define
class Jobs:
    queued: list[tuple[str, str]] = attrs.Factory(list)

    def enqueue(self, room_id: str, message_id: str) -> None:
        self.queued.append((room_id, message_id))


@attrs.define
class Flaky:
    """An assistant that fails while `down` is true and counts its calls."""

    down: bool = False
    calls: int = 0

    def reply(self, context: Sequence[Message], request: Message, names: Mapping[str, str]) -> str:
        self.calls += 1
        if self.down:
            raise TimeoutError("model timed out")
        return f"ok, {len(context)} earlier, asked by {names[request.author_id]}"


def bot_world() -> tuple[World, Jobs, str]:
    jobs = Jobs()
    world = make_world(bot_jobs=jobs)
    world.service.ensure_user(BOT)
    room = world.service.create_room(ALICE, "with bot", RoomKind.PUBLIC, [BOT.user_id, BOB.user_id])
    world.service.accept_invite(BOB, room.room_id)  # the bot joins at once, people accept
    return world, jobs, room.room_id


def test_mentions() -> None:
    assert mentions_bot("hey @bot, what's up?")
    assert mentions_bot("@BOT help")
    assert not mentions_bot("email me at me@bot.example")
    assert not mentions_bot("@botany is a science")


def test_a_mention_queues_a_job_without_waiting_for_the_model() -> None:
    world, jobs, room = bot_world()
    plain = world.service.post_message(ALICE, room, "no mention here", "k1")
    asked = world.service.post_message(ALICE, room, "@bot what is DynamoDB?", "k2")
    assert jobs.queued == [(room, asked.message_id)]
    assert plain.message_id not in {m for _, m in jobs.queued}
    world.service.post_message(ALICE, room, "@bot what is DynamoDB?", "k2")  # a retry
    assert len(jobs.queued) == 1


def test_no_job_where_the_bot_is_not_a_member() -> None:
    world, jobs, _ = bot_world()
    other = world.service.create_room(ALICE, "no bot", RoomKind.PUBLIC)
    world.service.post_message(ALICE, other.room_id, "@bot are you there?", "k1")
    assert jobs.queued == []


def test_every_message_of_a_direct_room_with_the_bot_is_a_job() -> None:
    world, jobs, _ = bot_world()
    direct = world.service.open_direct(CAROL, BOT.user_id)
    message = world.service.post_message(CAROL, direct.room_id, "hello there", "k1")
    assert jobs.queued == [(direct.room_id, message.message_id)]


def test_the_worker_types_reads_context_and_posts_an_ordinary_message() -> None:
    world, jobs, room = bot_world()
    world.online(BOB, "c-bob", room)
    for n in range(3):
        world.service.post_message(BOB, room, f"context {n}", f"c{n}")
    asked = world.service.post_message(ALICE, room, "@bot summarise please", "k1")
    reply = BotWorker(world.service, EchoAssistant()).answer(*jobs.queued[-1])
    assert reply is not None
    assert reply.author_id == BOT.user_id
    assert reply.text == "You said: summarise please (I saw 3 earlier messages)"
    history = world.service.history(ALICE, room, None, 10).messages
    assert history[0] == reply
    assert history[1] == asked
    events = world.events("c-bob")
    typing = next(
        i for i, e in enumerate(events) if isinstance(e, ev.Typing) and e.user_id == BOT.user_id
    )
    posted = next(
        i for i, e in enumerate(events) if isinstance(e, ev.MessagePosted) and e.message == reply
    )
    assert typing < posted, "typing is shown while the bot works"


def test_a_job_delivered_twice_yields_one_reply() -> None:
    world, jobs, room = bot_world()
    world.service.post_message(ALICE, room, "@bot hi", "k1")
    worker = BotWorker(world.service, EchoAssistant())
    first = worker.answer(*jobs.queued[0])
    second = worker.answer(*jobs.queued[0])
    assert first == second
    replies = [
        m
        for m in world.service.history(ALICE, room, None, 10).messages
        if m.author_id == BOT.user_id
    ]
    assert len(replies) == 1


def test_failure_apologises_and_the_breaker_opens_then_closes() -> None:
    world, jobs, room = bot_world()
    now = [0.0]
    model = Flaky(down=True)
    worker = BotWorker(
        world.service,
        model,
        breaker=CircuitBreaker(threshold=2, cooldown_s=30, clock=lambda: now[0]),
    )
    for n in range(3):
        world.service.post_message(ALICE, room, f"@bot question {n}", f"q{n}")
    answers = [worker.answer(*job) for job in jobs.queued]
    assert [a.text for a in answers if a] == [APOLOGY] * 3
    assert model.calls == 2, "the open breaker spared the model the third call"
    model.down = False
    now[0] += 31
    world.service.post_message(ALICE, room, "@bot now?", "q3")
    answer = worker.answer(*jobs.queued[-1])
    assert answer is not None
    assert answer.text.startswith("ok, ")
    assert "asked by alice" in answer.text


def test_a_slow_model_times_out_into_an_apology() -> None:
    import time

    world, jobs, room = bot_world()

    @attrs.define
    class Slow:
        def reply(
            self, context: Sequence[Message], request: Message, names: Mapping[str, str]
        ) -> str:
            time.sleep(1)
            return "too late"

    world.service.post_message(ALICE, room, "@bot quick!", "k1")
    answer = BotWorker(world.service, Slow(), timeout_s=0.05).answer(*jobs.queued[0])
    assert answer is not None
    assert answer.text == APOLOGY


def test_help_and_the_bot_never_answers_itself() -> None:
    world, jobs, room = bot_world()
    world.service.post_message(ALICE, room, "@bot /help", "k1")
    worker = BotWorker(world.service, EchoAssistant())
    reply = worker.answer(*jobs.queued[0])
    assert reply is not None
    assert "Mention @bot" in reply.text
    assert len(jobs.queued) == 1, "the bot's own message (which mentions @bot) queues nothing"
