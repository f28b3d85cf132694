"""ErasureStore on the chat table (erasure_ports.py).

ERASURE#{user_id} / JOB        the job (adapters/erasure_codec.py)
USER#{user_id} / *             wiped a page at a time (Query keys only + BatchWriteItem)
USERNAME#{name} / USERNAME     deleted if it still names the user
ROOM#{room} / MSG#{ulid}       author rewritten to the tombstone (anonymise); others' messages
                               lose the user's reactions, mention, quoted name (UpdateItem)
ROOM#{room} / MENTION#{user}#  deleted (Query keys only + BatchWriteItem)
ROOM#{room} / SEQ#{seq}        rewritten without the user (PutItem, only where it still exists)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.table import Table, error_code
from dynamotalk.adapters.erasure_codec import job_item, job_of
from dynamotalk.domain.erasure import ERASED_AUTHOR, ErasePolicy, ErasureJob
from dynamotalk.domain.erasure_scrub import scrub_change, scrub_others
from dynamotalk.domain.models import Message
from dynamotalk.tables import keys as k
from dynamotalk.tables.changes import change_from_item, change_item
from dynamotalk.tables.codecs import dump
from dynamotalk.tables.items import message_from_item

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

    def scrub_messages(
        self, room_id: str, before_id: str | None, limit: int, user_id: str
    ) -> list[tuple[str, str]]:
        high = k.message_sk(before_id) if before_id else k.MSG_END
        items = self.table.query(
            limit=limit + 1 if before_id else limit,  # the cursor's own item comes back first
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": k.room_pk(room_id)},
                ":low": {"S": k.MSG_PREFIX},
                ":high": {"S": high},
            },
            ScanIndexForward=False,
            ConsistentRead=True,
        )
        page = []
        for item in items:
            message = message_from_item(item)
            if message.message_id == before_id:
                continue
            page.append((message.message_id, message.author_id))
            scrubbed = scrub_others(message, user_id)
            if scrubbed != message:
                self._scrub_message(message, scrubbed, user_id)
        return page

    def _scrub_message(self, before: Message, after: Message, user_id: str) -> None:
        """One UpdateItem: the user's `r#` entries and `ru#` count go, `rk` drops by the emoji
        left with nobody, the quote and mention list are set (only on an item still there)."""
        names: dict[str, str] = {"#ru": k.reactor_attribute(user_id)}
        values: dict[str, Any] = {}
        sets, removes, deletes = list[str](), ["#ru"], list[str]()
        for n, emoji in enumerate(e for e, u in before.reactions.items() if user_id in u):
            names[f"#r{n}"] = k.reaction_attribute(emoji)
            deletes.append(f"#r{n} :me")
            values[":me"] = {"SS": [user_id]}
        emptied = len(before.reactions) - len(after.reactions)
        if after.quote != before.quote:
            assert after.quote is not None  # scrubbing rewrites a quote, never drops it
            values[":quote"] = dump({"v": attrs.asdict(after.quote)})["v"]
            sets.append("quote = :quote")
        if after.mentions != before.mentions:
            if after.mentions:
                values[":mentions"] = dump({"v": list(after.mentions)})["v"]
                sets.append("mentions = :mentions")
            else:
                removes.append("mentions")
        if after.deleted_by != before.deleted_by:
            values[":gone"] = {"S": ERASED_AUTHOR}
            sets.append("deleted_by = :gone")
        expression = f"REMOVE {', '.join(removes)}"
        if sets:
            expression = f"SET {', '.join(sets)} {expression}"
        if deletes:
            expression += f" DELETE {', '.join(deletes)}"
        if emptied:
            names["#rk"] = k.REACTION_KINDS
            values[":drop"] = {"N": str(-emptied)}
            expression += " ADD #rk :drop"
        try:
            self.table.update_item(
                k.room_pk(before.room_id),
                k.message_sk(before.message_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames=names,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise

    def drop_mentions(self, room_id: str, user_id: str) -> None:
        keys = [
            (str(i["PK"]), str(i["SK"]))
            for i in self.table.query(
                KeyConditionExpression="PK = :pk AND begins_with(SK, :mine)",
                ExpressionAttributeValues={
                    ":pk": {"S": k.room_pk(room_id)},
                    ":mine": {"S": f"{k.MENTION_PREFIX}{user_id}#"},
                },
                ProjectionExpression="PK, SK",
            )
        ]
        self.table.batch_write([Table.delete_request(pk, sk) for pk, sk in keys])

    def scrub_changes(
        self, room_id: str, after_seq: int, limit: int, user_id: str, policy: ErasePolicy
    ) -> int | None:
        items = list(
            self.table.query(
                limit=limit,
                KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
                ExpressionAttributeValues={
                    ":pk": {"S": k.room_pk(room_id)},
                    ":low": {"S": k.seq_sk(after_seq + 1)},
                    ":high": {"S": k.SEQ_END},
                },
                ConsistentRead=True,
            )
        )
        for item in items:
            change = change_from_item(item)
            scrubbed = scrub_change(change, user_id, policy)
            if scrubbed == change:
                continue
            rewritten = change_item(scrubbed, 0)
            rewritten["expires_at"] = item["expires_at"]
            try:  # a MODIFY: the stream filters pass INSERTs only, so nothing is re-sent
                self.table.put_item(rewritten, ConditionExpression="attribute_exists(PK)")
            except ClientError as error:
                if error_code(error) != CONDITION_FAILED:
                    raise
        return int(items[-1]["seq"]) if len(items) == limit else None

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
