"""An import job and its rules. Pure: no I/O.

A job is ``queued`` when it is accepted, ``running`` once its file is read (``total_rows`` and the chunks known),
then ``completed``, or ``failed`` when the file could not be read at all (``failure`` says why; rows that fail
never fail the job, they are counted and kept). ``applied_through`` is the number of the last row whose outcome the
counters hold: every transaction that writes rows moves it, on condition that it is still where the writer read
it, which is what makes a redelivered chunk change nothing twice and go on after the last row it committed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from chalicelib.residents.imports.files import Chunk

Status = Literal["queued", "running", "completed", "failed"]
Kind = Literal["residents"]
CHUNK_MESSAGE = "import.chunk"
STARTED_EVENT = "import.started"
ERRORS_SHOWN = 20
"""Failed rows a job's GET shows (all of them are in its error file)."""


@dataclass(frozen=True)
class ImportJob:
    job_id: str
    kind: str
    file_format: str | None  # csv or xlsx; None: told by the file's first bytes
    upload_id: str
    filename: str | None
    status: Status
    created_by: dict[str, Any]
    created_at: str
    updated_at: str
    header: list[str] = field(default_factory=list)
    total_rows: int | None = None
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    applied_through: int = 0
    chunks: list[Chunk] = field(default_factory=list)
    failure: dict[str, str] | None = None
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed")

    def chunk_done(self, index: int) -> bool:
        return index < len(self.chunks) and self.applied_through >= self.chunks[index].last_row

    @property
    def all_applied(self) -> bool:
        return all(self.chunk_done(i) for i in range(len(self.chunks)))

    def counts(self) -> dict[str, int | None]:
        return {"total_rows": self.total_rows, "processed_rows": self.processed_rows, "created": self.created,
                "updated": self.updated, "unchanged": self.unchanged, "failed": self.failed}


@dataclass(frozen=True)
class FailedRow:
    """A row an import could not apply: what is wrong (the first error leads), and its cells as the file had
    them (for the error file)."""

    row: int
    field: str | None
    code: str
    message: str
    cells: list[str]
    more: list[dict[str, Any]] = field(default_factory=list)  # the row's other errors: field, code, message

    @property
    def messages(self) -> str:
        return "; ".join([self.message, *(e["message"] for e in self.more)])


def upload_key(tenant_id: str, upload_id: str) -> str:
    """Where an uploaded file goes (its presigned POST pins this key): under the tenant's prefix.

    Example
    -------
    >>> upload_key("tnt_1", "upl_01")
    't/tnt_1/imports/upl_01'
    """
    return f"t/{tenant_id}/imports/{upload_id}"


def rows_key(tenant_id: str, job_id: str) -> str:
    return f"t/{tenant_id}/imports/{job_id}/rows.jsonl"


def errors_key(tenant_id: str, job_id: str) -> str:
    return f"t/{tenant_id}/imports/{job_id}/errors.csv"


def error_filename(job: ImportJob) -> str:
    """Example
    -------
    >>> error_filename(ImportJob("imp_1", "residents", "xlsx", "upl_1", "住户.xlsx", "completed", {}, "", ""))
    '住户-errors.csv'
    """
    stem = (job.filename or job.job_id).rsplit(".", 1)[0] or job.job_id
    return f"{stem}-errors.csv"


def chunk_message(job: ImportJob, tenant_id: str, index: int) -> dict[str, Any]:
    """The queue message that applies one chunk: the job, its tenant, which chunk and the row it starts at."""
    return {"type": CHUNK_MESSAGE, "tenant_id": tenant_id, "import_id": job.job_id, "chunk": index,
            "start_row": job.chunks[index].first_row}


def next_chunk(job: ImportJob) -> int | None:
    """The first chunk with rows still to apply (None when all are applied).

    Example
    -------
    >>> job = ImportJob("imp_1", "residents", "csv", "upl_1", None, "running", {}, "", "", applied_through=501,
    ...                 chunks=[Chunk(2, 501, 0, 10), Chunk(502, 1001, 10, 20)])
    >>> next_chunk(job), next_chunk(ImportJob(**{**job.__dict__, "applied_through": 1001}))
    (1, None)
    """
    return next((i for i in range(len(job.chunks)) if not job.chunk_done(i)), None)
