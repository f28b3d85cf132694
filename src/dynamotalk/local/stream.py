"""The table's stream and the fan-out's event source mapping, on loopback.

In the cloud (infra) the table's stream invokes lambdas/fanout.py with batches of new change
items (the mapping's filter: tables.keys.CHANGE_STREAM_FILTER), retries a failing record from
where the batch reported it, and after FANOUT_STREAM_RETRIES sends it to the dead-letter queue.
Here a task on the gateway's loop does the same, through `Functions.call` (so the fan-out runs
under its own IAM policy and timeout), reading either DynamoDB Local's own stream (the Streams
API: the real thing) or, with the in-memory stores, the memory feed's stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

import attrs
import structlog

from dynamotalk.adapters.memory.feed import MemoryChangeFeed
from dynamotalk.edge.records import is_change
from dynamotalk.local.gateway.invoke import Functions, InvocationError
from dynamotalk.tables.changes import change_item
from dynamotalk.tables.codecs import dump
from dynamotalk.tables.schema import CHAT_TABLE
from dynamotalk.workers import FANOUT, FANOUT_BATCH_SIZE, FANOUT_STREAM_RETRIES

_log = structlog.get_logger("dynamotalk.stream")
Record = dict[str, Any]
RECOVER_PAUSE_S = 0.5
IDLE_POLL_S = 0.02
"""How soon a stream is read again after a read that found nothing, while changes flow."""
IDLE_POLL_MAX_S = 0.1
"""The pause an idle DynamoDB Local stream backs off to (doubling from IDLE_POLL_S). Lambda
polls a shard four times a second ("Process DynamoDB records with Lambda": base rate of 4
polls per shard per second), so AWS adds up to 250 ms; here at most 100 ms. At 20 ms for
ever, an idle stack spent about a third of a core on polls (its own process and DynamoDB
Local's), slowing everything else on the machine, the test suite included."""


class Source(Protocol):
    def read(self) -> list[Record]:
        """New stream records, oldest first (blocking briefly when there are none)."""
        ...

    def recover(self) -> None:
        """Start reading again after `read` failed (the engine restarted), after the last
        record read."""
        ...


@attrs.define
class MemorySource:
    """The memory feed's stream, as stream records of the change items DynamoDB would hold."""

    feed: MemoryChangeFeed
    position: int = 0

    def read(self) -> list[Record]:
        changes = self.feed.stream(self.position, wait_s=IDLE_POLL_S)
        first, self.position = self.position, self.position + len(changes)
        now_s = int(time.time())
        return [
            stream_record(dump(change_item(change, now_s)), f"{first + i:021d}")
            for i, change in enumerate(changes)
        ]

    def recover(self) -> None:
        """Nothing to do: the memory feed cannot fail."""


@attrs.define
class DynamoSource:
    """DynamoDB Local's stream of the table, through the DynamoDB Streams API: every open
    shard read from LATEST at start, child shards from TRIM_HORIZON as parents close."""

    dynamodb: Any
    streams: Any
    table_name: str
    _iterators: dict[str, str | None] = attrs.Factory(dict)
    _last: dict[str, str] = attrs.Factory(dict)
    """Per shard, the sequence number of the last record read (where recovery resumes)."""
    _arn: str = ""
    _broken: bool = False
    _pause: float = IDLE_POLL_S

    def start(self, position: str = "LATEST") -> None:
        """Read from now on (LATEST), or from the oldest record the stream keeps
        (TRIM_HORIZON)."""
        table = self.dynamodb.describe_table(TableName=self.table_name)["Table"]
        arn = table.get("LatestStreamArn")
        if not table.get("StreamSpecification", {}).get("StreamEnabled") or not arn:
            # A data directory from before streams: turn the table's stream on.
            reply = self.dynamodb.update_table(
                TableName=self.table_name,
                StreamSpecification={
                    "StreamEnabled": True,
                    "StreamViewType": CHAT_TABLE.stream_view,
                },
            )
            arn = reply["TableDescription"]["LatestStreamArn"]
        self._arn = arn
        self._discover(position)

    def _discover(self, position: str) -> None:
        shards = self.streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self._iterators:
                continue
            where: dict[str, str] = {"ShardIteratorType": position}
            if shard_id in self._last:
                where = {
                    "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                    "SequenceNumber": self._last[shard_id],
                }
            iterator = self.streams.get_shard_iterator(
                StreamArn=self._arn, ShardId=shard_id, **where
            )
            self._iterators[shard_id] = iterator.get("ShardIterator")

    def read(self) -> list[Record]:
        if self._broken:
            self._discover("TRIM_HORIZON")  # raises again while the engine is still down
            self._broken = False
        records: list[Record] = []
        closed = False
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            reply = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            found = reply.get("Records", [])
            records += [_as_lambda_record(r, self._arn) for r in found]
            if found:
                self._last[shard_id] = found[-1]["dynamodb"]["SequenceNumber"]
            self._iterators[shard_id] = reply.get("NextShardIterator")
            closed = closed or self._iterators[shard_id] is None
        if closed:
            self._discover("TRIM_HORIZON")
        if records:
            self._pause = IDLE_POLL_S
        else:
            time.sleep(self._pause)
            self._pause = min(self._pause * 2, IDLE_POLL_MAX_S)
        return records

    def recover(self) -> None:
        """The engine restarted: every iterator is void. Shards read before resume after their
        last record; the others (and new ones) from their oldest record: a change may come
        twice, never not at all."""
        self._iterators.clear()
        self._broken = True


def stream_record(image: dict[str, Any], sequence_number: str) -> Record:
    """A Lambda DynamoDB-stream record of a new item (NEW_IMAGE)."""
    return {
        "eventID": sequence_number,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": {n: image[n] for n in (CHAT_TABLE.hash_key, CHAT_TABLE.range_key)},
            "NewImage": image,
            "SequenceNumber": sequence_number,
            "SizeBytes": len(str(image)),
            "StreamViewType": CHAT_TABLE.stream_view,
        },
    }


def _as_lambda_record(record: Record, arn: str) -> Record:
    """A GetRecords record in the shape Lambda hands a function (timestamps as numbers)."""
    data = dict(record.get("dynamodb", {}))
    created = data.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        data["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": data, "eventSourceARN": arn}


@attrs.define
class LocalStream:
    """The event source mapping: batches of change records to the fan-out, in order."""

    functions: Functions
    source: Source
    dead: list[Record] = attrs.Factory(list)
    """Records that failed FANOUT_STREAM_RETRIES times (the on-failure destination)."""
    on_dead: Callable[[Record], None] = lambda record: None
    retry_delay_s: float = 0.05
    function: str = FANOUT
    """The module this mapping invokes (the search indexer is the stream's second reader)."""
    accepts: Callable[[Record], bool] = is_change
    """The mapping's filter criteria: records it lets through to the function."""
    batch_size: int = FANOUT_BATCH_SIZE
    retries: int = FANOUT_STREAM_RETRIES
    _pending: list[Record] = attrs.Factory(list)
    _attempts: int = 0

    async def run(self) -> None:
        while True:
            if not self._pending:
                try:
                    found = await asyncio.to_thread(self.source.read)
                except Exception as error:  # noqa: BLE001 - the engine is restarting: wait
                    _log.warning("stream_read_failed", error=type(error).__name__)
                    await asyncio.sleep(RECOVER_PAUSE_S)
                    self.source.recover()
                    continue
                self._pending = [r for r in found if self.accepts(r)]
                continue
            batch = self._pending[: self.batch_size]
            failed_at = await self._invoke(batch)
            if failed_at is None:
                del self._pending[: len(batch)]
                self._attempts = 0
                continue
            del self._pending[:failed_at]  # checkpointed: the records before the failed one
            # Retries are counted per record: one that failed after others went through is
            # on its first failure.
            self._attempts = 1 if failed_at > 0 else self._attempts + 1
            if self._attempts > self.retries:
                record = self._pending.pop(0)
                self.dead.append(record)
                self.on_dead(record)
                _log.error(
                    f"{self.function}_record_dead_lettered",
                    record=record["dynamodb"]["SequenceNumber"],
                )
                self._attempts = 0
                continue
            await asyncio.sleep(self.retry_delay_s * 2 ** min(self._attempts, 6))

    async def _invoke(self, batch: list[Record]) -> int | None:
        """None if the whole batch went through; else the index to retry from."""
        try:
            reply = await self.functions.call(self.function, {"Records": batch}, behind_api=False)
        except InvocationError:
            return 0
        failures = reply.get("batchItemFailures") or []
        if not failures:
            return None
        ids = [r["dynamodb"]["SequenceNumber"] for r in batch]
        named = [ids.index(f["itemIdentifier"]) for f in failures if f.get("itemIdentifier") in ids]
        return min(named) if named else 0
