"""MessageStore on DynamoDB: a room's messages, their client-id claims and their reactions."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb import threads
from dynamotalk.adapters.dynamodb.feed import (
    COMMIT_ATTEMPTS,
    Build,
    ChangeRefused,
    DynamoChangeFeed,
)
from dynamotalk.adapters.dynamodb.table import Table, busy, error_code
from dynamotalk.domain.errors import NotFound, TooLarge
from dynamotalk.domain.events import (
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionChanged,
    RoomChange,
)
from dynamotalk.domain.limits import Limits
from dynamotalk.domain.models import Message
from dynamotalk.domain.rules import check_reaction_caps
from dynamotalk.tables import keys as k
from dynamotalk.tables.codecs import Item, key
from dynamotalk.tables.items import client_claim_item, message_from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Plan = Callable[
    [Item], tuple[Message, dict[str, Any], Callable[[Message, int], RoomChange]] | Message
]
"""Given the message as stored: the change to make (the message after it, its update, and its
RoomChange for a seq), or the answer when no change is needed."""


class _Settled(Exception):
    """Raised from inside a commit's turn when the plan needs no change: its answer."""

    def __init__(self, message: Message) -> None:
        super().__init__("already as asked")
        self.message = message


@attrs.define
class DynamoMessageStore:
    """Messages of a room under ROOM#{room} / MSG#{ulid}; reactions as `r#{emoji}` string sets.

    Each change is a compare-and-set on the message's `lseq` (the seq of its last change) in the
    transaction that records it (feed.py): the change item holds the message exactly as that
    change left it, whatever else raced for the message."""

    client: DynamoDBClient
    table_name: str
    _table: Table = attrs.field(init=False)
    feed: DynamoChangeFeed = attrs.field(default=None)
    """The room feed the store commits its changes to (shared with the other store of the
    container: bootstrap); its own when not given."""

    def __attrs_post_init__(self) -> None:
        self._table = Table(self.client, self.table_name)
        if self.feed is None:
            self.feed = DynamoChangeFeed(self.client, self.table_name)

    def append(self, message: Message) -> tuple[Message, bool]:
        claim = client_claim_item(
            message.room_id, message.author_id, message.client_id, message.message_id
        )
        for _ in range(COMMIT_ATTEMPTS):
            try:
                posted = self.feed.commit(
                    message.room_id, threads.posting(self._table, message, claim)
                )
            except ChangeRefused as refused:
                if refused.reasons[0] == "ConditionalCheckFailed":
                    return self._first_of_claim(message.room_id, claim["SK"]), False
                if message.parent_id and refused.reasons[2:3] == ["ConditionalCheckFailed"]:
                    continue  # the parent changed (or went) since it was read: read it again
                raise busy() from refused  # (never in practice) a message id collision
            assert isinstance(posted, MessagePosted)
            return posted.message, True
        raise busy()

    def _first_of_claim(self, room_id: str, claim_sk: str) -> Message:
        """The message a taken client-id claim points to (written in the same transaction)."""
        existing = self._table.get(k.room_pk(room_id), claim_sk)
        message_sk = k.message_sk(str(existing["message_id"])) if existing else ""
        item = self._table.get(k.room_pk(room_id), message_sk) if existing else None
        if item is None:
            # The claim was deleted between the failed write and this read: ask for a retry.
            raise busy()
        return message_from_item(item)  # expired or not: a retry gets the message it made

    def get(self, room_id: str, message_id: str) -> Message | None:
        item = self._table.get(k.room_pk(room_id), k.message_sk(message_id))
        return message_from_item(item) if item and not threads.expired_item(item) else None

    def _change(
        self,
        room_id: str,
        message_id: str,
        plan: Plan,
    ) -> Message:
        """Read the message, let `plan` decide the change (or answer without one), and commit it
        only if nobody changed the message meanwhile; read again and re-plan if somebody did.

        The read and the plan happen inside the room's turn (the feed's per-room lock), so this
        container's own writers never plan from a read another of them has already made stale:
        a flood of reactions on one message costs each refused one a read, not a transaction
        that fails its compare-and-set while the others wait (tests/security/test_bounded.py).
        Other containers' writers are caught by the compare-and-set, and planned again."""
        for _ in range(COMMIT_ATTEMPTS):
            planned: list[tuple[Message, Build]] = []
            build = self._in_turn(room_id, message_id, plan, planned)
            try:
                self.feed.commit(room_id, build)
            except _Settled as settled:
                return settled.message
            except ChangeRefused:
                continue  # the message changed since it was read: plan again
            except ClientError as error:
                if error_code(error) == "ValidationException" and "size" in str(error).lower():
                    # DynamoDB's 400 KB item limit: the message's reactor sets are full.
                    raise TooLarge("this message can take no more reactions") from None
                raise
            return planned[0][0]
        raise busy()

    def _in_turn(
        self, room_id: str, message_id: str, plan: Plan, planned: list[tuple[Message, Build]]
    ) -> Build:
        """The feed's `build` for one attempt: reads and plans on its first call (inside the
        room's turn) and keeps that plan when a lost race for the seq calls it again."""

        def build(seq: int) -> tuple[Sequence[Any], RoomChange]:
            if not planned:
                current = self._table.get(k.room_pk(room_id), k.message_sk(message_id))
                if current is None:
                    raise NotFound("no such message")
                decided = plan(current)
                if isinstance(decided, Message):
                    raise _Settled(decided)
                changed = self._compare_and_set(room_id, message_id, current, *decided)
                planned.append((decided[0], changed))
            return planned[0][1](seq)

        return build

    def _compare_and_set(
        self,
        room_id: str,
        message_id: str,
        current: Item,
        after: Message,
        update: dict[str, Any],
        make: Callable[[Message, int], RoomChange],
    ) -> Build:
        """The change's transaction items for a given seq: `update`, applied only while the
        message's `lseq` is still what `current` read, and setting it to the change's seq."""
        previous = current.get(k.LAST_CHANGE)
        values = dict(update.get("ExpressionAttributeValues", {}))
        if previous is None:
            unchanged = f"attribute_not_exists({k.LAST_CHANGE})"
        else:
            unchanged = f"{k.LAST_CHANGE} = :prev"
            values[":prev"] = {"N": str(previous)}
        expression = str(update["UpdateExpression"])
        if expression.startswith("SET "):
            expression = f"SET {k.LAST_CHANGE} = :seq, {expression[4:]}"
        else:
            expression = f"SET {k.LAST_CHANGE} = :seq {expression}"

        def build(seq: int) -> tuple[list[Any], RoomChange]:
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "Key": key(k.room_pk(room_id), k.message_sk(message_id)),
                "UpdateExpression": expression,
                "ConditionExpression": f"attribute_exists(PK) AND {unchanged}",
                "ExpressionAttributeValues": {**values, ":seq": {"N": str(seq)}},
            }
            if update.get("ExpressionAttributeNames"):
                request["ExpressionAttributeNames"] = update["ExpressionAttributeNames"]
            return [{"Update": request}], make(after, seq)

        return build

    def edit(self, room_id: str, message_id: str, text: str, edited_at: int) -> Message:
        def plan(current: Item) -> Any:
            message = _live(current)
            after = attrs.evolve(message, text=text, edited_at=edited_at)
            update = {
                "UpdateExpression": "SET #text = :text, edited_at = :at",
                "ExpressionAttributeNames": {"#text": "text"},
                "ExpressionAttributeValues": {
                    ":text": {"S": text},
                    ":at": {"N": str(edited_at)},
                },
            }
            return after, update, MessageEdited

        return self._change(room_id, message_id, plan)

    def soft_delete(self, room_id: str, message_id: str, deleted_at: int) -> Message:
        return self.soft_delete_by(room_id, message_id, deleted_at, None)

    def soft_delete_by(
        self, room_id: str, message_id: str, deleted_at: int, deleted_by: str | None
    ) -> Message:
        def plan(current: Item) -> Any:
            message = message_from_item(current)
            if message.deleted:
                return message
            after = attrs.evolve(
                message,
                text="",
                attachments=(),
                reactions={},
                deleted_at=deleted_at,
                deleted_by=deleted_by,
            )
            counted = [n for n in current if n.startswith((k.REACTION_PREFIX, k.REACTOR_PREFIX))]
            names = {f"#r{i}": name for i, name in enumerate(counted)}
            removed = ", ".join(["attachments", k.REACTION_KINDS, *names])
            values = {":empty": {"S": ""}, ":at": {"N": str(deleted_at)}}
            by = ""
            if deleted_by is not None:
                by, values[":by"] = ", deleted_by = :by", {"S": deleted_by}
            update = {
                "UpdateExpression": f"SET #text = :empty, deleted_at = :at{by} REMOVE {removed}",
                "ExpressionAttributeNames": {"#text": "text", **names},
                "ExpressionAttributeValues": values,
            }
            return after, update, MessageDeleted

        return self._change(room_id, message_id, plan)

    def set_reaction(
        self, room_id: str, message_id: str, emoji: str, user_id: str, on: bool, limits: Limits
    ) -> Message:
        def plan(current: Item) -> Any:
            message = _live(current)
            users = message.reactions.get(emoji, frozenset())
            if on == (user_id in users):
                return message  # already as asked: nothing to change
            if on:
                check_reaction_caps(message, emoji, user_id, limits)
            now = users | {user_id} if on else users - {user_id}
            reactions = {e: u for e, u in message.reactions.items() if e != emoji}
            if now:
                reactions[emoji] = now
            after = attrs.evolve(message, reactions=reactions)
            # `rk` counts the message's distinct emoji, `ru#{user}` the user's reactions on it.
            kinds = f", {k.REACTION_KINDS} :step" if (on and not users) or not now else ""
            verb = "ADD #emoji :users," if on else "DELETE #emoji :users ADD"
            update = {
                "UpdateExpression": f"{verb} #mine :step{kinds}",
                "ExpressionAttributeNames": {
                    "#emoji": k.reaction_attribute(emoji),
                    "#mine": k.reactor_attribute(user_id),
                },
                "ExpressionAttributeValues": {
                    ":users": {"SS": [user_id]},
                    ":step": {"N": "1" if on else "-1"},
                },
            }

            def make(after: Message, seq: int) -> RoomChange:
                return ReactionChanged(after, emoji, user_id, on, seq)

            return after, update, make

        return self._change(room_id, message_id, plan)

    def _range(self, room_id: str, low: str, high: str, forward: bool, limit: int) -> list[Message]:
        """The room's timeline between two keys. Replies seen only in their thread are read
        and filtered out (their RCU is paid: docs/ARCHITECTURE.md); the Query goes on until
        the page is full, so a page is never short while older messages exist."""
        if limit <= 0:
            return []
        items = self._table.query(
            limit=limit,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            FilterExpression=_IN_ROOM,
            ExpressionAttributeValues={
                ":pk": {"S": k.room_pk(room_id)},
                ":low": {"S": low},
                ":high": {"S": high},
                ":now": threads.now_value(),
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
            FilterExpression=_IN_ROOM,
            ExpressionAttributeValues={
                ":pk": {"S": k.room_pk(room_id)},
                ":low": {"S": low},
                ":high": {"S": k.MSG_END},
                ":now": threads.now_value(),
            },
        )

    def thread(
        self, room_id: str, parent_id: str, after_id: str | None, limit: int
    ) -> list[Message]:
        return threads.replies(self._table, room_id, parent_id, after_id, limit)

    def count_mentions(
        self, room_id: str, user: str, after_id: str | None, cap: int, hidden: Collection[str] = ()
    ) -> int:
        return threads.count_mentions(self._table, room_id, user, after_id, cap, hidden)


_IN_ROOM = f"attribute_not_exists({k.THREAD_ONLY}) AND {threads.NOT_EXPIRED}"
"""The timeline's filter: every message but thread-only replies and those past retention."""


def _live(item: Item) -> Message:
    message = message_from_item(item)
    if message.deleted:
        raise NotFound("no such message")
    return message


def _just_below(key: str) -> str:
    """The greatest string sorting strictly before `key` among keys of the same shape."""
    last = key[-1]
    return key[:-1] + chr(ord(last) - 1) + "\U0010ffff"
