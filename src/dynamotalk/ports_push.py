"""The ports of Web Push (domain/push.py): where subscriptions and per-room notification
settings live, and where the fan-out leaves push jobs. Split from ports.py like
ports_reports.py; the contract suite is tests/integration/test_push_store_contract.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dynamotalk.domain.push import PushSubscription, RoomNotify


class PushStore(Protocol):
    """Per user, under the user's own partition (an erasure removes them with the rest)."""

    def put_subscription(self, subscription: PushSubscription) -> None:
        """Store or replace the device's subscription (a browser re-subscribing)."""
        ...

    def subscriptions(self, user_id: str) -> list[PushSubscription]:
        """The user's subscriptions, by device id: one Query of at most MAX_DEVICES items."""
        ...

    def delete_subscription(self, user_id: str, device_id: str) -> bool:
        """Forget one device's subscription; False if there was none."""
        ...

    def mark_success(self, user_id: str, device_id: str, at: int) -> None:
        """Record a push the service accepted (never recreates a deleted subscription)."""
        ...

    def set_room_notify(self, setting: RoomNotify) -> None: ...

    def room_notify(self, user_id: str, room_id: str) -> RoomNotify | None:
        """The member's setting for the room; None: notifications on (one GetItem)."""
        ...

    def clear_room_notify(self, user_id: str, room_id: str) -> None: ...


class PushJobs(Protocol):
    """Where the fan-out leaves (room id, message id, seq) of messages that might push."""

    def enqueue_many(self, jobs: Sequence[tuple[str, str, int]]) -> None:
        """All of them, or an exception (the fan-out logs it and goes on)."""
        ...
