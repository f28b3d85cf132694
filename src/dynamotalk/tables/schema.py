"""The chat table itself: its keys, index and TTL attribute, as infra, the local stack and
the adapters create and address it."""

from __future__ import annotations

from typing import Any

import attrs

from dynamotalk.routes import resource_name


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
    stream_view: str = "NEW_IMAGE"
    """The table's stream: each new item as written (the fan-out reads change items only)."""

    @property
    def attributes(self) -> dict[str, str]:
        """Every key attribute (table and indexes) -> DynamoDB type; all strings."""
        names = [self.hash_key, self.range_key]
        for index in self.indexes:
            names += [index.hash_key, index.range_key]
        return dict.fromkeys(names, "S")

    def physical_name(self, stage: str) -> str:
        return resource_name(stage, self.logical_name)


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
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": spec.stream_view},
    }
