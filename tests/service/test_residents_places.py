"""PlaceService on in-memory fakes: communities, buildings and units, their rules and their events."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import ConflictError, NotFoundError, PreconditionFailedError, ValidationFailedError
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.residents.domain import Building, Community, Unit
from chalicelib.residents.places import PlaceService
from chalicelib.residents.schemas import BuildingIn, CommunityIn, CommunityPatch, UnitIn
from tests.fakes.residents import InMemoryResidentRepository
from tests.fakes.storage import MemoryStore

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
OTHER_TENANT = TenantContext("tnt_2", Principal("staff", "usr_other", Role.ADMIN, frozenset(Permission)))


@dataclass
class World:
    store: MemoryStore
    repo: InMemoryResidentRepository
    places: PlaceService


@pytest.fixture
def world() -> World:
    store = MemoryStore()
    repo = InMemoryResidentRepository(store)
    return World(store, repo, PlaceService(repo, store.unit_of_work))


def test_a_new_community_is_stored_at_version_one_with_its_event(world: World):
    created = world.places.create_community(ADMIN, CommunityIn(name="翠苑", address="文一路", city="杭州"), NOW)

    assert created.id.startswith("com_") and (created.name, created.version) == ("翠苑", 1)
    assert created.created_at == created.updated_at == "2026-11-27T02:00:00.000Z"
    assert world.repo.get_community(ADMIN, created.id) == Community(
        created.id, "翠苑", "文一路", "杭州", "2026-11-27T02:00:00.000Z", "2026-11-27T02:00:00.000Z", 1)
    [event] = world.store.events
    assert (event.type, event.subject_type, event.subject_id, event.subject_version, event.data) == (
        "community.created", "community", created.id, 1, {"name": "翠苑"})
    assert event.actor == {"type": "staff", "id": "usr_admin", "role": "admin"}
    assert world.places.get_community(ADMIN, created.id) == created


def test_a_rename_bumps_the_version_and_records_what_changed(world: World):
    created = world.places.create_community(ADMIN, CommunityIn(name="翠苑", city="杭州"), NOW)
    later = NOW + timedelta(hours=1)

    renamed = world.places.update_community(ADMIN, created.id, CommunityPatch(name="翠苑一区"), 1, later)

    assert (renamed.name, renamed.city, renamed.version, renamed.updated_at) == (
        "翠苑一区", "杭州", 2, "2026-11-27T03:00:00.000Z")
    assert world.repo.get_community(ADMIN, created.id).name == "翠苑一区"
    event = world.store.events[-1]
    assert (event.type, event.subject_version, event.changes) == (
        "community.updated", 2, {"name": {"before": "翠苑", "after": "翠苑一区"}})


def test_a_rename_against_an_old_version_or_to_the_same_name_changes_nothing(world: World):
    created = world.places.create_community(ADMIN, CommunityIn(name="翠苑"), NOW)
    commits = world.store.commits

    with pytest.raises(PreconditionFailedError):
        world.places.update_community(ADMIN, created.id, CommunityPatch(name="翠苑一区"), 7, NOW)
    same = world.places.update_community(ADMIN, created.id, CommunityPatch(name="翠苑"), None, NOW)

    assert same == created
    assert world.store.commits == commits and len(world.store.events) == 1


def test_only_an_empty_community_can_be_removed(world: World):
    full = world.places.create_community(ADMIN, CommunityIn(name="翠苑"), NOW)
    empty = world.places.create_community(ADMIN, CommunityIn(name="空小区"), NOW)
    world.places.create_building(ADMIN, full.id, BuildingIn(name="1栋"), NOW)

    with pytest.raises(ConflictError) as raised:
        world.places.delete_community(ADMIN, full.id, NOW)
    world.places.delete_community(ADMIN, empty.id, NOW)

    assert raised.value.code == "community_not_empty"
    assert world.repo.get_community(ADMIN, empty.id) is None and world.repo.get_community(ADMIN, full.id)
    event = world.store.events[-1]
    assert (event.type, event.subject_id) == ("community.deleted", empty.id)


def test_a_community_of_another_tenant_is_not_found(world: World):
    created = world.places.create_community(ADMIN, CommunityIn(name="翠苑"), NOW)

    for attempt in (lambda: world.places.get_community(OTHER_TENANT, created.id),
                    lambda: world.places.create_building(OTHER_TENANT, created.id, BuildingIn(name="1栋"), NOW),
                    lambda: world.places.list_units(OTHER_TENANT, created.id, 10, None, None)):
        with pytest.raises(NotFoundError):
            attempt()


def test_buildings_and_units_get_labels_and_events(world: World):
    community = world.places.create_community(ADMIN, CommunityIn(name="翠苑"), NOW)

    building = world.places.create_building(ADMIN, community.id, BuildingIn(name="3栋", butler_id="usr_b"), NOW)
    unit = world.places.create_unit(ADMIN, community.id, UnitIn(building_id=building.id, entrance="2单元",
                                                                number="1201"), NOW)

    assert world.repo.get_building(ADMIN, community.id, building.id) == Building(building.id, community.id, "3栋",
                                                                                 "usr_b")
    assert world.repo.all_units(ADMIN, community.id) == [Unit(unit.id, community.id, building.id, "2单元", "1201",
                                                              "3栋2单元1201")]
    assert unit.label == "3栋2单元1201"
    assert [(e.type, e.subject_id, e.data) for e in world.store.events[1:]] == [
        ("building.created", building.id, {"community_id": community.id, "name": "3栋"}),
        ("unit.created", unit.id, {"community_id": community.id, "building_id": building.id,
                                   "label": "3栋2单元1201"})]
    assert world.places.list_buildings(ADMIN, community.id, 10, None) == ([building], None)
    assert world.places.list_units(ADMIN, community.id, 10, None, building.id) == ([unit], None)


def test_a_unit_needs_a_known_building_and_a_free_number(world: World):
    community = world.places.create_community(ADMIN, CommunityIn(name="翠苑"), NOW)
    building = world.places.create_building(ADMIN, community.id, BuildingIn(name="3栋"), NOW)
    world.places.create_unit(ADMIN, community.id, UnitIn(building_id=building.id, number="1201"), NOW)
    commits = world.store.commits

    with pytest.raises(ValidationFailedError) as unknown:
        world.places.create_unit(ADMIN, community.id, UnitIn(building_id="bld_nope", number="1"), NOW)
    with pytest.raises(ConflictError) as taken:
        world.places.create_unit(ADMIN, community.id, UnitIn(building_id=building.id, number="1201"), NOW)

    assert unknown.value.details[0]["type"] == "unknown_building" and taken.value.code == "unit_exists"
    assert world.store.commits == commits and len(world.repo.all_units(ADMIN, community.id)) == 1
