"""Search's part of the composition root (bootstrap.py): the index, the query use case and the
indexer, built once per container like the rest. In memory (`dynamotalk dev --in-memory`,
tests) the one index is shared by the indexer and the HTTP API, which run in one process."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from dynamotalk import bootstrap

if TYPE_CHECKING:
    from dynamotalk.search_ports import SearchIndex
    from dynamotalk.service.search import Search, SearchIndexer


@functools.cache
def search_index() -> SearchIndex:
    if bootstrap._in_memory():
        from dynamotalk.adapters.memory.search import MemorySearchIndex

        return MemorySearchIndex()
    from dynamotalk.adapters.dynamodb.search import DynamoSearchIndex

    s = bootstrap.settings()
    return DynamoSearchIndex(bootstrap._client("dynamodb", s.dynamodb_endpoint), s.table_name)


@functools.cache
def search() -> Search:
    from dynamotalk.service.search import Search

    return Search(bootstrap.service(), search_index())


@functools.cache
def indexer() -> SearchIndexer:
    from dynamotalk.service.search import SearchIndexer

    return SearchIndexer(search_index())
