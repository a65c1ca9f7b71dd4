"""ResidentService on in-memory fakes: residents, their phones and units, and their events."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import ConflictError, NotFoundError, PreconditionFailedError, ValidationFailedError
from chalicelib.core.permissions import Permission, Role, permissions_for
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.residents.people import ResidentService
from chalicelib.residents.schemas import (
    BuildingIn,
    CommunityIn,
    ResidentIn,
    ResidentPatch,
    ResidentUnitIn,
    UnitIn,
    UnitOut,
)
from tests.fakes.residents import InMemoryResidentRepository, ResidentDesk
from tests.fakes.storage import MemoryStore

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
BUTLER = TenantContext("tnt_1", Principal("staff", "usr_butler", Role.BUTLER, permissions_for(Role.BUTLER)))


@dataclass
class World:
    store: MemoryStore
    repo: InMemoryResidentRepository
    residents: ResidentService
    unit: UnitOut


@pytest.fixture
def world() -> World:
    """Given 翠苑, building 3栋 (looked after by the butler) and unit 3栋2单元1201."""
    desk = ResidentDesk.empty()
    store, repo, places, residents = desk.store, desk.repo, desk.places, desk.residents
    community = places.create_community(ADMIN, CommunityIn(name="翠苑"), NOW)
    building = places.create_building(ADMIN, community.id, BuildingIn(name="3栋", butler_id="usr_butler"), NOW)
    unit = places.create_unit(ADMIN, community.id, UnitIn(building_id=building.id, entrance="2单元",
                                                             number="1201"), NOW)
    store.events.clear()
    return World(store, repo, residents, unit)


def register(world: World, phone: str = "13812345678", name: str = "陈阿姨", *, linked: bool = True):  # noqa: ANN201
    units = [ResidentUnitIn(unit_id=world.unit.id, community_id=world.unit.community_id)] if linked else []
    return world.residents.create_resident(ADMIN, ResidentIn(name=name, phone=phone, units=units), NOW)


def test_a_resident_is_registered_with_their_units_and_an_event(world: World):
    created = register(world)

    link = {"unit_id": world.unit.id, "community_id": world.unit.community_id, "relation": "owner",
            "label": "3栋2单元1201", "building_id": world.unit.building_id}
    assert (created.phone, created.version) == ("13812345678", 1)  # the admin manages residents: full number
    assert [u.model_dump() for u in created.units] == [link]
    stored = world.repo.get_resident(ADMIN, created.id)
    assert (stored.name, stored.phone, stored.units, stored.version) == ("陈阿姨", "13812345678", [link], 1)
    [event] = world.store.events
    assert (event.type, event.subject_id, event.subject_version, event.data) == (
        "resident.registered", created.id, 1, {"units": [world.unit.id]})


def test_phones_are_masked_except_for_staff_who_manage_residents_and_for_the_resident(world: World):
    created = register(world)
    resident = TenantContext("tnt_1", Principal("resident", created.id))

    assert world.residents.get_resident(BUTLER, created.id).phone == "138****5678"
    assert world.residents.get_resident(ADMIN, created.id).phone == "13812345678"
    assert [r.phone for r in world.residents.list_residents(ADMIN, 10, None)[0]] == ["138****5678"]
    assert world.residents.me(resident).phone == "13812345678"


def test_a_phone_belongs_to_one_resident_and_a_unit_to_its_community(world: World):
    register(world)

    with pytest.raises(ConflictError) as taken:
        register(world, name="重复", linked=False)
    with pytest.raises(ValidationFailedError) as misplaced:
        world.residents.create_resident(ADMIN, ResidentIn(name="错位", phone="13900000000", units=[
            ResidentUnitIn(unit_id=world.unit.id, community_id="com_other")]), NOW)

    assert taken.value.code == "phone_taken"
    assert misplaced.value.details == [{"field": "units.0.unit_id", "type": "unknown_unit",
                                        "message": "No such unit in this community."}]
    assert len(world.repo.all_residents(ADMIN)) == 1 and len(world.store.events) == 1


def test_a_new_phone_is_redacted_in_the_event_and_frees_the_old_one(world: World):
    created = register(world)

    moved = world.residents.update_resident(ADMIN, created.id, ResidentPatch(phone="13912345678"), 1,
                                            NOW + timedelta(minutes=1))

    assert (moved.phone, moved.version, moved.updated_at) == ("13912345678", 2, "2026-11-27T02:01:00.000Z")
    event = world.store.events[-1]
    assert (event.type, event.subject_version, event.changes) == (
        "resident.updated", 2, {"phone": {"before": "[redacted]", "after": "[redacted]"}})
    assert world.repo.find_resident_by_phone("tnt_1", "13912345678").resident_id == created.id
    assert register(world, name="新", linked=False).phone == "13812345678"


def test_an_update_needs_the_current_version_and_an_unchanged_one_writes_nothing(world: World):
    created = register(world)
    commits = world.store.commits

    with pytest.raises(PreconditionFailedError):
        world.residents.update_resident(ADMIN, created.id, ResidentPatch(name="陈奶奶"), 2, NOW)
    same = world.residents.update_resident(ADMIN, created.id, ResidentPatch(name="陈阿姨"), None, NOW)

    assert same == created and world.store.commits == commits


def test_units_can_be_relinked(world: World):
    created = register(world, linked=False)

    relinked = world.residents.update_resident(ADMIN, created.id, ResidentPatch(units=[
        ResidentUnitIn(unit_id=world.unit.id, community_id=world.unit.community_id, relation="family")]), 1, NOW)

    assert [(u.unit_id, u.relation) for u in relinked.units] == [(world.unit.id, "family")]
    assert world.store.events[-1].changes["units"]["before"] == []


def test_a_removed_resident_is_gone_and_their_phone_free(world: World):
    created = register(world)

    world.residents.delete_resident(ADMIN, created.id, NOW)

    with pytest.raises(NotFoundError):
        world.residents.get_resident(ADMIN, created.id)
    assert (world.store.events[-1].type, world.store.events[-1].subject_id) == ("resident.deleted", created.id)
    assert register(world).id != created.id


def test_residents_of_another_tenant_are_not_found(world: World):
    created = register(world)
    other = TenantContext("tnt_2", Principal("staff", "usr_x", Role.ADMIN, frozenset(Permission)))

    for attempt in (lambda: world.residents.get_resident(other, created.id),
                    lambda: world.residents.update_resident(other, created.id, ResidentPatch(name="x"), None, NOW),
                    lambda: world.residents.delete_resident(other, created.id, NOW)):
        with pytest.raises(NotFoundError):
            attempt()
