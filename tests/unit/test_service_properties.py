"""Property-based tests (hypothesis) of history paging, sync and idempotent posting."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dynamotalk.domain.models import RoomKind
from dynamotalk.domain.text import BIDI_CONTROLS, forbidden_character
from tests.unit.world import ALICE, BOB, make_world

# Any text the rules accept: no controls but line feed and tab, no bidi controls, nothing
# text.py refuses (format characters such as U+FEFF, noncharacters), something visible.
allowed = st.characters(
    exclude_categories=["Cc", "Cs"],
    exclude_characters="".join(BIDI_CONTROLS),
    include_characters="\n\t",
)
texts = st.text(allowed, min_size=1, max_size=20).filter(
    lambda t: t.strip() != "" and forbidden_character(t) is None
)


@settings(max_examples=60, deadline=None)
@given(
    posts=st.lists(st.tuples(st.sampled_from([ALICE, BOB]), texts), max_size=60),
    page_size=st.integers(min_value=1, max_value=100),
)
def test_history_pages_visit_every_message_once_newest_first(
    posts: list[tuple[object, str]], page_size: int
) -> None:
    world = make_world()
    room = world.service.create_room(ALICE, "r", RoomKind.PUBLIC).room_id
    world.service.join_room(BOB, room)
    posted = []
    for n, (author, text) in enumerate(posts):
        world.clock.advance(n % 3)  # several messages may share a millisecond
        posted.append(world.service.post_message(author, room, text, f"k{n}"))  # type: ignore[arg-type]
    seen = []
    cursor = None
    while True:
        page = world.service.history(BOB, room, cursor, page_size)
        assert len(page.messages) <= page_size
        seen += page.messages
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [m.message_id for m in seen] == [m.message_id for m in reversed(posted)]


@settings(max_examples=60, deadline=None)
@given(count=st.integers(min_value=0, max_value=40), pick=st.integers(min_value=0, max_value=40))
def test_sync_after_any_id_returns_exactly_the_later_messages(count: int, pick: int) -> None:
    world = make_world()
    room = world.service.create_room(ALICE, "r", RoomKind.PUBLIC).room_id
    posted = [world.service.post_message(ALICE, room, f"m{n}", f"k{n}") for n in range(count)]
    after = posted[pick].message_id if pick < count else None
    expected = posted[pick + 1 :] if pick < count else posted
    result = world.service.sync(ALICE, room, after, 100)
    assert list(result.messages) == expected
    assert not result.has_more


@settings(max_examples=40, deadline=None)
@given(retries=st.lists(texts, min_size=1, max_size=10), others=st.integers(0, 5))
def test_same_client_id_any_number_of_times_stores_one_message(
    retries: list[str], others: int
) -> None:
    world = make_world()
    room = world.service.create_room(ALICE, "r", RoomKind.PUBLIC).room_id
    results = []
    for n, text in enumerate(retries):
        results.append(world.service.post_message(ALICE, room, text, "one-id"))
        if n < others:
            world.service.post_message(ALICE, room, "other", f"other-{n}")
    assert all(r == results[0] for r in results)
    stored = world.service.history(ALICE, room, None, 100).messages
    assert [m.client_id for m in stored].count("one-id") == 1
