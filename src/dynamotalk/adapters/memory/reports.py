"""ReportStore in memory: a room's reports and its moderation queue, under one lock (the same
promises as adapters/dynamodb/reports.py: one open report per reporter and message, resolved
once)."""

from __future__ import annotations

import threading

import attrs

from dynamotalk.domain.reports import Report, Resolution, Status


@attrs.define
class MemoryReportStore:
    _reports: dict[tuple[str, str], Report] = attrs.Factory(dict)
    """(room id, report id) -> report."""
    _open: dict[tuple[str, str, str], str] = attrs.Factory(dict)
    """(room id, message id, reporter) -> the id of the reporter's open report on it."""
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def add(self, report: Report) -> tuple[Report, bool]:
        claim = (report.room_id, report.message_id, report.reporter_id)
        with self._lock:
            held = self._open.get(claim)
            if held is not None:
                return self._reports[(report.room_id, held)], False
            self._reports[(report.room_id, report.report_id)] = report
            self._open[claim] = report.report_id
            return report, True

    def get(self, room_id: str, report_id: str) -> Report | None:
        with self._lock:
            return self._reports.get((room_id, report_id))

    def page(self, room_id: str, status: Status, before_id: str | None, limit: int) -> list[Report]:
        with self._lock:
            found = [
                r
                for (room, report_id), r in self._reports.items()
                if room == room_id
                and r.status is status
                and (before_id is None or report_id < before_id)
            ]
        return sorted(found, key=lambda r: r.report_id, reverse=True)[: max(limit, 0)]

    def resolve(self, room_id: str, report_id: str, resolution: Resolution) -> Report | None:
        with self._lock:
            report = self._reports.get((room_id, report_id))
            if report is None or report.resolution is not None:
                return report
            resolved = attrs.evolve(report, resolution=resolution)
            self._reports[(room_id, report_id)] = resolved
            self._open.pop((room_id, report.message_id, report.reporter_id), None)
            return resolved
