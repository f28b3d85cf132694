"""Reports and the moderation queue (issue 17, "Block and report"; domain/reports.py).

A member reports a message of a room they belong to (authz.Act.REPORT: not in direct rooms,
where one blocks instead); the room's admins read the queue and resolve reports
(authz.Act.MODERATE). The reporter gets back only their own report, without the snapshots; the
reported author is never told. Resolutions are written to the room's audit log
(`_audit_resolution`).
"""

from __future__ import annotations

from dynamotalk.domain import authz
from dynamotalk.domain import reports as rp
from dynamotalk.domain.authz import Act
from dynamotalk.domain.cursor import decode_cursor, encode_cursor
from dynamotalk.domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from dynamotalk.domain.ids import is_ulid
from dynamotalk.domain.limits import REPORT_CONTEXT, REPORTS_PAGE_MAX
from dynamotalk.domain.models import Principal, Room
from dynamotalk.domain.user_limits import Action
from dynamotalk.ports_reports import ReportStore
from dynamotalk.service.access import Access
from dynamotalk.service.moderation import write_audit


def _cursor_scope(room_id: str) -> str:
    """Queue cursors are bound to the room's queue: a history cursor is no queue cursor."""
    return f"reports:{room_id}"


class Reports(Access):
    def _report_store(self) -> ReportStore:
        if self.reports is None:
            raise Unavailable("reports are not available on this stage")
        return self.reports

    def report_message(
        self,
        principal: Principal,
        room_id: str,
        message_id: str,
        reason: str,
        note: str | None = None,
    ) -> tuple[rp.Report, bool]:
        """Put a message in the room's moderation queue with a snapshot of it and of the
        REPORT_CONTEXT messages before it. A repeat while the caller's report on it is open
        answers that report (False: nothing new stored)."""
        self._limit(principal.user_id, Action.REPORT)
        store = self._report_store()
        room, membership = self._readable_room(principal, room_id)
        authz.require(membership, Act.REPORT, room.kind)
        clean_reason, clean_note = rp.clean_reason(reason), rp.clean_note(note)
        message = self._message(room.room_id, message_id)
        if message.author_id == principal.user_id:
            raise InvalidInput("you cannot report your own message")
        before = self.messages.before(room.room_id, message.message_id, REPORT_CONTEXT)
        context = tuple(rp.snapshot(m) for m in reversed(before) if not m.deleted)
        now = self.clock.now_ms()
        report = rp.Report(
            report_id=self.ids.new_id(now),
            room_id=room.room_id,
            message_id=message.message_id,
            reporter_id=principal.user_id,
            reason=clean_reason,
            created_at=now,
            message=rp.snapshot(message),
            context=context,
            note=clean_note,
        )
        return store.add(report)

    def _moderated_room(self, principal: Principal, room_id: str) -> Room:
        room, membership = self._readable_room(principal, room_id)
        authz.require(membership, Act.MODERATE, room.kind)
        return room

    def reports_page(
        self,
        principal: Principal,
        room_id: str,
        status: str | None,
        cursor: str | None,
        limit: int | None,
    ) -> rp.ReportsPage:
        """The room's reports in one status (open by default), newest first."""
        room = self._moderated_room(principal, room_id)
        clean_status = rp.clean_status(status)
        if limit is not None and not 1 <= limit <= REPORTS_PAGE_MAX:
            raise InvalidInput(f"limit must be between 1 and {REPORTS_PAGE_MAX}")
        size = limit or REPORTS_PAGE_MAX
        before = decode_cursor(cursor, _cursor_scope(room.room_id)) if cursor else None
        found = self._report_store().page(room.room_id, clean_status, before, size + 1)
        page = tuple(found[:size])
        more = len(found) > size
        scope = _cursor_scope(room.room_id)
        return rp.ReportsPage(page, encode_cursor(scope, page[-1].report_id) if more else None)

    def resolve_report(
        self,
        principal: Principal,
        room_id: str,
        report_id: str,
        outcome: str,
        note: str | None = None,
    ) -> rp.Report:
        """Resolve an open report, once: resolving a resolved one is `409 conflict`."""
        room = self._moderated_room(principal, room_id)
        clean_outcome, clean_note = rp.clean_outcome(outcome), rp.clean_note(note)
        if not is_ulid(report_id):
            raise InvalidInput("reportId is not a valid report id")
        resolution = rp.Resolution(
            clean_outcome, principal.user_id, self.clock.now_ms(), clean_note
        )
        found = self._report_store().resolve(room.room_id, report_id, resolution)
        if found is None:
            raise NotFound("no such report")
        if found.resolution != resolution:
            raise Conflict("this report is already resolved")
        self._audit_resolution(principal, room, found)
        return found

    def _audit_resolution(self, principal: Principal, room: Room, report: rp.Report) -> None:
        """A resolution goes to the room's audit log (one PutItem after the resolve): who
        resolved which report on whose message, and how. The reporter is not named there."""
        outcome = report.resolution.outcome if report.resolution is not None else ""
        write_audit(
            self,
            room.room_id,
            principal.user_id,
            Act.MODERATE,
            user_id=report.message.author_id,
            message_id=report.message_id,
            detail=f"report {report.report_id} {outcome}",
        )
