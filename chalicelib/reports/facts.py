"""What one ticket contributes to the reports, computed from its whole event log (pure).

The reports never scan tickets. Each ticket's events are folded into :class:`TicketFacts`, and the facts into
*contributions*: counters and exact duration histograms under rollup keys (a day in the tenant's time zone × a
community × a kind, and a day × a staff member). The rollups are the sums of every ticket's contributions, so a
ticket whose log grows is re-folded from all of it and only the difference is applied: the same event delivered
twice, or events delivered out of order, give the same facts and change nothing twice.

Where each figure lands (the DOMAIN.md KPIs, day = the tenant's local date):

- **creation day** — ``created``, intake by channel (``ch.<channel>``), complaints created and, of those, the ones
  that are closed (``complaints``, ``complaints_closed``: resolved then confirmed, rated, closed by staff or
  auto-closed; a reopened-then-closed complaint counts once, a reopened one still open does not; a complaint
  merged into another as its duplicate counts in neither), and first-response time (creation → the first
  human acknowledgement or public reply; whole seconds) in the ``h.fr`` histogram;
- **outcome day** — SLA compliance per clock: a clock cycle is *breached* on the day its deadline passed
  (``sla.breached``), else *met* on the day its goal was reached in time (``sla.met``, not late);
- **final close day** — ``closed`` (closed at the end of its log, not merged as a duplicate), ``complete`` (every
  field of DOMAIN.md's record: kind, location, description — required at intake —, a handler, a first response, a
  resolution note, a resolution time, and a rating or a return visit) and ``followed_up`` (a rating or a return
  visit: the return-visit rate);
- **rating day** — ``ratings``, ``rating_sum``, ``satisfied`` (4–5: CSAT);
- **resolution day** — ``resolved`` and the resolution time (creation → resolution, whole seconds) in ``h.res``;
- **reopen day** — ``reopened``;
- **all time** (the tenant's running totals, kept for the backlog and the overdue count) — ``opened``; ``ended``
  on the day the ticket last closed, was cancelled or merged; ``overdue_in`` on the day its resolution deadline
  first passed (``sla.breached``), ``overdue_out`` when such a ticket ended.

Per staff member: ``assigned`` (on the days it was assigned to them), ``first_responses`` and ``h.fr`` (the one
who responded first, on the creation day), ``resolved`` and ``h.res`` (who resolved it), ``ratings``,
``rating_sum``, ``satisfied`` (ratings of work they resolved), ``reopened`` (reopens of work they had resolved) and
``breaches`` (deadlines passed while the ticket was theirs).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core.clock import from_rfc3339

Counters = dict[str, int]
Contributions = dict[str, Counters]  # rollup key → counter name → amount

ENDED = ("closed", "cancelled")


def local_day(stamp: str, zone: ZoneInfo) -> str:
    """The tenant's calendar day of an RFC 3339 instant.

    Example
    -------
    >>> local_day("2026-11-27T17:30:00Z", ZoneInfo("Asia/Shanghai"))
    '2026-11-28'
    """
    return from_rfc3339(stamp).astimezone(zone).date().isoformat()


def seconds_between(start: str, end: str) -> int:
    """Whole seconds from ``start`` to ``end`` (floored; never negative).

    >>> seconds_between("2026-11-27T08:00:00Z", "2026-11-27T08:14:59.900Z")
    899
    """
    return max(0, int((from_rfc3339(end) - from_rfc3339(start)).total_seconds()))


def group_key(day: str, community_id: str, kind: str) -> str:
    return f"G#{day}#{community_id}#{kind}"


def staff_key(day: str, staff_id: str) -> str:
    return f"S#{day}#{staff_id}"


TOTAL_KEY = "A#all"  # the tenant's running totals per community and kind: "A#all" + counters named o.<c>.<k>


@dataclass
class TicketFacts:
    """A ticket as the reports see it, folded from its events (oldest first)."""

    ticket_id: str
    created_at: str = ""
    kind: str = ""
    community_id: str = ""
    channel: str = ""
    status: str = ""
    merged: bool = False
    assignee_id: str | None = None
    first_response_at: str | None = None
    first_responder: str | None = None
    resolved_at: str | None = None
    resolver: str | None = None
    resolution_note: bool = False
    closed_at: str | None = None
    ended_at: str | None = None
    rating: int | None = None
    return_visits: int = 0
    assignments: list[tuple[str, str]] = field(default_factory=list)  # (when, to whom)
    resolutions: list[tuple[str, str | None]] = field(default_factory=list)  # (when, by whom)
    ratings: list[tuple[str, int, str | None]] = field(default_factory=list)  # (when, score, resolver then)
    reopens: list[tuple[str, str | None]] = field(default_factory=list)  # (when, resolver before it)
    clock_outcomes: dict[tuple[str, int], tuple[str, str, str | None]] = field(default_factory=dict)
    # (clock, cycle) → ("met" | "breached", when, assignee then)

    @property
    def is_closed(self) -> bool:
        return self.status == "closed" and not self.merged

    @property
    def complete(self) -> bool:
        """DOMAIN.md's record completeness, for a closed ticket."""
        return bool(self.is_closed and self.kind and self.community_id and (self.resolver or self.assignee_id)
                    and self.first_response_at and self.resolution_note and self.resolved_at
                    and (self.rating is not None or self.return_visits > 0))


def _after(changes: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    change = changes.get(name)
    return (True, change.get("after")) if isinstance(change, dict) and "after" in change else (False, None)


def fold(ticket_id: str, events: Iterable[Mapping[str, Any]]) -> TicketFacts | None:
    """The facts of a ticket from its events as stored (``type``, ``occurred_at``, ``actor``, ``changes``,
    ``data``), in the order they were recorded; ``None`` before its ``ticket.created`` is there."""
    facts = TicketFacts(ticket_id)
    seen_created = False
    for event in events:
        kind, at = event["type"], event["occurred_at"]
        data, changes = event.get("data") or {}, event.get("changes") or {}
        actor = event.get("actor") or {}
        if kind == "ticket.created":
            seen_created = True
            facts.created_at, facts.kind, facts.channel = at, data.get("kind", ""), data.get("channel", "")
            facts.community_id, facts.status = data.get("community_id", ""), data.get("status", "new")
            facts.assignee_id = data.get("assignee_id")
            if facts.assignee_id:
                facts.assignments.append((at, facts.assignee_id))
            continue
        if not seen_created:
            continue
        if kind.startswith("sla."):
            clock, cycle = data.get("clock"), int(data.get("cycle") or 1)
            if kind == "sla.breached" and clock:  # on the deadline's day (the sweep notices it just after)
                facts.clock_outcomes[(clock, cycle)] = ("breached", data.get("due_at") or at, facts.assignee_id)
            elif kind == "sla.met" and clock and not data.get("late") and (clock, cycle) not in facts.clock_outcomes:
                facts.clock_outcomes[(clock, cycle)] = ("met", at, facts.assignee_id)
            continue
        if not kind.startswith("ticket."):
            continue
        if "status" in data:
            facts.status = data["status"]
        has, value = _after(changes, "kind")
        if has and value:
            facts.kind = value
        has, value = _after(changes, "acknowledged_at")
        if has and value and facts.first_response_at is None:
            facts.first_response_at = value
            facts.first_responder = actor.get("id") if actor.get("type") == "staff" else actor.get("acts_for")
        has, value = _after(changes, "assignee_id")
        if has:
            facts.assignee_id = value
            if value:
                facts.assignments.append((at, value))
        has, value = _after(changes, "merged_into")
        if has and value:
            facts.merged = True
        if kind == "ticket.resolved":
            _, resolution = _after(changes, "resolution")
            resolution = resolution or {}
            facts.resolved_at, facts.resolver = at, resolution.get("by") or actor.get("id")
            facts.resolution_note = bool(resolution.get("note"))
            facts.resolutions.append((at, facts.resolver))
        if kind == "ticket.reopened" or (kind == "ticket.rated" and data.get("reopened")):
            facts.reopens.append((at, facts.resolver))
            facts.resolved_at, facts.resolution_note, facts.closed_at = None, False, None
        if kind == "ticket.rated":
            score = int(data.get("score") or 0)
            facts.rating = score
            facts.ratings.append((at, score, facts.resolver))
        if kind == "ticket.return_visited":
            facts.return_visits += 1
        facts.closed_at = (facts.closed_at or at) if facts.status == "closed" else None
        facts.ended_at = (facts.ended_at or at) if facts.status in ENDED else None
    return facts if seen_created else None


def contributions(facts: TicketFacts, zone: ZoneInfo) -> Contributions:
    """The counters this ticket adds to each rollup (see the module's table of where each lands)."""
    out: dict[str, Counters] = defaultdict(lambda: defaultdict(int))

    def group(at: str) -> Counters:
        return out[group_key(local_day(at, zone), facts.community_id, facts.kind)]

    def staff(at: str, who: str) -> Counters:
        return out[staff_key(local_day(at, zone), who)]

    created = group(facts.created_at)
    created["created"] += 1
    created[f"ch.{facts.channel or 'unknown'}"] += 1
    if facts.kind == "complaint" and not facts.merged:
        created["complaints"] += 1
        created["complaints_closed"] += int(facts.is_closed)
    if facts.first_response_at:
        seconds = seconds_between(facts.created_at, facts.first_response_at)
        created[f"h.fr.{seconds}"] += 1
        if facts.first_responder:
            responder = staff(facts.created_at, facts.first_responder)
            responder["first_responses"] += 1
            responder[f"h.fr.{seconds}"] += 1
    for (clock, _cycle), (outcome, at, holder) in sorted(facts.clock_outcomes.items()):
        group(at)[f"{outcome}.{clock}"] += 1
        if outcome == "breached" and holder:
            staff(at, holder)["breaches"] += 1
    if facts.is_closed and facts.closed_at:
        closed = group(facts.closed_at)
        closed["closed"] += 1
        closed["complete"] += int(facts.complete)
        closed["followed_up"] += int(facts.rating is not None or facts.return_visits > 0)
    for at, score, resolver in facts.ratings:
        for counters in [group(at)] + ([staff(at, resolver)] if resolver else []):
            counters["ratings"] += 1
            counters["rating_sum"] += score
            counters["satisfied"] += int(score >= 4)
    for at, resolver in facts.resolutions:
        seconds = seconds_between(facts.created_at, at)
        for counters in [group(at)] + ([staff(at, resolver)] if resolver else []):
            counters["resolved"] += 1
            counters[f"h.res.{seconds}"] += 1
    for at, resolver in facts.reopens:
        group(at)["reopened"] += 1
        if resolver:
            staff(at, resolver)["reopened"] += 1
    for at, who in dict.fromkeys((local_day(at, zone), who) for at, who in facts.assignments):
        out[staff_key(at, who)]["assigned"] += 1
    totals = out[TOTAL_KEY]
    where = f"{facts.community_id}.{facts.kind}"
    totals[f"o.{where}"] += 1
    if facts.ended_at:
        totals[f"e.{where}"] += 1
        group(facts.ended_at)["ended"] += 1
    late = sorted(at for (clock, _), (outcome, at, _) in facts.clock_outcomes.items()
                  if clock == "resolution" and outcome == "breached")
    if late:  # overdue from its first missed resolution deadline until it ended
        totals[f"d.{where}"] += 1
        group(late[0])["overdue_in"] += 1
        if facts.ended_at:
            totals[f"x.{where}"] += 1
            group(facts.ended_at)["overdue_out"] += 1
    return {key: {name: amount for name, amount in counters.items() if amount}
            for key, counters in out.items() if any(counters.values())}


def difference(new: Contributions, old: Contributions) -> Contributions:
    """What to add to each rollup to go from ``old`` to ``new`` (keys and counters that do not change left out).

    Example
    -------
    >>> difference({"G#a": {"created": 1, "closed": 1}}, {"G#a": {"created": 1}, "G#b": {"ratings": 1}})
    {'G#a': {'closed': 1}, 'G#b': {'ratings': -1}}
    """
    out: Contributions = {}
    for key in sorted(set(new) | set(old)):
        names = set(new.get(key, {})) | set(old.get(key, {}))
        delta = {n: new.get(key, {}).get(n, 0) - old.get(key, {}).get(n, 0) for n in sorted(names)}
        delta = {n: d for n, d in delta.items() if d}
        if delta:
            out[key] = delta
    return out


def ticket_facts_at(events: Iterable[Mapping[str, Any]], ticket_id: str, zone: ZoneInfo) -> Contributions:
    """Fold and contribute in one step (``{}`` for a ticket whose creation is not in the log yet)."""
    facts = fold(ticket_id, events)
    return contributions(facts, zone) if facts else {}
