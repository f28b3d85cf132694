"""A room's member count on DynamoDB: one ADD on the room's META item, written in the same
transaction as the membership it counts, so the count and the memberships never disagree and
reading it costs nothing more than reading the room (no COUNT query per room listed)."""

from __future__ import annotations

from typing import Any

from dynamotalk.tables import keys as k
from dynamotalk.tables.codecs import key


def member_count_change(table_name: str, room_id: str, delta: int) -> Any:
    """The transaction item moving the room's count by `delta` (+1 joined, -1 left). It requires
    the room to exist: an ADD on a missing item would create a room item with no name."""
    return {
        "Update": {
            "TableName": table_name,
            "Key": key(k.room_pk(room_id), k.META),
            "UpdateExpression": "ADD #count :delta",
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeNames": {"#count": k.MEMBER_COUNT},
            "ExpressionAttributeValues": {":delta": {"N": str(delta)}},
        }
    }
