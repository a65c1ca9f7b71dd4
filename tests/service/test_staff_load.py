"""Each staff member's open load, on in-memory fakes: a per-staff counter moved in the same commit as the ticket
change that puts a ticket on someone or takes it off them, and the staff directory that shows it (the assign
picker's ``GET /v1/staff?role=technician&with_load=true``).

Given the ticket desk of ``test_tickets`` (a resident in unit 101, an agent, a technician) and a second technician.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.core.errors import ConflictError, PreconditionFailedError
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.tenants.domain import DispatchMatch, DispatchRule, Team, TeamMember, TenantConfig
from chalicelib.tenants.schemas import SignupIn, StaffIn
from chalicelib.tickets.domain import Action
from chalicelib.tickets.schemas import ActionIn, StaffTicketIn
from tests.fakes.storage import MemoryStore
from tests.fakes.tenants import tenant_services
from tests.fakes.tickets import InMemoryTicketRepository
from tests.service.test_tickets import AGENT, LEAK, NOW, RESIDENT, TECH, Desk, new_desk, staff

TECH2 = staff("usr_tech2", Role.TECHNICIAN)


def load(desk: Desk, *user_ids: str) -> list[int]:
    counts = desk.tickets.open_load(AGENT, list(user_ids))
    return [counts[u] for u in user_ids]


def act(desk: Desk, ctx: TenantContext, ticket_id: str, action: Action, **params: object):
    return desk.transitions.act(ctx, ticket_id, action, ActionIn(**params), None, NOW + timedelta(minutes=5))


@pytest.fixture
def two_techs() -> Desk:
    desk = new_desk()
    desk.transitions.staff.active.add("usr_tech2")
    return desk


def test_assigning_transferring_resolving_and_reopening_move_the_load(two_techs):
    desk = two_techs
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    assert load(desk, "usr_tech", "usr_tech2") == [0, 0]

    act(desk, AGENT, ticket.id, Action.ASSIGN, assignee_id="usr_tech")                       # assign: +1
    assert load(desk, "usr_tech", "usr_tech2") == [1, 0]
    act(desk, AGENT, ticket.id, Action.ASSIGN, assignee_id="usr_tech2", reason="换人")        # transfer: −1 / +1
    assert load(desk, "usr_tech", "usr_tech2") == [0, 1]
    act(desk, TECH2, ticket.id, Action.START)
    act(desk, TECH2, ticket.id, Action.WAIT_ON_RESIDENT, reason="请提供照片")                  # still open: no move
    act(desk, RESIDENT, ticket.id, Action.RESUME)
    assert load(desk, "usr_tech2") == [1]
    act(desk, TECH2, ticket.id, Action.RESOLVE, note="已更换水管")                               # resolve: −1
    assert load(desk, "usr_tech", "usr_tech2") == [0, 0]
    act(desk, AGENT, ticket.id, Action.REOPEN, reason="还在漏")                                 # reopen: +1
    assert load(desk, "usr_tech2") == [1]
    act(desk, TECH2, ticket.id, Action.RESOLVE, note="再次修好")
    act(desk, AGENT, ticket.id, Action.CLOSE)                                                  # resolved → closed
    assert load(desk, "usr_tech", "usr_tech2") == [0, 0]


def test_cancelling_merging_and_returning_take_a_ticket_off_its_assignee(two_techs):
    desk = two_techs
    kept, cancelled, merged, returned = (desk.intake.create(RESIDENT, LEAK.model_copy(update={"category": c}), None,
                                                            NOW) for c in ("水电", "门窗", "家电", "电梯"))
    for ticket in (kept, cancelled, merged, returned):
        act(desk, AGENT, ticket.id, Action.ASSIGN, assignee_id="usr_tech")
    assert load(desk, "usr_tech") == [4]
    act(desk, AGENT, cancelled.id, Action.CANCEL, reason="业主已自行处理")
    act(desk, AGENT, merged.id, Action.MERGE, into_ticket_id=kept.id)
    act(desk, TECH, returned.id, Action.RETURN, reason="缺少配件")                               # 退单
    assert load(desk, "usr_tech") == [1]


def test_a_ticket_dispatched_on_filing_or_grabbed_from_a_pool_counts_for_its_taker(two_techs):
    desk = two_techs
    desk.configs.current = TenantConfig(
        teams=[Team(id="plumbers", name="水电组", members=[TeamMember(user_id="usr_tech2")])],
        dispatch_rules=[DispatchRule(match=DispatchMatch(kind="emergency"), user_id="usr_tech"),
                        DispatchRule(match=DispatchMatch(kind="repair"), team_id="plumbers", mode="grab")])
    urgent = desk.intake.create(AGENT, StaffTicketIn(kind="emergency", description="楼道漏水", resident_id="res_chen",
                                                     location={"community_id": "com_1", "unit_id": "unt_101"}),
                                None, NOW)
    pooled = desk.intake.create(RESIDENT, LEAK, None, NOW)
    assert urgent.assignee_id == "usr_tech" and desk.tickets.get(AGENT, pooled.id).grab_team == "plumbers"
    assert load(desk, "usr_tech", "usr_tech2") == [1, 0]
    act(desk, TECH2, pooled.id, Action.GRAB)                                                   # 抢单
    assert load(desk, "usr_tech", "usr_tech2") == [1, 1]


def test_a_refused_or_conflicting_change_moves_nothing(two_techs):
    desk = two_techs
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    act(desk, AGENT, ticket.id, Action.ASSIGN, assignee_id="usr_tech")
    with pytest.raises(PreconditionFailedError):  # a stale If-Match
        desk.transitions.act(AGENT, ticket.id, Action.ASSIGN, ActionIn(assignee_id="usr_tech2"), 1, NOW)
    with pytest.raises(ConflictError):            # assigning to the same person again
        act(desk, AGENT, ticket.id, Action.ASSIGN, assignee_id="usr_tech")
    assert load(desk, "usr_tech", "usr_tech2") == [1, 0]


def test_the_assign_picker_lists_one_roles_members_with_their_open_tickets():
    store = MemoryStore()
    tickets = InMemoryTicketRepository(store)
    services = tenant_services(store, now=NOW, load=tickets)
    directory = services.staff
    admin, agent_a = _tenant(services, "green-garden")
    other_admin, _ = _tenant(services, "lotus-pond")
    password = "Correct-horse-42"
    wang = directory.create_staff(admin, StaffIn(email="wang@x.cn", name="王师傅", role=Role.TECHNICIAN,
                                                 password=password), NOW)
    zhao = directory.create_staff(admin, StaffIn(email="zhao@x.cn", name="赵师傅", role=Role.TECHNICIAN,
                                                 password=password), NOW)
    theirs = directory.create_staff(other_admin, StaffIn(email="chen@x.cn", name="陈师傅", role=Role.TECHNICIAN,
                                                         password=password), NOW)
    tickets.loads.update({(admin.tenant_id, wang.id): 3, (admin.tenant_id, agent_a): 1,
                          (other_admin.tenant_id, theirs.id): 5})

    picker, cursor = directory.list_staff(admin, 25, None, role=Role.TECHNICIAN, with_load=True)
    assert cursor is None
    assert sorted((m.name, m.open_tickets) for m in picker) == [("王师傅", 3), ("赵师傅", 0)]
    everyone, _ = directory.list_staff(admin, 25, None)
    assert {m.role for m in everyone} == {Role.ADMIN, Role.AGENT, Role.TECHNICIAN}
    assert all(m.open_tickets is None for m in everyone)  # only asked for, never read otherwise
    assert theirs.id not in {m.id for m in everyone} and zhao.id in {m.id for m in everyone}


def _tenant(services, slug: str) -> tuple[TenantContext, str]:
    created = services.auth.signup(SignupIn(company_name="绿城物业", slug=slug, admin_email=f"boss@{slug}.cn",
                                            admin_password="Correct-horse-42"), NOW)
    ctx = TenantContext(created.tenant.id, Principal("staff", created.user.id, Role.ADMIN, frozenset(Permission)))
    agent = services.staff.create_staff(ctx, StaffIn(email=f"agent@{slug}.cn", name="李娜", role=Role.AGENT,
                                                     password="Correct-horse-42"), NOW)
    return ctx, agent.id


def test_a_members_name_is_read_once_and_forgotten_when_it_changes():
    services = tenant_services(now=NOW)
    admin, agent_id = _tenant(services, "green-garden")
    reads = []
    real_get = services.repo.get_staff
    services.repo.get_staff = lambda ctx, user_id, **kw: reads.append(user_id) or real_get(ctx, user_id, **kw)
    assert services.staff.display_name(admin, agent_id) == "李娜"
    assert services.staff.display_name(admin, agent_id) == "李娜" and reads == [agent_id]
    from chalicelib.tenants.schemas import StaffPatch

    services.staff.update_staff(admin, agent_id, StaffPatch(name="李娜娜"), None, NOW)
    assert services.staff.display_name(admin, agent_id) == "李娜娜"
    assert services.staff.display_name(admin, "usr_nobody") is None
    assert services.staff.display_name(TenantContext("tnt_other", admin.principal), agent_id) is None
