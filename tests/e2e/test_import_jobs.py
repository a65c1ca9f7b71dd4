"""Residents' import jobs over HTTP against the embedded stack: an XLSX of 2,000 rows with three bad ones uploaded
straight to storage, imported by the imports consumer while the console polls, the failed rows downloaded to fix, the
same file again changing nothing; another tenant's jobs and uploads answer like missing ones."""
from __future__ import annotations

import csv
import io
import time
import uuid
from typing import Any

import pytest
import requests
from openpyxl import Workbook

from tests.helpers import ApiClient, Tenant, assert_error

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["小区", "楼栋", "单元", "房号", "姓名", "手机", "身份"]
BAD = {101: ("phone", "12345"), 1001: ("name", None), 1901: ("building", "栋" * 51)}
"""Data rows (0-based) planted bad: the column and what it holds instead. Data row i is sheet row i + 2."""


def estate_rows(count: int, bad: dict[int, tuple[str, Any]] | None = None) -> list[list[Any]]:
    """``count`` residents of 翠苑, 20 buildings, one unit each; phones typed as numbers, as Excel keeps them."""
    lines: list[list[Any]] = []
    for i in range(count):
        line: list[Any] = ["翠苑", f"{i % 20 + 1}栋", f"{i // 20 % 4 + 1}单元", str(101 + i // 80), f"住户{i:05d}",
                           13900000000 + i, "业主"]
        if bad and i in bad:
            column, value = bad[i]
            line[HEADER.index({"phone": "手机", "name": "姓名", "building": "楼栋"}[column])] = value
        lines.append(line)
    return lines


def xlsx(lines: list[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("住户")
    sheet.append(HEADER)
    for line in lines:
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class Timed:
    """Every request of a test with its duration (printed in the test log; timings are not asserted)."""

    def __init__(self, api: ApiClient) -> None:
        self.api, self.log = api, []

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        started = time.perf_counter()
        response = self.api.request(method, path, **kwargs)
        self.log.append((method, path.split("?")[0], response.status_code, time.perf_counter() - started))
        return response

    def report(self, title: str) -> None:
        durations = sorted(d for *_, d in self.log)
        print(f"\n{title}: {len(self.log)} requests, slowest {durations[-1] * 1000:.0f} ms, "
              f"median {durations[len(durations) // 2] * 1000:.0f} ms")
        for method, path, status, duration in self.log:
            print(f"  {duration * 1000:7.1f} ms  {status}  {method} {path}")


def upload(api: Timed, tenant: Tenant, data: bytes, content_type: str = XLSX) -> str:
    slot = api.request("POST", "/v1/imports/uploads", token=tenant.token, json={"content_type": content_type})
    assert slot.status_code == 201, slot.text
    body = slot.json()
    assert body["fields"]["key"] == f"t/{tenant.id}/imports/{body['id']}"
    stored = requests.post(body["url"], data=body["fields"], files={"file": ("住户.xlsx", data, content_type)},
                           timeout=30)
    assert stored.status_code in (200, 204), stored.text
    return body["id"]


def start(api: Timed, tenant: Tenant, upload_id: str, key: str | None = None) -> requests.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return api.request("POST", "/v1/imports", token=tenant.token, headers=headers,
                       json={"upload_id": upload_id, "kind": "residents", "filename": "翠苑住户.xlsx"})


def wait_until_done(api: Timed, tenant: Tenant, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = api.request("GET", f"/v1/imports/{job_id}", token=tenant.token)
        assert job.status_code == 200, job.text
        body = job.json()
        assert body["processed_rows"] <= (body["total_rows"] or 0)
        if body["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.25)


@pytest.fixture
def estate(api: ApiClient, tenant: Tenant) -> Tenant:
    created = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"})
    assert created.status_code == 201, created.text
    return tenant


def test_an_xlsx_of_2000_rows_imports_as_a_job_and_its_bad_rows_come_back_to_fix(api: ApiClient, estate: Tenant):
    timed = Timed(api)
    data = xlsx(estate_rows(2000, BAD))
    key = str(uuid.uuid4())

    upload_id = upload(timed, estate, data)
    started = start(timed, estate, upload_id, key)
    assert started.status_code == 202, started.text
    job = started.json()
    assert (job["status"], job["id"][:4], job["processed_rows"], job["total_rows"]) == ("queued", "imp_", 0, None)
    began = time.monotonic()
    done = wait_until_done(timed, estate, job["id"])
    took = time.monotonic() - began

    assert done["status"] == "completed", done
    assert (done["total_rows"], done["processed_rows"]) == (2000, 2000)
    assert (done["created"], done["updated"], done["unchanged"], done["failed"]) == (1997, 0, 0, 3)
    assert [(e["row"], e["field"], e["code"]) for e in done["errors"]] == [
        (103, "phone", "invalid"), (1003, "name", "required"), (1903, "building", "too_long")]
    assert done["errors_url"] == f"/v1/imports/{job['id']}/errors"
    # the Idempotency-Key replays the job it started, whatever happened since
    assert start(timed, estate, upload_id, key).json()["id"] == job["id"]
    listed = timed.request("GET", "/v1/imports", token=estate.token).json()["items"]
    assert [j["id"] for j in listed] == [job["id"]] and listed[0]["created"] == 1997

    # the failed rows, to fix and upload again: the file's columns, the row number, what is wrong
    errors = timed.request("GET", done["errors_url"], token=estate.token)
    assert errors.status_code == 200, errors.text
    download = requests.get(errors.json()["url"], timeout=30)
    assert download.status_code == 200
    lines = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert lines[0] == [*HEADER, "行号", "错误"]
    assert [(line[7], line[4]) for line in lines[1:]] == [("103", "住户00101"), ("1003", ""), ("1903", "住户01901")]
    assert lines[1][5] == "12345" and lines[3][1] == "栋" * 51
    assert errors.json()["rows"] == 3

    found = timed.request("GET", "/v1/residents", token=estate.token, params={"q": "13900000007"}).json()["items"]
    assert [(r["name"], r["units"][0]["label"]) for r in found] == [("住户00007", "8栋1单元101")]

    # the same file again: nothing created, nothing duplicated
    again = start(timed, estate, upload(timed, estate, data))
    assert again.status_code == 202, again.text
    redone = wait_until_done(timed, estate, again.json()["id"])
    assert (redone["created"], redone["updated"], redone["unchanged"], redone["failed"]) == (0, 0, 1997, 3)

    timed.report(f"2,000-row XLSX: imported in {took:.1f} s")
    assert all(status < 500 for _, _, status, _ in timed.log)


def test_another_tenants_jobs_and_uploads_answer_like_missing_ones(api: ApiClient, estate: Tenant, other_tenant):
    timed = Timed(api)
    upload_id = upload(timed, estate, xlsx(estate_rows(3, {1: ("phone", "123")})))
    job = start(timed, estate, upload_id).json()
    assert wait_until_done(timed, estate, job["id"])["status"] == "completed"
    missing = "imp_" + "0" * 26

    for path in ("/v1/imports/{}", "/v1/imports/{}/errors"):
        foreign = api.get(path.format(job["id"]), token=other_tenant.token)
        absent = api.get(path.format(missing), token=other_tenant.token)
        assert_error(foreign, 404, "not_found")
        assert (foreign.status_code, {**foreign.json()["error"], "request_id": ""}) == (
            absent.status_code, {**absent.json()["error"], "request_id": ""})
    assert api.get("/v1/imports", token=other_tenant.token).json() == {"items": [], "next_cursor": None}
    # someone else's upload is no upload at all
    foreign_start = start(timed, other_tenant, upload_id)
    absent_start = start(timed, other_tenant, "upl_" + "0" * 26)
    assert_error(foreign_start, 422, "unknown_upload")
    assert {**foreign_start.json()["error"], "request_id": ""} == {**absent_start.json()["error"], "request_id": ""}
    # and the owner's job is as it was
    assert api.get(f"/v1/imports/{job['id']}", token=estate.token).json()["failed"] == 1


def test_imports_need_residents_write(api: ApiClient, estate: Tenant):
    _, technician = api.add_staff(estate, "technician")
    _, agent = api.add_staff(estate, "agent")

    assert_error(api.post("/v1/imports/uploads", token=technician, json={"content_type": XLSX}), 403, "forbidden")
    assert_error(api.get("/v1/imports", token=technician), 403, "forbidden")
    assert api.post("/v1/imports/uploads", token=agent, json={"content_type": XLSX}).status_code == 201
    assert_error(api.post("/v1/imports/uploads", token=agent, json={"content_type": "application/pdf"}), 422,
                 "validation_failed")
