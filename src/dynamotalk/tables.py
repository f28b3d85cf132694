"""The one definition of DynamoTalk's DynamoDB table: keys, index, TTL and item key shapes.

Read by the DynamoDB adapters, the Pulumi program and the local stack, so none can drift.
One table holds every item kind (single-table design); see docs/ARCHITECTURE.md for the
access pattern -> key condition -> index table.
"""

from __future__ import annotations

from typing import Any

import attrs

from dynamotalk.domain.models import User


@attrs.frozen
class IndexSpec:
    name: str
    hash_key: str
    range_key: str


@attrs.frozen
class TableSpec:
    logical_name: str
    """Suffix of the physical name: `dynamotalk-{stage}-{logical_name}`."""
    hash_key: str
    range_key: str
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str

    @property
    def attributes(self) -> dict[str, str]:
        """Every key attribute (table and indexes) -> DynamoDB type; all strings."""
        names = [self.hash_key, self.range_key]
        for index in self.indexes:
            names += [index.hash_key, index.range_key]
        return dict.fromkeys(names, "S")

    def physical_name(self, stage: str) -> str:
        return f"dynamotalk-{stage}-{self.logical_name}"


GSI1 = IndexSpec(name="GSI1", hash_key="GSI1PK", range_key="GSI1SK")

CHAT_TABLE = TableSpec(
    logical_name="chat",
    hash_key="PK",
    range_key="SK",
    indexes=(GSI1,),
    ttl_attribute="expires_at",
)


def create_table_request(table_name: str, spec: TableSpec = CHAT_TABLE) -> dict[str, Any]:
    """Arguments for boto3's `create_table` (local stack and tests): on-demand, same keys."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in spec.attributes.items()
        ],
        "KeySchema": [
            {"AttributeName": spec.hash_key, "KeyType": "HASH"},
            {"AttributeName": spec.range_key, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.hash_key, "KeyType": "HASH"},
                    {"AttributeName": index.range_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        ],
    }


# Item key shapes. PK/SK on the table, GSI1PK/GSI1SK on the index.
# user profile        USER#{user_id}        PROFILE
# username claim      USERNAME#{lower name} USERNAME
# room                ROOM#{room_id}        META            GSI1: PUBLIC_ROOMS / ROOM#{room_id}
# membership          ROOM#{room_id}        MEMBER#{user}   GSI1: USER#{user_id} / ROOM#{room_id}
# message             ROOM#{room_id}        MSG#{ulid}
# client id claim     ROOM#{room_id}        CLIENT#{author}#{client_id}
# connection          CONN#{conn_id}        META            GSI1: USERCONN#{user} / CONN#{conn_id}
# subscription (conn) CONN#{conn_id}        SUB#{room_id}
# subscription (room) ROOMCONN#{room_id}    CONN#{conn_id}
# per-user counters   LIMIT#{user_id}       {group}#{window_s}#{window}   TTL: expires_at
# pending invite      ROOM#{room_id}        INVITE#{user}   GSI1: USER#{user_id} / INVITE#{room_id}
# block               USER#{user_id}        BLOCK#{blocked user}
# session due         SESSIONDUE#{minute}   {expires_at:010d}#{conn_id}   (sessions.py)

PROFILE = "PROFILE"
META = "META"
PUBLIC_ROOMS = "PUBLIC_ROOMS"
MSG_PREFIX = "MSG#"
MEMBER_PREFIX = "MEMBER#"
SUB_PREFIX = "SUB#"
CONN_PREFIX = "CONN#"
INVITE_PREFIX = "INVITE#"
BLOCK_PREFIX = "BLOCK#"
ROOM_PREFIX = "ROOM#"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def username_pk(username: str) -> str:
    return f"USERNAME#{username.casefold()}"


def room_pk(room_id: str) -> str:
    return f"ROOM#{room_id}"


def member_sk(user_id: str) -> str:
    return f"{MEMBER_PREFIX}{user_id}"


def message_sk(message_id: str) -> str:
    return f"{MSG_PREFIX}{message_id}"


def client_sk(author_id: str, client_id: str) -> str:
    return f"CLIENT#{author_id}#{client_id}"


def connection_pk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def user_connections_pk(user_id: str) -> str:
    return f"USERCONN#{user_id}"


def room_connections_pk(room_id: str) -> str:
    return f"ROOMCONN#{room_id}"


def limit_pk(user_id: str) -> str:
    return f"LIMIT#{user_id}"


def limit_sk(group: str, window_s: int, window: int) -> str:
    """One item per user, counted action group and window (domain/user_limits.py)."""
    return f"{group}#{window_s}#{window}"


# --- user items: the one codec the user store and the Pulumi program (the bot's seed) share ---

USERNAME_SK = "USERNAME"


def user_item(user: User) -> dict[str, Any]:
    """A profile item (plain Python values; None where an attribute is unset)."""
    return {
        "PK": user_pk(user.user_id),
        "SK": PROFILE,
        "kind": "user",
        "user_id": user.user_id,
        "username": user.username,
        "display_name": user.display_name,
        "avatar_key": user.avatar_key,
        "created_at": user.created_at,
        "last_seen": user.last_seen,
    }


def username_claim_item(username: str, user_id: str) -> dict[str, Any]:
    """The item that makes a username (case folded) point to one user id."""
    return {"PK": username_pk(username), "SK": USERNAME_SK, "user_id": user_id}


def invite_sk(user_id: str) -> str:
    return f"{INVITE_PREFIX}{user_id}"


def invite_gsi_sk(room_id: str) -> str:
    return f"{INVITE_PREFIX}{room_id}"


def block_sk(blocked_user_id: str) -> str:
    return f"{BLOCK_PREFIX}{blocked_user_id}"


SESSION_DUE_PREFIX = "SESSIONDUE#"


def session_due_pk(expires_at_s: int) -> str:
    """The bucket of sessions ending in the same minute: the sweeper Queries a few of these."""
    return f"{SESSION_DUE_PREFIX}{expires_at_s // 60}"


def session_due_sk(expires_at_s: int, connection_id: str) -> str:
    """Sorted by expiry inside the bucket, so `SK < {now+1:010d}` selects the ones due."""
    return f"{expires_at_s:010d}#{connection_id}"
