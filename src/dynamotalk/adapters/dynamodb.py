"""DynamoDB adapters for MessageStore, RoomStore, UserStore and ConnectionRegistry.

One table (tables.CHAT_TABLE), the low-level client (cheaper cold start than the resource API)
and no Scan: every read is GetItem, BatchGetItem or a Query whose cost grows with the answer.
Item shapes are listed at the bottom of tables.py; access patterns and costs in
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from dynamotalk import tables as t
from dynamotalk.domain.errors import NotFound, RateLimited, TooLarge
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import (
    Attachment,
    Connection,
    Invite,
    Membership,
    Message,
    Role,
    Room,
    RoomKind,
    Subscription,
    User,
)
from dynamotalk.domain.rules import check_reaction_caps

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

Item = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
    }
)
_BATCH_WRITE = 25
_BATCH_GET = 100
_CONFLICT_ATTEMPTS = 4


def _dump(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def _load(item: Mapping[str, Any]) -> Item:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _throttled(error: ClientError) -> RateLimited:
    return RateLimited("the chat is busy, please retry in a moment")


def _reasons(error: ClientError) -> list[str]:
    reasons = error.response.get("CancellationReasons") or []
    return [str(r.get("Code", "")) for r in reasons]


@attrs.define
class _Table:
    """The table and the few request helpers every store uses."""

    client: DynamoDBClient
    table_name: str

    def get(self, pk: str, sk: str, consistent: bool = True) -> Item | None:
        try:
            reply = self.client.get_item(
                TableName=self.table_name, Key=_key(pk, sk), ConsistentRead=consistent
            )
        except ClientError as error:
            raise self._translate(error) from error
        item = reply.get("Item")
        return _load(item) if item else None

    def query(self, limit: int | None = None, **kwargs: Any) -> Iterator[Item]:
        """Items of a Query, following LastEvaluatedKey until `limit` items (or the end)."""
        if limit is not None and limit <= 0:
            return  # DynamoDB refuses Limit=0; the answer is empty anyway
        request: dict[str, Any] = {"TableName": self.table_name, **kwargs}
        seen = 0
        while True:
            if limit is not None:
                request["Limit"] = limit - seen
            try:
                reply = self.client.query(**request)
            except ClientError as error:
                raise self._translate(error) from error
            for item in reply.get("Items", []):
                seen += 1
                yield _load(item)
            last = reply.get("LastEvaluatedKey")
            if not last or (limit is not None and seen >= limit):
                return
            request["ExclusiveStartKey"] = last

    def count(self, cap: int, **kwargs: Any) -> int:
        request: dict[str, Any] = {"TableName": self.table_name, "Select": "COUNT", **kwargs}
        total = 0
        while total < cap:
            request["Limit"] = cap - total
            try:
                reply = self.client.query(**request)
            except ClientError as error:
                raise self._translate(error) from error
            total += int(reply.get("Count", 0))
            last = reply.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return min(total, cap)

    def batch_get(self, keys: Sequence[tuple[str, str]]) -> list[Item]:
        unique = list(dict.fromkeys(keys))
        found: list[Item] = []
        for start in range(0, len(unique), _BATCH_GET):
            pending: dict[str, Any] = {
                self.table_name: {
                    "Keys": [_key(pk, sk) for pk, sk in unique[start : start + _BATCH_GET]]
                }
            }
            for attempt in range(8):
                try:
                    reply = self.client.batch_get_item(RequestItems=pending)
                except ClientError as error:
                    raise self._translate(error) from error
                found += [_load(i) for i in reply.get("Responses", {}).get(self.table_name, [])]
                pending = dict(reply.get("UnprocessedKeys") or {})
                if not pending:
                    break
                time.sleep(min(0.5, 0.02 * 2**attempt))
            else:
                raise RateLimited("the chat is busy, please retry in a moment")
        return found

    def batch_write(self, requests: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(requests), _BATCH_WRITE):
            pending: dict[str, Any] = {
                self.table_name: list(requests[start : start + _BATCH_WRITE])
            }
            for attempt in range(8):
                try:
                    reply = self.client.batch_write_item(RequestItems=pending)
                except ClientError as error:
                    raise self._translate(error) from error
                pending = dict(reply.get("UnprocessedItems") or {})
                if not pending:
                    break
                time.sleep(min(0.5, 0.02 * 2**attempt))
            else:
                raise RateLimited("the chat is busy, please retry in a moment")

    def put(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"PutRequest": {"Item": _dump(item)}}

    def delete(self, pk: str, sk: str) -> dict[str, Any]:
        return {"DeleteRequest": {"Key": _key(pk, sk)}}

    def _translate(self, error: ClientError) -> Exception:
        return _throttled(error) if _code(error) in _THROTTLED else error


# --- messages -------------------------------------------------------------------------------


def _message_item(message: Message) -> Item:
    return {
        "PK": t.room_pk(message.room_id),
        "SK": t.message_sk(message.message_id),
        "kind": "message",
        "message_id": message.message_id,
        "room_id": message.room_id,
        "author_id": message.author_id,
        "text": message.text,
        "created_at": message.created_at,
        "client_id": message.client_id,
        "attachments": [attrs.asdict(a) for a in message.attachments] or None,
        "edited_at": message.edited_at,
        "deleted_at": message.deleted_at,
    }


def _message(item: Item) -> Message:
    reactions: dict[str, frozenset[str]] = {}
    for name, value in item.items():
        if name.startswith("r#") and value:
            reactions[name[2:]] = frozenset(value)
    return Message(
        message_id=item["message_id"],
        room_id=item["room_id"],
        author_id=item["author_id"],
        text=item.get("text", ""),
        created_at=int(item["created_at"]),
        client_id=item["client_id"],
        attachments=tuple(
            Attachment(
                key=a["key"], name=a["name"], content_type=a["content_type"], size=int(a["size"])
            )
            for a in item.get("attachments") or ()
        ),
        edited_at=int(item["edited_at"]) if item.get("edited_at") is not None else None,
        deleted_at=int(item["deleted_at"]) if item.get("deleted_at") is not None else None,
        reactions=reactions,
    )


@attrs.define
class DynamoMessageStore:
    """Messages of a room under ROOM#{room} / MSG#{ulid}; reactions as `r#{emoji}` string sets."""

    client: DynamoDBClient
    table_name: str
    _table: _Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._table = _Table(self.client, self.table_name)

    def append(self, message: Message) -> tuple[Message, bool]:
        room_pk = t.room_pk(message.room_id)
        claim_sk = t.client_sk(message.author_id, message.client_id)
        claim = {"PK": room_pk, "SK": claim_sk, "message_id": message.message_id}
        # The claim and the message are written together or not at all, each only if absent:
        # a retry finds the claim taken and gets the message stored the first time.
        request: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _dump(claim),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _dump(_message_item(message)),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=request)
            except ClientError as error:
                if _code(error) != "TransactionCanceledException":
                    raise self._table._translate(error) from error
                reasons = _reasons(error)
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return self._first_of_claim(message.room_id, claim_sk, error), False
                if "TransactionConflict" in reasons and attempt + 1 < _CONFLICT_ATTEMPTS:
                    # Two retries of one post racing: the next attempt sees the winner's claim.
                    time.sleep(0.02 * 2**attempt)
                    continue
                # Throttled, still conflicting, or (never in practice) a message id collision:
                # nothing was written, and the client retries with the same client id.
                raise _throttled(error) from error
            return message, True
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _first_of_claim(self, room_id: str, claim_sk: str, error: ClientError) -> Message:
        """The message a taken client-id claim points to (written in the same transaction)."""
        existing = self._table.get(t.room_pk(room_id), claim_sk)
        stored = self.get(room_id, str(existing["message_id"])) if existing else None
        if stored is None:
            # The claim was deleted between the failed write and this read: ask for a retry.
            raise _throttled(error) from error
        return stored

    def get(self, room_id: str, message_id: str) -> Message | None:
        item = self._table.get(t.room_pk(room_id), t.message_sk(message_id))
        return _message(item) if item else None

    def _update(self, room_id: str, message_id: str, condition: str, **kwargs: Any) -> Message:
        try:
            reply = self.client.update_item(
                TableName=self.table_name,
                Key=_key(t.room_pk(room_id), t.message_sk(message_id)),
                ConditionExpression=condition,
                ReturnValues="ALL_NEW",
                **kwargs,
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                raise NotFound("no such message") from None
            raise self._table._translate(error) from error
        return _message(_load(reply["Attributes"]))

    def edit(self, room_id: str, message_id: str, text: str, edited_at: int) -> Message:
        return self._update(
            room_id,
            message_id,
            "attribute_exists(PK) AND attribute_not_exists(deleted_at)",
            UpdateExpression="SET #text = :text, edited_at = :at",
            ExpressionAttributeNames={"#text": "text"},
            ExpressionAttributeValues={":text": {"S": text}, ":at": {"N": str(edited_at)}},
        )

    def soft_delete(self, room_id: str, message_id: str, deleted_at: int) -> Message:
        current = self.get(room_id, message_id)
        if current is None:
            raise NotFound("no such message")
        if current.deleted:
            return current
        names = _reaction_names(current)
        removed = ", ".join(["attachments", *names])
        try:
            deleted = self._update(
                room_id,
                message_id,
                "attribute_exists(PK) AND attribute_not_exists(deleted_at)",
                UpdateExpression=f"SET #text = :empty, deleted_at = :at REMOVE {removed}",
                ExpressionAttributeNames={"#text": "text", **names},
                ExpressionAttributeValues={":empty": {"S": ""}, ":at": {"N": str(deleted_at)}},
            )
        except NotFound:
            # A concurrent delete won the race: the message is deleted either way.
            winner = self.get(room_id, message_id)
            if winner is None:
                raise
            return winner
        if deleted.reactions:
            # A reaction that landed between the read and the update survived it; no new one
            # can land now (set_reaction requires a live message), so one more REMOVE is final.
            names = _reaction_names(deleted)
            deleted = self._update(
                room_id,
                message_id,
                "attribute_exists(PK)",
                UpdateExpression=f"REMOVE {', '.join(names)}",
                ExpressionAttributeNames=names,
            )
        return deleted

    def set_reaction(
        self, room_id: str, message_id: str, emoji: str, user_id: str, on: bool, limits: Limits
    ) -> Message:
        # One conditional update per try: the emoji's string set (ADD/DELETE is atomic per
        # user), `rk` counting the message's distinct emoji and `ru#{user}` counting the user's
        # reactions. The conditions hold the caps, so concurrent reactors cannot pass them.
        # Which form applies (first or later reactor, last or not) is guessed, then diagnosed.
        values: dict[str, Any] = {
            ":uid": {"S": user_id},
            ":users": {"SS": [user_id]},
            ":one": {"N": "1"},
        }
        names = {"#emoji": f"r#{emoji}", "#mine": f"ru#{user_id}"}
        live = "attribute_exists(PK) AND attribute_not_exists(deleted_at)"
        if on:
            values[":per_user"] = {"N": str(limits.max_reactions_per_user)}
            values[":kinds"] = {"N": str(limits.max_reaction_kinds)}
            per_user = "(attribute_not_exists(#mine) OR #mine < :per_user)"
            tries = [
                (
                    f"{live} AND attribute_exists(#emoji) AND NOT contains(#emoji, :uid)"
                    f" AND {per_user}",
                    "ADD #emoji :users, #mine :one",
                ),
                (
                    f"{live} AND attribute_not_exists(#emoji) AND {per_user}"
                    " AND (attribute_not_exists(rk) OR rk < :kinds)",
                    "ADD #emoji :users, #mine :one, rk :one",
                ),
            ]
        else:
            values[":minus"] = {"N": "-1"}
            tries = [
                (
                    f"{live} AND contains(#emoji, :uid) AND size(#emoji) > :one",
                    "DELETE #emoji :users ADD #mine :minus",
                ),
                (
                    f"{live} AND contains(#emoji, :uid) AND size(#emoji) = :one",
                    "DELETE #emoji :users ADD #mine :minus, rk :minus",
                ),
            ]
        for _ in range(_CONFLICT_ATTEMPTS):
            for condition, update in tries:
                try:
                    reply = self.client.update_item(
                        TableName=self.table_name,
                        Key=_key(t.room_pk(room_id), t.message_sk(message_id)),
                        ConditionExpression=condition,
                        UpdateExpression=update,
                        ExpressionAttributeNames={
                            k: v for k, v in names.items() if k in condition + update
                        },
                        ExpressionAttributeValues={
                            k: v for k, v in values.items() if k in condition + update
                        },
                        ReturnValues="ALL_NEW",
                    )
                except ClientError as error:
                    if _code(error) == "ConditionalCheckFailedException":
                        continue
                    if _code(error) == "ValidationException" and "size" in str(error).lower():
                        # DynamoDB's 400 KB item limit: the message's reactor sets are full.
                        raise TooLarge("this message can take no more reactions") from None
                    raise self._table._translate(error) from error
                return _message(_load(reply["Attributes"]))
            current = self._table.get(t.room_pk(room_id), t.message_sk(message_id))
            if current is None or current.get("deleted_at") is not None:
                raise NotFound("no such message")
            message = _message(current)
            if on == (user_id in message.reactions.get(emoji, frozenset())):
                return message  # already as asked: nothing to change
            if on:
                check_reaction_caps(message, emoji, user_id, limits)
            # The message changed between the tries: try both forms again.
        raise RateLimited("the chat is busy, please retry in a moment")

    def _range(self, room_id: str, low: str, high: str, forward: bool, limit: int) -> list[Message]:
        if limit <= 0:
            return []
        items = self._table.query(
            limit=limit,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": t.room_pk(room_id)},
                ":low": {"S": low},
                ":high": {"S": high},
            },
            ScanIndexForward=forward,
            ConsistentRead=True,
        )
        return [_message(item) for item in items]

    def before(self, room_id: str, before_id: str | None, limit: int) -> list[Message]:
        # "MSG#" + id minus one character sorts just below the id; "MSG$" is past every message.
        high = _just_below(t.message_sk(before_id)) if before_id else "MSG$"
        return self._range(room_id, t.MSG_PREFIX, high, False, limit)

    def after(self, room_id: str, after_id: str | None, limit: int) -> list[Message]:
        low = t.message_sk(after_id) + "\x00" if after_id else t.MSG_PREFIX
        return self._range(room_id, low, "MSG$", True, limit)

    def count_after(self, room_id: str, after_id: str | None, cap: int) -> int:
        low = t.message_sk(after_id) + "\x00" if after_id else t.MSG_PREFIX
        return self._table.count(
            cap,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": t.room_pk(room_id)},
                ":low": {"S": low},
                ":high": {"S": "MSG$"},
            },
        )


def _reaction_names(message: Message) -> dict[str, str]:
    """Placeholders for the message's reaction attributes: an emoji is no valid bare name."""
    return {f"#r{i}": f"r#{emoji}" for i, emoji in enumerate(message.reactions)}


def _just_below(key: str) -> str:
    """The greatest string sorting strictly before `key` among keys of the same shape."""
    last = key[-1]
    return key[:-1] + chr(ord(last) - 1) + "\U0010ffff"


# --- rooms and memberships ------------------------------------------------------------------


def _room_item(room: Room) -> Item:
    item: Item = {
        "PK": t.room_pk(room.room_id),
        "SK": t.META,
        "kind": "room",
        "room_id": room.room_id,
        "name": room.name,
        "room_kind": room.kind.value,
        "created_by": room.created_by,
        "created_at": room.created_at,
        "direct_pair": list(room.direct_pair) if room.direct_pair else None,
    }
    if room.kind is RoomKind.PUBLIC:
        item["GSI1PK"] = t.PUBLIC_ROOMS
        item["GSI1SK"] = t.room_pk(room.room_id)
    return item


def _room(item: Item) -> Room:
    pair = item.get("direct_pair")
    return Room(
        room_id=item["room_id"],
        name=item["name"],
        kind=RoomKind(item["room_kind"]),
        created_by=item["created_by"],
        created_at=int(item["created_at"]),
        direct_pair=(pair[0], pair[1]) if pair else None,
    )


def _membership_item(membership: Membership) -> Item:
    return {
        "PK": t.room_pk(membership.room_id),
        "SK": t.member_sk(membership.user_id),
        "GSI1PK": t.user_pk(membership.user_id),
        "GSI1SK": t.room_pk(membership.room_id),
        "kind": "membership",
        "room_id": membership.room_id,
        "user_id": membership.user_id,
        "role": membership.role.value,
        "joined_at": membership.joined_at,
        "last_read_id": membership.last_read_id,
    }


def _membership(item: Item) -> Membership:
    return Membership(
        room_id=item["room_id"],
        user_id=item["user_id"],
        role=Role(item["role"]),
        joined_at=int(item["joined_at"]),
        last_read_id=item.get("last_read_id"),
    )


@attrs.define
class DynamoRoomStore:
    client: DynamoDBClient
    table_name: str
    _table: _Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._table = _Table(self.client, self.table_name)

    def create(self, room: Room, members: Sequence[Membership]) -> bool:
        # One item per user (the last one given wins): a transaction may not touch an item twice.
        members = list({m.user_id: m for m in members}.values())
        puts: list[Any] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _dump(_room_item(room)),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        puts += [
            {"Put": {"TableName": self.table_name, "Item": _dump(_membership_item(m))}}
            for m in members[:99]
        ]
        try:
            self.client.transact_write_items(TransactItems=puts)
        except ClientError as error:
            if _code(error) == "TransactionCanceledException":
                reasons = _reasons(error)
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False
                raise _throttled(error) from error
            raise self._table._translate(error) from error
        # Transactions hold at most 100 items; the rest of a large invite list follows in batches.
        if len(members) > 99:
            self._table.batch_write([self._table.put(_membership_item(m)) for m in members[99:]])
        return True

    def get(self, room_id: str) -> Room | None:
        item = self._table.get(t.room_pk(room_id), t.META)
        return _room(item) if item else None

    def get_many(self, room_ids: Sequence[str]) -> list[Room]:
        items = self._table.batch_get([(t.room_pk(r), t.META) for r in room_ids])
        return [_room(item) for item in items]

    def public_rooms(self, limit: int) -> list[Room]:
        items = self._table.query(
            limit=limit,
            IndexName=t.GSI1.name,
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": t.PUBLIC_ROOMS}},
            ScanIndexForward=False,
        )
        return [_room(item) for item in items]

    def add_member(self, membership: Membership) -> bool:
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_dump(_membership_item(membership)),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise self._table._translate(error) from error
        return True

    def remove_member(self, room_id: str, user_id: str) -> bool:
        try:
            reply = self.client.delete_item(
                TableName=self.table_name,
                Key=_key(t.room_pk(room_id), t.member_sk(user_id)),
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            raise self._table._translate(error) from error
        return bool(reply.get("Attributes"))

    def member(self, room_id: str, user_id: str) -> Membership | None:
        item = self._table.get(t.room_pk(room_id), t.member_sk(user_id))
        return _membership(item) if item else None

    def members(self, room_id: str) -> list[Membership]:
        items = self._table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": t.room_pk(room_id)},
                ":prefix": {"S": t.MEMBER_PREFIX},
            },
            ConsistentRead=True,
        )
        return [_membership(item) for item in items]

    def rooms_of(self, user_id: str) -> list[Membership]:
        items = self._table.query(
            IndexName=t.GSI1.name,
            KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": t.user_pk(user_id)},
                ":prefix": {"S": "ROOM#"},
            },
        )
        return [_membership(item) for item in items]

    def mark_read(self, room_id: str, user_id: str, message_id: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(t.room_pk(room_id), t.member_sk(user_id)),
                UpdateExpression="SET last_read_id = :id",
                ConditionExpression=(
                    "attribute_exists(PK) AND "
                    "(attribute_not_exists(last_read_id) OR last_read_id < :id)"
                ),
                ExpressionAttributeValues={":id": {"S": message_id}},
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise self._table._translate(error) from error

    # --- bounded membership and consent (issue 13) ---

    def memberships_in(self, user_id: str, room_ids: Sequence[str]) -> list[Membership]:
        keys = [(t.room_pk(room_id), t.member_sk(user_id)) for room_id in room_ids]
        return [_membership(item) for item in self._table.batch_get(keys)]

    def rooms_page(self, user_id: str, after_room_id: str | None, limit: int) -> list[Membership]:
        request: dict[str, Any] = {
            "IndexName": t.GSI1.name,
            "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": t.user_pk(user_id)},
                ":prefix": {"S": t.ROOM_PREFIX},
            },
        }
        if after_room_id is not None:
            # The index key of the last membership of the previous page (index and table keys).
            request["ExclusiveStartKey"] = {
                "GSI1PK": {"S": t.user_pk(user_id)},
                "GSI1SK": {"S": t.room_pk(after_room_id)},
                **_key(t.room_pk(after_room_id), t.member_sk(user_id)),
            }
        return [_membership(item) for item in self._table.query(limit=limit, **request)]

    def count_rooms(self, user_id: str, cap: int) -> int:
        return self._table.count(
            cap,
            IndexName=t.GSI1.name,
            KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": t.user_pk(user_id)},
                ":prefix": {"S": t.ROOM_PREFIX},
            },
        )

    def count_invites(self, user_id: str, now_s: int, cap: int) -> int:
        return self._table.count(
            cap,
            IndexName=t.GSI1.name,
            KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            FilterExpression="expires_at > :now",
            ExpressionAttributeValues={
                ":pk": {"S": t.user_pk(user_id)},
                ":prefix": {"S": t.INVITE_PREFIX},
                ":now": {"N": str(now_s)},
            },
        )

    def set_role(self, room_id: str, user_id: str, role: Role) -> None:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(t.room_pk(room_id), t.member_sk(user_id)),
                UpdateExpression="SET #role = :role",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#role": "role"},
                ExpressionAttributeValues={":role": {"S": role.value}},
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise self._table._translate(error) from error

    def add_invite(self, invite: Invite) -> bool:
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_dump(_invite_item(invite)),
                # A pending invite stays as it is; an expired one (TTL not yet run) is replaced.
                ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(invite.invited_at // 1000)}},
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise self._table._translate(error) from error
        return True

    def invite(self, room_id: str, user_id: str, now_s: int) -> Invite | None:
        item = self._table.get(t.room_pk(room_id), t.invite_sk(user_id))
        if item is None or int(item["expires_at"]) <= now_s:
            return None
        return _invite(item)

    def invites_of(self, user_id: str, now_s: int) -> list[Invite]:
        items = self._table.query(
            IndexName=t.GSI1.name,
            KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": t.user_pk(user_id)},
                ":prefix": {"S": t.INVITE_PREFIX},
            },
        )
        return [_invite(i) for i in items if int(i["expires_at"]) > now_s]

    def invites_to(self, room_id: str, now_s: int) -> list[Invite]:
        items = self._table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": t.room_pk(room_id)},
                ":prefix": {"S": t.INVITE_PREFIX},
            },
        )
        return [_invite(i) for i in items if int(i["expires_at"]) > now_s]

    def remove_invite(self, room_id: str, user_id: str) -> bool:
        try:
            reply = self.client.delete_item(
                TableName=self.table_name,
                Key=_key(t.room_pk(room_id), t.invite_sk(user_id)),
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            raise self._table._translate(error) from error
        return bool(reply.get("Attributes"))

    def accept_invite(self, invite: Invite, membership: Membership) -> bool:
        request: list[TransactWriteItemTypeDef] = [
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": _key(t.room_pk(invite.room_id), t.invite_sk(invite.user_id)),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _dump(_membership_item(membership)),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        try:
            self.client.transact_write_items(TransactItems=request)
        except ClientError as error:
            if _code(error) == "TransactionCanceledException":
                if "ConditionalCheckFailed" in _reasons(error):
                    return False
                raise _throttled(error) from error
            raise self._table._translate(error) from error
        return True

    def block(self, user_id: str, blocked_user_id: str, at: int) -> None:
        item = {"PK": t.user_pk(user_id), "SK": t.block_sk(blocked_user_id), "blocked_at": at}
        try:
            self.client.put_item(TableName=self.table_name, Item=_dump(item))
        except ClientError as error:
            raise self._table._translate(error) from error

    def unblock(self, user_id: str, blocked_user_id: str) -> None:
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=_key(t.user_pk(user_id), t.block_sk(blocked_user_id)),
            )
        except ClientError as error:
            raise self._table._translate(error) from error

    def is_blocked(self, user_id: str, by_user_id: str) -> bool:
        return self._table.get(t.user_pk(by_user_id), t.block_sk(user_id)) is not None


def _invite_item(invite: Invite) -> Item:
    return {
        "PK": t.room_pk(invite.room_id),
        "SK": t.invite_sk(invite.user_id),
        "GSI1PK": t.user_pk(invite.user_id),
        "GSI1SK": t.invite_gsi_sk(invite.room_id),
        "kind": "invite",
        "room_id": invite.room_id,
        "user_id": invite.user_id,
        "invited_by": invite.invited_by,
        "inviter_name": invite.inviter_name,
        "room_name": invite.room_name,
        "room_kind": invite.room_kind.value,
        "invited_at": invite.invited_at,
        "expires_at": invite.expires_at,
    }


def _invite(item: Item) -> Invite:
    return Invite(
        room_id=str(item["room_id"]),
        user_id=str(item["user_id"]),
        invited_by=str(item["invited_by"]),
        inviter_name=str(item["inviter_name"]),
        room_name=str(item["room_name"]),
        room_kind=RoomKind(item["room_kind"]),
        invited_at=int(item["invited_at"]),
        expires_at=int(item["expires_at"]),
    )


# --- users ----------------------------------------------------------------------------------


def _user_item(user: User) -> Item:
    return t.user_item(user)


def _user(item: Item) -> User:
    return User(
        user_id=item["user_id"],
        username=item["username"],
        display_name=item["display_name"],
        avatar_key=item.get("avatar_key"),
        created_at=int(item.get("created_at", 0)),
        last_seen=int(item["last_seen"]) if item.get("last_seen") is not None else None,
    )


@attrs.define
class DynamoUserStore:
    """Profiles under USER#{id} / PROFILE plus a USERNAME#{casefolded} claim holding the id.

    The claim is written with a condition (absent, or already this user's), so no profile
    write can move a name to another user: the bot's seeded claim, or any user's, stays put.
    """

    client: DynamoDBClient
    table_name: str
    _table: _Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._table = _Table(self.client, self.table_name)

    def get(self, user_id: str) -> User | None:
        item = self._table.get(t.user_pk(user_id), t.PROFILE)
        return _user(item) if item else None

    def get_many(self, user_ids: Sequence[str]) -> list[User]:
        return [
            _user(i) for i in self._table.batch_get([(t.user_pk(u), t.PROFILE) for u in user_ids])
        ]

    def put(self, user: User) -> bool:
        # Claim first: a profile without its claim is harmless (not found by name), a claim
        # without its profile answers "no such user" until the next put writes it.
        claim = t.username_claim_item(user.username, user.user_id)
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_dump(claim),
                ConditionExpression="attribute_not_exists(PK) OR user_id = :me",
                ExpressionAttributeValues={":me": {"S": user.user_id}},
            )
            claimed = True
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise self._table._translate(error) from error
            claimed = False
        try:
            self.client.put_item(TableName=self.table_name, Item=_dump(_user_item(user)))
        except ClientError as error:
            raise self._table._translate(error) from error
        return claimed

    def by_username(self, username: str) -> User | None:
        claim = self._table.get(t.username_pk(username), t.USERNAME_SK)
        return self.get(str(claim["user_id"])) if claim else None

    def set_last_seen(self, user_id: str, at: int) -> None:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(t.user_pk(user_id), t.PROFILE),
                UpdateExpression="SET last_seen = :at",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":at": {"N": str(at)}},
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise self._table._translate(error) from error


# --- connections ----------------------------------------------------------------------------


@attrs.define
class DynamoConnectionRegistry:
    """Connections (CONN#{id} / META), their subscriptions (CONN#{id} / SUB#{room}) and the
    room-side mirror (ROOMCONN#{room} / CONN#{id}) that makes fan-out one Query.

    Every row carries `expires_at` (TTL); reads drop rows already expired, since DynamoDB
    deletes expired rows only eventually.
    """

    client: DynamoDBClient
    table_name: str
    _table: _Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._table = _Table(self.client, self.table_name)

    def register(self, connection: Connection) -> None:
        item = {
            "PK": t.connection_pk(connection.connection_id),
            "SK": t.META,
            "GSI1PK": t.user_connections_pk(connection.user_id),
            "GSI1SK": t.connection_pk(connection.connection_id),
            "kind": "connection",
            "connection_id": connection.connection_id,
            "user_id": connection.user_id,
            "username": connection.username,
            "connected_at": connection.connected_at,
            "expires_at": connection.expires_at,
        }
        if connection.session_expires_at is not None:
            item["session_expires_at"] = connection.session_expires_at
        try:
            self.client.put_item(TableName=self.table_name, Item=_dump(item))
        except ClientError as error:
            raise self._table._translate(error) from error

    def get(self, connection_id: str, now_s: int) -> Connection | None:
        item = self._table.get(t.connection_pk(connection_id), t.META)
        if item is None or int(item["expires_at"]) <= now_s:
            return None
        return _connection(item)

    def _rows_of(self, connection_id: str) -> list[Item]:
        return list(
            self._table.query(
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": t.connection_pk(connection_id)}},
                ConsistentRead=True,
            )
        )

    def _deletes(self, connection_id: str, rows: list[Item]) -> list[dict[str, Any]]:
        deletes = [self._table.delete(row["PK"], row["SK"]) for row in rows]
        for row in rows:
            if str(row["SK"]).startswith(t.SUB_PREFIX):
                room_id = str(row["SK"])[len(t.SUB_PREFIX) :]
                deletes.append(
                    self._table.delete(
                        t.room_connections_pk(room_id), t.connection_pk(connection_id)
                    )
                )
        return deletes

    def unregister(self, connection_id: str) -> Connection | None:
        rows = self._rows_of(connection_id)
        if rows:
            self._table.batch_write(self._deletes(connection_id, rows))
        meta = next((row for row in rows if row["SK"] == t.META), None)
        return _connection(meta) if meta else None

    def unregister_many(self, connection_ids: Sequence[str]) -> None:
        deletes: list[dict[str, Any]] = []
        for connection_id in dict.fromkeys(connection_ids):
            deletes += self._deletes(connection_id, self._rows_of(connection_id))
        self._table.batch_write(deletes)

    def subscribe(self, subscription: Subscription) -> None:
        self.subscribe_many([subscription])

    def subscribe_many(self, subscriptions: Sequence[Subscription]) -> None:
        # The room-side mirror is what every fan-out reads: keep it to the keys, the user and
        # the TTL (connection and room ids are in its keys) so a room's Query stays small.
        self._table.batch_write(
            [put for subscription in subscriptions for put in self._subscription_puts(subscription)]
        )

    def _subscription_puts(self, subscription: Subscription) -> list[dict[str, Any]]:
        return [
            self._table.put(
                {
                    "PK": t.connection_pk(subscription.connection_id),
                    "SK": f"{t.SUB_PREFIX}{subscription.room_id}",
                    "room_id": subscription.room_id,
                    "expires_at": subscription.expires_at,
                }
            ),
            self._table.put(
                {
                    "PK": t.room_connections_pk(subscription.room_id),
                    "SK": t.connection_pk(subscription.connection_id),
                    "u": subscription.user_id,
                    "expires_at": subscription.expires_at,
                }
            ),
        ]

    def unsubscribe(self, connection_id: str, room_id: str) -> None:
        self._table.batch_write(
            [
                self._table.delete(t.connection_pk(connection_id), f"{t.SUB_PREFIX}{room_id}"),
                self._table.delete(t.room_connections_pk(room_id), t.connection_pk(connection_id)),
            ]
        )

    def rooms_of_connection(self, connection_id: str, now_s: int) -> list[str]:
        items = self._table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": t.connection_pk(connection_id)},
                ":prefix": {"S": t.SUB_PREFIX},
            },
        )
        return [str(i["room_id"]) for i in items if int(i["expires_at"]) > now_s]

    def connections_in_room(self, room_id: str, now_s: int) -> list[Subscription]:
        items = self._table.query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": t.room_connections_pk(room_id)}},
        )
        return [
            Subscription(
                connection_id=str(i["SK"])[len(t.CONN_PREFIX) :],
                room_id=room_id,
                user_id=str(i["u"]),
                expires_at=int(i["expires_at"]),
            )
            for i in items
            if int(i["expires_at"]) > now_s
        ]

    def connections_of_user(self, user_id: str, now_s: int) -> list[Connection]:
        items = self._table.query(
            IndexName=t.GSI1.name,
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": t.user_connections_pk(user_id)}},
        )
        return [_connection(i) for i in items if int(i["expires_at"]) > now_s]


def _connection(item: Item) -> Connection:
    return Connection(
        connection_id=str(item["connection_id"]),
        user_id=str(item["user_id"]),
        username=str(item["username"]),
        connected_at=int(item["connected_at"]),
        expires_at=int(item["expires_at"]),
        session_expires_at=(
            int(item["session_expires_at"]) if "session_expires_at" in item else None
        ),
    )
