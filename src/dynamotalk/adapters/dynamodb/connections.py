"""ConnectionRegistry on DynamoDB: live sockets and the rooms they follow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from dynamotalk.adapters.dynamodb.table import Table
from dynamotalk.domain.models import Connection, Subscription
from dynamotalk.tables import GSI1
from dynamotalk.tables import keys as k
from dynamotalk.tables.codecs import Item
from dynamotalk.tables.connection_items import (
    connection_from_item,
    connection_item,
    subscription_from_room_item,
    subscription_items,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@attrs.define
class DynamoConnectionRegistry:
    """Connections (CONN#{id} / META), their subscriptions (CONN#{id} / SUB#{room}) and the
    room-side mirror (ROOMCONN#{room} / CONN#{id}) that makes fan-out one Query.

    Every row carries `expires_at` (TTL); reads drop rows already expired, since DynamoDB
    deletes expired rows only eventually.
    """

    client: DynamoDBClient
    table_name: str
    _table: Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._table = Table(self.client, self.table_name)

    def register(self, connection: Connection) -> None:
        self._table.put_item(connection_item(connection))

    def get(self, connection_id: str, now_s: int) -> Connection | None:
        item = self._table.get(k.connection_pk(connection_id), k.META)
        if item is None or int(item["expires_at"]) <= now_s:
            return None
        return connection_from_item(item)

    def _rows_of(self, connection_id: str) -> list[Item]:
        return list(
            self._table.query(
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": k.connection_pk(connection_id)}},
                ConsistentRead=True,
            )
        )

    def _deletes(self, connection_id: str, rows: list[Item]) -> list[dict[str, Any]]:
        deletes = [Table.delete_request(row["PK"], row["SK"]) for row in rows]
        for row in rows:
            if str(row["SK"]).startswith(k.SUB_PREFIX):
                room_id = str(row["SK"])[len(k.SUB_PREFIX) :]
                deletes.append(
                    Table.delete_request(
                        k.room_connections_pk(room_id), k.connection_pk(connection_id)
                    )
                )
        return deletes

    def unregister(self, connection_id: str) -> Connection | None:
        rows = self._rows_of(connection_id)
        if rows:
            self._table.batch_write(self._deletes(connection_id, rows))
        meta = next((row for row in rows if row["SK"] == k.META), None)
        return connection_from_item(meta) if meta else None

    def unregister_many(self, connection_ids: Sequence[str]) -> None:
        deletes: list[dict[str, Any]] = []
        for connection_id in dict.fromkeys(connection_ids):
            deletes += self._deletes(connection_id, self._rows_of(connection_id))
        self._table.batch_write(deletes)

    def subscribe(self, subscription: Subscription) -> None:
        self.subscribe_many([subscription])

    def subscribe_many(self, subscriptions: Sequence[Subscription]) -> None:
        self._table.batch_write(
            [Table.put_request(item) for s in subscriptions for item in subscription_items(s)]
        )

    def unsubscribe(self, connection_id: str, room_id: str) -> None:
        self._table.batch_write(
            [
                Table.delete_request(k.connection_pk(connection_id), k.subscription_sk(room_id)),
                Table.delete_request(
                    k.room_connections_pk(room_id), k.connection_pk(connection_id)
                ),
            ]
        )

    def rooms_of_connection(self, connection_id: str, now_s: int) -> list[str]:
        items = self._table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": k.connection_pk(connection_id)},
                ":prefix": {"S": k.SUB_PREFIX},
            },
        )
        return [str(i["room_id"]) for i in items if int(i["expires_at"]) > now_s]

    def connections_in_room(self, room_id: str, now_s: int) -> list[Subscription]:
        items = self._table.query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": k.room_connections_pk(room_id)}},
        )
        return [
            subscription_from_room_item(room_id, i) for i in items if int(i["expires_at"]) > now_s
        ]

    def connections_of_user(self, user_id: str, now_s: int) -> list[Connection]:
        items = self._table.query(
            IndexName=GSI1.name,
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": k.user_connections_pk(user_id)}},
        )
        return [connection_from_item(i) for i in items if int(i["expires_at"]) > now_s]
