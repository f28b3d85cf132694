"""What connection items hold: the codecs of connections, their subscriptions (both halves)
and session-due markers (tables/items.py holds the other item kinds)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynamotalk.domain.models import Connection, Subscription
from dynamotalk.tables import keys as k
from dynamotalk.tables.items import Item
from dynamotalk.tables.schema import CHAT_TABLE


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


def connection_item(connection: Connection) -> Item:
    return {
        "PK": k.connection_pk(connection.connection_id),
        "SK": k.META,
        "GSI1PK": k.user_connections_pk(connection.user_id),
        "GSI1SK": k.connection_pk(connection.connection_id),
        "kind": "connection",
        "connection_id": connection.connection_id,
        "user_id": connection.user_id,
        "username": connection.username,
        "connected_at": connection.connected_at,
        "expires_at": connection.expires_at,
        "session_expires_at": connection.session_expires_at,
    }


def connection_from_item(item: Mapping[str, Any]) -> Connection:
    return Connection(
        connection_id=str(item["connection_id"]),
        user_id=str(item["user_id"]),
        username=str(item["username"]),
        connected_at=int(item["connected_at"]),
        expires_at=int(item["expires_at"]),
        session_expires_at=_int_or_none(item.get("session_expires_at")),
    )


def subscription_items(subscription: Subscription) -> tuple[Item, Item]:
    """The connection's row and the room-side mirror that makes fan-out one Query. The mirror
    keeps to the keys, the user and the TTL (both ids are in its keys) so a room's Query stays
    small."""
    return (
        {
            "PK": k.connection_pk(subscription.connection_id),
            "SK": k.subscription_sk(subscription.room_id),
            "room_id": subscription.room_id,
            "expires_at": subscription.expires_at,
        },
        {
            "PK": k.room_connections_pk(subscription.room_id),
            "SK": k.connection_pk(subscription.connection_id),
            "u": subscription.user_id,
            "expires_at": subscription.expires_at,
        },
    )


def subscription_from_room_item(room_id: str, item: Mapping[str, Any]) -> Subscription:
    """A subscription read back from its room-side mirror."""
    return Subscription(
        connection_id=str(item["SK"])[len(k.CONN_PREFIX) :],
        room_id=room_id,
        user_id=str(item["u"]),
        expires_at=int(item["expires_at"]),
    )


def session_due_item(connection_id: str, expires_at: int, ttl: int) -> Item:
    """A session's entry in the bucket of its expiry minute; TTL removes it at `ttl`."""
    return {
        "PK": k.session_due_pk(expires_at),
        "SK": k.session_due_sk(expires_at, connection_id),
        "kind": "session_due",
        CHAT_TABLE.ttl_attribute: ttl,
    }
