"""The consent half of the DynamoDB RoomStore: pending invites and blocks (issue 13).

Invites live under the room (ROOM#{room} / INVITE#{user}) and, through GSI1, under the invitee
(USER#{user} / INVITE#{room}); a block under the blocker (USER#{user} / BLOCK#{blocked}) and
its reverse under the blocked user (BLOCKEDBY#{blocked} / USER#{user}): who blocked an author,
read by the fan-out with a Query on the table (its role has no index access), the two written
and deleted together by one transaction.
"""

from __future__ import annotations

from typing import Any

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.feed import ChangeRefused, DynamoChangeFeed
from dynamotalk.adapters.dynamodb.member_count import member_count_change
from dynamotalk.adapters.dynamodb.table import Table, error_code
from dynamotalk.domain.events import MemberJoined
from dynamotalk.domain.models import Block, Invite, Membership
from dynamotalk.tables import GSI1
from dynamotalk.tables import keys as k
from dynamotalk.tables.codecs import key
from dynamotalk.tables.items import (
    block_from_item,
    block_item,
    blocked_by_item,
    invite_from_item,
    invite_item,
    membership_item,
)


@attrs.define
class DynamoInvites:
    table: Table
    feed: DynamoChangeFeed

    def _of_user(self, user_id: str) -> dict[str, Any]:
        """The index query of the user's invites."""
        return {
            "IndexName": GSI1.name,
            "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": k.user_pk(user_id)},
                ":prefix": {"S": k.INVITE_PREFIX},
            },
        }

    def count_invites(self, user_id: str, now_s: int, cap: int) -> int:
        request = self._of_user(user_id)
        request["ExpressionAttributeValues"][":now"] = {"N": str(now_s)}
        return self.table.count(cap, FilterExpression="expires_at > :now", **request)

    def add_invite(self, invite: Invite) -> bool:
        try:
            self.table.put_item(
                invite_item(invite),
                # A pending invite stays as it is; an expired one (TTL not yet run) is replaced.
                ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(invite.invited_at // 1000)}},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def invite(self, room_id: str, user_id: str, now_s: int) -> Invite | None:
        item = self.table.get(k.room_pk(room_id), k.invite_sk(user_id))
        if item is None or int(item["expires_at"]) <= now_s:
            return None
        return invite_from_item(item)

    def invites_of(self, user_id: str, now_s: int) -> list[Invite]:
        items = self.table.query(**self._of_user(user_id))
        return [invite_from_item(i) for i in items if int(i["expires_at"]) > now_s]

    def invites_to(self, room_id: str, now_s: int) -> list[Invite]:
        items = self.table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": k.room_pk(room_id)},
                ":prefix": {"S": k.INVITE_PREFIX},
            },
        )
        return [invite_from_item(i) for i in items if int(i["expires_at"]) > now_s]

    def remove_invite(self, room_id: str, user_id: str) -> bool:
        old = self.table.delete_item(
            k.room_pk(room_id), k.invite_sk(user_id), ReturnValues="ALL_OLD"
        )
        return bool(old)

    def accept_invite(self, invite: Invite, membership: Membership) -> bool:
        delete: Any = {
            "Delete": {
                "TableName": self.table.table_name,
                "Key": key(k.room_pk(invite.room_id), k.invite_sk(invite.user_id)),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }
        put = self.table.transact_put(membership_item(membership))
        count = member_count_change(self.table.table_name, membership.room_id, +1)
        try:
            self.feed.commit(
                membership.room_id,
                lambda seq: ([delete, put, count], MemberJoined(membership, seq)),
            )
        except ChangeRefused:
            return False
        return True

    def block(self, user_id: str, blocked_user_id: str, at: int) -> None:
        self.table.transact(
            [
                self.table.transact_put(block_item(user_id, blocked_user_id, at), if_absent=False),
                self.table.transact_put(
                    blocked_by_item(user_id, blocked_user_id, at), if_absent=False
                ),
            ]
        )

    def unblock(self, user_id: str, blocked_user_id: str) -> None:
        keys = [
            key(k.user_pk(user_id), k.block_sk(blocked_user_id)),
            key(k.blocked_by_pk(blocked_user_id), k.user_pk(user_id)),
        ]
        deletes: Any = [{"Delete": {"TableName": self.table.table_name, "Key": kk}} for kk in keys]
        self.table.transact(deletes)

    def is_blocked(self, user_id: str, by_user_id: str) -> bool:
        return self.table.get(k.user_pk(by_user_id), k.block_sk(user_id)) is not None

    def blocks_of(self, user_id: str) -> list[Block]:
        items = self.table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": k.user_pk(user_id)},
                ":prefix": {"S": k.BLOCK_PREFIX},
            },
        )
        return [block_from_item(i) for i in items]

    def blockers_of(self, user_id: str) -> list[str]:
        items = self.table.query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": k.blocked_by_pk(user_id)}},
            ProjectionExpression="SK",
        )
        return [str(i["SK"]).removeprefix(k.USER_PREFIX) for i in items]
