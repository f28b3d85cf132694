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
import threading
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
"""Tries of a compare-and-set on a message that keeps changing under it (messages.py)."""
KNOWN_ROOMS = 10_000
"""Rooms whose lock and last head one container keeps."""
COMMIT_BUDGET_S = 6.0
"""How long one change may race its room's other writers for a number before the client is
told to retry (`rate_limited`): well inside the function's timeout."""
CONFLICT_PAUSE_S = 0.01

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
    _rooms: dict[str, tuple[threading.Lock, list[int]]] = attrs.Factory(dict)
    """Per room this container wrote to: a lock, so its own writers take turns instead of
    racing each other in DynamoDB, and the head it last committed (the next guess)."""
    _rooms_lock: threading.Lock = attrs.Factory(threading.Lock)

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

        This container's writers to one room take turns (a lock per room), and the first guess
        is the head it committed last, so a container writing alone needs no read at all. Other
        containers race for the same number in DynamoDB: a lost race (the change item's key was
        taken) reads the head and tries again at once, then walks on number by number, so
        racing writers take one round each, with no sleep; only DynamoDB's TransactionConflict
        (another transaction on the same items in flight) waits a few jittered milliseconds.
        Raises ChangeRefused when one of the change's own items was refused (its reasons in
        request order), and RateLimited when the room stays too busy for COMMIT_BUDGET_S."""
        deadline = time.monotonic() + COMMIT_BUDGET_S
        lock, known = self._room(room_id)
        if not lock.acquire(timeout=COMMIT_BUDGET_S):
            raise busy()
        try:
            change = self._commit(room_id, build, (known[0] or self.head(room_id)) + 1, deadline)
        finally:
            lock.release()
        known[0] = change.seq
        return change

    def _room(self, room_id: str) -> tuple[threading.Lock, list[int]]:
        with self._rooms_lock:
            found = self._rooms.get(room_id)
            if found is None:
                if len(self._rooms) >= KNOWN_ROOMS:
                    self._rooms.clear()  # a bound, not a cache policy: guesses are cheap
                found = self._rooms[room_id] = (threading.Lock(), [0])
            return found

    def _commit(self, room_id: str, build: Build, seq: int, deadline: float) -> RoomChange:
        lost_in_a_row = 0
        while True:
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
                if time.monotonic() > deadline:
                    raise busy() from error
                if reasons[-1:] == ["ConditionalCheckFailed"]:  # lost the race for `seq`
                    lost_in_a_row += 1
                    # Once: the head, read (the guess was stale). Again: the next number.
                    seq = self.head(room_id) + 1 if lost_in_a_row == 1 else seq + 1
                    continue
                if "TransactionConflict" in reasons:
                    time.sleep(random.uniform(0, CONFLICT_PAUSE_S))  # noqa: S311
                    seq, lost_in_a_row = self.head(room_id) + 1, 0
                    continue
                raise busy() from error  # throttled: the client retries
            return change
