"""The reports: rollups kept from the outbox events, KPIs read from them.

:class:`RollupMaintainer` is the reports queue's consumer: for a ticket's event it folds the ticket's whole log
again (one Query), and applies the difference from what the ticket contributed before, guarded by the fact's
revision (see :mod:`chalicelib.reports.facts` and :mod:`chalicelib.reports.repository`). ``rebuild`` does the same
for a list of tickets: the rollups then equal a recomputation from the event log by construction.

:class:`ReportService` answers the report routes from the rollups alone.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core.errors import ValidationFailedError
from chalicelib.core.observability import logger
from chalicelib.core.permissions import Permission
from chalicelib.core.tenancy import TenantContext
from chalicelib.events.catalogue import reported
from chalicelib.reports import kpis
from chalicelib.reports.facts import difference, ticket_facts_at
from chalicelib.reports.ports import OpenLoad, Places, RollupStore, TicketIds, TimeZones
from chalicelib.reports.repository import FactMovedError

MAX_DAYS = 366
ATTEMPTS = 5


class RollupMaintainer:
    def __init__(self, store: RollupStore, zones: TimeZones, ticket_ids: TicketIds | None = None) -> None:
        self.store, self.zones, self.ticket_ids = store, zones, ticket_ids

    def handle(self, message: dict[str, Any], now: datetime) -> None:
        subject = message.get("subject") or {}
        if subject.get("type") != "ticket" or not reported(str(message.get("type", ""))):
            return
        self.refresh(message["tenant_id"], subject["id"])

    def refresh(self, tenant_id: str, ticket_id: str) -> bool:
        """Bring the rollups in line with the ticket's log; whether anything changed."""
        zone = ZoneInfo(self.zones.config(tenant_id).timezone)
        for _ in range(ATTEMPTS):
            contributions = ticket_facts_at(self.store.ticket_events(tenant_id, ticket_id), ticket_id, zone)
            before, revision = self.store.fact(tenant_id, ticket_id)
            delta = difference(contributions, before)
            if not delta:
                return False
            try:
                self.store.apply(tenant_id, ticket_id, contributions, delta, revision)
                return True
            except FactMovedError:
                logger.info("report facts moved; folding again", extra={"ticket_id": ticket_id})
        raise FactMovedError("The ticket's report facts kept moving; the message comes back later.")

    def rebuild(self, tenant_id: str, ticket_ids: Iterable[str] | None = None) -> dict[str, int]:
        """Fold each ticket's log again (every ticket of the tenant unless ``ticket_ids`` are given): the rollups
        then equal a recomputation from the event log, whatever was lost or delivered twice before. Answers how
        many tickets were read and how many contributed differently from what the rollups held (0: they were
        exact)."""
        if ticket_ids is None:
            if self.ticket_ids is None:
                raise ValueError("no ticket listing to rebuild a whole tenant with")
            ticket_ids = self.ticket_ids(tenant_id)
        read = changed = 0
        for ticket_id in ticket_ids:
            read += 1
            changed += self.refresh(tenant_id, ticket_id)
        return {"tickets": read, "changed": changed}


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationFailedError(details=[{"field": "to", "type": "range_reversed",
                                              "message": "The range ends before it starts."}])
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailedError(details=[{"field": "to", "type": "range_too_long",
                                              "message": f"At most {MAX_DAYS} days at a time."}])


class ReportService:
    def __init__(self, store: RollupStore, zones: TimeZones, places: Places, load: OpenLoad) -> None:
        self.store, self.zones, self.places, self.load = store, zones, places, load

    def today(self, ctx: TenantContext, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.zones.config(ctx.tenant_id).timezone)).date()

    def _groups(self, ctx: TenantContext, start: date, end: date, community_id: str | None,
                kind: str | None) -> list[tuple[str, dict[str, int]]]:
        rows = self.store.rollups(ctx.tenant_id, "G", start, end)
        return [(key, counters) for key, counters in rows
                if (not community_id or kpis.split_group_key(key)[1] == community_id)
                and (not kind or kpis.split_group_key(key)[2] == kind)]

    def figures(self, ctx: TenantContext, start: date, end: date, granularity: kpis.Granularity,
                community_id: str | None, kind: str | None, staff_id: str | None, now: datetime) -> dict[str, Any]:
        """Every KPI per period and over the whole range (the group rollups, or one staff member's)."""
        ctx.require(Permission.REPORTS_READ)
        _check_range(start, end)
        if community_id:
            self.places.get_community(ctx, community_id)  # 404 for a community that is not the tenant's
        today = self.today(ctx, now)
        if staff_id:
            rows = [(key, c) for key, c in self.store.rollups(ctx.tenant_id, "S", start, end)
                    if key.split("#", 2)[2] == staff_id]
        else:
            rows = self._groups(ctx, start, end, community_id, kind)
        reads = self.store.items_read
        by_day: dict[str, dict[str, int]] = defaultdict(dict)
        for key, counters in rows:
            kpis.add(by_day[key.split("#", 2)[1]], counters)
        later: list[tuple[str, dict[str, int]]] = []
        totals: dict[str, int] = {}
        if not staff_id:
            if end < today:
                later = self._groups(ctx, end + timedelta(days=1), today, community_id, kind)
                reads += self.store.items_read
            totals = self.store.totals(ctx.tenant_id)
            reads += 1
        out, whole = [], {}
        for first, last in kpis.periods(start, end, granularity):
            summed: dict[str, int] = {}
            for day, counters in by_day.items():
                if first.isoformat() <= day <= last.isoformat():
                    kpis.add(summed, counters)
            kpis.add(whole, summed)
            period = {"start": first.isoformat(), "end": last.isoformat(), **kpis.figures(summed)}
            if not staff_id:
                after = [c for key, c in rows + later if key.split("#", 2)[1] > last.isoformat()]
                period["backlog_at_end"] = kpis.backlog(totals, after, community_id, kind) if last <= today else None
            out.append(period)
        return {"from": start.isoformat(), "to": end.isoformat(), "granularity": granularity,
                "community_id": community_id, "kind": kind, "staff_id": staff_id, "periods": out,
                "total": {**kpis.figures(whole), "resolution_by_kind": kpis.by_kind(rows) if not staff_id else {}},
                "items_read": reads}

    def staff_table(self, ctx: TenantContext, start: date, end: date) -> list[dict[str, Any]]:
        """Per staff member over the range, with their open load now."""
        ctx.require(Permission.REPORTS_READ)
        _check_range(start, end)
        per: dict[str, dict[str, int]] = defaultdict(dict)
        for key, counters in self.store.rollups(ctx.tenant_id, "S", start, end):
            kpis.add(per[key.split("#", 2)[2]], counters)
        load = self.load.open_load(ctx, sorted(per)) if per else {}
        rows = []
        for staff_id, counters in sorted(per.items()):
            f = kpis.figures(counters)
            rows.append({"staff_id": staff_id, "assigned": counters.get("assigned", 0),
                         "resolved": counters.get("resolved", 0),
                         "first_responses": counters.get("first_responses", 0),
                         "first_response_median_seconds": f["first_response"]["median_seconds"],
                         "resolution_median_seconds": f["resolution"]["median_seconds"],
                         "ratings": f["satisfaction"]["ratings"], "csat": f["satisfaction"]["csat"],
                         "reopened": counters.get("reopened", 0), "breaches": counters.get("breaches", 0),
                         "open_now": load.get(staff_id, 0)})
        return rows

    def community_ranking(self, ctx: TenantContext, start: date, end: date) -> list[dict[str, Any]]:
        """红黑榜: each community's composite score over the range, best first (see ``composite``)."""
        ctx.require(Permission.REPORTS_READ)
        _check_range(start, end)
        per: dict[str, dict[str, int]] = defaultdict(dict)
        for key, counters in self.store.rollups(ctx.tenant_id, "G", start, end):
            kpis.add(per[kpis.split_group_key(key)[1]], counters)
        names: dict[str, str] = {}
        cursor: str | None = None
        while True:
            page, cursor = self.places.list_communities(ctx, 100, cursor)
            names.update({c.id: c.name for c in page})
            if not cursor:
                break
        rows = []
        for community_id, name in names.items():
            counters = per.get(community_id, {})
            f = kpis.figures(counters)
            units = self.places.unit_count(ctx, community_id)
            complaints = counters.get("complaints", 0)
            per_100 = round(complaints * 100 / units, 2) if units else None
            row = {"community_id": community_id, "name": name, "units": units, "created": f["created"],
                   "first_response_compliance": f["sla_compliance"]["first_response"]["rate"],
                   "complaint_closure_rate": f["complaints"]["closure_rate"], "csat": f["satisfaction"]["csat"],
                   "complaints": complaints, "complaints_per_100_units": per_100}
            row["score"] = composite(row)
            rows.append(row)
        rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), r["name"]))
        for rank, row in enumerate(rows, 1):
            row["rank"] = rank
        return rows


def composite(row: dict[str, Any]) -> float | None:
    """The ranking's score, 0–100: first-response compliance 30 %, complaint closure 30 %, CSAT 30 %, and 10 % for
    few complaints (full marks at none, nothing at 5 or more per 100 units); a part with no data is left out and
    the others re-weighted; no data at all: no score.

    >>> composite({"first_response_compliance": 1.0, "complaint_closure_rate": None, "csat": 0.5,
    ...            "complaints_per_100_units": 0.0})
    78.57
    """
    parts = [(0.3, row["first_response_compliance"]), (0.3, row["complaint_closure_rate"]), (0.3, row["csat"])]
    if row["complaints_per_100_units"] is not None:
        parts.append((0.1, max(0.0, 1 - row["complaints_per_100_units"] / 5)))
    known = [(w, v) for w, v in parts if v is not None]
    if not known or all(w == 0.1 for w, _ in known):
        return None
    return round(100 * sum(w * v for w, v in known) / sum(w for w, _ in known), 2)
