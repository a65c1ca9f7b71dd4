"""Routes of the reports context: KPIs by period, per staff member and the community ranking (红黑榜), all read
from the rollups (``reports:read``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.clock import utcnow
from chalicelib.core.http import Call, ModelRefs, api
from chalicelib.core.permissions import Permission
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # services and models load on first use, keeping cold starts small
    from chalicelib.reports.schemas import (
        CommunityRankingOut,
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
