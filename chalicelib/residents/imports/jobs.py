"""Import jobs as the routes see them: an upload slot on S3, starting a job, its progress and failed rows, the
error file. Nothing here reads a file: a route does at most one read of S3 (the upload's size and type) and one
transaction, so none runs anywhere near a second whatever the file holds."""
from __future__ import annotations

import hashlib
from datetime import datetime

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, NotFoundError, ValidationFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.residents.imports import files
from chalicelib.residents.imports.domain import ERRORS_SHOWN, STARTED_EVENT, FailedRow, ImportJob, error_filename
from chalicelib.residents.imports.domain import errors_key as error_file_key
from chalicelib.residents.imports.domain import upload_key as upload_file_key
from chalicelib.residents.imports.ports import ImportFiles, ImportJobStore
from chalicelib.residents.imports.schemas import (
    ImportErrorFileOut,
    ImportFailureOut,
    ImportJobIn,
    ImportJobOut,
    ImportRowErrorOut,
    ImportUploadIn,
    ImportUploadOut,
)

UPLOAD_SECONDS = 900
DOWNLOAD_SECONDS = 300
FORMAT_OF_TYPE = {files.CSV_TYPE: "csv", files.XLSX_TYPE: "xlsx"}


class _ReplayError(ConflictError):
    """The Idempotency-Key started a job before: answer with that job."""


def job_out(job: ImportJob, errors: list[FailedRow]) -> ImportJobOut:
    return ImportJobOut(
        id=job.job_id, kind=job.kind, format=job.file_format, filename=job.filename, status=job.status,
        total_rows=job.total_rows, processed_rows=job.processed_rows, created=job.created, updated=job.updated,
        unchanged=job.unchanged, failed=job.failed,
        errors=[ImportRowErrorOut(row=e.row, field=e.field, code=e.code, message=e.messages) for e in errors],
        errors_url=f"/v1/imports/{job.job_id}/errors" if job.status == "completed" and job.failed else None,
        failure=ImportFailureOut(**job.failure) if job.failure else None, created_by=job.created_by.get("id") or "",
        created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at)


class ImportJobs:
    """Owns a tenant's import jobs from the API's side (the imports consumer does the work)."""

    def __init__(self, store: ImportJobStore, files: ImportFiles, new_uow: UnitOfWorkFactory) -> None:
        self.store = store
        self.files = files
        self.new_uow = new_uow

    def new_upload(self, ctx: TenantContext, cmd: ImportUploadIn) -> ImportUploadOut:
        """A presigned POST for one file: under the tenant's prefix, this type, at most ``files.MAX_FILE_BYTES``."""
        upload_id = new_id("upl")
        post = self.files.presign_post(upload_file_key(ctx.tenant_id, upload_id), cmd.content_type,
                                       files.MAX_FILE_BYTES, UPLOAD_SECONDS)
        return ImportUploadOut(id=upload_id, url=post["url"], fields=post["fields"], expires_in=UPLOAD_SECONDS)

    def start(self, ctx: TenantContext, cmd: ImportJobIn, idempotency_key: str | None, now: datetime) -> ImportJobOut:
        """A queued job for an uploaded file (its ``import.started`` event sets the imports consumer going).
        A replayed Idempotency-Key answers with the job it started; the same key with another body is 422."""
        guard = None
        if idempotency_key:
            guard = (_digest(idempotency_key), hashlib.sha256(cmd.model_dump_json().encode()).hexdigest())
            replayed = self._replay(ctx, *guard)
            if replayed is not None:
                return replayed
        found = self.files.head(upload_file_key(ctx.tenant_id, cmd.upload_id))
        if found is None:
            raise ValidationFailedError("No file was uploaded with this id (or it was imported already).",
                                        code="unknown_upload", details=[{
                                            "field": "upload_id", "type": "unknown_upload",
                                            "message": "Upload the file first (POST /v1/imports/uploads)."}])
        stamp = to_rfc3339(now)
        job = ImportJob(job_id=new_id("imp"), kind=cmd.kind, file_format=cmd.format or FORMAT_OF_TYPE.get(
                            found.content_type.split(";")[0].strip()), upload_id=cmd.upload_id, filename=cmd.filename,
                        status="queued", created_by=dict(ctx.actor), created_at=stamp, updated_at=stamp)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.store.stage_new(uow, ctx, job, idempotency=guard, on_replay=_ReplayError(), now=now)
        uow.record(STARTED_EVENT, subject=("import", job.job_id),
                   data={"kind": job.kind, "format": job.file_format, "bytes": found.size})
        try:
            uow.commit()
        except _ReplayError:
            assert guard is not None
            replayed = self._replay(ctx, *guard)
            if replayed is None:
                raise ConflictError("The first request with this key is still in flight; retry.",
                                    code="write_conflict") from None
            return replayed
        return job_out(job, [])

    def get(self, ctx: TenantContext, job_id: str) -> ImportJobOut:
        """The job's progress and its first failed rows (by row)."""
        job = self._job(ctx, job_id)
        return job_out(job, self.store.failed_rows(ctx, job_id, ERRORS_SHOWN) if job.failed else [])

    def list_jobs(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[ImportJobOut], str | None]:
        """A page of the tenant's jobs, newest first (their failed rows only on each job's own GET)."""
        jobs, next_cursor = self.store.list_jobs(ctx, limit, cursor)
        return [job_out(job, []) for job in jobs], next_cursor

    def error_file(self, ctx: TenantContext, job_id: str) -> ImportErrorFileOut:
        """A short-lived download of the failed rows (written when the job completed)."""
        job = self._job(ctx, job_id)
        if job.status != "completed":
            raise ConflictError("The error file is written when the import completes.", code="import_not_finished")
        if not job.failed:
            raise ConflictError("Every row of this import was applied: there is no error file.",
                                code="no_failed_rows")
        name = error_filename(job)
        return ImportErrorFileOut(url=self.files.presign_get(error_file_key(ctx.tenant_id, job_id), name,
                                                             DOWNLOAD_SECONDS),
                                  filename=name, rows=job.failed, expires_in=DOWNLOAD_SECONDS)

    def _job(self, ctx: TenantContext, job_id: str) -> ImportJob:
        job = self.store.get(ctx, job_id)
        if job is None:
            raise NotFoundError()
        return job

    def _replay(self, ctx: TenantContext, key_digest: str, request_digest: str) -> ImportJobOut | None:
        record = self.store.idempotency_record(ctx, key_digest)
        if record is None:
            return None
        if record[0] != request_digest:
            raise ValidationFailedError("This Idempotency-Key was used with a different request.",
                                        code="idempotency_key_reused")
        job = self.store.get(ctx, record[1], consistent=True)
        if job is None:
            raise NotFoundError()
        return job_out(job, [])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]
