"""The ticket desk and the resident's phone, on in-memory fakes: masked on the ticket from the moment it is filed, the
full number revealed only to whom the work needs it, each reveal an audit event in the staff timeline (and nowhere a
resident or an integration looks), at most REVEALS_PER_HOUR per staff member."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest

from chalicelib.core.errors import ForbiddenError, NotFoundError, RateLimitedError
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext, UnitClaim
from chalicelib.events.catalogue import queues_for
from chalicelib.residents.domain import Resident
from chalicelib.tickets.access import TicketAccess
from chalicelib.tickets.contact import REVEALS_PER_HOUR, ResidentContact
from chalicelib.tickets.domain import Action
from chalicelib.tickets.schemas import ActionIn, StaffTicketIn
from tests.fakes.residents import InMemoryResidentRepository
from tests.service.test_tickets import ADMIN, AGENT, LEAK, NOW, TECH, TENANT, Desk, new_desk, staff

PHONE = "13800000001"
RESIDENT = TenantContext(TENANT, Principal("resident", "res_chen", units=(
    UnitClaim("com_1", "unt_101", "1栋1单元101", "bld_1"),), name="陈阿姨", phone_hint="138****0001"))
BUTLER = staff("usr_butler", Role.BUTLER)
INTEGRATION = TenantContext(TENANT, Principal("api_key", "key_1", None, frozenset(Permission)))


@dataclass
class World:
    desk: Desk
    contact: ResidentContact


@pytest.fixture
def world() -> World:
    """Given the ticket desk and 陈阿姨 (13800000001) in the residents' store, on one in-memory store."""
    desk = new_desk()
    residents = InMemoryResidentRepository(desk.store)
    uow = desk.store.unit_of_work(TENANT, ADMIN.actor, NOW)
    residents.stage_new_resident(uow, ADMIN, Resident("res_chen", "陈阿姨", PHONE, [], "t", "t"),
                                 on_phone_taken=ForbiddenError())
    uow.commit()
    return World(desk, ResidentContact(TicketAccess(desk.tickets, desk.configs), residents,
                                       desk.store.unit_of_work))


def test_the_ticket_carries_the_phone_masked_whoever_filed_it_and_shows_it_to_staff_only(world: World):
    by_resident = world.desk.intake.create(RESIDENT, LEAK, None, NOW)
    by_phone = world.desk.intake.create(AGENT, StaffTicketIn(resident_id="res_chen", **LEAK.model_dump()), None, NOW)

    for filed in (by_resident, by_phone):
        stored = world.desk.tickets.get(AGENT, filed.id)
        assert (stored.resident_name, stored.resident_phone) == ("陈阿姨", "138****0001")
        staff_view = world.desk.queries.get(AGENT, filed.id, NOW)
        assert (staff_view.resident_name, staff_view.resident_phone) == ("陈阿姨", "138****0001")
        assert world.desk.queries.get(RESIDENT, filed.id, NOW).resident_phone is None
    assert PHONE not in json.dumps([e.to_message() for e in world.desk.store.events], ensure_ascii=False)


def test_an_agent_sees_the_full_number_and_the_reveal_is_in_the_staff_timeline_only(world: World):
    ticket = world.desk.intake.create(RESIDENT, LEAK, None, NOW)

    revealed = world.contact.reveal_phone(AGENT, ticket.id, NOW)

    assert (revealed.resident_id, revealed.phone) == ("res_chen", PHONE)
    [event] = [e for e in world.desk.queries.timeline(AGENT, ticket.id) if e.type == "resident.phone_revealed"]
    assert event.actor == AGENT.actor and event.data == {"resident_id": "res_chen"}
    assert PHONE not in event.model_dump_json()
    assert "resident.phone_revealed" not in [e.type for e in world.desk.queries.public_timeline(RESIDENT, ticket.id)]
    assert queues_for("resident.phone_revealed") == ()  # neither notifications nor webhooks hear of it


def test_the_assigned_technician_may_while_the_job_is_open(world: World):
    ticket = world.desk.intake.create(RESIDENT, LEAK, None, NOW)
    with pytest.raises(NotFoundError):  # not theirs: the ticket itself is out of sight
        world.contact.reveal_phone(TECH, ticket.id, NOW)
    world.desk.transitions.act(AGENT, ticket.id, Action.ASSIGN, ActionIn(assignee_id="usr_tech"), None, NOW)

    assert world.contact.reveal_phone(TECH, ticket.id, NOW).phone == PHONE
    world.desk.transitions.act(TECH, ticket.id, Action.START, ActionIn(), None, NOW)
    world.desk.transitions.act(TECH, ticket.id, Action.RESOLVE, ActionIn(note="换了阀门"), None, NOW)
    with pytest.raises(ForbiddenError):
        world.contact.reveal_phone(TECH, ticket.id, NOW)
    assert world.contact.reveal_phone(ADMIN, ticket.id, NOW).phone == PHONE


@pytest.mark.parametrize("who", [BUTLER, INTEGRATION], ids=["butler", "api_key"])
def test_butlers_and_integrations_may_not(world: World, who: TenantContext):
    ticket = world.desk.intake.create(RESIDENT, LEAK, None, NOW)
    with pytest.raises(ForbiddenError):
        world.contact.reveal_phone(who, ticket.id, NOW)
    assert "resident.phone_revealed" not in world.desk.types(ticket.id)


def test_another_tenants_ticket_is_not_found(world: World):
    ticket = world.desk.intake.create(RESIDENT, LEAK, None, NOW)
    stranger = TenantContext("tnt_other", AGENT.principal)
    with pytest.raises(NotFoundError):
        world.contact.reveal_phone(stranger, ticket.id, NOW)
    with pytest.raises(NotFoundError):
        world.contact.reveal_phone(AGENT, "tkt_missing", NOW)


def test_reveals_stop_at_the_hourly_count_per_staff_member(world: World):
    ticket = world.desk.intake.create(RESIDENT, LEAK, None, NOW)
    start = NOW + timedelta(minutes=10)
    for _ in range(REVEALS_PER_HOUR):
        world.contact.reveal_phone(AGENT, ticket.id, start)

    with pytest.raises(RateLimitedError) as refused:
        world.contact.reveal_phone(AGENT, ticket.id, start)

    assert refused.value.code == "reveal_limit" and refused.value.headers["Retry-After"] == str(50 * 60 + 1)
    assert world.desk.types(ticket.id).count("resident.phone_revealed") == REVEALS_PER_HOUR
    assert world.contact.reveal_phone(ADMIN, ticket.id, start).phone == PHONE  # another staff member's count
    assert world.contact.reveal_phone(AGENT, ticket.id, start + timedelta(hours=1)).phone == PHONE
