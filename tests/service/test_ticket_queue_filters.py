"""The queue filters the staff console's buckets use, on in-memory fakes: mine (``assignee_id=me``), unassigned
(``assignee_id=none``), one resident's tickets (found by the phone search), one unit's — each still one query per
page, and never another tenant's tickets.

Given the ticket desk of ``test_tickets`` with two residents: 陈阿姨 in unit 101 and 刘先生 in unit 202.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from pydantic import ValidationError

from chalicelib.core.permissions import Role
from chalicelib.core.tenancy import Principal, TenantContext, UnitClaim
from chalicelib.tenants.domain import Team, TeamMember, TenantConfig
from chalicelib.tickets.domain import Action
from chalicelib.tickets.schemas import ActionIn, TicketIn, TicketQuery
from tests.service.test_tickets import AGENT, LEAK, NOW, RESIDENT, TECH, Desk, Places, new_desk, staff

LIU = TenantContext(RESIDENT.tenant_id, Principal("resident", "res_liu", units=(
    UnitClaim("com_1", "unt_202", "1栋2单元202", "bld_1"),)))
DOOR = TicketIn(kind="repair", category="门窗", description="单元门关不上",
                location={"community_id": "com_1", "unit_id": "unt_202"})


@dataclass
class Resident:
    resident_id: str
    name: str
    phone: str = "13800000001"


@dataclass
class Unit:
    unit_id: str
    label: str
    building_id: str


class TwoResidents(Places):
    def place_for_ticket(self, ctx, *, resident_id, community_id, unit_id):  # noqa: ANN001, ANN201
        residents = {"res_chen": Resident("res_chen", "陈阿姨"), "res_liu": Resident("res_liu", "刘先生")}
        units = {"unt_101": Unit("unt_101", "1栋1单元101", "bld_1"), "unt_202": Unit("unt_202", "1栋2单元202", "bld_1")}
        return residents.get(resident_id), units.get(unit_id or ""), community_id == "com_1"

    def stage_resident_link_check(self, uow, ctx, *, resident_id, community_id, unit_id, on_conflict):  # noqa: ANN001
        homes = {"res_chen": "unt_101", "res_liu": "unt_202"}
        uow.check(lambda: unit_id in (None, homes.get(resident_id)), on_conflict=on_conflict)


@dataclass
class Queue:
    desk: Desk
    chen_open: str
    chen_mine: str
    chen_resolved: str
    liu_pooled: str
    liu_techs: str

    def ids(self, ctx: TenantContext, **query: object) -> list[str]:
        return [t.id for t in self.desk.queries.queue(ctx, TicketQuery(**query), NOW)[0]]


@pytest.fixture
def queue() -> Queue:
    """陈阿姨: one nobody has, one the agent took, one resolved; 刘先生: one in the plumbers' grab pool, one with the
    technician."""
    desk = new_desk()
    desk.intake.places = TwoResidents()
    desk.configs.current = TenantConfig(teams=[Team(id="plumbers", name="水电组",
                                                    members=[TeamMember(user_id="usr_tech")])])
    later = iter(range(1, 100))

    def file(ctx: TenantContext, report: TicketIn, category: str) -> str:
        return desk.intake.create(ctx, report.model_copy(update={"category": category}), None,
                                  NOW + timedelta(minutes=next(later))).id

    def act(ticket_id: str, action: Action, ctx: TenantContext = AGENT, **params: object) -> None:
        desk.transitions.act(ctx, ticket_id, action, ActionIn(**params), None, NOW + timedelta(minutes=next(later)))

    chen_open, chen_mine, chen_resolved = (file(RESIDENT, LEAK, c) for c in ("水电", "门窗", "家电"))
    liu_pooled, liu_techs = file(LIU, DOOR, "门窗"), file(LIU, DOOR, "水电")
    act(chen_mine, Action.ASSIGN, assignee_id="usr_agent")
    act(chen_resolved, Action.RESOLVE, note="已处理")
    stored = desk.tickets.tickets[(RESIDENT.tenant_id, liu_pooled)]
    stored.grab_team = "plumbers"  # as a grab rule files it
    act(liu_techs, Action.ASSIGN, assignee_id="usr_tech")
    return Queue(desk, chen_open, chen_mine, chen_resolved, liu_pooled, liu_techs)


def test_mine_is_the_callers_own_open_tickets(queue):
    assert queue.ids(AGENT, assignee_id="me") == [queue.chen_mine]
    assert queue.ids(TECH, assignee_id="me") == [queue.liu_techs]
    assert queue.ids(AGENT, assignee_id="usr_agent") == [queue.chen_mine]


def test_unassigned_is_the_open_tickets_nobody_has_grab_pools_included(queue):
    assert queue.ids(AGENT, assignee_id="none") == [queue.chen_open, queue.liu_pooled]
    assert queue.ids(AGENT, assignee_id="none", pool="plumbers") == [queue.liu_pooled]
    assert queue.ids(AGENT, assignee_id="none", bucket="resolved") == [queue.chen_resolved]
    # a technician's queue is always their own jobs, or a pool of theirs
    assert queue.ids(TECH, assignee_id="none") == [queue.liu_techs]
    assert queue.ids(TECH, assignee_id="none", pool="plumbers") == [queue.liu_pooled]


def test_a_residents_tickets_newest_first_every_bucket_unless_one_is_asked_for(queue):
    assert queue.ids(AGENT, resident_id="res_chen") == [queue.chen_resolved, queue.chen_mine, queue.chen_open]
    assert queue.ids(AGENT, resident_id="res_chen", bucket="open") == [queue.chen_mine, queue.chen_open]
    assert queue.ids(AGENT, resident_id="res_chen", bucket="resolved") == [queue.chen_resolved]
    assert queue.ids(AGENT, resident_id="res_chen", assignee_id="none") == [queue.chen_resolved, queue.chen_open]
    assert queue.ids(AGENT, resident_id="res_liu", kind="repair") == [queue.liu_techs,
                                                                                     queue.liu_pooled]
    assert queue.ids(AGENT, resident_id="res_nobody") == []
    # a technician looking a resident up sees only their own jobs among the resident's tickets
    assert queue.ids(TECH, resident_id="res_liu") == [queue.liu_techs]
    assert queue.ids(TECH, resident_id="res_chen") == []


def test_a_units_tickets_in_any_list(queue):
    assert queue.ids(AGENT, unit_id="unt_202") == [queue.liu_pooled, queue.liu_techs]
    assert queue.ids(AGENT, unit_id="unt_202", assignee_id="none") == [queue.liu_pooled]
    assert queue.ids(AGENT, unit_id="unt_101", bucket="resolved") == [queue.chen_resolved]
    assert queue.ids(AGENT, unit_id="unt_999") == []


def test_another_tenants_resident_or_unit_yields_an_empty_page_not_their_tickets(queue):
    elsewhere = TenantContext("tnt_other", staff("usr_agent", Role.AGENT).principal)
    assert queue.ids(elsewhere, resident_id="res_chen") == []
    assert queue.ids(elsewhere, unit_id="unt_101") == []
    assert queue.ids(elsewhere, assignee_id="none") == []
    assert queue.ids(elsewhere, assignee_id="me") == []


@pytest.mark.parametrize("field,value", [
    ("assignee_id", "usr_x#open"), ("assignee_id", "someone"), ("assignee_id", "ME"),
    ("resident_id", "usr_01"), ("resident_id", "res_X"), ("unit_id", "res_01"), ("unit_id", "unt_1 OR 1=1"),
])
def test_ids_that_cannot_be_ids_are_refused(field, value):
    with pytest.raises(ValidationError) as refused:
        TicketQuery(**{field: value})
    assert refused.value.errors()[0]["loc"] == (field,)
