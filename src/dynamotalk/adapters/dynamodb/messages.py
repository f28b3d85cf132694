"""MessageStore on DynamoDB: a room's messages, their client-id claims and their reactions."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.table import (
    CONFLICT_ATTEMPTS,
    Table,
    busy,
    cancellation_reasons,
    error_code,
)
from dynamotalk.domain.errors import NotFound, TooLarge
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import Message
from dynamotalk.domain.rules import check_reaction_caps
from dynamotalk.tables import keys as k
from dynamotalk.tables.items import client_claim_item, message_from_item, message_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_LIVE = "attribute_exists(PK) AND attribute_not_exists(deleted_at)"


@attrs.define
class DynamoMessageStore:
    """Messages of a room under ROOM#{room} / MSG#{ulid}; reactions as `r#{emoji}` string sets."""

    client: DynamoDBClient
    table_name: str
    _table: Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._table = Table(self.client, self.table_name)

    def append(self, message: Message) -> tuple[Message, bool]:
        claim = client_claim_item(
            message.room_id, message.author_id, message.client_id, message.message_id
        )
        # The claim and the message are written together or not at all, each only if absent:
        # a retry finds the claim taken and gets the message stored the first time.
        request = [self._table.transact_put(claim), self._table.transact_put(message_item(message))]
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._table.transact(request)
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                reasons = cancellation_reasons(error)
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return self._first_of_claim(message.room_id, claim["SK"], error), False
                if "TransactionConflict" in reasons and attempt + 1 < CONFLICT_ATTEMPTS:
                    # Two retries of one post racing: the next attempt sees the winner's claim.
                    time.sleep(0.02 * 2**attempt)
                    continue
                # Throttled, still conflicting, or (never in practice) a message id collision:
                # nothing was written, and the client retries with the same client id.
                raise busy() from error
            return message, True
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _first_of_claim(self, room_id: str, claim_sk: str, error: ClientError) -> Message:
        """The message a taken client-id claim points to (written in the same transaction)."""
        existing = self._table.get(k.room_pk(room_id), claim_sk)
        stored = self.get(room_id, str(existing["message_id"])) if existing else None
        if stored is None:
            # The claim was deleted between the failed write and this read: ask for a retry.
            raise busy() from error
        return stored

    def get(self, room_id: str, message_id: str) -> Message | None:
        item = self._table.get(k.room_pk(room_id), k.message_sk(message_id))
        return message_from_item(item) if item else None

    def _update(self, room_id: str, message_id: str, condition: str, **kwargs: Any) -> Message:
        try:
            item = self._table.update_item(
                k.room_pk(room_id),
                k.message_sk(message_id),
                ConditionExpression=condition,
                ReturnValues="ALL_NEW",
                **kwargs,
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise NotFound("no such message") from None
            raise
        return message_from_item(item)

    def edit(self, room_id: str, message_id: str, text: str, edited_at: int) -> Message:
        return self._update(
            room_id,
            message_id,
            _LIVE,
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
                _LIVE,
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
        tries, names, values = _reaction_updates(emoji, user_id, on, limits)
        for _ in range(CONFLICT_ATTEMPTS):
            for condition, update in tries:
                try:
                    item = self._table.update_item(
                        k.room_pk(room_id),
                        k.message_sk(message_id),
                        ConditionExpression=condition,
                        UpdateExpression=update,
                        ExpressionAttributeNames={
                            n: v for n, v in names.items() if n in condition + update
                        },
                        ExpressionAttributeValues={
                            n: v for n, v in values.items() if n in condition + update
                        },
                        ReturnValues="ALL_NEW",
                    )
                except ClientError as error:
                    if error_code(error) == "ConditionalCheckFailedException":
                        continue
                    if error_code(error) == "ValidationException" and "size" in str(error).lower():
                        # DynamoDB's 400 KB item limit: the message's reactor sets are full.
                        raise TooLarge("this message can take no more reactions") from None
                    raise
                return message_from_item(item)
            current = self._table.get(k.room_pk(room_id), k.message_sk(message_id))
            if current is None or current.get("deleted_at") is not None:
                raise NotFound("no such message")
            message = message_from_item(current)
            if on == (user_id in message.reactions.get(emoji, frozenset())):
                return message  # already as asked: nothing to change
            if on:
                check_reaction_caps(message, emoji, user_id, limits)
            # The message changed between the tries: try both forms again.
        raise busy()

    def _range(self, room_id: str, low: str, high: str, forward: bool, limit: int) -> list[Message]:
        if limit <= 0:
            return []
        items = self._table.query(
            limit=limit,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": k.room_pk(room_id)},
                ":low": {"S": low},
                ":high": {"S": high},
            },
            ScanIndexForward=forward,
            ConsistentRead=True,
        )
        return [message_from_item(item) for item in items]

    def before(self, room_id: str, before_id: str | None, limit: int) -> list[Message]:
        # "MSG#" + id minus one character sorts just below the id; MSG_END is past every message.
        high = _just_below(k.message_sk(before_id)) if before_id else k.MSG_END
        return self._range(room_id, k.MSG_PREFIX, high, False, limit)

    def after(self, room_id: str, after_id: str | None, limit: int) -> list[Message]:
        low = k.message_sk(after_id) + "\x00" if after_id else k.MSG_PREFIX
        return self._range(room_id, low, k.MSG_END, True, limit)

    def count_after(self, room_id: str, after_id: str | None, cap: int) -> int:
        low = k.message_sk(after_id) + "\x00" if after_id else k.MSG_PREFIX
        return self._table.count(
            cap,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": k.room_pk(room_id)},
                ":low": {"S": low},
                ":high": {"S": k.MSG_END},
            },
        )


def _reaction_updates(
    emoji: str, user_id: str, on: bool, limits: Limits
) -> tuple[list[tuple[str, str]], dict[str, str], dict[str, Any]]:
    """The (condition, update) forms of one reaction change, with their names and values."""
    values: dict[str, Any] = {
        ":uid": {"S": user_id},
        ":users": {"SS": [user_id]},
        ":one": {"N": "1"},
    }
    names = {"#emoji": k.reaction_attribute(emoji), "#mine": k.reactor_attribute(user_id)}
    kinds = k.REACTION_KINDS
    if on:
        values[":per_user"] = {"N": str(limits.max_reactions_per_user)}
        values[":kinds"] = {"N": str(limits.max_reaction_kinds)}
        per_user = "(attribute_not_exists(#mine) OR #mine < :per_user)"
        tries = [
            (
                f"{_LIVE} AND attribute_exists(#emoji) AND NOT contains(#emoji, :uid)"
                f" AND {per_user}",
                "ADD #emoji :users, #mine :one",
            ),
            (
                f"{_LIVE} AND attribute_not_exists(#emoji) AND {per_user}"
                f" AND (attribute_not_exists({kinds}) OR {kinds} < :kinds)",
                f"ADD #emoji :users, #mine :one, {kinds} :one",
            ),
        ]
    else:
        values[":minus"] = {"N": "-1"}
        tries = [
            (
                f"{_LIVE} AND contains(#emoji, :uid) AND size(#emoji) > :one",
                "DELETE #emoji :users ADD #mine :minus",
            ),
            (
                f"{_LIVE} AND contains(#emoji, :uid) AND size(#emoji) = :one",
                f"DELETE #emoji :users ADD #mine :minus, {kinds} :minus",
            ),
        ]
    return tries, names, values


def _reaction_names(message: Message) -> dict[str, str]:
    """Placeholders for the message's reaction attributes: an emoji is no valid bare name."""
    return {f"#r{i}": k.reaction_attribute(emoji) for i, emoji in enumerate(message.reactions)}


def _just_below(key: str) -> str:
    """The greatest string sorting strictly before `key` among keys of the same shape."""
    last = key[-1]
    return key[:-1] + chr(ord(last) - 1) + "\U0010ffff"
