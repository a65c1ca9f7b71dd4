"""Import job items: the job (``T#<tenant>#IMP`` / ``IMP#<job id>``: a tenant's jobs are one Query, newest first),
its failed rows (``T#<tenant>#IMP#<job id>`` / ``ROW#<row>``: in row order, the first ones one Query away) and the
Idempotency-Keys that started jobs (kept 24 hours). The job's counters move only with a condition on where the job
stands (``applied_through``): see ``imports.domain``."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, timedelta

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.residents.imports.domain import FailedRow, ImportJob
from chalicelib.residents.imports.files import Chunk
from chalicelib.storage import keys
from chalicelib.storage.table import LinliModel
from chalicelib.storage.unit_of_work import UnitOfWork

IDEMPOTENCY_TTL = timedelta(hours=24)


class ImportJobItem(LinliModel, discriminator="import_job"):
    job_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    file_format = UnicodeAttribute(null=True)
    upload_id = UnicodeAttribute()
    filename = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    created_by = JSONAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    header = JSONAttribute(default=list)
    total_rows = NumberAttribute(null=True)
    processed_rows = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    applied_through = NumberAttribute(default=0)
    chunks = JSONAttribute(default=list)  # [[first_row, last_row, start, end], …]
    failure = JSONAttribute(null=True)
    started_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)


class ImportFailedRowItem(LinliModel, discriminator="import_failed_row"):
    row = NumberAttribute()
    field = UnicodeAttribute(null=True)
    code = UnicodeAttribute()
    message = UnicodeAttribute()
    cells = JSONAttribute(default=list)
    more = JSONAttribute(null=True)


class ImportIdempotencyItem(LinliModel, discriminator="import_idempotency"):
    request_digest = UnicodeAttribute()
    job_id = UnicodeAttribute()


def jobs_pk(tenant_id: str) -> str:
    return keys.tenant_pk(tenant_id, "IMP")


def job_sk(job_id: str) -> str:
    return keys.sk("IMP", job_id)


def failed_rows_pk(tenant_id: str, job_id: str) -> str:
    return keys.tenant_pk(tenant_id, "IMP", job_id)


def failed_row_sk(row: int) -> str:
    """Example
    -------
    >>> failed_row_sk(42)
    'ROW#0000042'
    """
    return keys.sk("ROW", f"{row:07d}")


def _job(item: ImportJobItem) -> ImportJob:
    return ImportJob(
        job_id=item.job_id, kind=item.kind, file_format=item.file_format, upload_id=item.upload_id,
        filename=item.filename, status=item.status, created_by=item.created_by, created_at=item.created_at,
        updated_at=item.updated_at, header=list(item.header or []),
        total_rows=int(item.total_rows) if item.total_rows is not None else None,
        processed_rows=int(item.processed_rows or 0), created=int(item.created or 0),
        updated=int(item.updated or 0), unchanged=int(item.unchanged or 0), failed=int(item.failed or 0),
        applied_through=int(item.applied_through or 0), chunks=[Chunk(*c) for c in item.chunks or []],
        failure=item.failure, started_at=item.started_at, finished_at=item.finished_at)


def _failed_row(item: ImportFailedRowItem) -> FailedRow:
    return FailedRow(row=int(item.row), field=item.field, code=item.code, message=item.message,
                     cells=list(item.cells or []), more=list(item.more or []))


class ImportJobRepository:
    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    def get(self, ctx: TenantContext, job_id: str, *, consistent: bool = False) -> ImportJob | None:
        try:
            item = ImportJobItem.get(jobs_pk(ctx.tenant_id), job_sk(job_id), consistent_read=consistent)
        except DoesNotExist:
            return None
        return _job(item)

    def list_jobs(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[ImportJob], str | None]:
        items, next_cursor = self._cursors.page(ctx.tenant_id, ImportJobItem.query(
            jobs_pk(ctx.tenant_id), ImportJobItem.SK.startswith("IMP#"), scan_index_forward=False, limit=limit,
            last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor)))
        return [_job(i) for i in items], next_cursor

    def idempotency_record(self, ctx: TenantContext, key_digest: str) -> tuple[str, str] | None:
        try:
            item = ImportIdempotencyItem.get(self._idempotency_pk(ctx, key_digest), "IDEM", consistent_read=True)
        except DoesNotExist:
            return None
        return item.request_digest, item.job_id

    def stage_new(self, uow: UnitOfWork, ctx: TenantContext, job: ImportJob, *,
                  idempotency: tuple[str, str] | None, on_replay: LinliError, now: datetime) -> None:
        if idempotency is not None:
            key_digest, request_digest = idempotency
            uow.put(ImportIdempotencyItem(self._idempotency_pk(ctx, key_digest), "IDEM", request_digest=request_digest,
                                          job_id=job.job_id, expires_at=int((now + IDEMPOTENCY_TTL).timestamp())),
                    condition=ImportIdempotencyItem.PK.does_not_exist(), on_conflict=on_replay)
        values = asdict(job)
        values["chunks"] = [[c.first_row, c.last_row, c.start, c.end] for c in job.chunks]
        uow.put(ImportJobItem(jobs_pk(ctx.tenant_id), job_sk(job.job_id), **values),
                condition=ImportJobItem.PK.does_not_exist())

    def stage_read(self, uow: UnitOfWork, ctx: TenantContext, job: ImportJob, *, file_format: str,
                   header: list[str], total_rows: int, chunks: list[Chunk], started_at: str,
                   on_conflict: LinliError) -> None:
        uow.update(ImportJobItem(jobs_pk(ctx.tenant_id), job_sk(job.job_id)), [
            ImportJobItem.status.set("running"), ImportJobItem.file_format.set(file_format),
            ImportJobItem.header.set(header), ImportJobItem.total_rows.set(total_rows),
            ImportJobItem.chunks.set([[c.first_row, c.last_row, c.start, c.end] for c in chunks]),
            ImportJobItem.started_at.set(started_at), ImportJobItem.updated_at.set(started_at)],
            condition=ImportJobItem.status == "queued", on_conflict=on_conflict)

    def stage_failure(self, uow: UnitOfWork, ctx: TenantContext, job: ImportJob, *, code: str, message: str,
                      finished_at: str, on_conflict: LinliError) -> None:
        uow.update(ImportJobItem(jobs_pk(ctx.tenant_id), job_sk(job.job_id)), [
            ImportJobItem.status.set("failed"), ImportJobItem.failure.set({"code": code, "message": message}),
            ImportJobItem.finished_at.set(finished_at), ImportJobItem.updated_at.set(finished_at)],
            condition=ImportJobItem.status == "queued", on_conflict=on_conflict)

    def stage_progress(self, uow: UnitOfWork, ctx: TenantContext, job_id: str, *, after: int, through: int,
                       created: int, updated: int, unchanged: int, failed_rows: list[FailedRow], updated_at: str,
                       on_conflict: LinliError) -> None:
        rows = created + updated + unchanged + len(failed_rows)
        uow.update(ImportJobItem(jobs_pk(ctx.tenant_id), job_sk(job_id)), [
            ImportJobItem.created.add(created), ImportJobItem.updated.add(updated),
            ImportJobItem.unchanged.add(unchanged), ImportJobItem.failed.add(len(failed_rows)),
            ImportJobItem.processed_rows.add(rows), ImportJobItem.applied_through.set(through),
            ImportJobItem.updated_at.set(updated_at)],
            condition=(ImportJobItem.status == "running") & (ImportJobItem.applied_through == after),
            on_conflict=on_conflict)
        for failed in failed_rows:
            uow.put(ImportFailedRowItem(failed_rows_pk(ctx.tenant_id, job_id), failed_row_sk(failed.row),
                                        row=failed.row, field=failed.field, code=failed.code, message=failed.message,
                                        cells=failed.cells, more=failed.more or None))

    def stage_completed(self, uow: UnitOfWork, ctx: TenantContext, job: ImportJob, *, finished_at: str,
                        on_conflict: LinliError) -> None:
        uow.update(ImportJobItem(jobs_pk(ctx.tenant_id), job_sk(job.job_id)), [
            ImportJobItem.status.set("completed"), ImportJobItem.finished_at.set(finished_at),
            ImportJobItem.updated_at.set(finished_at)],
            condition=ImportJobItem.status == "running", on_conflict=on_conflict)

    def failed_rows(self, ctx: TenantContext, job_id: str, limit: int) -> list[FailedRow]:
        return [_failed_row(i) for i in ImportFailedRowItem.query(
            failed_rows_pk(ctx.tenant_id, job_id), ImportFailedRowItem.SK.startswith("ROW#"), limit=limit)]

    def all_failed_rows(self, ctx: TenantContext, job_id: str) -> Iterator[FailedRow]:
        for item in ImportFailedRowItem.query(failed_rows_pk(ctx.tenant_id, job_id),
                                              ImportFailedRowItem.SK.startswith("ROW#")):
            yield _failed_row(item)

    @staticmethod
    def _idempotency_pk(ctx: TenantContext, key_digest: str) -> str:
        return keys.tenant_pk(ctx.tenant_id, "IMPIDEM", ctx.principal.id, key_digest)
