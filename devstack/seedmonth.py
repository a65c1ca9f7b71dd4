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


def demo_world(tenant_id: str) -> World:
    """The demo tenant as a world to fill: its agent and admin at the desk, its technician, its residents' homes."""
    from chalicelib.core.permissions import Role, permissions_for
    from chalicelib.core.tenancy import UnitClaim
    from devstack.demo import DEMO_STAFF

    tenants = bootstrap.tenant_repository()
    members = [tenants.find_staff_by_email(tenant_id, email) for email, _, _ in DEMO_STAFF]
    ctx_of = {m.user_id: TenantContext(tenant_id, Principal("staff", m.user_id, Role(m.role),
                                                            permissions_for(Role(m.role)))) for m in members if m}
    desk = [c for c in ctx_of.values() if c.principal.role in (Role.ADMIN, Role.AGENT)]
    technicians = [c for c in ctx_of.values() if c.principal.role == Role.TECHNICIAN]
    people, _ = bootstrap.resident_repository().list_residents(desk[0], 100, None)
    homes = []
    for person in people:
        for unit in person.units:
            claim = UnitClaim(unit["community_id"], unit["unit_id"], unit.get("label", ""), unit.get("building_id"))
            principal = Principal("resident", person.resident_id, units=(claim,), name=person.name,
                                  phone_hint=person.phone)
            homes.append(Home(TenantContext(tenant_id, principal), person.resident_id, unit["community_id"],
                              unit["unit_id"]))
    return World(tenant_id, desk, technicians, homes)


def fill_demo(count: int, days: int = 30) -> Outcome:
    """``make run`` with ``LINLI_DEMO_MONTH=<count>``: the demo tenant's last ``days`` days filled with ``count``
    tickets (about a second each on the embedded stack, whose consumers handle every event they make)."""
    from devstack.demo import DEMO_SLUG

    tenant_id = bootstrap.tenant_repository().tenant_id_for_slug(DEMO_SLUG)
    if tenant_id is None:
        raise RuntimeError("no demo tenant to fill")
    now = utcnow()
    start = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return fill(demo_world(tenant_id), start, days, count, seed=count, until=now)


@dataclass
class NewTenant:
    world: World
    slug: str
    admin_email: str
    password: str
    community_ids: list[str]
    community_names: list[str]


def new_tenant(company: str = "报表物业", slug: str | None = None, password: str | None = None) -> NewTenant:
    """A fresh tenant to fill: an admin, two agents, three technicians, two communities (翠苑, 荷塘月色) of six units
    with a resident each — what the reports' tests fill, so they share no resident's daily limit with others."""
    import uuid

    from chalicelib.core.permissions import Permission, Role, permissions_for
    from chalicelib.core.tenancy import UnitClaim
    from chalicelib.residents.schemas import BuildingIn, CommunityIn, ResidentIn, ResidentUnitIn, UnitIn
    from chalicelib.tenants.schemas import SignupIn, StaffIn
    from devstack.demo import DEMO_PASSWORD

    places, people, now = bootstrap.place_service(), bootstrap.resident_service(), utcnow()
    password = password or DEMO_PASSWORD  # every made-up tenant's staff sign in as the demo's do
    slug = slug or f"r-{uuid.uuid4().hex[:8]}"
    email = f"boss@{slug}.test"
    signup = bootstrap.staff_auth().signup(SignupIn(company_name=company, slug=slug, admin_email=email,
                                                    admin_password=password), now)
    tid = signup.tenant.id
    admin = TenantContext(tid, Principal("staff", signup.user.id, Role.ADMIN, frozenset(Permission)))
    desk, technicians = [], []
    for n, role in enumerate((Role.AGENT, Role.AGENT, Role.TECHNICIAN, Role.TECHNICIAN, Role.TECHNICIAN)):
        names = ("李娜", "王芳", "张强", "赵磊", "陈刚")
        member = bootstrap.staff_service().create_staff(admin, StaffIn(
            email=f"{role.value}{n}@{slug}.test", name=names[n], role=role, password=password), now)
        ctx = TenantContext(tid, Principal("staff", member.id, role, permissions_for(role)))
        (desk if role == Role.AGENT else technicians).append(ctx)
    homes, ids, names = [], [], []
    for c, name in enumerate(("翠苑", "荷塘月色")):
        community = places.create_community(admin, CommunityIn(name=name), now)
        ids.append(community.id)
        names.append(name)
        building = places.create_building(admin, community.id, BuildingIn(name="1栋"), now)
        for u in range(6):
            unit = places.create_unit(admin, community.id, UnitIn(building_id=building.id, number=f"{u + 1}01"), now)
            resident = people.create_resident(admin, ResidentIn(
                name=f"住户{c}{u}", phone=f"139{c:02d}{u:06d}",
                units=[ResidentUnitIn(unit_id=unit.id, community_id=community.id)]), now)
            ctx = TenantContext(tid, Principal("resident", resident.id, units=(
                UnitClaim(community.id, unit.id, unit.label, building.id),), name=resident.name,
                phone_hint=f"139{c:02d}{u:06d}"))
            homes.append(Home(ctx, resident.id, community.id, unit.id))
    return NewTenant(World(tid, desk, technicians, homes), slug, email, password, ids, names)
