"""The erasure job's step machine over the in-memory adapters (service/erasure.py): every
step in order, bounded runs that re-queue themselves, a crash at any step finished by the next
run with nothing done twice, and both message policies."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from dynamotalk.adapters.memory.erasure import MemoryErasureStore
from dynamotalk.adapters.memory.push import MemoryPushStore
from dynamotalk.domain import erasure as e
from dynamotalk.domain.models import Role, RoomKind
from dynamotalk.domain.push import PushSubscription
from dynamotalk.service.erasure import Eraser
from tests.unit.world import ALICE, BOB, CAROL, World, make_world


@attrs.define
class Recorder:
    """The queue and the outside services, recording what they were asked; `fail_on` makes
    one call fail once (a crash at that point)."""

    queued: list[str] = attrs.Factory(list)
    accounts: list[str] = attrs.Factory(list)
    objects: list[str] = attrs.Factory(list)
    fail_on: str | None = None

    def _maybe_fail(self, what: str) -> None:
        if self.fail_on == what:
            self.fail_on = None
            raise RuntimeError(f"crash at {what}")

    def enqueue(self, user_id: str) -> None:
        self.queued.append(user_id)

    def delete_account(self, username: str) -> None:
        self._maybe_fail("account")
        self.accounts.append(username)

    def delete_object(self, key: str) -> None:
        self._maybe_fail("avatar")
        self.objects.append(key)


def make_eraser(
    w: World, policy: e.ErasePolicy = e.ErasePolicy.ANONYMISE
) -> tuple[Eraser, Recorder, MemoryErasureStore, MemoryPushStore]:
    s = w.service
    push = MemoryPushStore()
    store = MemoryErasureStore(s.users, s.messages, s.rooms, push)  # type: ignore[arg-type]
    calls = Recorder()
    return Eraser(s, store, calls, calls, calls, policy), calls, store, push


@pytest.fixture
def scene() -> dict[str, Any]:
    """alice owns a room with bob and carol, posted in it (one thread reply), blocked carol
    and was blocked by bob, has an avatar, a push subscription and a live socket."""
    w = make_world()
    s = w.service
    room = s.create_room(ALICE, "General", RoomKind.PUBLIC).room_id
    s.join_room(BOB, room)
    s.join_room(CAROL, room)
    posted = [s.post_message(ALICE, room, f"hello {n}", f"h{n}").message_id for n in range(3)]
    parent = s.post_message(BOB, room, "parent", "p").message_id
    s.post_message(ALICE, room, "a reply", "r", parent_id=parent)
    s.rooms.block(ALICE.user_id, CAROL.user_id, 1)
    s.rooms.block(BOB.user_id, ALICE.user_id, 1)
    w.online(ALICE, "c-alice", room)
    return {"world": w, "room": room, "posted": posted, "parent": parent}


def run_to_end(eraser: Eraser, calls: Recorder, limit: int = 1000) -> int:
    runs = 0
    while True:
        runs += 1
        assert runs < limit
        try:
            if eraser.run(ALICE.user_id):
                return runs
        except RuntimeError:
            continue  # SQS would redeliver the job


def test_every_step_runs_in_order_and_leaves_nothing(scene: dict[str, Any]) -> None:
    w: World = scene["world"]
    eraser, calls, store, push = make_eraser(w)
    push.put_subscription(PushSubscription(ALICE.user_id, "d1", "https://x", "k", "a", 1))
    job = eraser.request(ALICE)
    assert job.status is e.Status.PENDING
    assert calls.queued == [ALICE.user_id]
    assert eraser.request(ALICE).erasure_id == job.erasure_id  # idempotent
    assert eraser.run(ALICE.user_id)
    done = store.get(ALICE.user_id)
    assert done is not None
    assert done.steps_done == e.STEPS
    assert done.status is e.Status.DONE
    s, room = w.service, scene["room"]
    assert s.users.get(ALICE.user_id) is None
    assert s.users.by_username("alice") is None  # the name is free again
    assert s.rooms.member(room, ALICE.user_id) is None
    assert s.rooms.member(room, BOB.user_id).role is Role.OWNER  # type: ignore[union-attr]
    assert s.rooms.get(room).created_by == e.ERASED_AUTHOR  # type: ignore[union-attr]
    assert s.rooms.blocks_of(ALICE.user_id) == []
    assert s.rooms.blockers_of(ALICE.user_id) == []
    assert push.subscriptions(ALICE.user_id) == []
    assert s.connections.connections_of_user(ALICE.user_id, 0) == []
    authors = {a for _, a in store.authors(room, None, 100)}
    assert ALICE.user_id not in authors
    assert e.ERASED_AUTHOR in authors
    assert calls.accounts == ["alice"]
    assert ALICE.user_id not in repr(s.messages.feed.after(room, 0, 1000))  # type: ignore[attr-defined]


def test_delete_policy_deletes_through_the_delete_path(scene: dict[str, Any]) -> None:
    w: World = scene["world"]
    eraser, _calls, _store, _ = make_eraser(w, e.ErasePolicy.DELETE)
    eraser.request(ALICE)
    assert eraser.run(ALICE.user_id)
    for message_id in scene["posted"]:
        message = w.service.messages.get(scene["room"], message_id)
        assert message is not None
        assert message.deleted
    assert not w.service.messages.get(scene["room"], scene["parent"]).deleted  # type: ignore[union-attr]


@pytest.mark.parametrize("fail_on", ["avatar", "account"])
def test_a_crash_at_a_step_is_finished_by_the_next_run(scene: dict[str, Any], fail_on: str) -> None:
    w: World = scene["world"]
    eraser, calls, store, _ = make_eraser(w)
    eraser.request(ALICE)
    job = store.get(ALICE.user_id)
    store.save(attrs.evolve(job, avatar_key="avatars/u-alice/01J0/me.png"))  # type: ignore[arg-type]
    calls.fail_on = fail_on
    with pytest.raises(RuntimeError):
        eraser.run(ALICE.user_id)
    crashed = store.get(ALICE.user_id)
    assert crashed is not None
    assert crashed.status is e.Status.PENDING
    assert eraser.run(ALICE.user_id)
    assert calls.objects == ["avatars/u-alice/01J0/me.png"]  # once, not again after the crash
    assert calls.accounts == ["alice"]


def test_a_long_history_is_paged_across_runs(
    scene: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    w: World = scene["world"]
    monkeypatch.setattr("dynamotalk.service.erasure.MESSAGES_PER_RUN", 10)
    monkeypatch.setattr("dynamotalk.service.erasure.CHANGES_PER_RUN", 8)
    monkeypatch.setattr("dynamotalk.service.erasure.PAGE", 4)
    for n in range(40):
        w.service.post_message(BOB if n % 3 else ALICE, scene["room"], f"m{n}", f"m{n}")
    eraser, calls, store, _ = make_eraser(w)
    eraser.request(ALICE)
    runs = run_to_end(eraser, calls)
    assert runs > 3  # bounded runs, each re-queued
    assert calls.queued.count(ALICE.user_id) == runs  # the request's, then one per re-queue
    authors = {a for _, a in store.authors(scene["room"], None, 1000)}
    assert ALICE.user_id not in authors
    changes = w.service.messages.feed.after(scene["room"], 0, 1000)  # type: ignore[attr-defined]
    assert len(changes) > 40  # more than a few runs' worth: the feed was paged across runs
    assert ALICE.user_id not in repr(changes)


def test_an_unknown_job_is_done() -> None:
    eraser, *_ = make_eraser(make_world())
    assert eraser.run("u-nobody")


def test_only_the_users_own_avatar_is_deleted(scene: dict[str, Any]) -> None:
    eraser, calls, store, _ = make_eraser(scene["world"])
    eraser.request(ALICE)
    job = store.get(ALICE.user_id)
    assert job is not None
    store.save(attrs.evolve(job, avatar_key="avatars/u-bob/01J0/bob.png"))
    assert eraser.run(ALICE.user_id)
    assert calls.objects == []
