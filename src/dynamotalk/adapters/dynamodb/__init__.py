"""DynamoDB adapters for MessageStore, RoomStore, UserStore and ConnectionRegistry.

One table (tables.CHAT_TABLE), the low-level client (cheaper cold start than the resource API)
and no Scan: every read is GetItem, BatchGetItem or a Query whose cost grows with the answer.
Key shapes are in tables/keys.py, item shapes in tables/items.py; access patterns and costs in
docs/ARCHITECTURE.md. `table` holds the request helper, `codecs` the attribute-value JSON.
"""

from dynamotalk.adapters.dynamodb.connections import DynamoConnectionRegistry
from dynamotalk.adapters.dynamodb.messages import DynamoMessageStore
from dynamotalk.adapters.dynamodb.rooms import DynamoRoomStore
from dynamotalk.adapters.dynamodb.users import DynamoUserStore

__all__ = ["DynamoConnectionRegistry", "DynamoMessageStore", "DynamoRoomStore", "DynamoUserStore"]
