"""Search end to end on the local stack (issue 18): real sockets and HTTP, the real handlers,
the search indexer as the table stream's second reader, on DynamoDB Local.

Results come once the indexer has run (the tests poll, never sleep), page by cursor, cover only
rooms the caller may read (a private room's words are not found by a stranger, and naming it is
refused as history refuses it), follow edits and deletes, and hide a blocked author.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from dynamotalk.client import frames
from dynamotalk.domain.search import SEARCH_MAX_QUERY_TERMS
from tests.e2e.client import Socket, User, eventually

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def people(stack_url: str) -> dict[str, Any]:
    """alice owns a private room with bob and a public room; eve is in neither."""
    tag = uuid.uuid4().hex[:4]
    alice, bob, eve = (User(stack_url, f"{p}{tag}") for p in ("ali", "bob", "eve"))
    private = alice.room(f"search private {tag}", "private", [bob.id])
    bob.post(f"/invites/{private}/accept")  # membership by consent
    public = alice.room(f"search public {tag}")
    bob.post(f"/rooms/{public}/join")
    socket = alice.socket()
    return {
        "alice": alice,
        "bob": bob,
        "eve": eve,
        "private": private,
        "public": public,
        "socket": socket,
        "tag": tag,
    }


def found(user: User, q: str, **params: Any) -> list[str]:
    """The texts of every result, following the cursor to the end."""
    texts: list[str] = []
    cursor = None
    while True:
        page = user.get("/search", q=q, **params, **({"cursor": cursor} if cursor else {}))
        texts += [r["message"]["text"] for r in page["results"]]
        cursor = page["nextCursor"]
        if cursor is None:
            return texts


def test_words_are_found_in_pages_after_indexing(people: dict[str, Any]) -> None:
    socket: Socket = people["socket"]
    word = f"zebra{people['tag']}"
    for n in range(5):
        socket.post(people["public"], f"{word} number {n}{n}")
    bob: User = people["bob"]
    eventually(lambda: len(found(bob, word)) == 5, what="five messages indexed")
    first = bob.get("/search", q=word, roomId=people["public"], limit=2)
    assert [r["message"]["text"] for r in first["results"]] == [
        f"{word} number 44",
        f"{word} number 33",
    ]
    hit = first["results"][0]
    assert hit["roomId"] == people["public"]
    assert hit["message"]["id"] == hit["messageId"]
    assert hit["message"]["seq"]
    assert first["terms"] == [word]
    assert first["nextCursor"]
    # Every term must match, whatever its case; "2" alone is too short to be a term.
    assert found(bob, f"{word.upper()} NUMBER 22", roomId=people["public"], limit=2) == [
        f"{word} number 22"
    ]


def test_only_readable_rooms_are_searched(people: dict[str, Any]) -> None:
    socket: Socket = people["socket"]
    word = f"walrus{people['tag']}"
    socket.post(people["private"], f"{word} secret")
    bob: User = people["bob"]
    eve: User = people["eve"]
    eventually(lambda: found(bob, word) == [f"{word} secret"], what="private message indexed")
    assert found(eve, word) == []
    refused = eve.request("GET", "/search", q=word, roomId=people["private"])
    assert refused.status_code == 404, refused.text
    assert eve.request("GET", "/search", q=word, roomId=people["public"]).status_code == 200


def test_edits_deletes_and_blocks_are_reflected(people: dict[str, Any]) -> None:
    socket: Socket = people["socket"]
    tag = people["tag"]
    old, new, gone = f"otter{tag}", f"beaver{tag}", f"heron{tag}"
    edited = socket.post(people["public"], f"{old} here")
    deleted = socket.post(people["public"], f"{gone} here")
    bob: User = people["bob"]
    eventually(lambda: len(found(bob, gone)) == 1, what="posts indexed")
    assert socket.call(frames.edit_message(people["public"], edited["id"], f"{new} here"))
    assert socket.call(frames.delete_message(people["public"], deleted["id"]))
    eventually(lambda: found(bob, new) == [f"{new} here"], what="the edit indexed")
    assert found(bob, old) == []
    assert found(bob, gone) == []
    alice: User = people["alice"]
    assert bob.post(f"/blocks/{alice.id}") == {"blocked": alice.id}
    assert found(bob, new) == []
    assert found(alice, new) == [f"{new} here"]


def test_bad_queries_are_refused_with_a_message(people: dict[str, Any]) -> None:
    eve: User = people["eve"]
    for params in (
        {},
        {"q": ""},
        {"q": "x" * 201},
        {"q": " ".join(f"word{n}" for n in range(SEARCH_MAX_QUERY_TERMS + 1))},
        {"q": "hello", "cursor": "broken"},
        {"q": "hello", "limit": "0"},
    ):
        reply = eve.request("GET", "/search", **params)
        assert reply.status_code == 400, (params, reply.text)
        assert reply.json()["error"]["code"] == "invalid_input", reply.text
