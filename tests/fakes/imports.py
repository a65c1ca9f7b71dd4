"""In-memory stand-ins for the import jobs' store (``residents.imports.repository``) and for the files on S3
(``storage.objects.ObjectStore``): the same records, conditions and answers, no I/O."""
from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, BinaryIO

from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.residents.imports.domain import FailedRow, ImportJob
from chalicelib.residents.imports.files import Chunk
from tests.fakes.storage import InMemoryUnitOfWork, MemoryStore


@dataclass(frozen=True)
class StoredFile:
    size: int
    content_type: str


class UploadRefusedError(Exception):
    """What S3 answers (403) to a POST its policy does not allow."""


@dataclass
class InMemoryFiles:
    """A bucket in memory; :meth:`upload` is the browser's POST to a presigned form (its policy enforced)."""

    objects: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
        self.policies[key] = {"content_type": content_type, "max_bytes": max_bytes, "expires_in": expires_in}
        return {"url": "memory://bucket", "fields": {"key": key, "Content-Type": content_type}}

    def upload(self, fields: dict[str, str], body: bytes) -> None:
        policy = self.policies.get(fields["key"])
        if policy is None or fields["Content-Type"] != policy["content_type"] or not (
                1 <= len(body) <= policy["max_bytes"]):
            raise UploadRefusedError(fields["key"])
        self.objects[fields["key"]] = (body, fields["Content-Type"])

    def head(self, key: str) -> StoredFile | None:
        found = self.objects.get(key)
        return StoredFile(len(found[0]), found[1]) if found else None

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self.objects[key][0])

    def read_range(self, key: str, start: int, end: int) -> bytes:
        return self.objects[key][0][start:end]

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = (body, content_type)

    def presign_get(self, key: str, filename: str, expires_in: int) -> str:
        return f"memory://bucket/{key}?filename={filename}&expires_in={expires_in}"

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)
        self.deleted.append(key)


class InMemoryImportJobs:
    """Jobs by (tenant, id), failed rows by (tenant, job, row), Idempotency-Keys by (tenant, principal, digest)."""

    def __init__(self, store: MemoryStore, cursors: CursorCodec | None = None) -> None:
        self.cursors = cursors or CursorCodec(b"fake-cursor-key-" * 2)
        self.jobs: dict[tuple[str, str], ImportJob] = store.table("imports.jobs")
        self.failed: dict[tuple[str, str, int], FailedRow] = store.table("imports.failed_rows")
        self.keys: dict[tuple[str, str, str], tuple[str, str]] = store.table("imports.idempotency")

    def get(self, ctx: TenantContext, job_id: str, *, consistent: bool = False) -> ImportJob | None:
        return self.jobs.get((ctx.tenant_id, job_id))

    def list_jobs(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[ImportJob], str | None]:
        before = (self.cursors.decode(ctx.tenant_id, cursor) or {}).get("before", {}).get("S")
        mine = sorted((j for (t, _), j in self.jobs.items() if t == ctx.tenant_id), key=lambda j: j.job_id,
                      reverse=True)
        page = [j for j in mine if before is None or j.job_id < before][:limit]
        more = len(page) == limit and any(j.job_id < page[-1].job_id for j in mine)
        return page, self.cursors.encode(ctx.tenant_id, {"before": {"S": page[-1].job_id}}) if more else None

    def idempotency_record(self, ctx: TenantContext, key_digest: str) -> tuple[str, str] | None:
        return self.keys.get((ctx.tenant_id, ctx.principal.id, key_digest))

    def stage_new(self, uow: InMemoryUnitOfWork, ctx: TenantContext, job: ImportJob, *,
                  idempotency: tuple[str, str] | None, on_replay: LinliError, now: datetime) -> None:
        if idempotency is not None:
            key = (ctx.tenant_id, ctx.principal.id, idempotency[0])
            uow.stage(lambda: self.keys.__setitem__(key, (idempotency[1], job.job_id)),
                      check=lambda: key not in self.keys, on_conflict=on_replay)
        uow.stage(lambda: self.jobs.__setitem__((ctx.tenant_id, job.job_id), job),
                  check=lambda: (ctx.tenant_id, job.job_id) not in self.jobs)

    def stage_read(self, uow: InMemoryUnitOfWork, ctx: TenantContext, job: ImportJob, *, file_format: str,
                   header: list[str], total_rows: int, chunks: list[Chunk], started_at: str,
                   on_conflict: LinliError) -> None:
        self._update(uow, ctx, job.job_id, lambda j: j.status == "queued", on_conflict, status="running",
                     file_format=file_format, header=list(header), total_rows=total_rows, chunks=list(chunks),
                     started_at=started_at, updated_at=started_at)

    def stage_failure(self, uow: InMemoryUnitOfWork, ctx: TenantContext, job: ImportJob, *, code: str, message: str,
                      finished_at: str, on_conflict: LinliError) -> None:
        self._update(uow, ctx, job.job_id, lambda j: j.status == "queued", on_conflict, status="failed",
                     failure={"code": code, "message": message}, finished_at=finished_at, updated_at=finished_at)

    def stage_progress(self, uow: InMemoryUnitOfWork, ctx: TenantContext, job_id: str, *, after: int, through: int,
                       created: int, updated: int, unchanged: int, failed_rows: list[FailedRow], updated_at: str,
                       on_conflict: LinliError) -> None:
        key = (ctx.tenant_id, job_id)

        def apply() -> None:
            job = self.jobs[key]
            self.jobs[key] = replace(
                job, created=job.created + created, updated=job.updated + updated,
                unchanged=job.unchanged + unchanged, failed=job.failed + len(failed_rows),
                processed_rows=job.processed_rows + created + updated + unchanged + len(failed_rows),
                applied_through=through, updated_at=updated_at)
            for row in failed_rows:
                self.failed[(ctx.tenant_id, job_id, row.row)] = row

        uow.stage(apply, check=lambda: key in self.jobs and self.jobs[key].status == "running"
                  and self.jobs[key].applied_through == after, on_conflict=on_conflict, kind="update")

    def stage_completed(self, uow: InMemoryUnitOfWork, ctx: TenantContext, job: ImportJob, *, finished_at: str,
                        on_conflict: LinliError) -> None:
        self._update(uow, ctx, job.job_id, lambda j: j.status == "running", on_conflict, status="completed",
                     finished_at=finished_at, updated_at=finished_at)

    def failed_rows(self, ctx: TenantContext, job_id: str, limit: int) -> list[FailedRow]:
        return list(self.all_failed_rows(ctx, job_id))[:limit]

    def all_failed_rows(self, ctx: TenantContext, job_id: str) -> Iterator[FailedRow]:
        yield from (row for (t, j, _), row in sorted(self.failed.items()) if (t, j) == (ctx.tenant_id, job_id))

    def _update(self, uow: InMemoryUnitOfWork, ctx: TenantContext, job_id: str, holds: Any, on_conflict: LinliError,
                **values: Any) -> None:
        key = (ctx.tenant_id, job_id)
        uow.stage(lambda: self.jobs.__setitem__(key, replace(self.jobs[key], **values)),
                  check=lambda: key in self.jobs and holds(self.jobs[key]), on_conflict=on_conflict, kind="update")
