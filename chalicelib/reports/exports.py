"""Ticket-level exports: a period's tickets as CSV or XLSX, built by a background job into S3 and fetched through a
short-lived presigned link (the import jobs' pattern: a route does one transaction, the job does the reading).

``POST /v1/reports/exports`` records the job and its ``export.started`` event in one transaction; the jobs queue
(the one import jobs use) hands the event to :class:`ExportWorker`, which pages through the tenant's tickets
created in the period (the queue index, bucket by bucket, 100 a page), writes one row per ticket and marks the job
done with the file's key and row count. Phones are masked (138****5678) unless the person who asked may see
residents' phones (``core.privacy``: admins, supervisors, agents), decided from the job's own record of who asked;
cells that a spreadsheet would run as a formula are neutralised. Files are kept under ``t/<tenant>/exports/``.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.errors import NotFoundError
from chalicelib.core.ids import new_id
from chalicelib.core.observability import logger
from chalicelib.core.permissions import Permission, Role, permissions_for
from chalicelib.core.privacy import mask_phone, may_see_phones
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.core.uow import UnitOfWork, UnitOfWorkFactory

STARTED_EVENT = "export.started"
DOWNLOAD_SECONDS = 300
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = (("number", "工单号"), ("created_at", "创建时间"), ("kind", "类型"), ("category", "分类"),
           ("priority", "优先级"), ("status", "状态"), ("channel", "渠道"), ("community", "小区"),
           ("place", "位置"), ("resident", "业主"), ("phone", "手机"), ("description", "描述"),
           ("assignee", "处理人"), ("acknowledged_at", "首次响应时间"), ("first_response_seconds", "首次响应用时(秒)"),
           ("resolved_at", "完成时间"), ("closed_at", "关闭时间"), ("rating", "评分"), ("return_visits", "回访次数"),
           ("reopen_count", "重开次数"), ("sla_state", "时效状态"))


@dataclass(frozen=True)
class ExportJob:
    job_id: str
    status: str  # queued | running | done | failed
    file_format: str  # csv | xlsx
    first_day: str
    last_day: str
    community_id: str | None
    kind: str | None
    requested_by: dict[str, Any]  # the actor who asked (type, id, role): what they may see decides the phones
    created_at: str
    updated_at: str
    rows: int | None = None
    key: str | None = None
    error: str | None = None


class ExportStore(Protocol):
    def stage_export(self, uow: UnitOfWork, tenant_id: str, job: ExportJob) -> None: ...
    def export(self, tenant_id: str, job_id: str) -> ExportJob | None: ...
    def save_export(self, tenant_id: str, job: ExportJob) -> None: ...


class Files(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...
    def presign_get(self, key: str, filename: str, expires_in: int) -> str: ...


class TicketSource(Protocol):
    """The tenant's tickets created in a period (ticket records), and what names ids: communities, staff, phones."""

    def tickets(self, tenant_id: str, first_day: str, last_day: str, community_id: str | None,
                kind: str | None) -> Iterable[Any]: ...
    def names(self, ctx: TenantContext) -> tuple[dict[str, str], dict[str, str], dict[str, str]]: ...
    def phones(self, ctx: TenantContext, resident_ids: list[str]) -> dict[str, str]: ...


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert with a leading ``'``.

    >>> neutralise("=HYPERLINK(1)"), neutralise("+86"), neutralise("厨房漏水"), neutralise(5)
    ("'=HYPERLINK(1)", "'+86", '厨房漏水', 5)
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def row_of(ticket: Any, names: tuple[dict[str, str], dict[str, str], dict[str, str]], phone: str | None,
           kind_names: dict[str, str]) -> dict[str, Any]:
    communities, staff, _ = names
    location = ticket.location or {}
    first = None
    if ticket.acknowledged_at:
        first = int((from_rfc3339(ticket.acknowledged_at) - from_rfc3339(ticket.created_at)).total_seconds())
    return {
        "number": ticket.number, "created_at": ticket.created_at, "kind": kind_names.get(ticket.kind, ticket.kind),
        "category": ticket.category or "", "priority": ticket.priority, "status": ticket.status,
        "channel": ticket.channel, "community": communities.get(ticket.community_id, ticket.community_id),
        "place": location.get("label") or location.get("common_area") or "",
        "resident": ticket.resident_name or "", "phone": phone or ticket.resident_phone or "",
        "description": ticket.description, "assignee": staff.get(ticket.assignee_id or "", ticket.assignee_id or ""),
        "acknowledged_at": ticket.acknowledged_at or "", "first_response_seconds": "" if first is None else first,
        "resolved_at": ticket.resolved_at or "", "closed_at": ticket.closed_at or "",
        "rating": (ticket.rating or {}).get("score", ""), "return_visits": len(ticket.return_visits),
        "reopen_count": ticket.reopen_count, "sla_state": ticket.sla_state or "",
    }


def write_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 with a BOM (Excel opens Chinese right), the columns' Chinese names as the header.

    >>> write_csv([{"number": "=1", "kind": "报修"}]).decode("utf-8-sig").splitlines()[1][:8]
    "'=1,,报修,"
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title in COLUMNS])
    for row in rows:
        writer.writerow([neutralise(row.get(name, "")) for name, _ in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(rows: Iterable[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("工单")
    sheet.append([title for _, title in COLUMNS])
    for row in rows:
        sheet.append([neutralise(row.get(name, "")) for name, _ in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_key(tenant_id: str, job: ExportJob) -> str:
    return f"t/{tenant_id}/exports/{job.job_id}.{job.file_format}"


def _principal(actor: dict[str, Any]) -> Principal:
    role = Role(actor["role"]) if actor.get("role") else None
    kind = actor.get("type", "system")
    return Principal(kind, actor.get("id", ""), role, permissions_for(role) if role else frozenset())


class ExportService:
    """The routes: start a job, see it (with a fresh download link once done)."""

    def __init__(self, store: ExportStore, files: Files, new_uow: UnitOfWorkFactory,
                 community_exists: Callable[[TenantContext, str], Any]) -> None:
        self.store, self.files, self.new_uow, self.community_exists = store, files, new_uow, community_exists

    def start(self, ctx: TenantContext, first_day: str, last_day: str, file_format: str, community_id: str | None,
              kind: str | None, now: datetime) -> dict[str, Any]:
        ctx.require(Permission.REPORTS_READ)
        if community_id:
            self.community_exists(ctx, community_id)
        stamp = to_rfc3339(now)
        job = ExportJob(new_id("exp"), "queued", file_format, first_day, last_day, community_id, kind,
                        dict(ctx.actor), stamp, stamp)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.store.stage_export(uow, ctx.tenant_id, job)
        uow.record(STARTED_EVENT, subject=("export", job.job_id), data={
            "format": file_format, "from": first_day, "to": last_day, "community_id": community_id, "kind": kind})
        uow.commit()
        return self.out(ctx, job)

    def get(self, ctx: TenantContext, job_id: str) -> dict[str, Any]:
        ctx.require(Permission.REPORTS_READ)
        job = self.store.export(ctx.tenant_id, job_id)
        if job is None or job.requested_by.get("id") != ctx.principal.id:
            raise NotFoundError()  # an export is its requester's: it may hold phones others may not see
        return self.out(ctx, job)

    def out(self, ctx: TenantContext, job: ExportJob) -> dict[str, Any]:
        url = None
        if job.status == "done" and job.key:
            filename = f"工单_{job.first_day}_{job.last_day}.{job.file_format}"
            url = self.files.presign_get(job.key, filename, DOWNLOAD_SECONDS)
        return {"id": job.job_id, "status": job.status, "format": job.file_format, "from": job.first_day,
                "to": job.last_day, "community_id": job.community_id, "kind": job.kind, "rows": job.rows,
                "error": job.error, "download_url": url, "download_expires_in": DOWNLOAD_SECONDS if url else None,
                "created_at": job.created_at, "updated_at": job.updated_at}


class ExportWorker:
    """The jobs queue's ``export.started``: build the file, store it, mark the job done (or failed, with why)."""

    def __init__(self, store: ExportStore, files: Files, source: TicketSource,
                 kind_names: Callable[[str], dict[str, str]]) -> None:
        self.store, self.files, self.source, self.kind_names = store, files, source, kind_names

    def handle(self, message: dict[str, Any], now: datetime) -> None:
        tenant_id, job_id = message["tenant_id"], message["subject"]["id"]
        job = self.store.export(tenant_id, job_id)
        if job is None or job.status in ("done", "failed"):
            return  # a redelivery of a finished job
        job = replace(job, status="running", updated_at=to_rfc3339(now))
        self.store.save_export(tenant_id, job)
        try:
            body, rows = self._build(tenant_id, job)
            key = export_key(tenant_id, job)
            self.files.put(key, body, "text/csv; charset=utf-8" if job.file_format == "csv" else XLSX_TYPE)
            job = replace(job, status="done", rows=rows, key=key, updated_at=to_rfc3339(now))
        except Exception as exc:  # noqa: BLE001 - the job says why and ends; the message is not retried for ever
            logger.exception("export failed", extra={"job_id": job_id})
            job = replace(job, status="failed", error=type(exc).__name__, updated_at=to_rfc3339(now))
        self.store.save_export(tenant_id, job)

    def _build(self, tenant_id: str, job: ExportJob) -> tuple[bytes, int]:
        ctx = TenantContext(tenant_id, _principal(job.requested_by))
        names = self.source.names(ctx)
        tickets = list(self.source.tickets(tenant_id, job.first_day, job.last_day, job.community_id, job.kind))
        tickets.sort(key=lambda t: t.created_at)
        phones = self.source.phones(ctx, sorted({t.resident_id for t in tickets}))
        if not may_see_phones(ctx.principal):
            phones = {resident: mask_phone(phone) or "" for resident, phone in phones.items()}
        kind_names = self.kind_names(tenant_id)
        rows: Iterator[dict[str, Any]] = (row_of(t, names, phones.get(t.resident_id), kind_names) for t in tickets)
        body = write_csv(rows) if job.file_format == "csv" else write_xlsx(rows)
        return body, len(tickets)
