"""Masking and scope: staff phones whole only for admins and the member themselves; a butler reads only the
residents of their own buildings. Service tests on the fakes, plus the role matrix of who sees what."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import NotFoundError
from chalicelib.core.permissions import Permission, Role, permissions_for
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.residents.schemas import BuildingIn, CommunityIn, ResidentIn, ResidentUnitIn, UnitIn
from chalicelib.tenants.domain import TenantConfig
from chalicelib.tenants.schemas import ApiKeyIn, SignupIn, StaffIn
from tests.fakes.residents import ResidentDesk
from tests.fakes.tenants import TenantServices, tenant_services

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
PASSWORD = "Correct-horse-42"
PHONE, MASKED = "13912345678", "139****5678"


@pytest.fixture
def services() -> TenantServices:
    return tenant_services(now=NOW)


def staffed(services: TenantServices) -> tuple[TenantContext, dict[str, TenantContext], str]:
    """An admin, one member of every other role, and a technician with a phone; each member's context."""
    created = services.auth.signup(SignupIn(company_name="绿城物业", slug="green-garden",
                                            admin_email="boss@example.com", admin_password=PASSWORD), NOW)
    admin = services.auth.authenticate(created.access_token, "req")
    members = {}
    for role in (Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.BUTLER):
        member = services.staff.create_staff(admin, StaffIn(email=f"{role.value}@example.com", name=role.value,
                                                            role=role, password=PASSWORD), NOW)
        members[role.value] = TenantContext(admin.tenant_id, Principal("staff", member.id, role,
                                                                       permissions_for(role)))
    with_phone = services.staff.create_staff(admin, StaffIn(email="wang@example.com", name="王师傅",
                                                            role=Role.TECHNICIAN, password=PASSWORD,
                                                            phone=PHONE), NOW)
    return admin, members, with_phone.id


def phones_seen(services: TenantServices, ctx: TenantContext, user_id: str) -> set[str | None]:
    listed = {m.phone for m in services.staff.list_staff(ctx, 50, None)[0] if m.id == user_id}
    return listed | {services.staff.get_staff(ctx, user_id).phone}


def test_agent_cannot_read_staff_phones(services):
    _, members, user_id = staffed(services)
    for role in ("agent", "supervisor", "technician", "butler"):  # the role matrix: every non-admin role
        assert phones_seen(services, members[role], user_id) == {MASKED}, role


def test_api_key_cannot_read_staff_phones(services):
    admin, _, user_id = staffed(services)
    key = services.api_keys.create_api_key(admin, ApiKeyIn(name="ERP", scopes=[Permission.STAFF_READ]), NOW)
    as_key = services.api_keys.authenticate(key.key, "req")
    assert phones_seen(services, as_key, user_id) == {MASKED}


def test_admin_and_self_see_the_phone(services):
    admin, _, user_id = staffed(services)
    assert phones_seen(services, admin, user_id) == {PHONE}
    himself = TenantContext(admin.tenant_id, Principal("staff", user_id, Role.TECHNICIAN,
                                                       permissions_for(Role.TECHNICIAN)))
    assert services.staff.me(himself, TenantConfig()).phone == PHONE
    assert services.staff.get_staff(himself, user_id).phone == PHONE


# --- a butler's residents --------------------------------------------------------------------------------
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
BUTLER = TenantContext("tnt_1", Principal("staff", "usr_butler", Role.BUTLER, permissions_for(Role.BUTLER)))


def residents_in_two_buildings() -> tuple[ResidentDesk, str, str]:
    """翠苑 with 1栋 (the butler's) and 2栋 (someone else's), one resident in each; their ids."""
    desk = ResidentDesk.empty()
    community = desk.places.create_community(ADMIN, CommunityIn(name="翠苑"), NOW)
    ids = []
    for n, (butler, phone) in enumerate([("usr_butler", "13800000001"), ("usr_other", "13800000002")], 1):
        building = desk.places.create_building(ADMIN, community.id, BuildingIn(name=f"{n}栋", butler_id=butler), NOW)
        unit = desk.places.create_unit(ADMIN, community.id, UnitIn(building_id=building.id, number="101"), NOW)
        ids.append(desk.residents.create_resident(ADMIN, ResidentIn(name=f"住户{n}", phone=phone, units=[
            ResidentUnitIn(unit_id=unit.id, community_id=community.id)]), NOW).id)
    return desk, ids[0], ids[1]


def test_butler_lists_only_residents_of_own_buildings():
    desk, own, other = residents_in_two_buildings()
    assert [r.id for r in desk.residents.list_residents(BUTLER, 50, None)[0]] == [own]
    assert {r.id for r in desk.residents.list_residents(ADMIN, 50, None)[0]} == {own, other}
    elsewhere = TenantContext("tnt_1", Principal("staff", "usr_idle", Role.BUTLER, permissions_for(Role.BUTLER)))
    assert desk.residents.list_residents(elsewhere, 50, None)[0] == []  # no buildings, no residents


def test_butler_gets_404_for_a_resident_of_another_building():
    desk, own, other = residents_in_two_buildings()
    assert desk.residents.get_resident(BUTLER, own).id == own
    with pytest.raises(NotFoundError) as outside:
        desk.residents.get_resident(BUTLER, other)
    with pytest.raises(NotFoundError) as missing:
        desk.residents.get_resident(BUTLER, "res_nobody")
    assert (outside.value.status, outside.value.code, str(outside.value)) == (
        missing.value.status, missing.value.code, str(missing.value))
    assert desk.residents.get_resident(ADMIN, other).id == other
