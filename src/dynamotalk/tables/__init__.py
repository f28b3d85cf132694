"""The one definition of DynamoTalk's DynamoDB table, read by the adapters, the Pulumi program
and the local stack so none can drift: `schema` (keys, index, TTL), `keys` (every key shape and
prefix) and `items` (every item codec, the user item included). One table holds every item kind
(single-table design); docs/ARCHITECTURE.md maps access patterns to key conditions.
"""

from dynamotalk.tables.schema import CHAT_TABLE, GSI1, IndexSpec, TableSpec, create_table_request

__all__ = ["CHAT_TABLE", "GSI1", "IndexSpec", "TableSpec", "create_table_request"]
