"""The reports' pure rules: a ticket's events folded into facts, the facts into rollup contributions, and the
KPIs of DOMAIN.md computed from summed rollups — with the closure and completeness edge cases the issue names."""
from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.reports import kpis
from chalicelib.reports.facts import contributions, difference, fold, group_key, staff_key
from chalicelib.tickets.domain import Action, Actor

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, 2026-11-02
AGENT = {"type": "staff", "id": "usr_agent", "role": "agent"}
TECH = {"type": "staff", "id": "usr_tech", "role": "technician"}
RESIDENT = {"type": "resident", "id": "res_1", "role": None}
SYSTEM = {"type": "system", "id": "auto_close", "role": None}
KEY = {"type": "api_key", "id": "key_1", "role": None}


class Log:
    """A ticket's event log as the services write it (only the fields the reports read)."""

    def __init__(self, kind: str = "repair", channel: str = "h5") -> None:
        self.events: list[dict[str, Any]] = []
        self.at = T0
        self.add("ticket.created", RESIDENT, 0, data={"kind": kind, "channel": channel, "community_id": "cmt_1",
                                                      "status": "new", "assignee_id": None})

    def add(self, event_type: str, actor: dict[str, Any], minutes: float, *, data: dict[str, Any] | None = None,
            changes: dict[str, Any] | None = None) -> Log:
        self.at += timedelta(minutes=minutes)
        self.events.append({"type": event_type, "occurred_at": to_rfc3339(self.at), "actor": actor,
                            "data": data or {}, "changes": changes or {}})
        return self

    def ack(self, minutes: float, actor: dict[str, Any] = AGENT) -> Log:
        changes = {"acknowledged_at": {"before": None, "after": to_rfc3339(self.at + timedelta(minutes=minutes))}}
        return self.add("ticket.acknowledged", actor, minutes, data={"status": "acknowledged"}, changes=changes)

    def assign(self, minutes: float, to: str = "usr_tech") -> Log:
        return self.add("ticket.assigned", AGENT, minutes, data={"status": "assigned", "to": to},
                        changes={"assignee_id": {"before": None, "after": to}})

    def resolve(self, minutes: float, note: str | None = "换了阀门") -> Log:
        resolution = {"note": note, "photos": [], "by": "usr_tech"}
        return self.add("ticket.resolved", TECH, minutes, data={"status": "resolved"},
                        changes={"resolution": {"before": None, "after": resolution}})

    def close(self, minutes: float, how: str = "resident_confirmed") -> Log:
        actor = SYSTEM if how == "auto" else RESIDENT
        return self.add("ticket.closed", actor, minutes, data={"status": "closed", "how": how})

    def rate(self, minutes: float, score: int) -> Log:
        return self.add("ticket.rated", RESIDENT, minutes, data={"status": "closed", "score": score})

    def reopen(self, minutes: float) -> Log:
        return self.add("ticket.reopened", RESIDENT, minutes, data={"status": "assigned", "reason": "又漏了"})

    def visit(self, minutes: float) -> Log:
        return self.add("ticket.return_visited", AGENT, minutes, data={"status": "closed"})

    def sla(self, kind: str, clock: str, minutes: float, **extra: Any) -> Log:
        return self.add(f"sla.{kind}", SYSTEM, minutes, data={"clock": clock, "cycle": 1, **extra})

    def counters(self) -> dict[str, dict[str, int]]:
        facts = fold("tkt_1", self.events)
        assert facts is not None
        return contributions(facts, SHANGHAI)


DAY = "2026-11-02"
GROUP = group_key(DAY, "cmt_1", "repair")


def summed(*logs: Log) -> dict[str, int]:
    total: dict[str, int] = {}
    for log in logs:
        for key, counters in log.counters().items():
            if key.startswith("G#"):
                kpis.add(total, counters)
    return total


def test_an_auto_closed_complaint_counts_as_closed():
    log = Log("complaint").ack(5).assign(1).resolve(60).close(60 * 24 * 7, how="auto")
    created = log.counters()[group_key(DAY, "cmt_1", "complaint")]
    assert (created["complaints"], created["complaints_closed"]) == (1, 1)
    assert kpis.figures(summed(log))["complaints"]["closure_rate"] == 1.0


def test_a_ticket_closed_without_rating_or_return_visit_is_incomplete_and_becomes_complete_with_a_visit():
    log = Log().ack(5).assign(1).resolve(60).close(60, how="staff")
    figures = kpis.figures(summed(log))["completeness"]
    assert (figures["closed"], figures["complete"], figures["rate"]) == (1, 0, 0.0)
    log.visit(30)
    figures = kpis.figures(summed(log))
    assert (figures["completeness"]["complete"], figures["satisfaction"]["return_visit_rate"]) == (1, 1.0)


@pytest.mark.parametrize(("missing", "log"), [
    ("first response", Log().assign(1).resolve(60).rate(10, 5)),
    ("resolution note", Log().ack(5).assign(1).resolve(60, note=None).rate(10, 5)),
    ("handler", Log().ack(5).add("ticket.closed", AGENT, 30, data={"status": "closed"}).visit(5)),
])
def test_each_missing_field_makes_a_closed_record_incomplete(missing, log):
    assert kpis.figures(summed(log))["completeness"] == {"closed": 1, "complete": 0, "rate": 0.0, "target": 1.0}


def test_reopened_then_closed_counts_once_and_the_reopen_is_counted():
    log = Log("complaint").ack(5).assign(1).resolve(60).reopen(30).resolve(60).rate(10, 4)
    figures = kpis.figures(summed(log))
    assert figures["complaints"] == {"created": 1, "closed": 1, "closure_rate": 1.0, "target": 0.98}
    assert figures["completeness"]["closed"] == 1 and figures["completeness"]["complete"] == 1
    assert (figures["resolution"]["count"], figures["reopened"], figures["reopen_rate"]) == (2, 1, 0.5)


def test_a_reopened_complaint_still_open_is_not_closed():
    log = Log("complaint").ack(5).assign(1).resolve(60).close(60).reopen(30)
    assert kpis.figures(summed(log))["complaints"]["closed"] == 0
    assert kpis.figures(summed(log))["completeness"]["closed"] == 0


def test_first_response_time_and_compliance_land_where_the_definitions_say():
    log = Log().ack(12.5).sla("met", "first_response", 0, late=False)
    counters = log.counters()
    assert counters[GROUP]["h.fr.750"] == 1 and counters[GROUP]["met.first_response"] == 1
    assert counters[staff_key(DAY, "usr_agent")] == {"first_responses": 1, "h.fr.750": 1}
    late = Log().sla("breached", "first_response", 20, due_at="2026-11-02T01:15:00Z").ack(1)
    late.sla("met", "first_response", 0, late=True)
    assert late.counters()[GROUP]["breached.first_response"] == 1
    assert "met.first_response" not in late.counters()[GROUP]  # reached late is not met
    figures = kpis.figures(summed(log, late))
    assert figures["sla_compliance"]["first_response"] == {"met": 1, "breached": 1, "rate": 0.5}
    assert figures["first_response"] == {"count": 2, "median_seconds": 1005.0, "p90_seconds": 1260}


def test_a_day_is_the_tenants_local_day():
    log = Log()
    log.events[0]["occurred_at"] = "2026-11-01T17:30:00Z"  # 01:30 on the 2nd in Shanghai
    assert group_key("2026-11-02", "cmt_1", "repair") in log.counters()


def test_the_same_events_twice_or_shuffled_contribute_nothing_more():
    log = Log().ack(5).assign(1).resolve(60).rate(10, 5)
    once = log.counters()
    assert difference(once, once) == {}
    twice = Log()
    twice.events = log.events + log.events[1:]  # a redelivery appends nothing to the stored log: same facts
    assert fold("tkt_1", sorted(log.events, key=lambda e: e["occurred_at"])) == fold("tkt_1", log.events)


def test_events_before_creation_is_in_the_log_contribute_nothing():
    log = Log().ack(5)
    assert fold("tkt_1", log.events[1:]) is None


def test_ratings_give_the_mean_csat_and_count_for_who_resolved():
    logs = [Log().ack(1).assign(1).resolve(30).rate(5, score) for score in (5, 4, 2)]
    figures = kpis.figures(summed(*logs))["satisfaction"]
    assert (figures["ratings"], figures["mean_rating"], figures["csat"]) == (3, 3.6667, 0.6667)
    tech = logs[0].counters()[staff_key(DAY, "usr_tech")]
    assert (tech["resolved"], tech["ratings"], tech["satisfied"]) == (1, 1, 1)


def test_an_integrations_acknowledgement_is_not_a_first_response_unless_it_acts_for_someone():
    from chalicelib.tickets.domain import Status, TicketState, decide

    state = TicketState(Status.NEW, "res_1")
    now = datetime(2026, 11, 2, tzinfo=UTC)
    plain = decide(state, Action.ACKNOWLEDGE, Actor("api_key", "key_1"), {}, now)
    assert plain.status == Status.ACKNOWLEDGED and "acknowledged_at" not in plain.changes
    named = decide(state, Action.ACKNOWLEDGE, Actor("api_key", "key_2", acts_for="usr_agent"), {}, now)
    assert named.changes["acknowledged_at"] == to_rfc3339(now)
    assert fold("tkt_1", Log().ack(3, {**KEY, "acts_for": "usr_agent"}).events).first_responder == "usr_agent"


def test_median_and_p90_are_exact_over_any_union_of_rollups():
    rng = random.Random(7)
    values = [rng.randrange(0, 5000) for _ in range(999)]
    parts: list[dict[str, int]] = [{}, {}, {}]
    for i, v in enumerate(values):
        kpis.add(parts[i % 3], {f"h.fr.{v}": 1})
    whole: dict[str, int] = {}
    for part in parts:
        kpis.add(whole, part)
    ordered = sorted(values)
    hist = kpis.histogram(whole, "fr")
    assert kpis.median(hist) == ordered[499] and kpis.p90(hist) == ordered[math.ceil(0.9 * 999) - 1]


def test_backlog_at_the_end_of_a_period_undoes_the_later_days():
    totals = {"o.cmt_1.repair": 10, "e.cmt_1.repair": 4, "o.cmt_2.complaint": 3}
    later = [{"created": 2, "ended": 1}, {"created": 1}]
    assert kpis.backlog(totals, later) == (13 - 3) - (4 - 1)
    assert kpis.backlog(totals, [], community="cmt_2") == 3
