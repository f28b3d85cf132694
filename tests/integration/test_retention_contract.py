"""Retention (issue 18) on every message store: DynamoDB's TTL deletes an expired item "within
a few days", so the stores themselves hide a message whose `expires_at` has passed from every
read (by key, pages both ways, counts, a thread, unread mentions), on the in-memory fakes,
DynamoDB Local and moto alike; and a room keeps its own retention."""

from __future__ import annotations

import time
from typing import Any

import attrs

from dynamotalk.domain.models import Membership, Role, Room, RoomKind
from tests.integration.test_store_contract import mid, msg, stores

__all__ = ["stores"]  # the contract's fixture: memory, DynamoDB Local and moto

PAST = int(time.time()) - 60
"""An `expires_at` already passed (epoch seconds, as the table's TTL attribute counts)."""
FUTURE = int(time.time()) + 3600


def test_expired_messages_are_hidden_from_every_read(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    kept = [attrs.evolve(msg(n), expires_at=FUTURE) for n in (1, 3, 5)]
    gone = [attrs.evolve(msg(n), expires_at=PAST) for n in (2, 4)]
    forever = msg(6)
    for message in sorted([*kept, *gone, forever], key=lambda m: m.message_id):
        assert messages.append(message)[1]

    assert messages.get("room-1", mid(2)) is None
    assert messages.get("room-1", mid(3)).expires_at == FUTURE
    assert messages.get("room-1", mid(6)).expires_at is None
    newest_first = [m.message_id for m in messages.before("room-1", None, 10)]
    assert newest_first == [mid(6), mid(5), mid(3), mid(1)]
    # A page is full while older live messages exist: the expired ones are skipped, not counted.
    assert [m.message_id for m in messages.before("room-1", mid(6), 2)] == [mid(5), mid(3)]
    assert [m.message_id for m in messages.after("room-1", None, 3)] == [mid(1), mid(3), mid(5)]
    assert messages.count_after("room-1", None, 100) == 4
    assert messages.count_after("room-1", mid(1), 100) == 3


def test_expired_replies_and_their_mentions_are_hidden(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    parent = msg(1)
    messages.append(parent)
    for n, expires in ((2, PAST), (3, FUTURE)):
        reply = attrs.evolve(
            msg(n), parent_id=parent.message_id, expires_at=expires, mentions=("bob",)
        )
        messages.append(reply)
    assert [m.message_id for m in messages.thread("room-1", mid(1), None, 10)] == [mid(3)]
    assert messages.count_mentions("room-1", "bob", None, 100) == 1


def test_a_room_keeps_its_retention(stores: dict[str, Any]) -> None:
    rooms = stores["rooms"]
    kept = Room("r-keep", "keep", RoomKind.PRIVATE, "alice", 1, retention_days=7)
    assert rooms.create(kept, [Membership("r-keep", "alice", Role.OWNER, 1)])
    assert rooms.get("r-keep").retention_days == 7
    assert rooms.create(Room("r-plain", "plain", RoomKind.PUBLIC, "alice", 1), [])
    assert rooms.get("r-plain").retention_days == 0


def test_a_retry_of_an_expired_post_gets_the_message_it_made(stores: dict[str, Any]) -> None:
    messages = stores["messages"]
    gone = attrs.evolve(msg(1), expires_at=PAST)
    assert messages.append(gone)[1]
    again, created = messages.append(attrs.evolve(gone, message_id=mid(2)))
    assert (again.message_id, created) == (mid(1), False)
