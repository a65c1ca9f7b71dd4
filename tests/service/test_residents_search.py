"""Finding residents for phone intake (来电登记) on in-memory fakes: by phone, its last four digits, unit or name."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from chalicelib.core.permissions import Permission, Role, permissions_for
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.residents.schemas import (
    BuildingIn,
    CommunityIn,
    ResidentIn,
    ResidentOut,
    ResidentPatch,
    ResidentUnitIn,
    UnitIn,
    UnitOut,
)
from tests.fakes.residents import ResidentDesk

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
AGENT = TenantContext("tnt_1", Principal("staff", "usr_agent", Role.AGENT, permissions_for(Role.AGENT)))
BUTLER = TenantContext("tnt_1", Principal("staff", "usr_butler", Role.BUTLER, permissions_for(Role.BUTLER)))
OTHER_ADMIN = TenantContext("tnt_2", Principal("staff", "usr_other", Role.ADMIN, frozenset(Permission)))


@dataclass
class World:
    desk: ResidentDesk
    units: dict[str, UnitOut]
    people: dict[str, ResidentOut]

    def find(self, q: str, ctx: TenantContext = AGENT, limit: int = 25,
             cursor: str | None = None) -> tuple[list[str], str | None]:
        found, next_cursor = self.desk.residents.list_residents(ctx, limit, cursor, q)
        return [r.name for r in found], next_cursor


def place(desk: ResidentDesk, ctx: TenantContext, community: str, building: str, entrance: str | None, number: str,
          butler_id: str | None = None) -> UnitOut:
    places = desk.places
    found = {c.name: c.id for c in places.list_communities(ctx, 100, None)[0]}
    community_id = found.get(community) or places.create_community(ctx, CommunityIn(name=community), NOW).id
    building_id = places.create_building(ctx, community_id, BuildingIn(name=building, butler_id=butler_id), NOW).id
    return places.create_unit(ctx, community_id, UnitIn(building_id=building_id, entrance=entrance, number=number),
                              NOW)


@pytest.fixture
def world() -> World:
    """Given 翠苑 1栋1单元101 (陈阿姨, 陈先生), 翠苑 1栋2单元202 (刘先生, looked after by the butler),
    荷塘月色 1栋1单元101 (赵女士) — the same label in two communities — and, in another tenant, 陈老师 with
    陈阿姨's phone and unit label."""
    desk = ResidentDesk.empty()
    units = {"cui_101": place(desk, ADMIN, "翠苑", "1栋", "1单元", "101"),
             "cui_202": place(desk, ADMIN, "翠苑", "1栋", "2单元", "202", butler_id="usr_butler"),
             "he_101": place(desk, ADMIN, "荷塘月色", "1栋", "1单元", "101"),
             "other_101": place(desk, OTHER_ADMIN, "翠苑", "1栋", "1单元", "101")}
    people = {}
    for ctx, name, phone, unit in ((ADMIN, "陈阿姨", "13800000001", "cui_101"),
                                   (ADMIN, "陈先生", "13900000101", "cui_101"),
                                   (ADMIN, "刘先生", "13800000003", "cui_202"),
                                   (ADMIN, "赵女士", "13800000002", "he_101"),
                                   (OTHER_ADMIN, "陈老师", "13800000001", "other_101")):
        link = ResidentUnitIn(unit_id=units[unit].id, community_id=units[unit].community_id)
        people[name] = desk.residents.create_resident(ctx, ResidentIn(name=name, phone=phone, units=[link]), NOW)
    return World(desk, units, people)


def test_a_caller_is_found_by_their_phone_however_it_is_typed(world: World):
    assert world.find("13800000001") == (["陈阿姨"], None)
    assert world.find("+86 138-0000-0001") == (["陈阿姨"], None)
    assert world.find("13700000000") == ([], None)


def test_the_last_four_digits_find_every_phone_ending_so(world: World):
    assert world.find("0001") == (["陈阿姨"], None)
    assert sorted(world.find("0101")[0]) == ["陈先生"]


def test_a_name_prefix_finds_in_name_order(world: World):
    assert world.find("陈") == (["陈先生", "陈阿姨"], None)  # NAME#陈先生 sorts before NAME#陈阿姨
    assert world.find("陈阿") == (["陈阿姨"], None)
    assert world.find("王") == ([], None)


def test_a_unit_label_lists_who_lives_there_and_the_community_narrows_it(world: World):
    # the label exists in both communities
    assert sorted(world.find("1栋1单元101")[0]) == ["赵女士", "陈先生", "陈阿姨"]
    assert sorted(world.find("1-1-101")[0]) == ["赵女士", "陈先生", "陈阿姨"]
    assert sorted(world.find("翠苑1栋1单元101")[0]) == ["陈先生", "陈阿姨"]
    assert world.find("荷塘 1-1-101") == (["赵女士"], None)
    assert world.find("梧桐苑1-1-101") == ([], None)  # no such community: nothing, whatever the label


def test_results_are_masked_like_every_list_and_pages_follow_the_cursor(world: World):
    found, _ = world.desk.residents.list_residents(ADMIN, 25, None, "13800000001")
    assert [r.phone for r in found] == ["138****0001"]  # even for an admin: the full number is on one resident
    first, cursor = world.find("陈", limit=1)
    assert first == ["陈先生"] and cursor
    assert world.find("陈", limit=1, cursor=cursor)[0] == ["陈阿姨"]


def test_a_butler_finds_only_the_residents_of_their_buildings(world: World):
    assert world.find("13800000003", BUTLER) == (["刘先生"], None)
    assert world.find("13800000001", BUTLER) == ([], None)
    assert world.find("陈", BUTLER)[0] == []


def test_another_tenants_residents_are_never_found(world: World):
    assert world.find("陈老师") == ([], None)
    assert world.find("13800000001", OTHER_ADMIN) == (["陈老师"], None)
    assert world.find("翠苑1栋1单元101", OTHER_ADMIN)[0] == ["陈老师"]


def test_the_indexes_follow_a_change_of_name_phone_or_unit_and_a_removal(world: World):
    chen = world.people["陈阿姨"]
    moved = ResidentPatch(name="程阿姨", phone="13811112222", units=[ResidentUnitIn(
        unit_id=world.units["cui_202"].id, community_id=world.units["cui_202"].community_id)])
    world.desk.residents.update_resident(ADMIN, chen.id, moved, None, NOW)

    assert world.find("陈阿") == ([], None) and world.find("程") == (["程阿姨"], None)
    assert world.find("13800000001") == ([], None) and world.find("2222") == (["程阿姨"], None)
    assert sorted(world.find("翠苑1栋2单元202")[0]) == ["刘先生", "程阿姨"]
    assert world.find("翠苑1栋1单元101")[0] == ["陈先生"]
    world.desk.residents.delete_resident(ADMIN, chen.id, NOW)
    assert world.find("程") == ([], None) and world.find("翠苑1-2-202")[0] == ["刘先生"]
