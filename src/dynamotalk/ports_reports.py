"""The ports of blocking and reports (issue 17, "Block and report"), beside ports.py (the
core's other ports; same rules: adapters satisfy them structurally).

The block list is kept by the room stores (with the invites it silences: the blocker's items
and their reverse, who blocked whom), and so are the rooms' reports; the composition root
reaches both through `SafetyRooms`.
"""

from __future__ import annotations

from typing import Protocol

from dynamotalk.domain.models import Block
from dynamotalk.domain.reports import Report, Resolution, Status
from dynamotalk.ports import RoomStore


class BlockList(Protocol):
    """Who blocked whom, both ways, each one Query."""

    def blocks_of(self, user_id: str) -> list[Block]:
        """Everyone `user_id` blocked, in blocked user id order."""
        ...

    def blockers_of(self, user_id: str) -> list[str]:
        """The user ids of everyone who blocked `user_id` (the reverse items)."""
        ...


class ReportStore(Protocol):
    """The rooms' reports (domain/reports.py): their moderation queues."""

    def add(self, report: Report) -> tuple[Report, bool]:
        """Store a report unless its reporter has an open one on the same message: then that
        one, unchanged. True when stored."""
        ...

    def get(self, room_id: str, report_id: str) -> Report | None: ...

    def page(self, room_id: str, status: Status, before_id: str | None, limit: int) -> list[Report]:
        """Up to `limit` reports in `status`, newest first, older than `before_id` if given."""
        ...

    def resolve(self, room_id: str, report_id: str, resolution: Resolution) -> Report | None:
        """Resolve an open report (atomically: once). The report as it now is; None when no
        such report. A report already resolved is returned as it was, not changed."""
        ...


class SafetyRooms(RoomStore, BlockList, Protocol):
    """A room store that also keeps the block list and the rooms' reports (both adapters)."""

    def report_store(self) -> ReportStore: ...
