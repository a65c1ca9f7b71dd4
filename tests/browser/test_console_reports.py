"""A supervisor's month on the reports dashboard (报表): a fresh tenant filled with a month of tickets worked through
the real services, then the dashboard read at a laptop's size — its tiles equal what the API answers for the same
range, every chart draws, one community's figures replace the whole tenant's, and the staff table exports as a CSV
Excel reads (UTF-8 with a byte order mark) with one row per staff member of the API's staff report."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.clock import utcnow
from devstack.demo import DEMO_PASSWORD
from devstack.seedmonth import fill, new_tenant
from tests.browser.conftest import shot, sign_in
from tests.helpers import ApiClient

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TICKETS = 24  # about a second each on the emulator
DAYS = 30
CHARTS = ("firstResponse", "complaintClosure", "completeness", "csat", "channels", "resolutionByKind")
STAFF_HEADER = ["员工", "接单", "已处理", "首次响应", "首响时长中位数", "解决时长中位数",
                "评价数", "满意度", "重开", "超时", "当前在办"]
READY = "[data-test=reports][data-state=ready]"


def tile(page: Any, key: str) -> str:
    return page.inner_text(f"[data-test=tile-{key}] [data-test=tile-value]").strip()


def percent_shown(text: str) -> float | None:
    return None if text == "—" else float(text.rstrip("%"))


def assert_rate(shown: str, rate: float | None) -> None:
    if rate is None:
        assert shown == "—"
    else:
        assert percent_shown(shown) == pytest.approx(rate * 100, abs=0.051), (shown, rate)


def test_the_dashboard_shows_the_apis_figures_filters_by_community_and_exports_the_staff_table(page, api: ApiClient,
                                                                                                stack):
    now = utcnow()
    tenant = new_tenant(company="报表演示物业")
    fill(tenant.world, now - timedelta(days=DAYS), DAYS, TICKETS, seed=7, until=now)
    stack.settle("reports", timeout=180)
    login = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": tenant.admin_email,
                                             "password": DEMO_PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]

    def report(path: str, **params: str) -> dict[str, Any]:
        response = api.get(f"/v1/reports/{path}", token=token, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    sign_in(page, tenant.admin_email, DEMO_PASSWORD, tenant.slug)
    page.click("[data-nav=reports]")
    page.wait_for_url("**/console/reports")
    page.wait_for_selector(READY, timeout=30000)

    # the last 30 days ending today, in the tenant's time zone
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    first, last = (today - timedelta(days=DAYS - 1)).isoformat(), today.isoformat()
    root = page.locator("[data-test=reports]")
    assert (root.get_attribute("data-from"), root.get_attribute("data-to")) == (first, last)

    whole = report("figures", **{"from": first, "to": last, "granularity": "day"})
    total = whole["total"]
    assert total["created"] > 0
    assert tile(page, "created") == str(total["created"])
    assert_rate(tile(page, "firstResponse"), total["sla_compliance"]["first_response"]["rate"])
    assert_rate(tile(page, "complaintClosure"), total["complaints"]["closure_rate"])
    assert_rate(tile(page, "csat"), total["satisfaction"]["csat"])
    assert tile(page, "backlog") == str(whole["periods"][-1]["backlog_at_end"])

    for chart in CHARTS:  # each chart drew (ECharts' canvas inside its card), none fell back to "no data"
        page.locator(f"[data-test=chart-{chart}] [data-test=chart-canvas] canvas").first.wait_for()
    staff = report("staff", **{"from": first, "to": last})["items"]
    assert staff, "the month gave the staff work"
    assert page.locator("[data-test=staff-table] .el-table__body tr").count() == len(staff)
    ranking = report("communities", **{"from": first, "to": last})["items"]
    assert [r["name"] for r in ranking] == page.locator("[data-test=ranking-table] .el-table__body tr td:nth-child(2)"
                                                        ).all_inner_texts()
    shot(page, "console-reports")

    # one community: the created tile becomes that community's figure
    community_id, name = tenant.community_ids[0], tenant.community_names[0]
    one = report("figures", **{"from": first, "to": last, "granularity": "day", "community_id": community_id})
    assert 0 < one["total"]["created"] < total["created"]
    page.click("[data-test=filter-community]")
    page.locator(".el-select-dropdown__item:visible", has_text=name).click()
    page.wait_for_selector(f"[data-test=reports][data-community='{community_id}'][data-state=ready]")
    assert tile(page, "created") == str(one["total"]["created"])
    assert_rate(tile(page, "firstResponse"), one["total"]["sla_compliance"]["first_response"]["rate"])
    page.mouse.move(0, 0)
    shot(page, "console-reports-community")

    # the staff table as a CSV: BOM, the columns shown, one row per staff member of the API's report
    with page.expect_download() as download:
        page.click("[data-test=export-staff]")
    assert download.value.suggested_filename == f"员工工作量与服务质量_{first}_{last}.csv"
    raw = open(download.value.path(), "rb").read()  # noqa: PTH123 - Playwright hands over a path
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == STAFF_HEADER
    assert len(rows) - 1 == len(staff)
    names = {"李娜", "王芳", "张强", "赵磊", "陈刚"}
    assert {row[0] for row in rows[1:]} <= names | {s["staff_id"] for s in staff}
    by_assigned = sorted((s["assigned"] for s in staff), reverse=True)
    assert [int(row[1]) for row in rows[1:]] == by_assigned
