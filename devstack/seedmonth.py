"""A month of tickets for the reports: filed and worked through the real services with a controlled clock.

``fill(world, start, days, count, seed)`` files ``count`` tickets over ``days`` days from ``start`` across the
world's communities and works each one as a desk would, at the times a seeded random plan says: mixed kinds and
channels, first responses in and out of the 15-minute promise (the SLA check runs at the moment the plan says, so
a late one is breached as the sweep would have recorded it), dispatch, resolution, then a confirmation, a rating,
the auto-close, a reopen, a return visit — or nothing yet: some complaints are left open. Nothing is planned past
``until`` (now, by default), so the latest tickets are still being worked. Used by the reports tests and by
``make run`` with ``LINLI_DEMO_MONTH=<tickets>`` to fill the demo tenant.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib import bootstrap
from chalicelib.core.clock import utcnow
from chalicelib.core.errors import LinliError
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.tickets.domain import Action
from chalicelib.tickets.schemas import ActionIn, StaffTicketIn, TicketIn

KINDS = (("repair", 45, ["水电", "门窗", "家电", "公共设施", "电梯"]),  # (kind, weight, categories)
         ("complaint", 18, ["噪音", "卫生", "停车", "服务态度"]), ("inquiry", 20, ["物业费", "装修许可", "其他"]),
         ("suggestion", 7, []), ("emergency", 10, ["漏水", "电梯困人"]))
CLOCK_GOALS = frozenset({Action.ACKNOWLEDGE, Action.ASSIGN, Action.ARRIVE, Action.RESOLVE})
DESCRIPTIONS = {"repair": "厨房水管漏水", "complaint": "楼上装修噪音太大", "inquiry": "物业费怎么交",
                "suggestion": "建议增加快递柜", "emergency": "电梯困人，请速来"}


@dataclass
class Home:
    """A resident and one of their units, able to file for themselves."""

    ctx: TenantContext
    resident_id: str
    community_id: str
    unit_id: str


@dataclass
class World:
    tenant_id: str
    desk: list[TenantContext]  # agents and supervisors: acknowledge, dispatch, return visits, close
    technicians: list[TenantContext]
    homes: list[Home]
    system: TenantContext = field(init=False)

    def __post_init__(self) -> None:
        self.system = TenantContext(self.tenant_id, Principal("system", "auto_close"))


@dataclass
class Outcome:
    ticket_ids: list[str] = field(default_factory=list)
    actions: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)


def fill(world: World, start: datetime, days: int, count: int, seed: int = 1, until: datetime | None = None
         ) -> Outcome:
    rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
    until = until or utcnow()
    intake, transitions = bootstrap.ticket_intake(), bootstrap.ticket_transitions()
    schedules = bootstrap.ticket_schedules()
    outcome = Outcome()
    filed_today: Counter = Counter()
    kinds = [k for k, *_ in KINDS]
    weights = [w for _, w, _ in KINDS]
    for n in range(count):
        day = n * days // count
        created = start + timedelta(days=day, hours=rng.uniform(0, 14), minutes=rng.uniform(0, 59))
        if created >= until:
            continue
        kind = rng.choices(kinds, weights)[0]
        categories = next(c for k, _, c in KINDS if k == kind)
        home = rng.choice(world.homes)
        location = {"community_id": home.community_id, "unit_id": home.unit_id}
        body: dict[str, Any] = {"kind": kind, "category": rng.choice(categories) if categories else None,
                                "description": f"{DESCRIPTIONS[kind]}（{n + 1}）", "location": location}
        if filed_today[(home.resident_id, day)] < 8 and rng.random() < 0.6:
            filed_today[(home.resident_id, day)] += 1
            channel = rng.choice(["h5", "mini_program"])
            ticket = intake.create(home.ctx, TicketIn(**body, channel=channel), None, created)
        else:
            channel = rng.choice(["phone", "phone", "walk_in", "api"])
            filer = world.desk[0]
            ticket = intake.create(filer, StaffTicketIn(**body, channel=channel, resident_id=home.resident_id),
                                   None, created)
        outcome.ticket_ids.append(ticket.id)
        _work(world, rng, ticket.id, kind, created, until, home, transitions, schedules, outcome)
    return outcome


def _work(world: World, rng: random.Random, ticket_id: str, kind: str, created: datetime, until: datetime,
          home: Home, transitions: Any, schedules: Any, outcome: Outcome) -> None:
    clock = created
    desk = rng.choice(world.desk)
    tech = rng.choice(world.technicians)

    def act(ctx: TenantContext, action: Action, after: timedelta, **params: Any) -> bool:
        nonlocal clock
        at = clock + after
        if at >= until:
            return False
        if action in CLOCK_GOALS:  # what the sweep would have recorded by then (its deadlines end at these)
            schedules.sla_check(world.tenant_id, ticket_id, at)
        try:
            transitions.act(ctx, ticket_id, action, ActionIn(**params), None, at)
        except LinliError as exc:
            outcome.refused[(action.value, exc.code)] += 1
            return False
        clock = at
        outcome.actions[action.value] += 1
        return True

    # first response: most within 15 minutes, some late, a few only when dispatched
    roll = rng.random()
    minutes = rng.uniform(0.5, 14) if roll < 0.78 else rng.uniform(16, 90)
    if roll < 0.93 and not act(desk, Action.ACKNOWLEDGE, timedelta(minutes=minutes)):
        return
    if kind in ("inquiry", "suggestion") and rng.random() < 0.7:
        if not act(desk, Action.RESOLVE, timedelta(minutes=rng.uniform(5, 240)), note="已电话答复业主"):
            return
    else:
        if not act(desk, Action.ASSIGN, timedelta(minutes=rng.uniform(1, 30)), assignee_id=tech.principal.id):
            return
        if kind == "complaint" and rng.random() < 0.06:
            return  # a complaint left open
        if not act(tech, Action.START, timedelta(minutes=rng.uniform(5, 120))):
            return
        note = None if rng.random() < 0.04 else "已处理完毕"
        if not act(tech, Action.RESOLVE, timedelta(hours=rng.uniform(0.3, 30)), note=note or "处理中"):
            return
        if note is None:  # the record lacks a real note: stays incomplete unless followed up
            pass
    ending = rng.random()
    if ending < 0.45:
        score = rng.choices([5, 4, 3, 2, 1], [55, 28, 9, 5, 3])[0]
        act(home.ctx, Action.RATE, timedelta(hours=rng.uniform(1, 48)), score=score,
            comment="师傅很专业" if score >= 4 else "不太满意")
    elif ending < 0.62:
        act(home.ctx, Action.CONFIRM, timedelta(hours=rng.uniform(1, 48)))
    elif ending < 0.80:
        act(world.system, Action.AUTO_CLOSE, timedelta(days=3, minutes=rng.uniform(1, 60)))
    elif ending < 0.90:
        if act(home.ctx, Action.REOPEN, timedelta(hours=rng.uniform(1, 24)), reason="问题又出现了"):
            act(tech, Action.RESOLVE, timedelta(hours=rng.uniform(1, 24)), note="再次处理，已解决")
            act(home.ctx, Action.RATE, timedelta(hours=rng.uniform(1, 24)), score=rng.choice([3, 4, 5]))
    # else: still waiting for the resident
    if rng.random() < 0.3:
        act(desk, Action.RETURN_VISIT, timedelta(hours=rng.uniform(2, 72)), note="电话回访，业主满意",
            outcome="satisfied")
