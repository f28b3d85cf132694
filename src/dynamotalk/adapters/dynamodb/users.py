"""UserStore on DynamoDB: profiles and the username claims that make names unique."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.table import Table, error_code
from dynamotalk.domain.models import User
from dynamotalk.tables import keys as k
from dynamotalk.tables.items import user_from_item, user_item, username_claim_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@attrs.define
class DynamoUserStore:
    """Profiles under USER#{id} / PROFILE plus a USERNAME#{casefolded} claim holding the id.

    The claim is written with a condition (absent, or already this user's), so no profile
    write can move a name to another user: the bot's seeded claim, or any user's, stays put.
    """

    client: DynamoDBClient
    table_name: str
    _table: Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._table = Table(self.client, self.table_name)

    def get(self, user_id: str) -> User | None:
        item = self._table.get(k.user_pk(user_id), k.PROFILE)
        return user_from_item(item) if item else None

    def get_many(self, user_ids: Sequence[str]) -> list[User]:
        items = self._table.batch_get([(k.user_pk(u), k.PROFILE) for u in user_ids])
        return [user_from_item(i) for i in items]

    def put(self, user: User) -> bool:
        # Claim first: a profile without its claim is harmless (not found by name), a claim
        # without its profile answers "no such user" until the next put writes it.
        try:
            self._table.put_item(
                username_claim_item(user.username, user.user_id),
                ConditionExpression="attribute_not_exists(PK) OR user_id = :me",
                ExpressionAttributeValues={":me": {"S": user.user_id}},
            )
            claimed = True
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            claimed = False
        self._table.put_item(user_item(user))
        return claimed

    def by_username(self, username: str) -> User | None:
        claim = self._table.get(k.username_pk(username), k.USERNAME_SK)
        return self.get(str(claim["user_id"])) if claim else None

    def set_last_seen(self, user_id: str, at: int) -> None:
        try:
            self._table.update_item(
                k.user_pk(user_id),
                k.PROFILE,
                UpdateExpression="SET last_seen = :at",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":at": {"N": str(at)}},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
