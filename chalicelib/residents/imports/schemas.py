"""Request and response models of the import jobs (named so the console's generated client shares them)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.core.schema import Request, Schema
from chalicelib.residents.imports.files import CSV_TYPE, MAX_FILE_BYTES, XLSX_TYPE
from chalicelib.residents.imports.files import Format as FileFormat

ImportStatus = Literal["queued", "running", "completed", "failed"]


class ImportUploadIn(Request):
    content_type: Literal["text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"] = Field(
        description=f"{CSV_TYPE} (UTF-8 with or without BOM, or GBK) or {XLSX_TYPE} (the first sheet is read)")


class ImportUploadOut(Schema):
    id: str = Field(description="The upload's id (upl_…): start the import with it")
    url: str = Field(description="POST the file here as multipart/form-data: the fields below, then `file`")
    fields: dict[str, str]
    expires_in: int
    max_bytes: int = MAX_FILE_BYTES


class ImportJobIn(Request):
    upload_id: str = Field(min_length=1, max_length=40, pattern=r"^upl_[0-9a-z]+$")
    kind: Literal["residents"] = "residents"
    format: FileFormat | None = Field(None, description="csv or xlsx; when absent, told by the uploaded file")
    filename: str | None = Field(None, max_length=200, description="The file's name, shown in lists")


class ImportRowErrorOut(Schema):
    row: int = Field(description="The row's number in the file (the header is row 1)")
    field: str | None = Field(None, description="The column at fault (community, building, entrance, number, name, "
                                                "phone, relation); none for the row as a whole")
    code: str = Field(description="required, too_long, invalid, unknown_community, too_many_units or conflict")
    message: str


class ImportFailureOut(Schema):
    code: str = Field(description="unreadable_file, empty_file, missing_columns, too_many_rows or file_gone")
    message: str


class ImportJobOut(Schema):
    id: str
    kind: Literal["residents"]
    format: FileFormat | None
    filename: str | None
    status: ImportStatus
    total_rows: int | None = Field(description="Non-blank rows below the header; known once the file is read")
    processed_rows: int
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[ImportRowErrorOut] = Field(description="The first failed rows, by row (GET of one job only)")
    errors_url: str | None = Field(description="Where the error file is asked for (the failed rows, to fix and "
                                               "upload again), once the job is completed with failed rows")
    failure: ImportFailureOut | None = Field(description="Why the file could not be read (status failed)")
    created_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None


class ImportJobPage(Schema):
    items: list[ImportJobOut]
    next_cursor: str | None


class ImportErrorFileOut(Schema):
    url: str = Field(description="A short-lived download of the failed rows as CSV: the file's columns, then 行号 "
                                 "(row) and 错误 (what is wrong)")
    filename: str
    rows: int
    expires_in: int
