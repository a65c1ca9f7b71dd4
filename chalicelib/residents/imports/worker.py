"""The imports consumer: each message does one bounded step of a job, then queues the next.

* ``import.started`` (the job's event, relayed from the outbox: a job starts exactly when its item commits): read the
  uploaded file once (CSV streamed, XLSX in openpyxl's read-only mode) into the row copy and its chunks, then queue
  the first chunk. A file that cannot be read fails the job, with why.
* ``import.chunk`` (job, tenant, chunk, its first row): read that chunk's byte range of the row copy, check its
  rows (``csv_files.parse_row``, the small import's rules) and apply them (``roster.Roster``), each transaction
  carrying the job's counters on condition that the job still stands where it was read. Rows the job counted
  already are skipped, so a chunk that failed half-way, delivered again, goes on after its last committed row and a
  duplicate delivery changes nothing. Then the next chunk is queued, or the job completes: the error file is
  written, ``import.completed`` recorded with the counts, the upload and the row copy deleted, and the person who
  started the job finds a notice in their inbox.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError
from chalicelib.core.observability import logger, metrics
from chalicelib.core.permissions import Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.core.uow import UnitOfWork, UnitOfWorkFactory
from chalicelib.residents import csv_files
from chalicelib.residents.imports import files
from chalicelib.residents.imports.domain import (
    CHUNK_MESSAGE,
    STARTED_EVENT,
    FailedRow,
    ImportJob,
    chunk_message,
    errors_key,
    next_chunk,
    rows_key,
    upload_key,
)
from chalicelib.residents.imports.ports import ImportFiles, ImportJobStore, Inbox
from chalicelib.residents.roster import ProgressMovedError, Roster, RowInput, Tally

Send = Callable[[dict[str, Any], int], None]


class _MovedOnError(ConflictError):
    """Someone else read the file or finished the job first."""


class JobProgress:
    """A job's counters, staged in every transaction of its rows (``roster.Progress``)."""

    items_per_failure = 1  # a failed row is kept as an item of its own

    def __init__(self, store: ImportJobStore, ctx: TenantContext, job: ImportJob, now: datetime) -> None:
        self.store, self.ctx, self.job_id, self.now = store, ctx, job.job_id, now
        self.through = job.applied_through

    def stage(self, uow: UnitOfWork, tally: Tally) -> None:
        failed = [FailedRow(row=f.line, field=f.errors[0].field, code=f.errors[0].code, message=f.errors[0].message,
                            cells=files.kept_cells(list(f.cells)),
                            more=[{"field": e.field, "code": e.code, "message": e.message} for e in f.errors[1:]])
                  for f in tally.failures]
        self.store.stage_progress(uow, self.ctx, self.job_id, after=self.through, through=tally.through,
                                  created=tally.created, updated=tally.updated, unchanged=tally.unchanged,
                                  failed_rows=failed, updated_at=to_rfc3339(self.now),
                                  on_conflict=ProgressMovedError())

    def committed(self, tally: Tally) -> None:
        self.through = tally.through


def _owner(tenant_id: str, created_by: dict[str, Any]) -> TenantContext:
    """The job's writes are its starter's (their events and audit carry them)."""
    role = created_by.get("role")
    return TenantContext(tenant_id, Principal(created_by.get("type") or "system", created_by.get("id") or "imports",
                                              Role(role) if role in {r.value for r in Role} else None))


class ImportWorker:
    """Owns running import jobs: reading their files, applying their chunks, completing them."""

    def __init__(self, store: ImportJobStore, files: ImportFiles, roster: Roster, new_uow: UnitOfWorkFactory,
                 send: Send, inbox: Inbox | None = None, *, chunk_rows: int = files.CHUNK_ROWS,
                 max_rows: int = files.MAX_JOB_ROWS) -> None:
        self.store, self.files, self.roster, self.new_uow = store, files, roster, new_uow
        self.send, self.inbox = send, inbox
        self.chunk_rows, self.max_rows = chunk_rows, max_rows

    def handle(self, message: dict[str, Any], now: datetime) -> None:
        if message.get("type") == STARTED_EVENT:
            self.read_file(message["tenant_id"], message["subject"]["id"], now)
        elif message.get("type") == CHUNK_MESSAGE:
            self.apply_chunk(message["tenant_id"], message["import_id"], int(message["chunk"]), now)
        else:
            logger.warning("imports queue: message of no known type", extra={"type": message.get("type")})

    # --- reading the file ---------------------------------------------------------------------------
    def read_file(self, tenant_id: str, job_id: str, now: datetime) -> None:
        ctx = TenantContext(tenant_id, Principal("system", "imports"))
        job = self.store.get(ctx, job_id, consistent=True)
        if job is None or job.finished:
            return
        if job.status == "running":  # read before, and the first chunk maybe not queued: queue what is next
            self._go_on(ctx, job, now)
            return
        source = upload_key(tenant_id, job.upload_id)
        if self.files.head(source) is None:
            self._fail(ctx, job, "file_gone", "The uploaded file is no longer there; upload it again.", now)
            return
        file_format = files.sniff(self.files.read_range(source, 0, 8))  # what the bytes are, whatever was said
        try:
            copy = files.read_file(lambda: self.files.open(source), file_format,  # type: ignore[arg-type]
                                   max_rows=self.max_rows, chunk_rows=self.chunk_rows)
        except files.UnreadableFileError as exc:
            self._fail(ctx, job, exc.code, str(exc), now)
            return
        self.files.put(rows_key(tenant_id, job_id), copy.data, "application/x-ndjson")
        uow = self.new_uow(tenant_id, job.created_by, now)
        self.store.stage_read(uow, ctx, job, file_format=file_format, header=copy.header, total_rows=copy.total_rows,
                              chunks=copy.chunks, started_at=to_rfc3339(now), on_conflict=_MovedOnError())
        try:
            uow.commit()
        except _MovedOnError:
            return
        metrics.add_metric(name="ImportRowsRead", unit="Count", value=copy.total_rows)
        self._go_on(ctx, replace(job, status="running", file_format=file_format, header=copy.header,
                                 total_rows=copy.total_rows, chunks=copy.chunks), now)

    def _fail(self, ctx: TenantContext, job: ImportJob, code: str, message: str, now: datetime) -> None:
        uow = self.new_uow(ctx.tenant_id, job.created_by, now)
        self.store.stage_failure(uow, ctx, job, code=code, message=message, finished_at=to_rfc3339(now),
                                 on_conflict=_MovedOnError())
        event = uow.record("import.failed", subject=("import", job.job_id),
                           data={"kind": job.kind, "status": "failed", "code": code})
        try:
            uow.commit()
        except _MovedOnError:
            return
        self._tell_owner(ctx, job, event, "住户导入失败", f"{job.filename or job.job_id}：{message}", now)

    # --- chunks ---------------------------------------------------------------------------------------
    def apply_chunk(self, tenant_id: str, job_id: str, index: int, now: datetime) -> None:
        ctx = TenantContext(tenant_id, Principal("system", "imports"))
        job = self.store.get(ctx, job_id, consistent=True)
        if job is None or job.status != "running" or index >= len(job.chunks):
            return
        if not job.chunk_done(index):
            chunk = job.chunks[index]
            columns, _ = csv_files.columns_of(job.header)
            inputs = []
            for line, cells in files.rows_in(self.files.read_range(rows_key(tenant_id, job_id), chunk.start,
                                                                    chunk.end)):
                if line > job.applied_through:  # what a delivery before this one committed is not done again
                    row, errors = csv_files.parse_row(line, columns, cells)
                    inputs.append(RowInput(line, row, tuple(errors), tuple(cells)))
            try:
                tally = self.roster.apply(_owner(tenant_id, job.created_by), inputs, now, record_events=False,
                                          progress=JobProgress(self.store, ctx, job, now))
            except ProgressMovedError:
                logger.info("import chunk applied by another delivery", extra={"import_id": job_id, "chunk": index})
                return
            metrics.add_metric(name="ImportRowsApplied", unit="Count", value=tally.rows)
            job = self.store.get(ctx, job_id, consistent=True) or job
        self._go_on(ctx, job, now)

    def _go_on(self, ctx: TenantContext, job: ImportJob, now: datetime) -> None:
        index = next_chunk(job)
        if index is None:
            self._complete(ctx, job, now)
        else:
            self.send(chunk_message(job, ctx.tenant_id, index), 0)

    def _complete(self, ctx: TenantContext, job: ImportJob, now: datetime) -> None:
        tenant_id = ctx.tenant_id
        if job.failed:
            failures = ((f.row, f.cells, f.messages) for f in self.store.all_failed_rows(ctx, job.job_id))
            self.files.put(errors_key(tenant_id, job.job_id), files.error_file(job.header, failures),
                           "text/csv; charset=utf-8")
        uow = self.new_uow(tenant_id, job.created_by, now)
        self.store.stage_completed(uow, ctx, job, finished_at=to_rfc3339(now), on_conflict=_MovedOnError())
        event = uow.record("import.completed", subject=("import", job.job_id),
                           data={"kind": job.kind, "status": "completed", **job.counts()})
        try:
            uow.commit()
        except _MovedOnError:
            return
        for key in (upload_key(tenant_id, job.upload_id), rows_key(tenant_id, job.job_id)):
            self.files.delete(key)  # the error file stays (it is what the person downloads)
        self._tell_owner(ctx, job, event, "住户导入完成",
                         f"{job.filename or job.job_id}：新增 {job.created}，更新 {job.updated}，"
                         f"未变 {job.unchanged}，失败 {job.failed}", now)

    def _tell_owner(self, ctx: TenantContext, job: ImportJob, event: Any, title: str, body: str,
                    now: datetime) -> None:
        """A notice in the starter's inbox (staff only; an API key has no inbox)."""
        if self.inbox is None or job.created_by.get("type") != "staff":
            return
        from chalicelib.notifications.domain import notification_for

        note = notification_for({"id": event.event_id, "type": event.type,
                                 "subject": {"type": "import", "id": job.job_id}}, title, body, to_rfc3339(now))
        self.inbox.file(ctx, job.created_by["id"], note, now)
