"""The thread and mention requests of the DynamoDB message store: a post's transaction (with a
reply's count on its parent and a mention item per mentioned member), a thread's page (one
Query of GSI1) and a member's unread mentions (one counting Query)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

import attrs

from dynamotalk.adapters.dynamodb.feed import Build
from dynamotalk.adapters.dynamodb.table import Table
from dynamotalk.domain.errors import NotFound
from dynamotalk.domain.events import MessagePosted, RoomChange
from dynamotalk.domain.models import Message, ThreadCount
from dynamotalk.tables import keys as k
from dynamotalk.tables.codecs import Item, key
from dynamotalk.tables.items import EXPIRES_AT, mention_item, message_from_item, message_item
from dynamotalk.tables.schema import GSI1

CountReply = Callable[[int], tuple[Any, ThreadCount]]
"""Given the reply's seq: the parent's transaction item, and the counts it leaves."""


def posting(table: Table, message: Message, claim: Item) -> Build:
    """The feed's `build` for one attempt at a post: the claim and the message, a reply's count
    on its parent (the parent read once, inside the room's turn), and a mention item per
    mentioned member (at most MAX_MENTIONS: the transaction stays far below 100 items)."""
    counted: list[CountReply | None] = []

    def build(seq: int) -> tuple[list[Any], RoomChange]:
        if not counted:
            counted.append(count_reply(table, message) if message.parent_id else None)
        stored = attrs.evolve(message, seq=seq)
        item = {**message_item(stored), k.LAST_CHANGE: seq}
        # The claim and the message are written together or not at all, each only if absent:
        # a retry finds the claim taken and gets the message stored the first time.
        puts = [table.transact_put(claim), table.transact_put(item)]
        counts = None
        if counted[0] is not None:
            update, counts = counted[0](seq)
            puts.append(update)
        for user_id in stored.mentions:
            mention = mention_item(
                stored.room_id, user_id, stored.message_id, stored.author_id, stored.expires_at
            )
            puts.append(table.transact_put(mention, if_absent=False))
        return puts, MessagePosted(stored, seq, counts)

    return build


def count_reply(table: Table, reply: Message) -> CountReply:
    """The parent's update for a reply: its count + 1 and last reply time, applied only while
    the parent is still as read (its `lseq`) and not deleted, so the count is exact however
    many reply at once (a lost race reads and counts again: messages.py). Reads the parent
    (one GetItem); NotFound if it is gone, deleted or itself a reply."""
    assert reply.parent_id is not None
    current = table.get(k.room_pk(reply.room_id), k.message_sk(reply.parent_id))
    parent = message_from_item(current) if current else None
    if current is None or parent is None or parent.deleted or parent.parent_id is not None:
        raise NotFound("no such message to reply to")
    counts = ThreadCount(parent.message_id, parent.reply_count + 1, reply.created_at)
    previous = current.get(k.LAST_CHANGE)
    values: dict[str, Any] = {
        ":n": {"N": str(counts.reply_count)},
        ":at": {"N": str(counts.last_reply_at)},
    }
    if previous is None:
        unchanged = f"attribute_not_exists({k.LAST_CHANGE})"
    else:
        unchanged = f"{k.LAST_CHANGE} = :prev"
        values[":prev"] = {"N": str(previous)}

    def update(seq: int) -> tuple[Any, ThreadCount]:
        request = {
            "TableName": table.table_name,
            "Key": key(k.room_pk(reply.room_id), k.message_sk(parent.message_id)),
            "UpdateExpression": (
                f"SET reply_count = :n, last_reply_at = :at, {k.LAST_CHANGE} = :seq"
            ),
            "ConditionExpression": (
                f"attribute_exists(PK) AND attribute_not_exists(deleted_at) AND {unchanged}"
            ),
            "ExpressionAttributeValues": {**values, ":seq": {"N": str(seq)}},
        }
        return {"Update": request}, counts

    return update


def replies(
    table: Table, room_id: str, parent_id: str, after_id: str | None, limit: int
) -> list[Message]:
    """One Query of GSI1 (it projects every attribute): the thread's replies by message key,
    oldest first, those past their retention filtered out. GSI1 is eventually consistent: a
    reply just stored may show a moment later."""
    if limit <= 0:
        return []
    low = k.message_sk(after_id) + "\x00" if after_id else k.MSG_PREFIX
    items = table.query(
        limit=limit,
        IndexName=GSI1.name,
        KeyConditionExpression="GSI1PK = :pk AND GSI1SK BETWEEN :low AND :high",
        FilterExpression=NOT_EXPIRED,
        ExpressionAttributeValues={
            ":pk": {"S": k.thread_gsi_pk(room_id, parent_id)},
            ":low": {"S": low},
            ":high": {"S": k.MSG_END},
            ":now": now_value(),
        },
        ScanIndexForward=True,
    )
    return [message_from_item(item) for item in items]


def count_mentions(
    table: Table,
    room_id: str,
    user_id: str,
    after_id: str | None,
    cap: int,
    hidden: Collection[str] = (),
) -> int:
    """The member's mention items after `after_id`: one Query (Select COUNT) of small items,
    those by `hidden` authors filtered out (DynamoDB's IN takes 100 operands: one NOT IN per
    hundred, at most MAX_HIDDEN_AUTHORS of them)."""
    low = k.mention_sk(user_id, after_id) + "\x00" if after_id else k.mention_sk(user_id, "")
    values: dict[str, Any] = {
        ":pk": {"S": k.room_pk(room_id)},
        ":low": {"S": low},
        ":high": {"S": k.mentions_end(user_id)},
    }
    request: dict[str, Any] = {}
    # The mentions of messages past their retention do not count.
    groups, values[":now"] = [NOT_EXPIRED], now_value()
    authors = sorted(hidden)[:MAX_HIDDEN_AUTHORS]
    if authors:
        for start in range(0, len(authors), 100):
            operands = [f":h{i}" for i in range(start, min(start + 100, len(authors)))]
            groups.append(f"NOT (#author IN ({', '.join(operands)}))")
            values |= {name: {"S": authors[int(name[2:])]} for name in operands}
        request["ExpressionAttributeNames"] = {"#author": k.MENTION_AUTHOR}
    request["FilterExpression"] = " AND ".join(groups)
    return table.count(
        cap,
        KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
        ExpressionAttributeValues=values,
        **request,
    )


NOT_EXPIRED = f"(attribute_not_exists({EXPIRES_AT}) OR {EXPIRES_AT} > :now)"
"""The filter of every message read: items past their retention that DynamoDB's TTL has not
deleted yet (it takes up to a few days) are read, paid for, and dropped."""


def now_value() -> dict[str, str]:
    """`:now` of NOT_EXPIRED: the wall clock in epoch seconds, as the TTL attribute counts."""
    return {"N": str(int(time.time()))}


def expired_item(item: Item) -> bool:
    """Whether a message item read by key is past its retention (domain/retention.py)."""
    return item.get(EXPIRES_AT) is not None and int(item[EXPIRES_AT]) <= time.time()


MAX_HIDDEN_AUTHORS = 500
"""Blocked authors one unread-mentions count filters out (five NOT IN groups, well within
DynamoDB's 4 KB expression); past them a blocked author's mentions count again."""
