"""Routes of the reports context: KPIs by period, per staff member and the community ranking (红黑榜), all read
from the rollups (``reports:read``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.clock import utcnow
from chalicelib.core.http import Call, ModelRefs, api
from chalicelib.core.permissions import Permission
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # services and models load on first use, keeping cold starts small
    from chalicelib.reports.schemas import CommunityRankingOut, FiguresOut, StaffReportOut
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
