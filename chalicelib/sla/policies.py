"""SLA policies: which clocks a ticket gets, their targets, calendar, warning share and escalation steps.

Tenants keep an ordered list in their configuration; the first policy whose ``match`` fits a ticket
sets its clocks. The defaults are the service levels of DOMAIN.md.
"""
from __future__ import annotations

from datetime import date, time, timedelta
from functools import lru_cache
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from chalicelib.core.schema import Schema
from chalicelib.sla.calendar import BusinessCalendar

ClockName = Literal["first_response", "next_reply", "on_site", "resolution"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TWENTY_FOUR_SEVEN = "24x7"


class CalendarConfig(Schema):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$")
    timezone: str = "Asia/Shanghai"
    weekly_hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[tuple[time, time]]] = Field(
        default_factory=lambda: {d: [(time(9), time(18))] for d in WEEKDAYS[:5]})
    china_holidays: bool = True
    closures: list[date] = Field(default_factory=list, max_length=400)
    extra_workdays: list[date] = Field(default_factory=list, max_length=400)

    def build(self) -> BusinessCalendar:
        return BusinessCalendar(timezone=self.timezone, china_holidays=self.china_holidays,
                                weekly_hours=tuple(tuple(self.weekly_hours.get(d, [])) for d in WEEKDAYS),
                                closures=frozenset(self.closures), extra_workdays=frozenset(self.extra_workdays))


class PolicyMatch(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    category: str | None = None
    priority: Literal["P1", "P2", "P3", "P4"] | None = None
    community_id: str | None = None

    def matches(self, kind: str, category: str | None, priority: str, community_id: str | None) -> bool:
        return all(want is None or want == have for want, have in (
            (self.kind, kind), (self.category, category), (self.priority, priority),
            (self.community_id, community_id)))


class Escalation(Schema):
    after: timedelta = timedelta(0)
    notify: Literal["supervisor", "admin", "assignee"] = "supervisor"


class SlaPolicy(Schema):
    """One ordered rule: the first whose ``match`` fits a ticket sets its clocks."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=60)
    match: PolicyMatch = Field(default_factory=PolicyMatch)
    targets: dict[ClockName, timedelta]
    calendar: str = TWENTY_FOUR_SEVEN
    warn_at: float = Field(0.75, gt=0, lt=1)
    pause_when_waiting: list[ClockName] = Field(default_factory=lambda: ["on_site", "resolution"])
    escalation: list[Escalation] = Field(default_factory=lambda: [
        Escalation(after=timedelta(0), notify="supervisor"), Escalation(after=timedelta(minutes=30), notify="admin")])

    @field_validator("targets")
    @classmethod
    def _positive(cls, targets: dict[str, timedelta]) -> dict[str, timedelta]:
        if not targets or any(t <= timedelta(0) for t in targets.values()):
            raise ValueError("give at least one positive target (ISO 8601 duration such as PT15M)")
        return targets


def _policy(name: str, match: dict[str, str], **targets: timedelta) -> SlaPolicy:
    return SlaPolicy(name=name, match=PolicyMatch(**match), targets=targets)


MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@lru_cache(maxsize=1)
def default_policies() -> tuple[SlaPolicy, ...]:
    """The service levels of DOMAIN.md (built on first use: models aren't validated at import)."""
    return (
        _policy("紧急", {"kind": "emergency"}, first_response=15 * MINUTE, on_site=15 * MINUTE, resolution=2 * HOUR),
        _policy("紧急报修", {"kind": "repair", "priority": "P1"}, first_response=15 * MINUTE, on_site=45 * MINUTE,
                resolution=12 * HOUR),
        _policy("报修", {"kind": "repair"}, first_response=15 * MINUTE, resolution=24 * HOUR),
        _policy("投诉", {"kind": "complaint"}, first_response=15 * MINUTE, resolution=7 * DAY),
        _policy("咨询", {"kind": "inquiry"}, first_response=15 * MINUTE, resolution=4 * HOUR),
        _policy("默认", {}, first_response=15 * MINUTE),
    )


def check_policies(policies: list[SlaPolicy], calendars: list[CalendarConfig]) -> list[dict[str, str]]:
    """Problems with a tenant's policy list (empty when fine)."""
    problems = []
    known = {c.id for c in calendars} | {TWENTY_FOUR_SEVEN}
    for index, policy in enumerate(policies):
        if policy.calendar not in known:
            problems.append({"field": f"sla_policies.{index}.calendar", "type": "unknown_calendar",
                             "message": f"No calendar named {policy.calendar}."})
    if policies and policies[-1].match.model_dump(exclude_none=True):
        problems.append({"field": f"sla_policies.{len(policies) - 1}.match", "type": "catch_all_last",
                         "message": "The last policy must match everything (an empty match)."})
    return problems


def match_policy(policies: list[SlaPolicy], *, kind: str, category: str | None, priority: str,
                 community_id: str | None) -> SlaPolicy:
    for policy in policies or default_policies():
        if policy.match.matches(kind, category, priority, community_id):
            return policy
    return default_policies()[-1]
