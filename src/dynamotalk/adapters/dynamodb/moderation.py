"""ModerationStore on DynamoDB (ports_moderation.py): the moderation half of DynamoRoomStore,
which inherits it.

Every item is under the room's partition (tables/keys.py): bans (BAN#{user}), mutes
(MUTE#{user}, beside `muted_until` on the membership), pins (PIN#{message}, counted by `pins`
on the room's META), the audit log (AUDIT#{ulid}); slow mode is `slow_at` on the membership.
A change that goes in the room's feed commits its audit entry in the same transaction.
"""

from __future__ import annotations

from typing import Any

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.feed import ChangeRefused, DynamoChangeFeed
from dynamotalk.adapters.dynamodb.table import Table, busy, cancellation_reasons, error_code
from dynamotalk.domain.errors import NotFound, TooLarge
from dynamotalk.domain.events import MemberJoined, MessagePinned, MessageUnpinned, RoomUpdated
from dynamotalk.domain.models import AuditEntry, Ban, Membership, Pin, Room
from dynamotalk.tables import keys as k
from dynamotalk.tables.codecs import key
from dynamotalk.tables.items import membership_from_item
from dynamotalk.tables.moderation_items import (
    audit_from_item,
    audit_item,
    ban_from_item,
    ban_item,
    mute_item,
    pin_from_item,
    pin_item,
)


def _just_below(sort_key: str) -> str:
    """The greatest string sorting strictly before `sort_key` among keys of its shape."""
    return sort_key[:-1] + chr(ord(sort_key[-1]) - 1) + "\U0010ffff"


class DynamoModeration:
    table_name: str
    _table: Table
    feed: DynamoChangeFeed

    def _write(self, pk: str, sk: str, condition: str | None = None, **update: Any) -> Any:
        """A transaction's Update (or Delete, without `UpdateExpression`) of one item."""
        request: dict[str, Any] = {"TableName": self.table_name, "Key": key(pk, sk), **update}
        if condition:
            request["ConditionExpression"] = condition
        return {"Update" if "UpdateExpression" in update else "Delete": request}

    def _audit_put(self, audit: AuditEntry | None) -> list[Any]:
        return [] if audit is None else [self._table.transact_put(audit_item(audit))]

    def update_room(self, room: Room, audit: AuditEntry) -> RoomUpdated:
        update = self._write(
            k.room_pk(room.room_id),
            k.META,
            "attribute_exists(PK)",
            UpdateExpression=(
                "SET #name = :name, archived = :archived, slow_mode_seconds = :slow,"
                " retention_days = :keep"
            ),
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues={
                ":name": {"S": room.name},
                ":archived": {"BOOL": room.archived},
                ":slow": {"N": str(room.slow_mode_seconds)},
                ":keep": {"N": str(room.retention_days)},
            },
        )
        items = [update, *self._audit_put(audit)]
        try:
            change = self.feed.commit(room.room_id, lambda seq: (items, RoomUpdated(room, seq)))
        except ChangeRefused:
            raise NotFound("no such room") from None
        assert isinstance(change, RoomUpdated)
        return change

    def set_mute(
        self, room_id: str, user_id: str, until: int | None, audit: AuditEntry
    ) -> MemberJoined | None:
        found = self._table.get(k.room_pk(room_id), k.member_sk(user_id))
        if found is None:
            return None
        changed: Membership = attrs.evolve(membership_from_item(found), muted_until=until)
        pk, member = k.room_pk(room_id), k.member_sk(user_id)
        if until is None:
            membership = self._write(
                pk, member, "attribute_exists(PK)", UpdateExpression="REMOVE muted_until"
            )
            mute = self._write(pk, k.mute_sk(user_id))
        else:
            membership = self._write(
                pk,
                member,
                "attribute_exists(PK)",
                UpdateExpression="SET muted_until = :until",
                ExpressionAttributeValues={":until": {"N": str(until)}},
            )
            mute = self._table.transact_put(mute_item(room_id, user_id, until), if_absent=False)
        items = [membership, mute, *self._audit_put(audit)]
        try:
            change = self.feed.commit(room_id, lambda seq: (items, MemberJoined(changed, seq)))
        except ChangeRefused:
            return None  # left meanwhile
        assert isinstance(change, MemberJoined)
        return change

    def sanctions(self, room_id: str, user_id: str) -> tuple[Ban | None, int | None]:
        # Consistent: a ban just stored refuses the very next join.
        pk, keys = k.room_pk(room_id), [k.ban_sk(user_id), k.mute_sk(user_id)]
        found = {str(i["SK"]): i for i in self._table.batch_get([(pk, sk) for sk in keys], True)}
        ban = found.get(k.ban_sk(user_id))
        mute = found.get(k.mute_sk(user_id))
        return (
            ban_from_item(ban) if ban else None,
            int(mute["until"]) if mute else None,
        )

    def _transact(self, items: list[Any]) -> list[str] | None:
        """One transaction; the cancellation reasons when a condition refused it."""
        try:
            self._table.transact(items)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            reasons = cancellation_reasons(error)
            if "ConditionalCheckFailed" not in reasons:
                raise busy() from error
            return reasons
        return None

    def add_ban(self, ban: Ban, audit: AuditEntry) -> bool:
        invite = self._write(k.room_pk(ban.room_id), k.invite_sk(ban.user_id))
        items = [self._table.transact_put(ban_item(ban)), invite, *self._audit_put(audit)]
        return self._transact(items) is None

    def remove_ban(self, room_id: str, user_id: str, audit: AuditEntry) -> bool:
        ban = self._write(k.room_pk(room_id), k.ban_sk(user_id), "attribute_exists(PK)")
        return self._transact([ban, *self._audit_put(audit)]) is None

    def _prefixed(self, room_id: str, prefix: str, limit: int | None) -> list[dict[str, Any]]:
        return list(
            self._table.query(
                limit=limit,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                ExpressionAttributeValues={
                    ":pk": {"S": k.room_pk(room_id)},
                    ":prefix": {"S": prefix},
                },
            )
        )

    def bans(self, room_id: str, limit: int) -> list[Ban]:
        return [ban_from_item(i) for i in self._prefixed(room_id, k.BAN_PREFIX, limit)]

    def take_slow_turn(self, room_id: str, user_id: str, now_ms: int, interval_ms: int) -> int:
        pk, sk = k.room_pk(room_id), k.member_sk(user_id)
        try:
            self._table.update_item(
                pk,
                sk,
                UpdateExpression=f"SET {k.SLOW_AT} = :now",
                ConditionExpression=(
                    f"attribute_exists(PK) AND "
                    f"(attribute_not_exists({k.SLOW_AT}) OR {k.SLOW_AT} <= :cutoff)"
                ),
                ExpressionAttributeValues={
                    ":now": {"N": str(now_ms)},
                    ":cutoff": {"N": str(now_ms - interval_ms)},
                },
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            current = self._table.get(pk, sk)
            if current is None or current.get(k.SLOW_AT) is None:
                return 0  # not a member (the service refuses that first)
            return max(1, int(current[k.SLOW_AT]) + interval_ms - now_ms)
        return 0

    def pin(self, pin: Pin, audit: AuditEntry, max_pins: int) -> MessagePinned | None:
        count = self._write(
            k.room_pk(pin.room_id),
            k.META,
            f"attribute_exists(PK) AND (attribute_not_exists({k.PIN_COUNT}) OR "
            f"{k.PIN_COUNT} < :max)",
            UpdateExpression=f"SET {k.PIN_COUNT} = if_not_exists({k.PIN_COUNT}, :zero) + :one",
            ExpressionAttributeValues={
                ":max": {"N": str(max_pins)},
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
            },
        )
        items = [self._table.transact_put(pin_item(pin)), count, *self._audit_put(audit)]
        try:
            change = self.feed.commit(pin.room_id, lambda seq: (items, MessagePinned(pin, seq)))
        except ChangeRefused as refused:
            if refused.reasons[0] == "ConditionalCheckFailed":
                return None  # pinned already
            raise TooLarge(f"a room holds at most {max_pins} pins: unpin one first") from None
        assert isinstance(change, MessagePinned)
        return change

    def unpin(
        self, room_id: str, message_id: str, audit: AuditEntry | None
    ) -> MessageUnpinned | None:
        pk = k.room_pk(room_id)
        items = [
            self._write(pk, k.pin_sk(message_id), "attribute_exists(PK)"),
            self._write(
                pk,
                k.META,
                UpdateExpression=f"SET {k.PIN_COUNT} = {k.PIN_COUNT} - :one",
                ConditionExpression=f"{k.PIN_COUNT} > :zero",
                ExpressionAttributeValues={":one": {"N": "1"}, ":zero": {"N": "0"}},
            ),
            *self._audit_put(audit),
        ]
        try:
            change = self.feed.commit(
                room_id, lambda seq: (items, MessageUnpinned(room_id, message_id, seq))
            )
        except ChangeRefused:
            return None
        assert isinstance(change, MessageUnpinned)
        return change

    def pins(self, room_id: str) -> list[Pin]:
        found = [pin_from_item(i) for i in self._prefixed(room_id, k.PIN_PREFIX, None)]
        return sorted(found, key=lambda p: (p.pinned_at, p.message_id), reverse=True)

    def add_audit(self, entry: AuditEntry) -> None:
        self._table.put_item(audit_item(entry))

    def audit_page(self, room_id: str, before_id: str | None, limit: int) -> list[AuditEntry]:
        high = _just_below(k.audit_sk(before_id)) if before_id else k.AUDIT_END
        items = self._table.query(
            limit=limit,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": k.room_pk(room_id)},
                ":low": {"S": k.AUDIT_PREFIX},
                ":high": {"S": high},
            },
            ScanIndexForward=False,
        )
        return [audit_from_item(i) for i in items]
