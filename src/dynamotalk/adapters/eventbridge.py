"""EventsOut on Amazon EventBridge: every room change on the stage's bus, `source` EVENT_SOURCE
and `detail-type` the change's frame type; the detail is the change's frame (docs/PROTOCOL.md),
so a rule or a consumer reads the same JSON a WebSocket client does."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from dynamotalk.domain.events import RoomChange
from dynamotalk.workers import EVENT_SOURCE

PUT_EVENTS_MAX = 10
"""Entries per PutEvents call."""


class NotPublished(Exception):
    """EventBridge refused some entries: the caller retries the batch."""


@attrs.define
class EventBridgeEventsOut:
    client: Any
    """A boto3 `events` client."""
    bus_name: str
    encode: Callable[[RoomChange], Mapping[str, Any]]
    """The change's frame as JSON (the wire's event encoder, handed in by the wiring)."""

    def publish(self, changes: Sequence[RoomChange]) -> None:
        entries = [entry(self.bus_name, self.encode(change)) for change in changes]
        for start in range(0, len(entries), PUT_EVENTS_MAX):
            reply = self.client.put_events(Entries=entries[start : start + PUT_EVENTS_MAX])
            if reply.get("FailedEntryCount"):
                codes = {e.get("ErrorCode") for e in reply.get("Entries", []) if e.get("ErrorCode")}
                raise NotPublished(f"EventBridge refused entries: {sorted(map(str, codes))}")


def entry(bus_name: str, frame: Mapping[str, Any]) -> dict[str, Any]:
    """One PutEvents entry for a change's frame."""
    return {
        "EventBusName": bus_name,
        "Source": EVENT_SOURCE,
        "DetailType": str(frame["type"]),
        "Detail": json.dumps(frame, separators=(",", ":"), ensure_ascii=False),
    }
