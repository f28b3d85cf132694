"""Plain items <-> DynamoDB's attribute-value JSON, as the low-level client and CloudFormation's
items want them (the adapters, and infra seeding the bot).

What an item holds is items.py's business; this only types its values (`None` dropped).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from dynamotalk.tables.schema import CHAT_TABLE

Item = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def dump(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in attribute-value JSON, without its unset (None) attributes."""
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def load(item: Mapping[str, Any]) -> Item:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {CHAT_TABLE.hash_key: {"S": pk}, CHAT_TABLE.range_key: {"S": sk}}
