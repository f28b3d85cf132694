"""SessionStore on DynamoDB and in memory, and the ConnectionCloser on API Gateway.

Sessions due are found without a Scan: each tracked session is one item in the bucket of its
expiry minute (`SESSIONDUE#{minute}`, sorted by expiry then connection id), so the sweeper
Queries the few buckets of its look-back window and reads only what is due. Bucket items carry
the table's TTL a while after they are due, so a forgotten one cleans itself up.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import attrs
import structlog
from botocore.exceptions import BotoCoreError, ClientError

from dynamotalk.tables import keys as k
from dynamotalk.tables.codecs import dump, key
from dynamotalk.tables.connection_items import session_due_item

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb import DynamoDBClient

    from dynamotalk.adapters.memory import MemoryConnectionRegistry

_log = structlog.get_logger("dynamotalk.sessions")

BUCKET_TTL_MARGIN_S = 24 * 3600
"""A bucket item outlives its due time by this much, then DynamoDB's TTL removes it."""


def _bucket_key(connection_id: str, expires_at: int) -> dict[str, Any]:
    return key(k.session_due_pk(expires_at), k.session_due_sk(expires_at, connection_id))


def _bucket_item(connection_id: str, expires_at: int) -> dict[str, Any]:
    return dump(session_due_item(connection_id, expires_at, expires_at + BUCKET_TTL_MARGIN_S))


@attrs.define
class DynamoSessionStore:
    client: DynamoDBClient
    table_name: str

    def track(self, connection_id: str, expires_at: int) -> None:
        self.client.put_item(
            TableName=self.table_name, Item=_bucket_item(connection_id, expires_at)
        )

    def renew(self, connection_id: str, user_id: str, expires_at: int, now_s: int) -> bool:
        # The record and the new bucket entry in one transaction: a renewal the sweeper cannot
        # see never exists. The condition refuses a gone, expired or foreign connection.
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": key(k.connection_pk(connection_id), k.META),
                            "UpdateExpression": "SET session_expires_at = :new",
                            "ConditionExpression": (
                                "attribute_exists(PK) AND user_id = :user AND expires_at > :now"
                                " AND session_expires_at > :now"
                            ),
                            "ExpressionAttributeValues": {
                                ":new": {"N": str(expires_at)},
                                ":user": {"S": user_id},
                                ":now": {"N": str(now_s)},
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": _bucket_item(connection_id, expires_at),
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise
        return True

    def due(self, now_s: int, lookback_s: int) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        bound = f"{now_s + 1:010d}"
        for minute in range((now_s - lookback_s) // 60, now_s // 60 + 1):
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk AND SK < :bound",
                "ExpressionAttributeValues": {
                    ":pk": {"S": k.session_due_pk(minute * 60)},
                    ":bound": {"S": bound},
                },
                "ProjectionExpression": "SK",
            }
            while True:
                reply = self.client.query(**request)
                found += [k.session_due_of(item["SK"]["S"]) for item in reply.get("Items", [])]
                last = reply.get("LastEvaluatedKey")
                if not last:
                    break
                request["ExclusiveStartKey"] = last
        return found

    def forget(self, connection_id: str, expires_at: int) -> None:
        self.client.delete_item(
            TableName=self.table_name, Key=_bucket_key(connection_id, expires_at)
        )


@attrs.define
class MemorySessionStore:
    """The same contract over the in-memory connection registry."""

    connections: MemoryConnectionRegistry
    _due: set[tuple[str, int]] = attrs.Factory(set)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def track(self, connection_id: str, expires_at: int) -> None:
        with self._lock:
            self._due.add((connection_id, expires_at))

    def renew(self, connection_id: str, user_id: str, expires_at: int, now_s: int) -> bool:
        with self._lock:
            connection = self.connections.get(connection_id, now_s)
            if (
                connection is None
                or connection.user_id != user_id
                or connection.session_expires_at is None
                or connection.session_expires_at <= now_s
            ):
                return False
            self.connections.register(attrs.evolve(connection, session_expires_at=expires_at))
            self._due.add((connection_id, expires_at))
            return True

    def due(self, now_s: int, lookback_s: int) -> list[tuple[str, int]]:
        with self._lock:
            return sorted((c, e) for c, e in self._due if now_s - lookback_s < e <= now_s)

    def forget(self, connection_id: str, expires_at: int) -> None:
        with self._lock:
            self._due.discard((connection_id, expires_at))


@attrs.define
class ApiGatewayCloser:
    """DeleteConnection through the management API, after a last message to the client."""

    client: ApiGatewayManagementApiClient

    def close(self, connection_id: str, last_words: bytes | None = None) -> bool:
        try:
            if last_words is not None:
                self.client.post_to_connection(ConnectionId=connection_id, Data=last_words)
            self.client.delete_connection(ConnectionId=connection_id)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error.response.get("Error", {}).get("Code") == "GoneException" or status == 410:
                return False
            _log.warning("close_failed", connection_id=connection_id, error=str(error))
            raise
        except BotoCoreError as error:
            _log.warning("close_failed", connection_id=connection_id, error=type(error).__name__)
            raise
        return True
