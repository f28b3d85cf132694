"""The search index's contract (search_ports.SearchIndex) on the in-memory twin and DynamoDB
Local: postings newest first and paged, an edit's words replaced, a delete's removed, a replay
harmless; and the Dynamo index's items are keys only, one per word."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dynamotalk.adapters.dynamodb.search import DynamoSearchIndex
from dynamotalk.adapters.memory.search import MemorySearchIndex
from dynamotalk.search_ports import SearchIndex
from dynamotalk.tables import keys as k
from tests.integration.test_store_contract import _client, mid

ROOM = "room-1"


@pytest.fixture(params=["memory", "dynamodb-local"])
def index(request: pytest.FixtureRequest) -> Iterator[SearchIndex]:
    if request.param == "memory":
        yield MemorySearchIndex()
        return
    client, name = _client(request.getfixturevalue("dynamodb_local"))
    yield DynamoSearchIndex(client, name)
    client.delete_table(TableName=name)


def test_postings_come_newest_first_and_page(index: SearchIndex) -> None:
    for n in range(1, 6):
        index.index(ROOM, mid(n), ("deploy", f"w{n}"))
    index.index("room-2", mid(9), ("deploy",))
    assert index.postings(ROOM, "deploy", None, 3) == [mid(5), mid(4), mid(3)]
    assert index.postings(ROOM, "deploy", mid(3), 10) == [mid(2), mid(1)]
    assert index.postings(ROOM, "w2", None, 10) == [mid(2)]
    assert index.postings(ROOM, "nothing", None, 10) == []
    assert index.postings("room-2", "deploy", None, 10) == [mid(9)]


def test_present_says_which_ids_a_word_indexes(index: SearchIndex) -> None:
    for n in range(1, 150):
        index.index(ROOM, mid(n), ("common",) + (("rare",) if n % 50 == 0 else ()))
    ids = [mid(n) for n in range(1, 150)]
    assert index.present(ROOM, "rare", ids) == {mid(50), mid(100)}
    assert index.present(ROOM, "common", ids) == set(ids)
    assert index.present(ROOM, "absent", ids) == set()
    assert index.present(ROOM, "rare", []) == set()


def test_an_edit_replaces_words_and_a_delete_removes_them(index: SearchIndex) -> None:
    index.index(ROOM, mid(1), ("lunch", "noon"))
    index.index(ROOM, mid(1), ("dinner", "noon"))
    index.index(ROOM, mid(1), ("dinner", "noon"))  # a replayed record
    assert index.postings(ROOM, "lunch", None, 10) == []
    assert index.postings(ROOM, "dinner", None, 10) == [mid(1)]
    assert index.postings(ROOM, "noon", None, 10) == [mid(1)]
    index.remove(ROOM, mid(1))
    index.remove(ROOM, mid(1))  # replayed
    assert index.postings(ROOM, "dinner", None, 10) == []
    assert index.postings(ROOM, "noon", None, 10) == []
    index.remove(ROOM, mid(2))  # never indexed


def test_the_dynamo_index_holds_keys_only(dynamodb_local: str) -> None:
    client, name = _client(dynamodb_local)
    DynamoSearchIndex(client, name).index(ROOM, mid(1), ("hello", "world"))
    key = {"PK": {"S": k.search_pk(ROOM, "hello")}, "SK": {"S": mid(1)}}
    item = client.get_item(TableName=name, Key=key)["Item"]
    assert set(item) == {"PK", "SK"}
    client.delete_table(TableName=name)
