"""What "export my data" needs from storage and queues (issue 18), beside ports.py: the job
items, the queue that runs them, and the archives' bucket. Contract: the in-memory twin and
DynamoDB Local run one suite (tests/integration/test_export_jobs_contract.py)."""

from __future__ import annotations

from typing import Protocol

from dynamotalk.domain.export import ExportJob, ExportStatus


class ExportJobs(Protocol):
    def start(self, job: ExportJob, now_ms: int) -> bool:
        """Store a new pending job, and the user's running marker, in one conditional write:
        False (nothing written) while another of theirs runs (domain/export.EXPORT_STALE_S)."""
        ...

    def jobs_of(self, user_id: str) -> list[ExportJob]:
        """The user's jobs still kept (EXPORT_KEPT_DAYS), one Query."""
        ...

    def get(self, user_id: str, export_id: str) -> ExportJob | None: ...

    def finish(self, user_id: str, export_id: str, status: ExportStatus, at: int) -> None:
        """Record the outcome and release the running marker (idempotent)."""
        ...


class ExportQueue(Protocol):
    def enqueue(self, user_id: str, export_id: str) -> None: ...


class ArchiveStore(Protocol):
    def put_archive(self, key: str, body: bytes) -> None:
        """Write (or overwrite: a re-run writes the same key) one archive."""
        ...

    def archive_url(self, key: str, expires_in: int) -> str:
        """A presigned GET of the archive, valid `expires_in` seconds."""
        ...
