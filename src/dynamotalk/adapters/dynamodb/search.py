"""SearchIndex on the chat table: per-room posting lists (tables/keys.py).

A posting is `SEARCH#{room}#{term}` / `{message id}`, keys only (a few dozen bytes: 1 WRU to
write, hundreds per 0.5 RCU to read). A room's word is its own partition key, so a query reads
only rooms the caller may read, and a popular word spreads over as many partitions as rooms use
it (a global `TERM#{term}` partition would be one hot key for "hello" across the stage, and
would need every hit filtered by authorization after it was read).

Beside the postings, `SEARCHDOC#{room}` / `{message id}` records the words a message was indexed
under, so an edit removes exactly the words it dropped and a delete removes all. Postings are
written before the record: a retried change (the stream delivers at least once) finds the old
record and writes the same items again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from dynamotalk.adapters.dynamodb.table import Table
from dynamotalk.tables import keys as k

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@attrs.define(init=False)
class DynamoSearchIndex:
    table: Table

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.table = Table(client, table_name)

    def _indexed(self, room_id: str, message_id: str) -> tuple[str, ...]:
        doc = self.table.get(k.search_doc_pk(room_id), message_id, consistent=True)
        return tuple(doc.get("terms") or ()) if doc else ()

    def index(self, room_id: str, message_id: str, terms: Sequence[str]) -> None:
        old, new = set(self._indexed(room_id, message_id)), list(dict.fromkeys(terms))
        if not old and not new:
            return  # nothing to find it by, nothing to remove: no record either
        writes: list[dict[str, Any]] = [
            Table.put_request({"PK": k.search_pk(room_id, t), "SK": message_id})
            for t in new
            if t not in old
        ]
        writes += [
            Table.delete_request(k.search_pk(room_id, t), message_id)
            for t in sorted(old - set(new))
        ]
        if writes:
            self.table.batch_write(writes)
        if old != set(new) or not old:
            doc = {"PK": k.search_doc_pk(room_id), "SK": message_id, "terms": new}
            self.table.put_item(doc)

    def remove(self, room_id: str, message_id: str) -> None:
        old = self._indexed(room_id, message_id)
        if old:
            drops = [Table.delete_request(k.search_pk(room_id, t), message_id) for t in old]
            self.table.batch_write(drops)
        self.table.delete_item(k.search_doc_pk(room_id), message_id)

    def postings(self, room_id: str, term: str, before_id: str | None, limit: int) -> list[str]:
        condition = "PK = :pk"
        values: dict[str, Any] = {":pk": {"S": k.search_pk(room_id, term)}}
        if before_id is not None:
            condition += " AND SK < :before"
            values[":before"] = {"S": before_id}
        found = self.table.query(
            limit=limit,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
        )
        return [str(item["SK"]) for item in found]

    def present(self, room_id: str, term: str, message_ids: Sequence[str]) -> set[str]:
        pk = k.search_pk(room_id, term)
        found = self.table.batch_get([(pk, i) for i in message_ids]) if message_ids else []
        return {str(item["SK"]) for item in found}
