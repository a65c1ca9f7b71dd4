"""Importing residents from a spreadsheet as an office clerk would: 2,000 rows from an XLSX, three of them bad; the
progress bar reaches 100 %, and the three come back as a file to fix."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import shot, sign_in
from tests.helpers import PASSWORD, ApiClient

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
ROWS = 2000
BAD = {17: "phone", 1024: "name", 1999: "community"}  # 1-based data rows → what is wrong with them


def spreadsheet(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("业主")
    sheet.append(["小区", "楼栋", "单元", "房号", "姓名", "手机", "身份"])
    for n in range(1, ROWS + 1):
        building, unit, room = n % 20 + 1, n % 4 + 1, 100 + n
        row = ["翠苑", f"{building}栋", f"{unit}单元", str(room), f"业主{n:04d}", f"139{n:08d}", "业主"]
        if BAD.get(n) == "phone":
            row[5] = "12345"
        elif BAD.get(n) == "name":
            row[4] = ""
        elif BAD.get(n) == "community":
            row[0] = "不存在的小区"
        sheet.append(row)
    book.save(path)
    return path


def test_a_clerk_imports_2000_residents_from_xlsx_and_gets_the_three_bad_rows_back(page, api: ApiClient, stack,
                                                                                     tmp_path):
    tenant = api.new_tenant(company="绿城物业")
    assert api.post("/v1/communities", token=tenant.token, json={"name": "翠苑", "city": "杭州"}).status_code == 201
    workbook = spreadsheet(tmp_path / "业主名单.xlsx")

    sign_in(page, tenant.admin_email, PASSWORD, tenant.slug)
    page.click("[data-nav=imports]")
    page.set_input_files("[data-test=import-file]", str(workbook))
    page.click("[data-test=import-start]")
    page.wait_for_selector("[data-test=import-status][data-status=completed]", timeout=120000)
    assert page.get_attribute("[data-test=import-progress]", "data-percent") == "100"
    assert page.inner_text("[data-test=import-created]").strip() == str(ROWS - len(BAD))
    assert page.inner_text("[data-test=import-failed]").strip() == str(len(BAD))
    errors = page.inner_text("[data-test=import-errors]")
    for row in BAD:
        assert re.search(rf"\b{row + 1}\b", errors), (row, errors)  # spreadsheet row numbers (the header is row 1)
    shot(page, "import-done")

    link = page.get_attribute("[data-test=import-error-file]", "href")
    assert link
    download = requests.get(link, timeout=30)
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + len(BAD)
    assert {r[4] for r in rows[1:]} == {f"业主{n:04d}" for n in BAD if BAD[n] != "name"} | {""}

    listed = api.get("/v1/residents", token=tenant.token, params={"limit": 100}).json()
    assert len(listed["items"]) == 100 and listed["next_cursor"]
