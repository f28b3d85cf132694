"""Search (issue 18) on the in-memory stores: the tokenizer and query limits, and the service's
pages: authorized per room, newest first, paged by cursor, hiding deleted, edited-away and
blocked authors' messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynamotalk.adapters.memory.search import MemorySearchIndex
from dynamotalk.domain import search as s
from dynamotalk.domain.errors import InvalidInput, NotFound
from dynamotalk.domain.models import RoomKind
from dynamotalk.domain.search import STOP_WORDS
from dynamotalk.service.search import Search, SearchIndexer
from tests.unit.world import ALICE, BOB, CAROL, MALLORY, World


@pytest.fixture
def search(world: World) -> Search:
    index = MemorySearchIndex()
    world.feed.listeners.append(SearchIndexer(index).apply)  # the stream's second reader
    return Search(world.service, index)


def texts(page: object) -> list[str]:
    return [m.text for m in page.results]


def test_words_fold_case_width_and_script() -> None:
    assert s.terms_of(
        "\uff28\uff45\uff4c\uff4c\uff4f Straße, naïve café_au_lait 東京タワー 42 a x1"
    ) == (
        "hello",
        "strasse",
        "naïve",
        "café",
        "au",
        "lait",
        "東京タワー",
        "42",
        "x1",
    )
    assert s.terms_of("the THE and hello hello") == ("hello",)  # stop words, repeats
    assert len(s.terms_of(" ".join(f"w{n}" for n in range(500)))) == s.SEARCH_MAX_TERMS_PER_MESSAGE
    assert s.terms_of("x" * 100) == ("x" * s.SEARCH_MAX_TERM_CHARS,)


@pytest.mark.parametrize(
    ("q", "error"),
    [
        (None, "required"),
        ("   ", "required"),
        ("a " * 101, str(s.SEARCH_MAX_QUERY_CHARS)),
        ("alpha beta gamma delta epsilon zeta", str(s.SEARCH_MAX_QUERY_TERMS)),
        ("a the I", "no word"),
    ],
)
def test_bad_queries_are_refused(q: str | None, error: str) -> None:
    with pytest.raises(InvalidInput, match=error):
        s.parse_query(q)


def test_a_query_finds_messages_with_every_term_newest_first(
    world: World, search: Search, public_room: str
) -> None:
    post = world.service.post_message
    post(ALICE, public_room, "the deploy failed on Friday", "c1")
    post(BOB, public_room, "deploy again please", "c2")
    post(ALICE, public_room, "Friday DEPLOY worked", "c3")
    page = search.search(BOB, "deploy friday", None, None, None)
    assert texts(page) == ["Friday DEPLOY worked", "the deploy failed on Friday"]
    assert page.terms == ("deploy", "friday")
    assert page.next_cursor is None
    assert texts(search.search(BOB, "deploy", public_room, None, None)) == [
        "Friday DEPLOY worked",
        "deploy again please",
        "the deploy failed on Friday",
    ]


def test_pages_follow_the_cursor_and_it_is_bound_to_the_search(
    world: World, search: Search, public_room: str
) -> None:
    for n in range(7):
        world.service.post_message(ALICE, public_room, f"report number {n}", f"c{n}")
    seen: list[str] = []
    cursor = None
    while True:
        page = search.search(ALICE, "report", public_room, cursor, 3)
        seen += texts(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"report number {n}" for n in reversed(range(7))]
    first = search.search(ALICE, "report", public_room, None, 3)
    assert first.next_cursor is not None
    for other in ((BOB, "report", public_room), (ALICE, "number", public_room)):
        with pytest.raises(InvalidInput, match="another search"):
            search.search(other[0], other[1], other[2], first.next_cursor, 3)
    with pytest.raises(InvalidInput, match="not valid"):
        search.search(ALICE, "report", public_room, "bm9wZQ", 3)


def test_only_rooms_the_caller_can_read(world: World, search: Search, private_room: str) -> None:
    world.service.post_message(ALICE, private_room, "secret plans", "c1")
    assert texts(search.search(BOB, "plans", None, None, None)) == ["secret plans"]
    assert texts(search.search(MALLORY, "plans", None, None, None)) == []
    with pytest.raises(NotFound):
        search.search(MALLORY, "plans", private_room, None, None)
    public = world.service.create_room(CAROL, "Open", RoomKind.PUBLIC)
    world.service.post_message(CAROL, public.room_id, "open plans", "c2")
    # A public room is readable by anyone who names it; unnamed, only the caller's rooms count.
    assert texts(search.search(MALLORY, "plans", public.room_id, None, None)) == ["open plans"]
    assert texts(search.search(MALLORY, "plans", None, None, None)) == []


def test_edits_deletes_and_blocks_show(world: World, search: Search, public_room: str) -> None:
    svc = world.service
    first = svc.post_message(ALICE, public_room, "lunch at noon", "c1")
    second = svc.post_message(ALICE, public_room, "lunch moved", "c2")
    svc.edit_message(ALICE, public_room, first.message_id, "dinner at eight")
    svc.delete_message(ALICE, public_room, second.message_id)
    assert texts(search.search(BOB, "lunch", None, None, None)) == []
    assert texts(search.search(BOB, "dinner", None, None, None)) == ["dinner at eight"]
    svc.block_user(BOB, ALICE.user_id)
    assert texts(search.search(BOB, "dinner", None, None, None)) == []
    assert texts(search.search(ALICE, "dinner", None, None, None)) == ["dinner at eight"]


def test_many_rooms_page_across_rooms(world: World, search: Search) -> None:
    rooms = [
        world.service.create_room(ALICE, f"R{n}", RoomKind.PRIVATE).room_id
        for n in range(s.SEARCH_ROOMS_PER_REQUEST + 3)
    ]
    for n, room in enumerate(rooms):
        world.service.post_message(ALICE, room, f"standup {n}", f"c{n}")
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = search.search(ALICE, "standup", None, cursor, 10)
        seen += texts(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"standup {n}" for n in range(len(rooms)))


@pytest.mark.parametrize("q", ["alpha beta", "alpha delta", "delta gamma beta", "alpha"])
def test_long_lists_page_to_the_same_answer_as_reading_everything(
    world: World, search: Search, public_room: str, q: str
) -> None:
    texts_posted = []
    for n in range(s.SEARCH_WINDOW * 2 + 50):
        words = ["alpha"] + ["beta"] * (n % 7 == 0) + ["gamma"] * (n % 3 == 0)
        text = " ".join(words + ["delta"] * (n % 2 == 0) + [f"n{n}"])
        world.service.post_message(ALICE, public_room, text, f"c{n}")
        texts_posted.append(text)
    query = s.parse_query(q)
    expected = [t for t in reversed(texts_posted) if s.matches(t, query)]
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page = search.search(BOB, q, public_room, cursor, 50)
        seen += texts(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected


def test_a_request_reads_a_bounded_number_of_messages(
    world: World, search: Search, public_room: str
) -> None:
    posted = [
        world.service.post_message(ALICE, public_room, f"noise {n}{n}", f"c{n}")
        for n in range(s.SEARCH_MESSAGE_READS_PER_REQUEST + 20)
    ]
    svc = world.service
    svc.post_message(BOB, public_room, "noise from bob", "bob")
    svc.block_user(CAROL, ALICE.user_id)
    svc.join_room(CAROL, public_room)
    # Carol blocked Alice: every one of Alice's messages is read and dropped, a bounded number
    # per request; the cursor goes on and the page that follows finds Bob's.
    first = search.search(CAROL, "noise", public_room, None, 5)
    assert texts(first) == ["noise from bob"]
    assert first.next_cursor is not None
    page = search.search(CAROL, "noise", public_room, first.next_cursor, 5)
    assert texts(page) == []
    assert page.next_cursor is None
    assert len(posted) > s.SEARCH_MESSAGE_READS_PER_REQUEST


def test_protocol_lists_every_stop_word() -> None:
    """A client learns which words are never searched from docs/PROTOCOL.md alone."""
    protocol = (Path(__file__).parents[2] / "docs" / "PROTOCOL.md").read_text()
    listed = protocol.split("The stop\nwords: ", 1)[1].split(". Order:", 1)[0]
    assert {w.strip().strip("`") for w in listed.replace("\n", " ").split(",")} == STOP_WORDS
