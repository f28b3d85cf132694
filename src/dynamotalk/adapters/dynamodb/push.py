"""PushStore on the chat table (ports_push.py): items under the user's own partition.

    USER#{user_id} / PUSH#{device_id}   endpoint, p256dh, auth, created_at, last_success_at
    USER#{user_id} / NOTIFY#{room_id}   until_ms (absent: muted with no end)

A user's subscriptions are one Query of at most MAX_DEVICES small items; a room's setting one
GetItem. Under USER# so an erasure (every item of the partition) takes them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.table import Table, error_code
from dynamotalk.domain.push import PushSubscription, RoomNotify
from dynamotalk.tables import keys as k

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _subscription(item: dict[str, Any]) -> PushSubscription:
    last = item.get("last_success_at")
    return PushSubscription(
        user_id=str(item["PK"]).removeprefix(k.USER_PREFIX),
        device_id=str(item["SK"]).removeprefix(k.PUSH_PREFIX),
        endpoint=str(item["endpoint"]),
        p256dh=str(item["p256dh"]),
        auth=str(item["auth"]),
        created_at=int(item["created_at"]),
        last_success_at=int(last) if last is not None else None,
    )


@attrs.define
class DynamoPushStore:
    client: DynamoDBClient
    table_name: str
    table: Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.table = Table(self.client, self.table_name)

    def put_subscription(self, subscription: PushSubscription) -> None:
        self.table.put_item(
            {
                "PK": k.user_pk(subscription.user_id),
                "SK": f"{k.PUSH_PREFIX}{subscription.device_id}",
                "endpoint": subscription.endpoint,
                "p256dh": subscription.p256dh,
                "auth": subscription.auth,
                "created_at": subscription.created_at,
                "last_success_at": subscription.last_success_at,
            }
        )

    def subscriptions(self, user_id: str) -> list[PushSubscription]:
        items = self.table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": k.user_pk(user_id)},
                ":prefix": {"S": k.PUSH_PREFIX},
            },
        )
        return [_subscription(item) for item in items]

    def delete_subscription(self, user_id: str, device_id: str) -> bool:
        old = self.table.delete_item(
            k.user_pk(user_id), f"{k.PUSH_PREFIX}{device_id}", ReturnValues="ALL_OLD"
        )
        return bool(old)

    def mark_success(self, user_id: str, device_id: str, at: int) -> None:
        try:
            self.table.update_item(
                k.user_pk(user_id),
                f"{k.PUSH_PREFIX}{device_id}",
                UpdateExpression="SET last_success_at = :at",
                ConditionExpression="attribute_exists(PK)",  # never resurrect a deleted one
                ExpressionAttributeValues={":at": {"N": str(at)}},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def set_room_notify(self, setting: RoomNotify) -> None:
        self.table.put_item(
            {
                "PK": k.user_pk(setting.user_id),
                "SK": f"{k.NOTIFY_PREFIX}{setting.room_id}",
                "until_ms": setting.until_ms,
            }
        )

    def room_notify(self, user_id: str, room_id: str) -> RoomNotify | None:
        item = self.table.get(k.user_pk(user_id), f"{k.NOTIFY_PREFIX}{room_id}", consistent=False)
        if item is None:
            return None
        until = item.get("until_ms")
        return RoomNotify(user_id, room_id, int(until) if until is not None else None)

    def clear_room_notify(self, user_id: str, room_id: str) -> None:
        self.table.delete_item(k.user_pk(user_id), f"{k.NOTIFY_PREFIX}{room_id}")
