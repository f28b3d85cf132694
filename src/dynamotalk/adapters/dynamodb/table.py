"""The chat table and the request helpers every DynamoDB store uses.

Every request goes through here, so throttling is translated in one place: DynamoDB saying it
is busy becomes RateLimited (the client retries); any other error is raised as it came, for the
store to read its code (a failed condition, a cancelled transaction).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from botocore.exceptions import ClientError

from dynamotalk.domain.errors import RateLimited
from dynamotalk.tables.codecs import Item, dump, key, load

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
    }
)
BUSY = "the chat is busy, please retry in a moment"
BATCH_WRITE = 25
BATCH_GET = 100
CONFLICT_ATTEMPTS = 4
"""Tries of a conditional write that keeps racing others before the client is asked to retry."""
_T = TypeVar("_T")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_reasons(error: ClientError) -> list[str]:
    """The code of each item of a cancelled transaction, in request order."""
    reasons = error.response.get("CancellationReasons") or []
    return [str(r.get("Code", "")) for r in reasons]


def busy() -> RateLimited:
    return RateLimited(BUSY)


def _translated(call: Callable[..., _T], **kwargs: Any) -> _T:
    try:
        return call(**kwargs)
    except ClientError as error:
        if error_code(error) in THROTTLED:
            raise busy() from error
        raise


@attrs.define
class Table:
    """One table's requests: reads that page for themselves, batches that retry what DynamoDB
    left unprocessed, and writes whose throttling becomes RateLimited."""

    client: DynamoDBClient
    table_name: str

    def request(self, call: Callable[..., _T], **kwargs: Any) -> _T:
        """`call(TableName=..., **kwargs)`: throttling raises RateLimited, any other error as is."""
        return _translated(call, TableName=self.table_name, **kwargs)

    def get(self, pk: str, sk: str, consistent: bool = True) -> Item | None:
        reply = self.request(self.client.get_item, Key=key(pk, sk), ConsistentRead=consistent)
        item = reply.get("Item")
        return load(item) if item else None

    def put_item(self, item: Mapping[str, Any], **kwargs: Any) -> None:
        self.request(self.client.put_item, Item=dump(item), **kwargs)

    def update_item(self, pk: str, sk: str, **kwargs: Any) -> Item:
        """UpdateItem; the item's new or old attributes when `ReturnValues` asks for them."""
        reply = self.request(self.client.update_item, Key=key(pk, sk), **kwargs)
        return load(reply.get("Attributes") or {})

    def delete_item(self, pk: str, sk: str, **kwargs: Any) -> Item:
        reply = self.request(self.client.delete_item, Key=key(pk, sk), **kwargs)
        return load(reply.get("Attributes") or {})

    def transact(self, items: Sequence[TransactWriteItemTypeDef]) -> None:
        """One transaction; a cancelled one raises its ClientError (see cancellation_reasons)."""
        _translated(self.client.transact_write_items, TransactItems=list(items))

    def transact_put(self, item: Mapping[str, Any], if_absent: bool = True) -> Any:
        """A transaction's Put of `item`, by default only where no item has its key."""
        put: dict[str, Any] = {"TableName": self.table_name, "Item": dump(item)}
        if if_absent:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        return {"Put": put}

    def query(self, limit: int | None = None, **kwargs: Any) -> Iterator[Item]:
        """Items of a Query, following LastEvaluatedKey until `limit` items (or the end)."""
        if limit is not None and limit <= 0:
            return  # DynamoDB refuses Limit=0; the answer is empty anyway
        request: dict[str, Any] = dict(kwargs)
        seen = 0
        while True:
            if limit is not None:
                request["Limit"] = limit - seen
            reply = self.request(self.client.query, **request)
            for item in reply.get("Items", []):
                seen += 1
                yield load(item)
            last = reply.get("LastEvaluatedKey")
            if not last or (limit is not None and seen >= limit):
                return
            request["ExclusiveStartKey"] = last

    def count(self, cap: int, **kwargs: Any) -> int:
        """How many items a Query matches, counting no further than `cap`."""
        request: dict[str, Any] = {"Select": "COUNT", **kwargs}
        total = 0
        while total < cap:
            request["Limit"] = cap - total
            reply = self.request(self.client.query, **request)
            total += int(reply.get("Count", 0))
            last = reply.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return min(total, cap)

    def batch_get(self, keys: Sequence[tuple[str, str]], consistent: bool = False) -> list[Item]:
        unique = list(dict.fromkeys(keys))
        found: list[Item] = []
        for start in range(0, len(unique), BATCH_GET):
            pending: dict[str, Any] = {
                self.table_name: {
                    "Keys": [key(pk, sk) for pk, sk in unique[start : start + BATCH_GET]],
                    **({"ConsistentRead": True} if consistent else {}),
                }
            }
            for attempt in range(8):
                reply = _translated(self.client.batch_get_item, RequestItems=pending)
                found += [load(i) for i in reply.get("Responses", {}).get(self.table_name, [])]
                pending = dict(reply.get("UnprocessedKeys") or {})
                if not pending:
                    break
                time.sleep(min(0.5, 0.02 * 2**attempt))
            else:
                raise busy()
        return found

    def batch_write(self, requests: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE):
            pending: dict[str, Any] = {self.table_name: list(requests[start : start + BATCH_WRITE])}
            for attempt in range(8):
                reply = _translated(self.client.batch_write_item, RequestItems=pending)
                pending = dict(reply.get("UnprocessedItems") or {})
                if not pending:
                    break
                time.sleep(min(0.5, 0.02 * 2**attempt))
            else:
                raise busy()

    @staticmethod
    def put_request(item: Mapping[str, Any]) -> dict[str, Any]:
        """A batch write's put of `item`."""
        return {"PutRequest": {"Item": dump(item)}}

    @staticmethod
    def delete_request(pk: str, sk: str) -> dict[str, Any]:
        return {"DeleteRequest": {"Key": key(pk, sk)}}
