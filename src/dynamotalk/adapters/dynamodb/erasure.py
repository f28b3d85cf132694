"""ErasureStore on the chat table (erasure_ports.py).

ERASURE#{user_id} / JOB        the job (adapters/erasure_codec.py)
USER#{user_id} / *             wiped a page at a time (Query keys only + BatchWriteItem)
USERNAME#{name} / USERNAME     deleted if it still names the user
ROOM#{room} / MSG#{ulid}       author rewritten to the tombstone (anonymise)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.table import Table, error_code
from dynamotalk.adapters.erasure_codec import job_item, job_of
from dynamotalk.domain.erasure import ERASED_AUTHOR, ErasureJob
from dynamotalk.tables import keys as k

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONDITION_FAILED = "ConditionalCheckFailedException"


@attrs.define
class DynamoErasureStore:
    client: DynamoDBClient
    table_name: str
    table: Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.table = Table(self.client, self.table_name)

    def create(self, job: ErasureJob) -> ErasureJob:
        try:
            self.table.put_item(job_item(job), ConditionExpression="attribute_not_exists(PK)")
            return job
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise
        found = self.get(job.user_id)
        assert found is not None  # the condition failed on it
        return found

    def get(self, user_id: str) -> ErasureJob | None:
        item = self.table.get(k.erasure_pk(user_id), k.ERASURE_SK)
        return job_of(item) if item else None

    def save(self, job: ErasureJob) -> None:
        self.table.put_item(job_item(job))

    def wipe_user(self, user_id: str, limit: int) -> bool:
        keys = [
            (str(i["PK"]), str(i["SK"]))
            for i in self.table.query(
                limit=limit,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": k.user_pk(user_id)}},
                ProjectionExpression="PK, SK",
            )
        ]
        self.table.batch_write([Table.delete_request(pk, sk) for pk, sk in keys])
        return len(keys) < limit

    def free_username(self, username: str, user_id: str) -> None:
        try:
            self.table.delete_item(
                k.username_pk(username),
                k.USERNAME_SK,
                ConditionExpression="user_id = :me",
                ExpressionAttributeValues={":me": {"S": user_id}},
            )
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise

    def anonymise(self, room_id: str, message_id: str, user_id: str) -> None:
        self._rewrite(k.room_pk(room_id), k.message_sk(message_id), "author_id", user_id)

    def authors(self, room_id: str, before_id: str | None, limit: int) -> list[tuple[str, str]]:
        high = k.message_sk(before_id) if before_id else k.MSG_END
        items = self.table.query(
            limit=limit + 1 if before_id else limit,  # the cursor's own item comes back first
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": k.room_pk(room_id)},
                ":low": {"S": k.MSG_PREFIX},
                ":high": {"S": high},
            },
            ProjectionExpression="SK, author_id",
            ScanIndexForward=False,
            ConsistentRead=True,
        )
        found = [(str(i["SK"]).removeprefix(k.MSG_PREFIX), str(i["author_id"])) for i in items]
        return [(m, a) for m, a in found if m != before_id]

    def anonymise_room(self, room_id: str, user_id: str) -> None:
        self._rewrite(k.room_pk(room_id), k.META, "created_by", user_id)

    def _rewrite(self, pk: str, sk: str, attribute: str, user_id: str) -> None:
        """The attribute to the tombstone where it still names the user (else nothing)."""
        try:
            self.table.update_item(
                pk,
                sk,
                UpdateExpression=f"SET {attribute} = :gone",
                ConditionExpression=f"{attribute} = :me",
                ExpressionAttributeValues={
                    ":gone": {"S": ERASED_AUTHOR},
                    ":me": {"S": user_id},
                },
            )
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise
