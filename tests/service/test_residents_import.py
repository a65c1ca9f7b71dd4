"""The residents' CSV import on in-memory fakes: what it creates, updates and reports, and that it is idempotent."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from chalicelib.core.errors import ValidationFailedError
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.residents.people import ResidentService
from chalicelib.residents.schemas import CommunityIn, CommunityOut
from tests.fakes.residents import InMemoryResidentRepository, ResidentDesk
from tests.fakes.storage import MemoryStore

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
CSV = "小区,楼栋,单元,房号,姓名,手机,身份\n翠苑,1栋,1单元,101,陈阿姨,13800000001,业主\n" \
      "翠苑,1栋,1单元,102,刘先生,13800000003,住户\n翠苑,2栋,,201,赵女士,bad-phone,业主\n" \
      "无此小区,1栋,,1,孙,13800000009,业主\n"


@dataclass
class World:
    store: MemoryStore
    repo: InMemoryResidentRepository
    residents: ResidentService
    community: CommunityOut


@pytest.fixture
def world() -> World:
    """Given the community 翠苑 and nothing in it."""
    desk = ResidentDesk.empty()
    store, repo, places, residents = desk.store, desk.repo, desk.places, desk.residents
    community = places.create_community(ADMIN, CommunityIn(name="翠苑"), NOW)
    store.events.clear()
    return World(store, repo, residents, community)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_an_import_creates_buildings_units_and_residents_and_reports_bad_rows(world: World, encoding: str):
    report = world.residents.import_csv(ADMIN, CSV.encode(encoding), NOW)

    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert [(e.line, e.message) for e in report.errors] == [
        (4, "phone: must be an 11-digit mainland mobile number"), (5, "community: no community named 无此小区")]
    cid = world.community.id
    [building] = world.repo.all_buildings(ADMIN, cid)
    assert building.name == "1栋"
    assert sorted((u.building_id, u.entrance, u.number, u.label) for u in world.repo.all_units(ADMIN, cid)) == [
        (building.building_id, "1单元", "101", "1栋1单元101"), (building.building_id, "1单元", "102", "1栋1单元102")]
    residents = {r.phone: r for r in world.repo.all_residents(ADMIN)}
    assert (residents["13800000001"].name, residents["13800000001"].units[0]["relation"]) == ("陈阿姨", "owner")
    assert (residents["13800000003"].name, residents["13800000003"].units[0]["relation"]) == ("刘先生", "occupant")
    assert [e.type for e in world.store.events] == ["building.created", "unit.created", "resident.registered",
                                                    "unit.created", "resident.registered"]
    assert world.store.commits == 1 + 1  # the community, then one transaction for all the file's rows


def test_the_same_file_twice_changes_nothing(world: World):
    world.residents.import_csv(ADMIN, CSV.encode(), NOW)
    commits, stored = world.store.commits, world.repo.all_residents(ADMIN)

    again = world.residents.import_csv(ADMIN, CSV.encode(), NOW)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert [e.line for e in again.errors] == [4, 5]
    assert world.store.commits == commits and world.repo.all_residents(ADMIN) == stored


def test_a_known_phone_is_renamed_and_gains_the_unit_of_its_row(world: World):
    world.residents.import_csv(ADMIN, CSV.encode(), NOW)
    chen = world.repo.find_resident_by_phone("tnt_1", "13800000001")

    report = world.residents.import_csv(ADMIN, "小区,楼栋,房号,姓名,手机,身份\n翠苑,1栋,301,陈奶奶,13800000001,家属\n"
                                        "翠苑,1栋,302,陈奶奶,13800000001,家属\n".encode(), NOW)

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 2, 0, [])
    updated = world.repo.get_resident(ADMIN, chen.resident_id)
    assert updated.name == "陈奶奶" and updated.version == 3
    assert [(u["label"], u["relation"]) for u in updated.units] == [
        ("1栋1单元101", "owner"), ("1栋301", "family"), ("1栋302", "family")]
    assert [e.type for e in world.store.events[-4:]] == ["unit.created", "resident.updated", "unit.created",
                                                         "resident.updated"]


def test_a_file_that_is_neither_utf8_nor_gbk_is_refused(world: World):
    with pytest.raises(ValidationFailedError) as raised:
        world.residents.import_csv(ADMIN, b"\xff\xfe\x00\xd8\xff", NOW)

    assert raised.value.code == "unreadable_file" and world.store.events == []


def test_missing_columns_are_reported_on_line_one(world: World):
    report = world.residents.import_csv(ADMIN, "小区,姓名\n翠苑,陈\n".encode(), NOW)

    assert (report.created, [(e.line, e.message) for e in report.errors]) == (
        0, [(1, "missing columns: building, number, phone")])
