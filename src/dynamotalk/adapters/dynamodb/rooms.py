"""RoomStore on DynamoDB: rooms (ROOM#{room} / META), memberships (ROOM#{room} / MEMBER#{user},
and USER#{user} / ROOM#{room} on GSI1), with invites and blocks in invites.py."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.feed import ChangeRefused, DynamoChangeFeed
from dynamotalk.adapters.dynamodb.invites import DynamoInvites
from dynamotalk.adapters.dynamodb.member_count import member_count_change
from dynamotalk.adapters.dynamodb.moderation import DynamoModeration
from dynamotalk.adapters.dynamodb.reports import DynamoReportStore
from dynamotalk.adapters.dynamodb.table import Table, busy, cancellation_reasons, error_code
from dynamotalk.domain.events import MemberJoined, MemberLeft, RoomChange
from dynamotalk.domain.models import Block, Invite, Membership, Role, Room
from dynamotalk.tables import GSI1
from dynamotalk.tables import keys as k
from dynamotalk.tables.codecs import key
from dynamotalk.tables.items import membership_from_item, membership_item, room_from_item, room_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_TRANSACTION_ITEMS = 100
"""DynamoDB's most items in one transaction: the room and its first 99 members."""


@attrs.define
class DynamoRoomStore(DynamoModeration):
    client: DynamoDBClient
    table_name: str
    _table: Table = attrs.field(init=False)
    _invites: DynamoInvites = attrs.field(init=False)

    feed: DynamoChangeFeed = attrs.field(default=None)
    """The room feed the store commits its changes to (shared with the other store of the
    container: bootstrap); its own when not given."""

    def __attrs_post_init__(self) -> None:
        self._table = Table(self.client, self.table_name)
        if self.feed is None:
            self.feed = DynamoChangeFeed(self.client, self.table_name)
        self._invites = DynamoInvites(self._table, self.feed)

    def create(self, room: Room, members: Sequence[Membership]) -> bool:
        # One item per user (the last one given wins): a transaction may not touch an item twice.
        members = list({m.user_id: m for m in members}.values())
        first = _TRANSACTION_ITEMS - 1
        counted = attrs.evolve(room, member_count=len(members))
        puts: list[Any] = [self._table.transact_put(room_item(counted))]
        puts += [
            self._table.transact_put(membership_item(m), if_absent=False) for m in members[:first]
        ]
        try:
            self._table.transact(puts)
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException":
                reasons = cancellation_reasons(error)
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False
                raise busy() from error
            raise
        # Transactions hold at most 100 items; the rest of a large invite list follows in batches.
        if len(members) > first:
            self._table.batch_write(
                [Table.put_request(membership_item(m)) for m in members[first:]]
            )
        return True

    def get(self, room_id: str) -> Room | None:
        item = self._table.get(k.room_pk(room_id), k.META)
        return room_from_item(item) if item else None

    def get_many(self, room_ids: Sequence[str]) -> list[Room]:
        items = self._table.batch_get([(k.room_pk(r), k.META) for r in room_ids])
        return [room_from_item(item) for item in items]

    def public_rooms(self, limit: int) -> list[Room]:
        items = self._table.query(
            limit=limit,
            IndexName=GSI1.name,
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": k.PUBLIC_ROOMS}},
            ScanIndexForward=False,
        )
        return [room_from_item(item) for item in items]

    def add_member(self, membership: Membership) -> bool:
        def build(seq: int) -> tuple[list[Any], RoomChange]:
            items = [
                self._table.transact_put(membership_item(membership)),
                member_count_change(self.table_name, membership.room_id, +1),
            ]
            return items, MemberJoined(membership, seq)

        try:
            self.feed.commit(membership.room_id, build)
        except ChangeRefused:
            return False  # already a member
        return True

    def remove_member(self, room_id: str, user_id: str) -> MemberLeft | None:
        delete: Any = {
            "Delete": {
                "TableName": self.table_name,
                "Key": key(k.room_pk(room_id), k.member_sk(user_id)),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }
        try:
            count = member_count_change(self.table_name, room_id, -1)
            left = self.feed.commit(
                room_id, lambda seq: ([delete, count], MemberLeft(room_id, user_id, seq))
            )
        except ChangeRefused:
            return None  # not a member
        assert isinstance(left, MemberLeft)
        return left

    def member(self, room_id: str, user_id: str) -> Membership | None:
        item = self._table.get(k.room_pk(room_id), k.member_sk(user_id))
        return membership_from_item(item) if item else None

    def members(self, room_id: str) -> list[Membership]:
        items = self._table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": k.room_pk(room_id)},
                ":prefix": {"S": k.MEMBER_PREFIX},
            },
            ConsistentRead=True,
        )
        return [membership_from_item(item) for item in items]

    def _rooms_of_query(self, user_id: str) -> dict[str, Any]:
        """The index query of the user's memberships, by room id."""
        return {
            "IndexName": GSI1.name,
            "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": k.user_pk(user_id)},
                ":prefix": {"S": k.ROOM_PREFIX},
            },
        }

    def rooms_of(self, user_id: str) -> list[Membership]:
        return [membership_from_item(i) for i in self._table.query(**self._rooms_of_query(user_id))]

    def mark_read(self, room_id: str, user_id: str, message_id: str) -> bool:
        return self._update_member(
            room_id,
            user_id,
            UpdateExpression="SET last_read_id = :id",
            ConditionExpression=(
                "attribute_exists(PK) AND "
                "(attribute_not_exists(last_read_id) OR last_read_id < :id)"
            ),
            ExpressionAttributeValues={":id": {"S": message_id}},
        )

    def set_role(self, room_id: str, user_id: str, role: Role) -> None:
        current = self.member(room_id, user_id)
        if current is None or current.role is role:
            return
        changed = attrs.evolve(current, role=role)
        update: Any = {
            "Update": {
                "TableName": self.table_name,
                "Key": key(k.room_pk(room_id), k.member_sk(user_id)),
                "UpdateExpression": "SET #role = :role",
                "ConditionExpression": "attribute_exists(PK) AND #role = :was",
                "ExpressionAttributeNames": {"#role": "role"},
                "ExpressionAttributeValues": {
                    ":role": {"S": role.value},
                    ":was": {"S": current.role.value},
                },
            }
        }
        with contextlib.suppress(ChangeRefused):  # left, or changed by another: theirs stands
            self.feed.commit(room_id, lambda seq: ([update], MemberJoined(changed, seq)))

    def _update_member(self, room_id: str, user_id: str, **kwargs: Any) -> bool:
        """A conditional update of a membership; a failed condition changes nothing, silently
        (False)."""
        try:
            self._table.update_item(k.room_pk(room_id), k.member_sk(user_id), **kwargs)
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    # --- bounded membership (issue 13) ---

    def memberships_in(self, user_id: str, room_ids: Sequence[str]) -> list[Membership]:
        keys = [(k.room_pk(room_id), k.member_sk(user_id)) for room_id in room_ids]
        return [membership_from_item(item) for item in self._table.batch_get(keys)]

    def members_among(self, room_id: str, user_ids: Sequence[str]) -> list[Membership]:
        keys = [(k.room_pk(room_id), k.member_sk(user_id)) for user_id in user_ids]
        return [membership_from_item(item) for item in self._table.batch_get(keys)]

    def rooms_page(self, user_id: str, after_room_id: str | None, limit: int) -> list[Membership]:
        request = self._rooms_of_query(user_id)
        if after_room_id is not None:
            # The index key of the last membership of the previous page (index and table keys).
            request["ExclusiveStartKey"] = {
                "GSI1PK": {"S": k.user_pk(user_id)},
                "GSI1SK": {"S": k.room_pk(after_room_id)},
                **key(k.room_pk(after_room_id), k.member_sk(user_id)),
            }
        return [membership_from_item(i) for i in self._table.query(limit=limit, **request)]

    def count_rooms(self, user_id: str, cap: int) -> int:
        return self._table.count(cap, **self._rooms_of_query(user_id))

    # --- consent: invites and blocks (invites.py) ---

    def count_invites(self, user_id: str, now_s: int, cap: int) -> int:
        return self._invites.count_invites(user_id, now_s, cap)

    def add_invite(self, invite: Invite) -> bool:
        return self._invites.add_invite(invite)

    def invite(self, room_id: str, user_id: str, now_s: int) -> Invite | None:
        return self._invites.invite(room_id, user_id, now_s)

    def invites_of(self, user_id: str, now_s: int) -> list[Invite]:
        return self._invites.invites_of(user_id, now_s)

    def invites_to(self, room_id: str, now_s: int) -> list[Invite]:
        return self._invites.invites_to(room_id, now_s)

    def remove_invite(self, room_id: str, user_id: str) -> bool:
        return self._invites.remove_invite(room_id, user_id)

    def accept_invite(self, invite: Invite, membership: Membership) -> bool:
        return self._invites.accept_invite(invite, membership)

    def block(self, user_id: str, blocked_user_id: str, at: int) -> None:
        self._invites.block(user_id, blocked_user_id, at)

    def unblock(self, user_id: str, blocked_user_id: str) -> None:
        self._invites.unblock(user_id, blocked_user_id)

    def is_blocked(self, user_id: str, by_user_id: str) -> bool:
        return self._invites.is_blocked(user_id, by_user_id)

    def blocks_of(self, user_id: str) -> list[Block]:
        return self._invites.blocks_of(user_id)

    def blockers_of(self, user_id: str) -> list[str]:
        return self._invites.blockers_of(user_id)

    def report_store(self) -> DynamoReportStore:
        return DynamoReportStore(self.client, self.table_name)
