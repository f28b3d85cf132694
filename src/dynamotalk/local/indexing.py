"""The search indexer's event source mapping on loopback: the table stream's second reader.

In the cloud (infra/search.py) the table's stream invokes lambdas/search_indexer.py with
batches of message changes, filtered by tables.keys.SEARCH_STREAM_FILTER ("Lambda event
filtering": https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html), with
ReportBatchItemFailures, bisection, retries and the on-failure DLQ. Here a second LocalStream
(stream.py) does the same on the gateway's loop, through `Functions.call` (the indexer's IAM
policy and timeout), over a source of its own: its own iterators on DynamoDB Local's stream,
or its own position in the memory feed, so the fan-out and the indexer read independently, as
two mappings on one stream do ("each shard can be read by at most two processes at once":
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from dynamotalk import bootstrap
from dynamotalk.local.gateway.invoke import Functions
from dynamotalk.local.stream import DynamoSource, LocalStream, MemorySource
from dynamotalk.search_function import (
    SEARCH_INDEXER,
    SEARCH_INDEXER_BATCH_SIZE,
    SEARCH_INDEXER_STREAM_RETRIES,
)
from dynamotalk.tables.keys import SEARCH_STREAM_FILTER


def matches_pattern(pattern: Mapping[str, Any], event: Any) -> bool:
    """Lambda's event filtering for the patterns used here: nested keys must all match, a list
    holds the accepted values (literals, or `{"prefix": ...}`)."""
    if not isinstance(event, Mapping):
        return False
    for name, wanted in pattern.items():
        value = event.get(name)
        if isinstance(wanted, Mapping):
            if not matches_pattern(wanted, value):
                return False
        elif not any(_accepts(rule, value) for rule in wanted):
            return False
    return True


def _accepts(rule: Any, value: Any) -> bool:
    if isinstance(rule, Mapping) and "prefix" in rule:
        return isinstance(value, str) and value.startswith(str(rule["prefix"]))
    return bool(value == rule)


def is_message_change(record: Mapping[str, Any]) -> bool:
    return matches_pattern(SEARCH_STREAM_FILTER, record)


def start(functions: Functions) -> Callable[[], None]:
    """Start the indexer's stream reader on the running loop; returns what stops it."""
    from dynamotalk.adapters.memory import MemoryChangeFeed

    chat = bootstrap.service()
    source: DynamoSource | MemorySource
    if isinstance(chat.feed, MemoryChangeFeed):
        source = MemorySource(chat.feed, position=len(chat.feed.stream(0)))
    else:
        from dynamotalk.local.provision import client

        settings = bootstrap.settings()
        endpoint = settings.dynamodb_endpoint or ""
        source = DynamoSource(
            client("dynamodb", endpoint), client("dynamodbstreams", endpoint), settings.table_name
        )
        source.start()
    stream = LocalStream(
        functions,
        source,
        function=SEARCH_INDEXER,
        accepts=is_message_change,
        batch_size=SEARCH_INDEXER_BATCH_SIZE,
        retries=SEARCH_INDEXER_STREAM_RETRIES,
    )
    task = asyncio.get_running_loop().create_task(stream.run())

    def stop() -> None:
        task.cancel()

    return stop
