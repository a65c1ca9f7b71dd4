"""The reports: rollups kept from the outbox events, KPIs read from them.

:class:`RollupMaintainer` is the reports queue's consumer: for a ticket's event it folds the ticket's whole log
again (one Query), and applies the difference from what the ticket contributed before, guarded by the fact's
revision (see :mod:`chalicelib.reports.facts` and :mod:`chalicelib.reports.repository`). ``rebuild`` does the same
for a list of tickets: the rollups then equal a recomputation from the event log by construction.

:class:`ReportService` answers the report routes from the rollups alone.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core.errors import ValidationFailedError
from chalicelib.core.observability import logger
from chalicelib.core.permissions import Permission
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.events.catalogue import reported
from chalicelib.reports import fees, kpis
from chalicelib.reports.facts import difference, ticket_facts_at
from chalicelib.reports.fees import FeeRate
from chalicelib.reports.ports import OpenLoad, Places, RollupStore, TicketIds, TimeZones
from chalicelib.reports.repository import FactMovedError

MAX_DAYS = 366
ATTEMPTS = 5


def idle(message: dict[str, Any]) -> bool:
    """A reply or a re-triage that changes nothing the reports count: a comment that was not the first response,
    a triage that kept the kind (priority and category are not report dimensions). Nothing to fold again.

    >>> idle({"type": "ticket.commented", "changes": {}}), idle({"type": "ticket.commented",
    ...                                                          "changes": {"acknowledged_at": {}}})
    (True, False)
    >>> idle({"type": "ticket.updated", "changes": {"priority": {}}}), idle({"type": "ticket.rated"})
    (True, False)
    """
    changes = message.get("changes") or {}
    if message.get("type") == "ticket.commented":
        return "acknowledged_at" not in changes
    if message.get("type") == "ticket.updated":
        return "kind" not in changes
    return False


def _ticket_of(message: dict[str, Any]) -> tuple[str, str] | None:
    """The (tenant, ticket) whose reports an event may move, or None for one they do not count."""
    subject = message.get("subject") or {}
    if subject.get("type") != "ticket" or not reported(str(message.get("type", ""))) or idle(message):
        return None
    return message["tenant_id"], subject["id"]


class RollupMaintainer:
    def __init__(self, store: RollupStore, zones: TimeZones, ticket_ids: TicketIds | None = None) -> None:
        self.store, self.zones, self.ticket_ids = store, zones, ticket_ids

    def handle(self, message: dict[str, Any], now: datetime) -> None:
        if (ticket := _ticket_of(message)) is not None:
            self.refresh(*ticket)

    def for_batch(self) -> Callable[[dict[str, Any], datetime], None]:
        """:meth:`handle` for the messages of one queue batch: a ticket refreshed for one of them is not refreshed
        again for the others. A refresh folds the ticket's whole log as it is now (a strongly consistent read), and
        every event a message of the batch names was written before the batch was received, so that fold holds
        them all; the others would only read the log and the fact again to find nothing to change. A refresh that
        fails leaves its ticket to the next message about it."""
        refreshed: set[tuple[str, str]] = set()

        def handle(message: dict[str, Any], now: datetime) -> None:
            ticket = _ticket_of(message)
            if ticket is None or ticket in refreshed:
                return
            self.refresh(*ticket)
            refreshed.add(ticket)

        return handle

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


FEE_ROWS_PER_COMMIT = 90  # DynamoDB's transaction: 100 items, with the event item


def _months_back(last_month: str, count: int) -> list[str]:
    """``count`` months ending with ``last_month``.

    >>> _months_back("2026-02", 4)
    ['2025-11', '2025-12', '2026-01', '2026-02']
    """
    year, month = int(last_month[:4]), int(last_month[5:7])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _month_end(month: str) -> date:
    first = date.fromisoformat(month + "-01")
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _check_months(first_month: str, last_month: str) -> list[str]:
    """The months from first to last (at most 12), or a 422 saying what is wrong."""
    if last_month < first_month:
        raise ValidationFailedError(details=[{"field": "to_month", "type": "range_reversed",
                                              "message": "The range ends before it starts."}])
    for count in range(1, 13):
        months = _months_back(last_month, count)
        if months[0] == first_month:
            return months
    raise ValidationFailedError(details=[{"field": "from_month", "type": "range_too_long",
                                          "message": "At most 12 months at a time."}])


FIRST_YEAR, LAST_YEAR = 2000, 2099  # the days the reports keep (and can count months and weeks within)


def check_range(start: date, end: date) -> None:
    for field, day in (("from", start), ("to", end)):
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValidationFailedError(details=[{"field": field, "type": "date_out_of_range",
                                                  "message": f"A day from {FIRST_YEAR} to {LAST_YEAR}."}])
    if end < start:
        raise ValidationFailedError(details=[{"field": "to", "type": "range_reversed",
                                              "message": "The range ends before it starts."}])
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailedError(details=[{"field": "to", "type": "range_too_long",
                                              "message": f"At most {MAX_DAYS} days at a time."}])


class ReportService:
    def __init__(self, store: RollupStore, zones: TimeZones, places: Places, load: OpenLoad,
                 new_uow: UnitOfWorkFactory | None = None,
                 names_of_staff: Callable[[TenantContext], dict[str, str]] | None = None) -> None:
        self.store, self.zones, self.places, self.load, self.new_uow = store, zones, places, load, new_uow
        self.names_of_staff = names_of_staff

    # --- property-fee rates and satisfaction ↔ renewal ---------------------------------------------------------
    def community_names(self, ctx: TenantContext) -> dict[str, str]:
        names: dict[str, str] = {}
        cursor: str | None = None
        while True:
            page, cursor = self.places.list_communities(ctx, 100, cursor)
            names.update({c.id: c.name for c in page})
            if not cursor:
                return names

    def record_fee_rates(self, ctx: TenantContext, rows: list[tuple[str, str, float | None, float | None]],
                         now: datetime, *, field: str = "items") -> int:
        """Record (community id, month, collection rate, renewal rate) rows; a month recorded again is replaced.
        Every community must be the tenant's (else nothing is written: 422 naming the rows)."""
        ctx.require(Permission.FEES_WRITE)
        names = self.community_names(ctx)
        unknown = [{"field": f"{field}.{i}.community_id", "type": "unknown_community",
                    "message": f"No community {row[0]}."} for i, row in enumerate(rows) if row[0] not in names]
        if unknown:
            raise ValidationFailedError(details=unknown[:50])
        stamp = now.isoformat().replace("+00:00", "Z")
        latest = {(c, m): FeeRate(c, m, collection, renewal, stamp, ctx.principal.id)
                  for c, m, collection, renewal in rows}
        rates = sorted(latest.values(), key=lambda r: (r.month, r.community_id))
        for start in range(0, len(rates), FEE_ROWS_PER_COMMIT):
            chunk = rates[start:start + FEE_ROWS_PER_COMMIT]
            uow = self._uow(ctx, now)
            for rate in chunk:
                self.store.stage_fee_rate(uow, ctx.tenant_id, rate)
            uow.record("fees.recorded", subject=("tenant", ctx.tenant_id), data={
                "months": sorted({r.month for r in chunk}), "communities": sorted({r.community_id for r in chunk}),
                "rows": len(chunk)})
            uow.commit()
        return len(rates)

    def import_fee_rates(self, ctx: TenantContext, raw: bytes, now: datetime) -> dict[str, Any]:
        """A CSV or XLSX of 小区 (name or id), 月份, 收缴率, 续费率: the good rows recorded, the others reported."""
        ctx.require(Permission.FEES_WRITE)
        try:
            parsed, errors = fees.parse_rows(fees.file_rows(raw))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailedError(str(exc) or "The file cannot be read.", code="unreadable_file") from exc
        names = self.community_names(ctx)
        by_name = {name: cid for cid, name in names.items()}
        rows = []
        for row in parsed:
            community_id = row.community if row.community in names else by_name.get(row.community)
            if community_id is None:
                errors.append({"line": row.line, "field": "community", "message": f"No community {row.community}."})
                continue
            rows.append((community_id, row.month, row.collection_rate, row.renewal_rate))
        recorded = self.record_fee_rates(ctx, rows, now) if rows else 0
        return {"recorded": recorded, "errors": sorted(errors, key=lambda e: (e["line"], e["field"]))}

    def fee_rates(self, ctx: TenantContext, first_month: str, last_month: str) -> list[FeeRate]:
        ctx.require(Permission.REPORTS_READ)
        _check_months(first_month, last_month)
        return self.store.fee_rates(ctx.tenant_id, first_month, last_month)

    def satisfaction_renewal(self, ctx: TenantContext, first_month: str, last_month: str) -> dict[str, Any]:
        """Per community and month: CSAT, mean rating and the fee rates; their correlation; renewal risks."""
        ctx.require(Permission.REPORTS_READ)
        months = _check_months(first_month, last_month)
        risk_months = _months_back(last_month, 6)  # the last quarter and the one before
        read_from = min(months[0], risk_months[0])
        start = date.fromisoformat(read_from + "-01")
        end = _month_end(last_month)
        ratings: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        for key, counters in self.store.rollups(ctx.tenant_id, "G", start, end):
            day, community_id, _ = kpis.split_group_key(key)
            kpis.add(ratings[(community_id, day[:7])], {k: counters.get(k, 0) for k in
                                                       ("ratings", "satisfied", "rating_sum")})
        names = self.community_names(ctx)
        rates = {(r.community_id, r.month): r for r in self.store.fee_rates(ctx.tenant_id, months[0], months[-1])}
        rows = []
        for month in months:
            for community_id, name in sorted(names.items(), key=lambda item: item[1]):
                got = ratings.get((community_id, month), {})
                rate = rates.get((community_id, month))
                if not got.get("ratings") and rate is None:
                    continue
                rows.append({"community_id": community_id, "name": name, "month": month,
                             "ratings": got.get("ratings", 0),
                             "csat": kpis.ratio(got.get("satisfied", 0), got.get("ratings", 0)),
                             "mean_rating": round(got["rating_sum"] / got["ratings"], 4) if got.get("ratings")
                             else None,
                             "collection_rate": rate.collection_rate if rate else None,
                             "renewal_rate": rate.renewal_rate if rate else None})
        correlation = {}
        for which in ("collection_rate", "renewal_rate"):
            pairs = [(r["csat"], r[which]) for r in rows if r["csat"] is not None and r[which] is not None]
            line = fees.trend(pairs)
            correlation[which] = {"pairs": len(pairs), "r": fees.pearson(pairs),
                                  "slope": line[0] if line else None, "intercept": line[1] if line else None}
        risks = []
        for community_id, name in sorted(names.items(), key=lambda item: item[1]):
            quarters = []
            for span in (risk_months[:3], risk_months[3:]):
                summed = [ratings.get((community_id, m), {}) for m in span]
                quarters.append((sum(s.get("satisfied", 0) for s in summed), sum(s.get("ratings", 0) for s in summed)))
            change = fees.quarter_drop(quarters[0], quarters[1])
            if change is not None and change <= -fees.RISK_DROP:
                risks.append({"community_id": community_id, "name": name,
                              "previous_csat": kpis.ratio(*quarters[0]), "last_csat": kpis.ratio(*quarters[1]),
                              "change": change})
        return {"from_month": months[0], "to_month": months[-1], "rows": rows, "correlation": correlation,
                "risks": risks, "risk_quarters": {"previous": risk_months[:3], "last": risk_months[3:]}}

    def _uow(self, ctx: TenantContext, now: datetime) -> Any:
        if self.new_uow is None:
            raise RuntimeError("no unit of work to record with")
        return self.new_uow(ctx.tenant_id, ctx.actor, now)

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
        check_range(start, end)
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
            if not staff_id and counters.get("created"):  # intake by kind: the kind is the group's, not a counter
                kpis.add(by_day[key.split("#", 2)[1]], {f"kind.{kpis.split_group_key(key)[2]}": counters["created"]})
        later: list[tuple[str, dict[str, int]]] = []
        totals: dict[str, int] = {}
        if not staff_id:
            if end < today:
                later = self._groups(ctx, end + timedelta(days=1), today, community_id, kind)
                reads += self.store.items_read
            totals = self.store.totals(ctx.tenant_id)
            reads += 1
        # each day's counters into its period (one pass), and each day's openings and endings once for the backlog
        spans = kpis.periods(start, end, granularity)
        firsts = [first.isoformat() for first, _ in spans]
        summed_per: list[dict[str, int]] = [{} for _ in spans]
        for day, counters in by_day.items():
            kpis.add(summed_per[bisect_right(firsts, day) - 1], counters)
        moves: dict[str, dict[str, int]] = defaultdict(dict)
        if not staff_id:
            for key, counters in rows + later:
                kpis.add(moves[key.split("#", 2)[1]], {name: counters[name] for name in kpis.BACKLOG_COUNTERS
                                                       if name in counters})
        out, whole = [], {}
        for (first, last), summed in zip(spans, summed_per, strict=True):
            kpis.add(whole, summed)
            period = {"start": first.isoformat(), "end": last.isoformat(), **kpis.figures(summed)}
            if not staff_id:
                after = [c for day, c in moves.items() if day > last.isoformat()]
                ended = last <= today
                period["backlog_at_end"] = kpis.backlog(totals, after, community_id, kind) if ended else None
                period["overdue_at_end"] = kpis.overdue(totals, after, community_id, kind) if ended else None
            out.append(period)
        return {"from": start.isoformat(), "to": end.isoformat(), "granularity": granularity,
                "community_id": community_id, "kind": kind, "staff_id": staff_id, "periods": out,
                "total": {**kpis.figures(whole), "resolution_by_kind": kpis.by_kind(rows) if not staff_id else {}},
                "items_read": reads}

    def staff_names(self, ctx: TenantContext) -> dict[str, str]:
        ctx.require(Permission.REPORTS_READ)
        return self.names_of_staff(ctx) if self.names_of_staff else {}

    def staff_table(self, ctx: TenantContext, start: date, end: date) -> list[dict[str, Any]]:
        """Per staff member over the range, with their open load now."""
        ctx.require(Permission.REPORTS_READ)
        check_range(start, end)
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
        check_range(start, end)
        per: dict[str, dict[str, int]] = defaultdict(dict)
        for key, counters in self.store.rollups(ctx.tenant_id, "G", start, end):
            kpis.add(per[kpis.split_group_key(key)[1]], counters)
        rows = []
        for community_id, name in self.community_names(ctx).items():
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
