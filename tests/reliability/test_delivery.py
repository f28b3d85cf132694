"""R6 delivery v2 through the real local stack (`dynamotalk dev`, page size 2 so every room of
more than two live connections goes through the page queue and its workers), with real
WebSockets.

1. Crash injection at every step of the fan-out (publish, subscribers, enqueue, send, post):
   every live socket still receives the change (at least once raw, exactly once by seq), the
   event bus holds it, and a device that was offline syncs to the same room.
2. Redelivery shows no duplicate once a client applies what it received by the documented rule.
3. A stream record is dead-lettered only after its own retries, not after one failure that
   follows another record's retries in the same batch.
4. Convergence: users on two devices each post, edit, react, unreact and delete concurrently
   in four rooms while page jobs crash; every device of a room ends with the server's state.

CI runs 40 users; DYNAMOTALK_LOAD_FULL=1 (test_load.py's FULL) runs 200 (pages of 25).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from dynamotalk.client import frames
from dynamotalk.local.emulators import free_port
from dynamotalk.settings import LOCAL_FANOUT_PAGE_SIZE_ENV
from dynamotalk.workers import FANOUT_STREAM_RETRIES
from tests.e2e.client import Socket, User, eventually
from tests.reliability.test_load import FULL
from tests.support.dev_stack import start_dev, stop, wait_healthy
from tests.support.local_delivery import (
    PAGE_STEPS,
    Stack,
    change_at,
    changes,
    chaos,
    syncer,
)
from tests.support.room_state import (
    Frame,
    RoomState,
    catch_up,
    offer_all,
    opened,
    view,
)
from tests.support.room_state import history as read_history
from tests.support.ws_device import Device

pytestmark = pytest.mark.timeout(900)
PAGE_SIZE = 2
"""Connections per page job: six live sockets make three pages."""
CRASHES = [("publish", 0), ("subscribers", 0), ("enqueue", 1), ("send", 1), ("post", 2)]
"""Fault point and how many passes it lets through first (enqueue after 1: the first page is
queued, then the invocation dies, so its retry queues that page again: a repeat)."""
HELD = 7
"""Failed tries that hold a stream record back (the retries' backoff: about 10 s)."""
WAIT_S = 60
FULL_PAGE_SIZE = 25


def started(tmp_path_factory: pytest.TempPathFactory, page_size: int) -> Iterator[Stack]:
    port = free_port()
    data = tmp_path_factory.mktemp("delivery")
    process = start_dev(port, data, "--quiet", env={LOCAL_FANOUT_PAGE_SIZE_ENV: str(page_size)})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield Stack(base, data / "dev.log")
    finally:
        assert stop(process) == 0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from started(tmp_path_factory, PAGE_SIZE)


@pytest.fixture(scope="module")
def crowd_stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The convergence test's stack: the module's, or at full size one of its own whose pages
    hold FULL_PAGE_SIZE connections (a room of 100 sockets in pages of 2 would be 50 page jobs
    per change, more than two cores work off in the test's time)."""
    if FULL:
        yield from started(request.getfixturevalue("tmp_path_factory"), FULL_PAGE_SIZE)
    else:
        yield request.getfixturevalue("stack")


@dataclass
class Crashed:
    """A room whose fan-out crashed once at each step, and what its sockets saw."""

    room_id: str
    sender: User
    live: dict[str, Socket]
    opened: RoomState
    """The room as the sockets' clients loaded it, before the first crash."""
    seqs: dict[str, int] = field(default_factory=dict)
    """Fault step -> seq of the message posted while it was armed."""
    second_device: RoomState | None = None
    server: Any = None
    dead_letters: int = 0
    """Dead letters before the crashes."""


@pytest.fixture(scope="module")
def crashed(stack: Stack) -> Iterator[Crashed]:
    sender, ann, bob, cid = (User(stack.base, p) for p in ("snd", "ann", "bob", "cid"))
    room_id = sender.room("crash injection")
    for user in (ann, bob, cid):
        user.post(f"/rooms/{room_id}/join")
    live = {
        "sender": sender.socket(),
        "ann-1": ann.socket(),
        "ann-2": ann.socket(),
        "bob-1": bob.socket(),
        "bob-2": bob.socket(),
        "cid-1": cid.socket(),
    }
    for socket in live.values():
        assert socket.call(frames.subscribe([room_id]))["type"] == "ack"
    others = set(stack.connections())
    away = cid.socket()  # cid's second device: online first, away during the crashes
    assert away.call(frames.subscribe([room_id]))["type"] == "ack"
    (away_id,) = set(stack.connections()) - others  # (other tests' sockets only go)
    run = Crashed(room_id, sender, live, opened(sender.get, room_id))
    run.dead_letters = stack.dead_letters()
    device = opened(cid.get, room_id)
    before = live["sender"].post(room_id, "before the crashes")
    away.wait(change_at(before["seq"]), WAIT_S)
    offer_all(device, changes(away), syncer(away, room_id))
    assert device.last_seq == before["seq"]
    away.close()
    eventually(lambda: away_id not in stack.connections(), WAIT_S, "the away socket gone")
    try:
        for step, after in CRASHES:
            fired = stack.faults(step)
            stack.arm(step, after)
            seq = live["sender"].post(room_id, f"crash at {step}")["seq"]
            run.seqs[step] = seq
            for socket in live.values():
                socket.wait(change_at(seq), WAIT_S)
            eventually(lambda: stack.faults(step) == fired + 1, WAIT_S, f"{step} fired")  # noqa: B023
        # The away device comes back: a new connection, then sync from its last seq.
        back = cid.socket()
        assert back.call(frames.subscribe([room_id]))["type"] == "ack"
        catch_up(device, syncer(back, room_id))
        run.second_device = device
        messages, _ = read_history(sender.get, room_id)
        run.server = view(messages, sender.get(f"/rooms/{room_id}/members")["members"])
        back.close()
        yield run
    finally:
        stack.disarm()
        for socket in live.values():
            socket.close()


def test_a_crash_at_any_step_still_reaches_every_live_socket_once_by_seq(
    stack: Stack, crashed: Crashed
) -> None:
    published = stack.published()
    repeated = set()
    for step, seq in crashed.seqs.items():
        for name, socket in crashed.live.items():
            got = [f for f in changes(socket) if f["seq"] == seq]
            assert got, f"{name} never got seq {seq} (crash at {step})"
            # Each copy is the same change, so dropping repeats by seq leaves it exactly once.
            assert {(f["type"], f["message"]["text"]) for f in got} == {
                ("message.posted", f"crash at {step}")
            }
            if len(got) > 1:
                repeated.add(step)
        on_bus = [e for e in published if (e["roomId"], e["seq"]) == (crashed.room_id, seq)]
        assert on_bus, f"seq {seq} (crash at {step}) never published"
        assert {e["message"]["text"] for e in on_bus} == {f"crash at {step}"}
    # The enqueue crash re-queues a page already queued: some socket got that change twice.
    assert "enqueue" in repeated, f"no repeat seen; repeats at: {repeated}"
    assert stack.dead_letters() == crashed.dead_letters


def test_the_away_device_syncs_to_the_same_room(crashed: Crashed) -> None:
    device = crashed.second_device
    assert device is not None
    assert device.view() == crashed.server
    assert device.last_seq == max(crashed.seqs.values())
    texts = [m["text"] for m in device.messages.values()]
    assert sorted(texts) == sorted(["before the crashes"] + [f"crash at {s}" for s, _ in CRASHES])


def test_redelivery_shows_no_duplicate_after_the_client_rule(crashed: Crashed) -> None:
    repeats = 0
    for name, socket in crashed.live.items():
        state = RoomState(
            crashed.opened.messages.values(),
            crashed.opened.members.values(),
            crashed.opened.last_seq,
        )
        offer_all(state, changes(socket), syncer(socket, crashed.room_id))
        head = max(crashed.seqs.values())
        # Every change after the opening applied once, in order; repeats dropped.
        assert state.applied == list(range(crashed.opened.last_seq + 1, head + 1)), name
        assert state.view() == crashed.server, name
        assert len(state.messages) == len(crashed.server[0])
        repeats += state.repeats
    assert repeats > 0, "no socket got a repeat: the dedup was never exercised"


def test_a_record_that_failed_once_is_retried_not_dead_lettered(stack: Stack) -> None:
    """The stream's retries count per record (MaximumRetryAttempts: FANOUT_STREAM_RETRIES): a
    record that failed once is retried even when the record before it, in the same batch,
    used up its own retries first."""
    owner = User(stack.base, "dlq")
    room_id = owner.room("retries per record")
    socket = owner.socket()
    assert socket.call(frames.subscribe([room_id]))["type"] == "ack"
    dead_letters, published = stack.dead_letters(), stack.faults("publish")
    # first's invocations die at publish, long enough for second and third to queue behind it
    # and be read together; second then fails at `subscribers` FANOUT_STREAM_RETRIES times,
    # and third, in the same batch, fails once (at `send`: first's and second's pass).
    stack.arm("publish", 0, HELD)
    stack.arm("subscribers", 1, FANOUT_STREAM_RETRIES)
    stack.arm("send", 2, 1)
    try:
        first = socket.post(room_id, "first")
        second, third = socket.post(room_id, "second"), socket.post(room_id, "third")
        assert stack.faults("publish") - published < HELD, "setup too slow: first got through"
        eventually(
            lambda: (
                any(f["seq"] == third["seq"] for f in changes(socket))
                or stack.dead_letters() > dead_letters
            ),
            WAIT_S,
            "third delivered or dead-lettered",
        )
        assert stack.dead_letters() == dead_letters, "third was dead-lettered after failing once"
        for message in (first, second, third):
            socket.wait(change_at(message["seq"]), WAIT_S)
    finally:
        stack.disarm()
        socket.close()


USERS = 200 if FULL else 40
ROOMS = 4
EMOJI = ("👍", "🎉", "🔥")
POSTS = 2
"""Messages each user posts (one kept and edited, one deleted)."""
IN_FLIGHT = 16
"""Frames the users have in flight at once, all rooms together (a 2-core machine)."""


async def person(
    n: int, user: User, room_id: str, owner: bool, keeps: list[str], slots: asyncio.Semaphore
) -> list[Device]:
    """Join, open the room on two devices, then post, edit, react, unreact and delete."""
    rng = random.Random(n)
    async with slots:  # subscribing announces presence to the room's sockets: not free either
        if not owner:
            await asyncio.to_thread(user.post, f"/rooms/{room_id}/join")
        devices = [await Device.open(user.ws_url, user.token, room_id) for _ in range(2)]
        for device in devices:
            device.follow(await asyncio.to_thread(opened, user.get, room_id))
    one, two = devices

    async def do(device: Device, frame: dict[str, Any]) -> Frame:
        async with slots:
            return await device.ok(frame)

    keep = (await do(one, frames.send_message(room_id, f"keep {n}")))["message"]["id"]
    keeps.append(keep)
    doomed = (await do(two, frames.send_message(room_id, f"doomed {n}")))["message"]["id"]
    await do(two, frames.edit_message(room_id, keep, f"keep {n}, edited"))
    liked = [rng.choice(keeps) for _ in EMOJI]
    for device, target, emoji in zip([one, two, one], liked, EMOJI, strict=True):
        await do(device, frames.react(room_id, target, emoji))
    await do(two, frames.react(room_id, liked[0], EMOJI[0]))  # unreact
    await do(one, frames.delete_message(room_id, doomed))
    return devices


async def converge(stack: Stack, users: list[User]) -> None:
    rooms = [users[r].room(f"converge {r}") for r in range(ROOMS)]
    keeps: list[list[str]] = [[] for _ in rooms]
    busy = asyncio.Event()
    faults = asyncio.create_task(chaos(stack, busy, random.Random(16)))
    slots = asyncio.Semaphore(IN_FLIGHT)
    people = [
        person(n, u, rooms[n % ROOMS], n < ROOMS, keeps[n % ROOMS], slots)
        for n, u in enumerate(users)
    ]
    clock = asyncio.get_running_loop().time
    started = clock()
    try:
        devices = [d for ds in await asyncio.gather(*people) for d in ds]
    finally:
        busy.set()
        armed = await faults
    busy_s = clock() - started
    assert armed > 0
    heads = {}
    servers = {}
    for r, room_id in enumerate(rooms):
        messages, heads[room_id] = await asyncio.to_thread(read_history, users[0].get, room_id)
        members = (await asyncio.to_thread(users[0].get, f"/rooms/{room_id}/members"))["members"]
        servers[room_id] = view(messages, members)
        assert len(messages) == POSTS * sum(1 for n in range(len(users)) if n % ROOMS == r)
    # Live delivery (repeats dropped, gaps synced) brings every device to its head (CI size)...
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not FULL and any(d.state is None or d.state.last_seq < heads[d.room_id] for d in devices):
        for device in devices:
            device.check()
        assert asyncio.get_running_loop().time() < deadline, "a device stays behind its room"
        await asyncio.sleep(0.05)
    live_s = clock() - started
    # ... and a final sync to the head leaves every device of a room with the server's state.
    for device in devices:
        await device.stop_following()
        await device.catch_up()
        assert device.state is not None
        assert device.state.last_seq == heads[device.room_id]
        assert device.state.view() == servers[device.room_id]
    repeats = sum(d.state.repeats for d in devices if d.state is not None)
    print(
        f"\n{len(devices)} devices, heads {sorted(heads.values())}, faults armed {armed}, "
        f"repeats dropped {repeats}, gaps synced {sum(d.syncs for d in devices)}, "
        f"busy retries {sum(d.retried for d in devices)}; users done after {busy_s:.1f}s, "
        f"every device at its head after {live_s:.1f}s"
    )
    for device in devices:
        await device.close()


def test_two_devices_per_user_converge_under_faults(crowd_stack: Stack) -> None:
    stack = crowd_stack
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        users = list(pool.map(lambda _: User(stack.base, "cv"), range(USERS)))
    print(f"\n{USERS} users signed up in {time.monotonic() - started:.1f}s")
    dead_letters = stack.dead_letters()
    fired = sum(stack.faults(step) for step in set(PAGE_STEPS))
    asyncio.run(converge(stack, users))
    assert sum(stack.faults(step) for step in set(PAGE_STEPS)) > fired, "no fault fired"
    assert stack.dead_letters() == dead_letters
