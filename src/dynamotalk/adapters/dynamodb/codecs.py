"""Plain items <-> DynamoDB's attribute-value JSON, for the low-level client.

What an item holds is tables/items.py's business; this only types its values (`None` dropped).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

Item = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def dump(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in attribute-value JSON, without its unset (None) attributes."""
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def load(item: Mapping[str, Any]) -> Item:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}
