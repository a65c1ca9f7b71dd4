"""A supervisor's month on the reports dashboard (报表): a fresh tenant filled once with a month of tickets worked
through the real services, then the dashboard read at a laptop's size — its tiles equal what the API answers for the
same range, every chart draws, one community's figures replace the whole tenant's, and the staff table exports as a
CSV Excel reads (UTF-8 with a byte order mark) with one row per staff member of the API's staff report. Then the
additions: the 今日 row equals today's figures and the queue's counts, the fee-rate dialog records both communities'
rates (the satisfaction ↔ renewal report has them, the scatter draws its points and shows r or 样本不足 as the API
says), an imported CSV names its bad line, and the ticket export downloads a file of as many rows as the job says."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.clock import utcnow
from devstack.demo import DEMO_PASSWORD
from devstack.seedmonth import NewTenant, fill, new_tenant
from tests.browser.conftest import shot, sign_in
from tests.helpers import ApiClient

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TICKETS = 24  # about a second each on the emulator
DAYS = 30
CHARTS = ("firstResponse", "complaintClosure", "completeness", "csat", "resolutionByKind", "kinds", "channels")
STAFF_HEADER = ["员工", "接单", "已处理", "首次响应", "首响时长中位数", "解决时长中位数",
                "评价数", "满意度", "重开", "超时", "当前在办"]
READY = "[data-test=reports][data-state=ready]"
TODAY_READY = "[data-test=today][data-state=ready]"
RENEWAL_READY = "[data-test=renewal][data-state=ready]"
ZONE = ZoneInfo("Asia/Shanghai")


@dataclass
class Month:
    tenant: NewTenant
    now: datetime
    token: str  # the tenant admin's, for the API's side of each comparison

    @property
    def today(self) -> date:
        return self.now.astimezone(ZONE).date()


@pytest.fixture(scope="module")
def month(stack) -> Month:
    """One tenant and its month of tickets for every test here (filling takes about a second a ticket)."""
    now = utcnow()
    tenant = new_tenant(company="报表演示物业")
    fill(tenant.world, now - timedelta(days=DAYS), DAYS, TICKETS, seed=7, until=now)
    stack.settle("reports", timeout=180)
    login = ApiClient(stack.api_url).post("/v1/auth/login", json={
        "tenant_slug": tenant.slug, "email": tenant.admin_email, "password": DEMO_PASSWORD})
    assert login.status_code == 200, login.text
    return Month(tenant, now, login.json()["access_token"])


def reader(api: ApiClient, token: str):
    def get(path: str, **params: Any) -> dict[str, Any]:
        response = api.get(path, token=token, params=params)
        assert response.status_code == 200, response.text
        return response.json()
    return get


def open_dashboard(page: Any, tenant: NewTenant) -> None:
    sign_in(page, tenant.admin_email, DEMO_PASSWORD, tenant.slug)
    page.click("[data-nav=reports]")
    page.wait_for_url("**/console/reports")
    page.wait_for_selector(READY, timeout=30000)


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
                                                                                                month: Month):
    tenant, get = month.tenant, reader(api, month.token)

    def report(path: str, **params: str) -> dict[str, Any]:
        return get(f"/v1/reports/{path}", **params)

    open_dashboard(page, tenant)

    # the last 30 days ending today, in the tenant's time zone
    today = month.today
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
    page.locator("[data-test=chart-kinds]").scroll_into_view_if_needed()
    shot(page, "console-reports-charts")

    # intake by kind as a CSV: a column per kind, a row per day, adding up to the month's tickets
    with page.expect_download() as download:
        page.click("[data-test=export-kinds]")
    by_kind = list(csv.reader(io.StringIO(open(download.value.path(), "rb").read().decode("utf-8-sig"),  # noqa: PTH123
                                          newline="")))
    assert by_kind[0][0] == "周期" and len(by_kind) == DAYS + 1
    assert len(by_kind[0]) - 1 == len(total["intake_by_kind"]) > 1
    assert sum(int(cell) for row in by_kind[1:] for cell in row[1:]) == total["created"]
    page.wait_for_selector(".el-message", state="detached")  # its notice gone before the next screenshot

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


def today_shown(page: Any) -> dict[str, str]:
    return {key: page.inner_text(f"[data-test=today-{key}] [data-test=today-value]").strip()
            for key in ("open", "created", "atRisk", "breached")}


def shown_count(listing: dict[str, Any]) -> str:
    """How the 今日 row writes one page of the queue: its length, with a + when there are more pages."""
    return f"{len(listing['items'])}{'+' if listing.get('next_cursor') else ''}"


def months_back(day: date, count: int) -> str:
    index = day.year * 12 + day.month - 1 - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def test_today_row_fee_rates_renewal_scatter_and_ticket_export(page, api: ApiClient, month: Month, tmp_path: Path):
    tenant, get = month.tenant, reader(api, month.token)
    open_dashboard(page, tenant)
    page.wait_for_selector(TODAY_READY)

    # 今日: open now and filed today (today's figures), in warning time and breached (the open queue, one page each)
    def expected_today() -> dict[str, str]:
        day = utcnow().astimezone(ZONE).date().isoformat()
        figures = get("/v1/reports/figures", **{"from": day, "to": day})
        queue = {state: get("/v1/tickets", bucket="open", sla_state=state, limit=100)
                 for state in ("warning", "breached")}
        return {"open": str(figures["periods"][-1]["backlog_at_end"]), "created": str(figures["total"]["created"]),
                "atRisk": shown_count(queue["warning"]), "breached": shown_count(queue["breached"])}

    expected = expected_today()
    for _ in range(3):  # an SLA sweep may mark a ticket between the two reads: then both are read again
        if today_shown(page) == expected:
            break
        page.click("[data-test=reports-refresh]")
        page.wait_for_selector(TODAY_READY)
        expected = expected_today()
    assert today_shown(page) == expected
    assert expected["open"] != "None"

    # 期末超期 beside the backlog: the range's last period's overdue_at_end
    last = month.today
    whole = get("/v1/reports/figures", **{"from": (last - timedelta(days=DAYS - 1)).isoformat(), "to": last.isoformat(),
                                          "granularity": "day"})
    overdue = whole["periods"][-1]["overdue_at_end"]
    assert page.get_attribute("[data-test=tile-backlog] [data-test=tile-overdue]", "data-overdue") == str(overdue)
    assert page.inner_text("[data-test=tile-backlog] [data-test=tile-overdue]").strip() == f"超期 {overdue}"
    page.mouse.move(0, 0)
    shot(page, "console-reports-today")

    # 物业费收缴录入: this month's rates for both communities, typed as percentages, saved with one PUT
    this_month, previous = months_back(last, 0), months_back(last, 1)
    first_month = months_back(last, 5)
    renewal = page.locator("[data-test=renewal]")
    renewal.scroll_into_view_if_needed()  # the section asks for its report once it nears the screen
    page.wait_for_selector(RENEWAL_READY)
    assert (renewal.get_attribute("data-from"), renewal.get_attribute("data-to")) == (first_month, this_month)
    typed = {tenant.community_ids[0]: ("93", "88"), tenant.community_ids[1]: ("81.5", "75")}
    page.click("[data-test=fee-open]")
    dialog = page.locator(".el-dialog:visible")
    dialog.locator("[data-test=fee-table] .el-table__body tr").nth(1).wait_for()
    for community_id, (collection, renewal_rate) in typed.items():
        dialog.locator(f"input[data-test=fee-collection][data-community='{community_id}']").fill(collection)
        dialog.locator(f"input[data-test=fee-renewal][data-community='{community_id}']").fill(renewal_rate)
    page.click("[data-test=fee-save]")
    dialog.wait_for(state="hidden")
    recorded = get("/v1/reports/fee-rates", from_month=this_month, to_month=this_month)["items"]
    assert {r["community_id"]: (r["collection_rate"], r["renewal_rate"]) for r in recorded} == {
        cid: (float(c) / 100, float(r) / 100) for cid, (c, r) in typed.items()}

    # an import for last month: two good lines, one naming a community the tenant does not have
    sheet = tmp_path / "收缴率.csv"
    sheet.write_text(f"小区,月份,收缴率,续费率\n{tenant.community_names[0]},{previous},90%,85%\n"
                     f"{tenant.community_names[1]},{previous},0.8,0.7\n锦绣花园,{previous},0.9,0.9\n", encoding="utf-8")
    page.click("[data-test=fee-open]")
    dialog.locator("[data-test=fee-table] .el-table__body tr").nth(1).wait_for()
    dialog.locator("input[data-test=fee-file]").set_input_files(str(sheet))
    result = dialog.locator("[data-test=fee-import-result]")
    result.wait_for()
    assert "已导入 2 条" in result.inner_text()
    errors = dialog.locator("[data-test=fee-import-errors] .el-table__body tr")
    assert errors.count() == 1
    cells = [c.strip() for c in errors.first.locator("td").all_inner_texts()]
    assert cells == ["4", "小区", "没有名为“锦绣花园”的小区"]
    # the dialog opened on this month again, prefilled with what was saved
    assert dialog.locator(f"input[data-test=fee-collection][data-community='{tenant.community_ids[0]}']"
                          ).input_value() == "93"
    shot(page, "console-reports-fees")
    dialog.locator(".el-dialog__footer button", has_text="取消").click()
    dialog.wait_for(state="hidden")

    # the scatter: the API's report has the rates typed and imported, the page a point per community-month with both
    answer = get("/v1/reports/satisfaction-renewal", from_month=first_month, to_month=this_month)
    rates = {(r["community_id"], r["month"]): (r["collection_rate"], r["renewal_rate"]) for r in answer["rows"]}
    assert rates[(tenant.community_ids[0], this_month)] == (0.93, 0.88)
    assert rates[(tenant.community_ids[1], this_month)] == (0.815, 0.75)
    assert rates[(tenant.community_ids[0], previous)] == (0.9, 0.85)
    for rate in ("collection_rate", "renewal_rate"):
        page.click(f"[data-test=renewal-rate] [data-rate={rate}]")
        points = [r for r in answer["rows"] if r["csat"] is not None and r[rate] is not None]
        assert points, "the month's tickets were rated in the months with rates"
        page.wait_for_selector(f"{RENEWAL_READY} [data-test=renewal-scatter][data-points='{len(points)}']")
        page.locator("[data-test=renewal-scatter] canvas").first.wait_for()
        correlation = answer["correlation"][rate]
        assert correlation["pairs"] == len(points)
        summary = page.locator("[data-test=renewal-r]")
        if correlation["r"] is None:
            assert summary.get_attribute("data-r") == ""
            assert "样本不足" in summary.inner_text()
        else:
            assert float(summary.get_attribute("data-r")) == pytest.approx(correlation["r"], abs=0.0051)
            assert f"共 {len(points)} 个样本" in summary.inner_text()
    risks = page.locator("[data-test=renewal-risks] [data-test=risk]")
    assert risks.count() == len(answer["risks"])
    if not answer["risks"]:
        assert page.inner_text("[data-test=no-risk]").strip() == "暂无风险小区"
    page.click("[data-test=renewal-rate] [data-rate=collection_rate]")
    renewal.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    page.wait_for_timeout(600)  # the chart's 300 ms animation, drawn to its end
    shot(page, "console-reports-renewal")

    # 导出工单明细 as CSV: a background job, then its file downloads; as many rows as the job says
    page.evaluate("window.scrollTo(0, 0)")
    page.click("[data-test=ticket-export-button]")
    with page.expect_download(timeout=120000) as download:
        page.locator("[data-test=ticket-export-csv]:visible").click()
    raw = open(download.value.path(), "rb").read()  # noqa: PTH123 - Playwright hands over a path
    assert download.value.suggested_filename.endswith(".csv")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert lines[0][:3] == ["工单号", "创建时间", "类型"]
    export_id = page.get_attribute("[data-test=ticket-export]", "data-export-id")
    job = get(f"/v1/reports/exports/{export_id}")
    assert job["status"] == "done" and job["format"] == "csv"
    assert (job["from"], job["to"]) == ((last - timedelta(days=DAYS - 1)).isoformat(), last.isoformat())
    assert job["rows"] == len(lines) - 1 > 0
    assert page.inner_text("[data-test=ticket-export-rows]").strip() == f"共 {job['rows']} 条"
