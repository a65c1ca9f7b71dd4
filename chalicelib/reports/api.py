"""Routes of the reports context: KPIs by period, per staff member and the community ranking (红黑榜), all read
from the rollups (``reports:read``)."""
from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.core.clock import utcnow
from chalicelib.core.http import Call, ModelRefs, api
from chalicelib.core.permissions import Permission
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # services and models load on first use, keeping cold starts small
    from chalicelib.reports.exports import ExportService
    from chalicelib.reports.schemas import (
        CommunityRankingOut,
        ExportOut,
        FeeImportOut,
        FeeRatePage,
        FeeRatesRecordedOut,
        FiguresOut,
        SatisfactionRenewalOut,
        StaffReportOut,
    )
    from chalicelib.reports.service import ReportService

bp = api.blueprint(__name__)
schemas = ModelRefs("chalicelib.reports.schemas")
TAGS = ("reports",)

reports: Provided[ReportService] = Provided("report_service")
exports: Provided[ExportService] = Provided("export_service")


@api.route(bp, "GET", "/v1/reports/figures", permission=Permission.REPORTS_READ, query=schemas.FiguresQuery,
           response=schemas.FiguresOut, tags=TAGS,
           summary="The service KPIs (DOMAIN.md) per day, week or month of a range and over all of it: first "
                   "response, SLA compliance per clock, complaint closure, record completeness, satisfaction, "
                   "resolution, reopens, backlog, intake by channel; by community, kind or staff member")
def report_figures(call: Call) -> FiguresOut:
    from chalicelib.reports.schemas import FiguresOut

    q = call.query
    return FiguresOut.model_validate(reports().figures(call.tenant, q.from_, q.to, q.granularity, q.community_id,
                                                       q.kind, q.staff_id, utcnow()))


@api.route(bp, "GET", "/v1/reports/staff", permission=Permission.REPORTS_READ, query=schemas.RangeQuery,
           response=schemas.StaffReportOut, tags=TAGS,
           summary="Per staff member over a range: assigned, resolved, first-response and resolution medians, "
                   "CSAT, reopens, breaches, and their open tickets now")
def report_staff(call: Call) -> StaffReportOut:
    from chalicelib.reports.schemas import StaffReportOut

    q = call.query
    return StaffReportOut.model_validate({"from": q.from_, "to": q.to,
                                          "items": reports().staff_table(call.tenant, q.from_, q.to)})


@api.route(bp, "GET", "/v1/reports/communities", permission=Permission.REPORTS_READ, query=schemas.RangeQuery,
           response=schemas.CommunityRankingOut, tags=TAGS,
           summary="The community ranking (红黑榜) over a range: a composite of first-response compliance, complaint "
                   "closure, CSAT and complaints per 100 units, best first")
def report_communities(call: Call) -> CommunityRankingOut:
    from chalicelib.reports.schemas import CommunityRankingOut

    q = call.query
    return CommunityRankingOut.model_validate({"from": q.from_, "to": q.to,
                                               "items": reports().community_ranking(call.tenant, q.from_, q.to)})


@api.route(bp, "PUT", "/v1/reports/fee-rates", permission=Permission.FEES_WRITE, body=schemas.FeeRatesIn,
           response=schemas.FeeRatesRecordedOut, tags=TAGS,
           summary="Record property-fee collection/renewal rates per community and month (a billing system's API key "
                   "with fees:write, or an admin); a month recorded again is replaced")
def put_fee_rates(call: Call) -> FeeRatesRecordedOut:
    from chalicelib.reports.schemas import FeeRatesRecordedOut

    rows = [(i.community_id, i.month, i.collection_rate, i.renewal_rate) for i in call.body.items]
    return FeeRatesRecordedOut(recorded=reports().record_fee_rates(call.tenant, rows, utcnow()))


@api.route(bp, "POST", "/v1/reports/fee-rates/import", permission=Permission.FEES_WRITE,
           response=schemas.FeeImportOut, tags=TAGS,
           content_types=("text/csv", "application/octet-stream",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
           summary="Record fee rates from a CSV or XLSX of 小区 (name or id), 月份, 收缴率, 续费率 (0.93 or 93%; "
                   "at most 1,000 rows): the good rows recorded, the others reported by line and field")
def import_fee_rates(call: Call) -> FeeImportOut:
    from chalicelib.reports.schemas import FeeImportOut

    return FeeImportOut.model_validate(reports().import_fee_rates(call.tenant, call.raw_body, utcnow()))


@api.route(bp, "GET", "/v1/reports/fee-rates", permission=Permission.REPORTS_READ, query=schemas.MonthRangeQuery,
           response=schemas.FeeRatePage, tags=TAGS, summary="The fee rates recorded for a range of months")
def list_fee_rates(call: Call) -> FeeRatePage:
    from dataclasses import asdict

    from chalicelib.reports.schemas import FeeRatePage

    rates = reports().fee_rates(call.tenant, call.query.from_month, call.query.to_month)
    return FeeRatePage.model_validate({"items": [asdict(r) for r in rates]})


@api.route(bp, "GET", "/v1/reports/satisfaction-renewal", permission=Permission.REPORTS_READ,
           query=schemas.MonthRangeQuery, response=schemas.SatisfactionRenewalOut, tags=TAGS,
           summary="Satisfaction beside property-fee collection and renewal per community and month, their "
                   "correlation and trend line, and the communities whose CSAT fell 10 % or more last quarter")
def satisfaction_renewal(call: Call) -> SatisfactionRenewalOut:
    from chalicelib.reports.schemas import SatisfactionRenewalOut

    q = call.query
    return SatisfactionRenewalOut.model_validate(reports().satisfaction_renewal(call.tenant, q.from_month,
                                                                                q.to_month))


@api.route(bp, "POST", "/v1/reports/exports", permission=Permission.REPORTS_READ, body=schemas.ExportIn,
           response=schemas.ExportOut, status=202, tags=TAGS,
           summary="Export a period's tickets (by creation day) as XLSX or CSV: a background job; GET it until done "
                   "for the download link. Phones masked unless you may see residents' phones")
def start_export(call: Call) -> ExportOut:
    from chalicelib.reports.schemas import ExportOut
    from chalicelib.reports.service import check_range

    b = call.body
    check_range(b.from_, b.to)
    return ExportOut.model_validate(exports().start(call.tenant, b.from_.isoformat(), b.to.isoformat(), b.format,
                                                    b.community_id, b.kind, utcnow()))


@api.route(bp, "GET", "/v1/reports/exports/{export_id}", permission=Permission.REPORTS_READ,
           response=schemas.ExportOut, tags=TAGS,
           summary="An export job you started: its status, and once done a fresh short-lived download link")
def get_export(call: Call) -> ExportOut:
    from chalicelib.reports.schemas import ExportOut

    return ExportOut.model_validate(exports().get(call.tenant, call.path["export_id"]))


def _csv(rows: list[list[Any]], filename: str) -> Response:
    from chalicelib.reports.exports import neutralise

    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return Response(body=out.getvalue().encode("utf-8-sig"), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{filename}"'})


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


@api.route(bp, "GET", "/v1/reports/figures/csv", permission=Permission.REPORTS_READ, query=schemas.FiguresQuery,
           tags=TAGS, summary="The KPI table of /v1/reports/figures as CSV (UTF-8 with BOM), one line per period")
def report_figures_csv(call: Call) -> Response:
    q = call.query
    figures = reports().figures(call.tenant, q.from_, q.to, q.granularity, q.community_id, q.kind, q.staff_id,
                                utcnow())
    header = ["开始", "结束", "工单数", "首次响应中位数(秒)", "首次响应P90(秒)", "15分钟响应达标率", "投诉数",
              "投诉闭环率", "已关闭", "记录完整率", "评价数", "平均评分", "满意度CSAT", "回访率", "完成数",
              "完成用时中位数(秒)", "重开率", "期末积压"]
    rows = [header]
    for p in figures["periods"]:
        first = p["first_response"]
        rows.append([str(p["start"]), str(p["end"]), p["created"], first["median_seconds"] or "",
                     first["p90_seconds"] or "",
                     _rate(p["sla_compliance"]["first_response"]["rate"]), p["complaints"]["created"],
                     _rate(p["complaints"]["closure_rate"]), p["completeness"]["closed"],
                     _rate(p["completeness"]["rate"]), p["satisfaction"]["ratings"],
                     p["satisfaction"]["mean_rating"] or "", _rate(p["satisfaction"]["csat"]),
                     _rate(p["satisfaction"]["return_visit_rate"]), p["resolution"]["count"],
                     p["resolution"]["median_seconds"] or "", _rate(p["reopen_rate"]),
                     "" if p.get("backlog_at_end") is None else p["backlog_at_end"]])
    return _csv(rows, f"kpis_{q.from_}_{q.to}.csv")


@api.route(bp, "GET", "/v1/reports/staff/csv", permission=Permission.REPORTS_READ, query=schemas.RangeQuery,
           tags=TAGS, summary="The staff table of /v1/reports/staff as CSV (UTF-8 with BOM), with names")
def report_staff_csv(call: Call) -> Response:
    q = call.query
    items = reports().staff_table(call.tenant, q.from_, q.to)
    names = reports().staff_names(call.tenant)
    rows: list[list[Any]] = [["员工", "派单", "完成", "首次响应", "首次响应中位数(秒)", "完成用时中位数(秒)", "评价数",
                              "满意度CSAT", "重开", "超时", "当前未结"]]
    rows += [[names.get(i["staff_id"], i["staff_id"]), i["assigned"], i["resolved"], i["first_responses"],
              i["first_response_median_seconds"] or "", i["resolution_median_seconds"] or "", i["ratings"],
              _rate(i["csat"]), i["reopened"], i["breaches"], i["open_now"]] for i in items]
    return _csv(rows, f"staff_{q.from_}_{q.to}.csv")


@api.route(bp, "GET", "/v1/reports/communities/csv", permission=Permission.REPORTS_READ, query=schemas.RangeQuery,
           tags=TAGS, summary="The community ranking (红黑榜) as CSV (UTF-8 with BOM)")
def report_communities_csv(call: Call) -> Response:
    q = call.query
    items = reports().community_ranking(call.tenant, q.from_, q.to)
    rows: list[list[Any]] = [["排名", "小区", "综合得分", "户数", "工单数", "15分钟响应达标率", "投诉闭环率",
                              "满意度CSAT", "投诉数", "每百户投诉"]]
    rows += [[i["rank"], i["name"], "" if i["score"] is None else i["score"], i["units"], i["created"],
              _rate(i["first_response_compliance"]), _rate(i["complaint_closure_rate"]), _rate(i["csat"]),
              i["complaints"], "" if i["complaints_per_100_units"] is None else i["complaints_per_100_units"]]
             for i in items]
    return _csv(rows, f"communities_{q.from_}_{q.to}.csv")
