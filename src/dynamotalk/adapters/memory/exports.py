"""ExportJobs in memory (export_ports.py): the local stack's `--in-memory` mode and tests."""

from __future__ import annotations

import threading

import attrs

from dynamotalk.domain.export import EXPORT_STALE_S, ExportJob, ExportStatus


@attrs.define
class MemoryExportJobs:
    _jobs: dict[tuple[str, str], ExportJob] = attrs.Factory(dict)
    _running: dict[str, tuple[str, int]] = attrs.Factory(dict)
    """User id -> (export id, started at ms): the marker."""
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def start(self, job: ExportJob, now_ms: int) -> bool:
        with self._lock:
            held = self._running.get(job.user_id)
            if held is not None and held[1] >= now_ms - EXPORT_STALE_S * 1000:
                return False
            if (job.user_id, job.export_id) in self._jobs:
                return False
            self._running[job.user_id] = (job.export_id, now_ms)
            self._jobs[(job.user_id, job.export_id)] = job
            return True

    def jobs_of(self, user_id: str) -> list[ExportJob]:
        with self._lock:
            found = [j for (user, _), j in self._jobs.items() if user == user_id]
        return sorted(found, key=lambda j: j.export_id)

    def get(self, user_id: str, export_id: str) -> ExportJob | None:
        with self._lock:
            return self._jobs.get((user_id, export_id))

    def finish(self, user_id: str, export_id: str, status: ExportStatus, at: int) -> None:
        with self._lock:
            job = self._jobs.get((user_id, export_id))
            if job is not None:
                self._jobs[(user_id, export_id)] = attrs.evolve(job, status=status, finished_at=at)
            if self._running.get(user_id, ("", 0))[0] == export_id:
                del self._running[user_id]
