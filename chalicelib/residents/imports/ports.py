"""What import jobs need from outside: their items (``imports.repository`` and the tests' fakes), the files on S3
(``storage.objects.ObjectStore``) and, for the person who started a job, the in-app inbox."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from chalicelib.core.errors import LinliError
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWork
from chalicelib.residents.imports.domain import FailedRow, ImportJob
from chalicelib.residents.imports.files import Chunk


class FileInfo(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def content_type(self) -> str: ...


class ImportFiles(Protocol):
    """Files under the tenant's prefix of the attachments bucket."""

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]: ...
    def head(self, key: str) -> FileInfo | None: ...
    def open(self, key: str) -> BinaryIO: ...
    def read_range(self, key: str, start: int, end: int) -> bytes: ...
    def put(self, key: str, body: bytes, content_type: str) -> None: ...
    def presign_get(self, key: str, filename: str, expires_in: int) -> str: ...
    def delete(self, key: str) -> None: ...


class ImportJobStore(Protocol):
    """A tenant's import jobs, their failed rows and the Idempotency-Keys that started them."""

    def get(self, ctx: TenantContext, job_id: str, *, consistent: bool = False) -> ImportJob | None: ...
    def list_jobs(self, ctx: TenantContext, limit: int,
                  cursor: str | None) -> tuple[list[ImportJob], str | None]: ...
    def idempotency_record(self, ctx: TenantContext, key_digest: str) -> tuple[str, str] | None:
        """(request digest, job id) of the request that first used this key."""
    def stage_new(self, uow: UnitOfWork, ctx: TenantContext, job: ImportJob, *,
                  idempotency: tuple[str, str] | None, on_replay: LinliError, now: datetime) -> None: ...
    def stage_read(self, uow: UnitOfWork, ctx: TenantContext, job: ImportJob, *, file_format: str,
                   header: list[str], total_rows: int, chunks: list[Chunk], started_at: str,
                   on_conflict: LinliError) -> None:
        """The file is read: the job runs (only if it is still queued)."""
    def stage_failure(self, uow: UnitOfWork, ctx: TenantContext, job: ImportJob, *, code: str, message: str,
                      finished_at: str, on_conflict: LinliError) -> None:
        """The file could not be read: the job failed (only if it is still queued)."""
    def stage_progress(self, uow: UnitOfWork, ctx: TenantContext, job_id: str, *, after: int, through: int,
                       created: int, updated: int, unchanged: int, failed_rows: list[FailedRow], updated_at: str,
                       on_conflict: LinliError) -> None:
        """Rows after ``after`` through ``through`` counted, their failed rows kept (only if the job still
        stands at ``after``)."""
    def stage_completed(self, uow: UnitOfWork, ctx: TenantContext, job: ImportJob, *, finished_at: str,
                        on_conflict: LinliError) -> None:
        """Every row is applied: the job completed (only if it is still running)."""
    def failed_rows(self, ctx: TenantContext, job_id: str, limit: int) -> list[FailedRow]: ...
    def all_failed_rows(self, ctx: TenantContext, job_id: str) -> Iterator[FailedRow]: ...


class Inbox(Protocol):
    """The in-app inbox (``notifications.inbox.InboxService``): files one notice for a person, once per key."""

    def file(self, ctx: TenantContext, person_id: str, notification: Any, now: datetime) -> bool: ...
