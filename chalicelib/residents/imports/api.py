"""Routes of the import jobs (CSV or XLSX files of residents): upload, start, follow, fetch the failed rows."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.clock import utcnow
from chalicelib.core.http import LIST_QUERY, Call, ModelRefs, api
from chalicelib.core.permissions import Permission
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # services and models load on first use, keeping cold starts small
    from chalicelib.residents.imports.jobs import ImportJobs
    from chalicelib.residents.imports.schemas import (
        ImportErrorFileOut,
        ImportJobOut,
        ImportJobPage,
        ImportUploadOut,
    )

bp = api.blueprint(__name__)
schemas = ModelRefs("chalicelib.residents.imports.schemas")
TAGS = ("imports",)
WRITE_PEOPLE = Permission.RESIDENTS_WRITE

jobs: Provided[ImportJobs] = Provided("import_jobs")


@api.route(bp, "POST", "/v1/imports/uploads", permission=WRITE_PEOPLE, body=schemas.ImportUploadIn,
           response=schemas.ImportUploadOut, status=201, tags=TAGS,
           summary="A presigned upload for one CSV or XLSX file (at most 20 MB), straight to storage")
def create_import_upload(call: Call) -> ImportUploadOut:
    return jobs().new_upload(call.tenant, call.body)


@api.route(bp, "POST", "/v1/imports", permission=WRITE_PEOPLE, body=schemas.ImportJobIn,
           response=schemas.ImportJobOut, status=202, tags=TAGS,
           summary="Start importing an uploaded file of residents (a job: GET it for progress); Idempotency-Key")
def start_import(call: Call) -> ImportJobOut:
    return jobs().start(call.tenant, call.body, call.idempotency_key, utcnow())


@api.route(bp, "GET", "/v1/imports", permission=WRITE_PEOPLE, query=LIST_QUERY, response=schemas.ImportJobPage,
           tags=TAGS, summary="The import jobs, newest first")
def list_imports(call: Call) -> ImportJobPage:
    from chalicelib.residents.imports.schemas import ImportJobPage

    items, cursor = jobs().list_jobs(call.tenant, call.query.limit, call.query.cursor)
    return ImportJobPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/imports/{import_id}", permission=WRITE_PEOPLE, response=schemas.ImportJobOut, tags=TAGS,
           summary="An import job: status, counts and its first failed rows")
def get_import(call: Call) -> ImportJobOut:
    return jobs().get(call.tenant, call.path["import_id"])


@api.route(bp, "GET", "/v1/imports/{import_id}/errors", permission=WRITE_PEOPLE,
           response=schemas.ImportErrorFileOut, tags=TAGS,
           summary="A short-lived download of the failed rows (CSV: the file's columns, row number, what is wrong)")
def import_errors(call: Call) -> ImportErrorFileOut:
    return jobs().error_file(call.tenant, call.path["import_id"])
