"""ChangeFeed on DynamoDB, and `commit`: a room change and its numbered change item in one
transaction.

The room's sequence is its feed: the next change is SEQ#{head + 1}, put only if absent, in the
same transaction as the change itself. Two writers that read the same head race for one key;
the loser's whole transaction is cancelled (nothing of it written) and it tries again with the
new head. So numbers are assigned atomically, in commit order, with no gap: a number exists only
if its change was stored. Every change item is in the table's stream, which drives the fan-out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.table import Table, busy, cancellation_reasons, error_code
from dynamotalk.domain.events import RoomChange
from dynamotalk.tables import keys as k
from dynamotalk.tables.changes import change_from_item, change_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

COMMIT_ATTEMPTS = 10
"""Tries of one change racing other writers of its room for the next number."""

Build = Callable[[int], tuple[Sequence[Any], RoomChange]]
"""Given the seq a change will get: its transaction items, and the change to record."""


class ChangeRefused(Exception):
    """A condition of the change itself failed (not the race for its number)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


@attrs.define
class DynamoChangeFeed:
    client: DynamoDBClient
    table_name: str
    wall_clock: Callable[[], float] = time.time
    """For the change items' TTL only."""
    _table: Table = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._table = Table(self.client, self.table_name)

    def _range(self, room_id: str, low: str, forward: bool, limit: int) -> list[RoomChange]:
        items = self._table.query(
            limit=limit,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": k.room_pk(room_id)},
                ":low": {"S": low},
                ":high": {"S": k.SEQ_END},
            },
            ScanIndexForward=forward,
            ConsistentRead=True,
        )
        return [change_from_item(item) for item in items]

    def head(self, room_id: str) -> int:
        last = self._range(room_id, k.SEQ_PREFIX, False, 1)
        return last[0].seq if last else 0

    def after(self, room_id: str, seq: int, limit: int) -> list[RoomChange]:
        return self._range(room_id, k.seq_sk(seq + 1), True, limit)

    def get(self, room_id: str, seq: int) -> RoomChange | None:
        item = self._table.get(k.room_pk(room_id), k.seq_sk(seq))
        return change_from_item(item) if item else None

    def commit(self, room_id: str, build: Build) -> RoomChange:
        """Store the change `build` makes for the room's next seq, with its change item.

        Raises ChangeRefused when one of the change's own items was refused (its reasons in
        request order), RateLimited when the room stays too busy to get a number."""
        for attempt in range(COMMIT_ATTEMPTS):
            seq = self.head(room_id) + 1
            items, change = build(seq)
            record = self._table.transact_put(change_item(change, int(self.wall_clock())))
            try:
                self._table.transact([*items, record])
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                reasons = cancellation_reasons(error)
                own = reasons[: len(items)]
                if "ConditionalCheckFailed" in own:
                    raise ChangeRefused(own) from error
                lost_race = reasons[-1:] == ["ConditionalCheckFailed"]
                if (lost_race or "TransactionConflict" in reasons) and attempt + 1 < (
                    COMMIT_ATTEMPTS
                ):
                    # Full jitter, so writers racing for one room's number spread out.
                    time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311
                    continue
                raise busy() from error
            return change
        raise busy()
