"""The residents' repositories, one contract for the in-memory fakes and DynamoDB (moto): the fakes cannot drift."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.core.errors import ConflictError, PreconditionFailedError, RateLimitedError
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.residents.domain import Building, Community, Otp, Resident, Unit
from chalicelib.residents.ports import OtpStore, ResidentStore
from tests.contract.conftest import Backend
from tests.fakes.residents import InMemoryOtpRepository, InMemoryResidentRepository

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
STAMP = "2026-11-27T02:00:00Z"


@dataclass
class Harness:
    residents: ResidentStore
    codes: OtpStore
    backend: Backend
    ctx: TenantContext

    def commit(self, *stage: Callable[[Any], None]) -> None:
        self.backend.commit(self.ctx, NOW, *stage)


def admin_of(tenant_id: str) -> TenantContext:
    return TenantContext(tenant_id, Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))


@pytest.fixture
def repos(backend: Backend) -> Harness:
    ctx = admin_of(new_id("tnt"))
    if backend.store is not None:
        return Harness(InMemoryResidentRepository(backend.store), InMemoryOtpRepository(backend.store), backend, ctx)
    from chalicelib.residents.repository import OtpRepository, ResidentRepository

    return Harness(ResidentRepository(backend.cursors), OtpRepository(), backend, ctx)


def community(community_id: str, name: str = "翠苑") -> Community:
    return Community(community_id, name, "文一路", "杭州", STAMP, STAMP, 1)


def unit(unit_id: str, building_id: str = "bld_1", number: str = "101", community_id: str = "com_1",
         entrance: str | None = "1单元") -> Unit:
    return Unit(unit_id, community_id, building_id, entrance, number, f"1栋{entrance or ''}{number}")


def resident(resident_id: str, phone: str, *units: Unit) -> Resident:
    links = [{"unit_id": u.unit_id, "community_id": u.community_id, "relation": "owner", "label": u.label,
              "building_id": u.building_id} for u in units]
    return Resident(resident_id, "陈阿姨", phone, links, STAMP, STAMP, 1)


def with_place(repos: Harness) -> tuple[Building, Unit]:
    """Given community com_1 with building bld_1 and unit unt_1."""
    building, first = Building("bld_1", "com_1", "1栋", "usr_butler"), unit("unt_1")
    repos.commit(lambda uow: repos.residents.stage_new_community(uow, repos.ctx, community("com_1")),
                 lambda uow: repos.residents.stage_new_building(uow, repos.ctx, building),
                 lambda uow: repos.residents.stage_new_unit(uow, repos.ctx, first, on_duplicate=ConflictError()))
    return building, first


def test_communities_round_trip_and_page_in_id_order(repos: Harness):
    ctx = repos.ctx
    for community_id in ("com_c", "com_a", "com_b"):
        repos.commit(lambda uow, c=community_id: repos.residents.stage_new_community(uow, ctx, community(c)))

    assert repos.residents.get_community(ctx, "com_a", consistent=True) == community("com_a")
    first, cursor = repos.residents.list_communities(ctx, 2, None)
    assert [c.community_id for c in first] == ["com_a", "com_b"] and cursor
    rest, last = repos.residents.list_communities(ctx, 2, cursor)
    assert rest == [community("com_c")] and last is None
    assert repos.residents.get_community(admin_of(new_id("tnt")), "com_a") is None


def test_a_community_update_needs_the_version_it_read_and_a_delete_removes_it(repos: Harness):
    ctx, before = repos.ctx, community("com_1")
    repos.commit(lambda uow: repos.residents.stage_new_community(uow, ctx, before))
    after = replace(before, name="翠苑一区", address=None, updated_at="2026-11-27T03:00:00Z", version=2)

    repos.commit(lambda uow: repos.residents.stage_community_update(uow, ctx, before, after,
                                                                    on_conflict=PreconditionFailedError()))
    with pytest.raises(PreconditionFailedError):
        repos.commit(lambda uow: repos.residents.stage_community_update(
            uow, ctx, before, replace(after, name="旧版本"), on_conflict=PreconditionFailedError()))

    assert repos.residents.get_community(ctx, "com_1", consistent=True) == after
    repos.commit(lambda uow: repos.residents.stage_community_delete(uow, ctx, after))
    assert repos.residents.get_community(ctx, "com_1", consistent=True) is None


def test_buildings_and_units_belong_to_their_community(repos: Harness):
    ctx = repos.ctx
    building, first = with_place(repos)

    assert repos.residents.has_children(ctx, "com_1") and not repos.residents.has_children(ctx, "com_2")
    assert repos.residents.get_building(ctx, "com_1", "bld_1") == building
    assert repos.residents.get_building(ctx, "com_2", "bld_1") is None
    assert repos.residents.list_buildings(ctx, "com_1", 10, None) == ([building], None)
    assert repos.residents.all_buildings(ctx, "com_1") == [building]
    assert repos.residents.all_units(ctx, "com_1") == [first]
    assert repos.residents.get_units(ctx, [("com_1", "unt_1"), ("com_2", "unt_1"), ("com_1", "unt_nope")]) == {
        "unt_1": first}
    assert repos.residents.get_units(ctx, []) == {}


def test_a_unit_number_is_taken_once_per_building_and_entrance(repos: Harness):
    ctx = repos.ctx
    with_place(repos)
    taken = ConflictError("This unit already exists.", code="unit_exists")

    with pytest.raises(ConflictError) as raised:
        repos.commit(lambda uow: repos.residents.stage_new_unit(uow, ctx, unit("unt_2"), on_duplicate=taken))
    assert raised.value.code == "unit_exists"
    for other in (unit("unt_3", entrance="2单元"), unit("unt_4", entrance=None), unit("unt_5", building_id="bld_2")):
        repos.commit(lambda uow, u=other: repos.residents.stage_new_unit(uow, ctx, u, on_duplicate=taken))

    assert [u.unit_id for u in repos.residents.all_units(ctx, "com_1")] == ["unt_1", "unt_3", "unt_4", "unt_5"]


def test_a_page_of_a_buildings_units_reads_on_until_it_is_full(repos: Harness):
    ctx = repos.ctx
    with_place(repos)
    for extra in (unit("unt_2", building_id="bld_2"), unit("unt_3", number="102"), unit("unt_4", number="103")):
        repos.commit(lambda uow, u=extra: repos.residents.stage_new_unit(uow, ctx, u, on_duplicate=ConflictError()))

    page, cursor = repos.residents.list_units(ctx, "com_1", 2, None, "bld_1")
    assert [u.unit_id for u in page] == ["unt_1", "unt_3"] and cursor
    rest, last = repos.residents.list_units(ctx, "com_1", 2, cursor, "bld_1")
    assert [u.unit_id for u in rest] == ["unt_4"] and last is None
    everything, _ = repos.residents.list_units(ctx, "com_1", 10, None)
    assert [u.unit_id for u in everything] == ["unt_1", "unt_2", "unt_3", "unt_4"]


def test_a_resident_round_trips_and_their_phone_is_theirs_alone(repos: Harness):
    ctx = repos.ctx
    _, first = with_place(repos)
    chen = resident("res_1", "13812345678", first)
    taken = ConflictError("A resident with this phone already exists.", code="phone_taken")
    repos.commit(lambda uow: repos.residents.stage_new_resident(uow, ctx, chen, on_phone_taken=taken))

    with pytest.raises(ConflictError) as raised:
        repos.commit(lambda uow: repos.residents.stage_new_resident(
            uow, ctx, resident("res_2", "13812345678"), on_phone_taken=taken))
    assert raised.value.code == "phone_taken"
    assert repos.residents.get_resident(ctx, "res_1", consistent=True) == chen
    assert repos.residents.find_resident_by_phone(ctx.tenant_id, "13812345678") == chen
    assert repos.residents.find_resident_by_phone(new_id("tnt"), "13812345678") is None
    assert repos.residents.list_residents(ctx, 10, None) == ([chen], None)
    assert repos.residents.all_residents(ctx) == [chen]
    assert repos.residents.get_resident(admin_of(new_id("tnt")), "res_1") is None


def test_an_update_needs_the_version_it_read_and_moves_the_phone_claim(repos: Harness):
    ctx = repos.ctx
    _, first = with_place(repos)
    before = resident("res_1", "13812345678")
    repos.commit(lambda uow: repos.residents.stage_new_resident(uow, ctx, before, on_phone_taken=ConflictError()))
    after = replace(resident("res_1", "13912345678", first), name="陈奶奶", updated_at="2026-11-27T03:00:00Z",
                    version=2)

    def update(old: Resident, new: Resident) -> Callable[[Any], None]:
        return lambda uow: repos.residents.stage_resident_update(
            uow, ctx, old, new, on_conflict=PreconditionFailedError(), on_phone_taken=ConflictError(code="phone_taken"))

    repos.commit(update(before, after))
    with pytest.raises(PreconditionFailedError):
        repos.commit(update(replace(after, version=1), replace(after, name="旧版本")))
    with pytest.raises(ConflictError) as raised:  # stale and to a taken phone: the phone claim fails first
        repos.commit(update(before, replace(after, name="旧版本")))
    assert raised.value.code == "phone_taken"

    assert repos.residents.get_resident(ctx, "res_1", consistent=True) == after
    assert repos.residents.find_resident_by_phone(ctx.tenant_id, "13912345678") == after
    assert repos.residents.find_resident_by_phone(ctx.tenant_id, "13812345678") is None
    repos.commit(lambda uow: repos.residents.stage_new_resident(
        uow, ctx, resident("res_2", "13812345678"), on_phone_taken=ConflictError()))  # the old phone is free
    with pytest.raises(ConflictError) as raised:
        repos.commit(update(after, replace(after, phone="13812345678", version=3)))
    assert raised.value.code == "phone_taken"


def test_a_delete_needs_the_version_it_read_and_frees_the_phone(repos: Harness):
    ctx, chen = repos.ctx, resident("res_1", "13812345678")
    repos.commit(lambda uow: repos.residents.stage_new_resident(uow, ctx, chen, on_phone_taken=ConflictError()))

    with pytest.raises(PreconditionFailedError):
        repos.commit(lambda uow: repos.residents.stage_resident_delete(
            uow, ctx, replace(chen, version=2), on_conflict=PreconditionFailedError()))
    repos.commit(lambda uow: repos.residents.stage_resident_delete(uow, ctx, chen,
                                                                   on_conflict=PreconditionFailedError()))

    assert repos.residents.get_resident(ctx, "res_1", consistent=True) is None
    repos.commit(lambda uow: repos.residents.stage_new_resident(
        uow, ctx, resident("res_2", "13812345678"), on_phone_taken=ConflictError()))


def test_a_wechat_openid_binds_to_one_resident(repos: Harness):
    ctx = repos.ctx
    chen, liu = resident("res_1", "13812345678"), resident("res_2", "13912345678")
    for person in (chen, liu):
        repos.commit(lambda uow, p=person: repos.residents.stage_new_resident(uow, ctx, p,
                                                                              on_phone_taken=ConflictError()))
    bound = ConflictError("This WeChat account is linked to another resident.", code="wechat_already_bound")
    assert repos.residents.resident_for_openid(ctx.tenant_id, "oOpenId1") is None

    repos.commit(lambda uow: repos.residents.stage_wechat_binding(uow, ctx, chen, "oOpenId1", on_conflict=bound))
    repos.commit(lambda uow: repos.residents.stage_wechat_binding(uow, ctx, chen, "oOpenId1", on_conflict=bound))
    with pytest.raises(ConflictError) as raised:
        repos.commit(lambda uow: repos.residents.stage_wechat_binding(uow, ctx, liu, "oOpenId1", on_conflict=bound))

    assert raised.value.code == "wechat_already_bound"
    assert repos.residents.resident_for_openid(ctx.tenant_id, "oOpenId1") == replace(chen, wechat_openid="oOpenId1")
    assert repos.residents.resident_for_openid(new_id("tnt"), "oOpenId1") is None


def test_the_place_of_a_ticket_comes_with_its_resident(repos: Harness):
    ctx = repos.ctx
    _, first = with_place(repos)
    chen = resident("res_1", "13812345678", first)
    repos.commit(lambda uow: repos.residents.stage_new_resident(uow, ctx, chen, on_phone_taken=ConflictError()))
    place = repos.residents.place_for_ticket

    assert place(ctx, resident_id="res_1", community_id="com_1", unit_id="unt_1") == (chen, first, False)
    assert place(ctx, resident_id="res_1", community_id="com_1", unit_id=None) == (chen, None, True)
    assert place(ctx, resident_id="res_1", community_id="com_2", unit_id=None) == (chen, None, False)
    assert place(ctx, resident_id="res_1", community_id="com_2", unit_id="unt_1") == (chen, None, False)
    assert place(ctx, resident_id="res_9", community_id="com_1", unit_id="unt_1") == (None, first, False)
    assert place(admin_of(new_id("tnt")), resident_id="res_1", community_id="com_1", unit_id=None) == (
        None, None, False)


def test_the_names_a_canned_reply_fills_in_are_read_together_and_only_when_asked(repos: Harness):
    ctx = repos.ctx
    _, first = with_place(repos)
    repos.commit(lambda uow: repos.residents.stage_new_resident(uow, ctx, resident("res_1", "13812345678", first),
                                                                on_phone_taken=ConflictError()))
    names = repos.residents.place_names

    assert names(ctx, resident_id="res_1", community_id="com_1") == ("陈阿姨", "翠苑")
    assert names(ctx, resident_id=None, community_id="com_1") == (None, "翠苑")
    assert names(ctx, resident_id="res_1", community_id=None) == ("陈阿姨", None)
    assert names(ctx, resident_id=None, community_id=None) == (None, None)
    assert names(ctx, resident_id="res_9", community_id="com_9") == (None, None)
    assert names(admin_of(new_id("tnt")), resident_id="res_1", community_id="com_1") == (None, None)


# --- search (phone intake) ----------------------------------------------------------------------------
def named(resident_id: str, name: str, phone: str, *units: Unit) -> Resident:
    return replace(resident(resident_id, phone, *units), name=name)


def found(page: tuple[list[Resident], str | None]) -> list[str]:
    return [r.resident_id for r in page[0]]


def test_search_finds_by_phone_its_last_four_digits_a_name_prefix_and_a_unit(repos: Harness):
    ctx, search = repos.ctx, repos.residents.search_residents
    _, first = with_place(repos)
    other = unit("unt_9", building_id="bld_9", community_id="com_2")  # the same label, in another community
    people = (named("res_1", "陈阿姨", "13800000001", first), named("res_2", "陈先生", "13900000001", first, other),
              named("res_3", "刘先生", "13800000003", other), named("res_4", "Li Ming", "13800000004"))
    for person in people:
        repos.commit(lambda uow, p=person: repos.residents.stage_new_resident(uow, ctx, p,
                                                                              on_phone_taken=ConflictError()))

    assert search(ctx, "phone", "13800000001", 10, None) == ([people[0]], None)
    assert found(search(ctx, "phone_tail", "0001", 10, None)) == ["res_1", "res_2"]
    assert found(search(ctx, "name", "陈", 10, None)) == ["res_2", "res_1"]  # name order: 陈先生 < 陈阿姨
    assert found(search(ctx, "name", "陈阿", 10, None)) == ["res_1"]
    assert found(search(ctx, "name", "liming", 10, None)) == ["res_4"]
    assert found(search(ctx, "unit", "1-1-101", 10, None)) == ["res_1", "res_2", "res_3"]
    assert found(search(ctx, "unit", "1-1-101", 10, None, community_ids=frozenset({"com_2"}))) == ["res_2", "res_3"]
    assert found(search(ctx, "unit", "1-1-10", 10, None)) == []  # a unit key matches whole
    stranger = admin_of(new_id("tnt"))
    for by, key in (("phone", "13800000001"), ("phone_tail", "0001"), ("name", "陈"), ("unit", "1-1-101")):
        assert search(stranger, by, key, 10, None) == ([], None)


def test_search_pages_follow_the_cursor(repos: Harness):
    ctx, search = repos.ctx, repos.residents.search_residents
    _, first = with_place(repos)
    for index in range(3):
        person = named(f"res_{index}", f"陈{index}", f"1380000000{index}", first)
        repos.commit(lambda uow, p=person: repos.residents.stage_new_resident(uow, ctx, p,
                                                                              on_phone_taken=ConflictError()))

    for by, key in (("name", "陈"), ("unit", "1-1-101")):
        page, cursor = search(ctx, by, key, 2, None)
        assert [r.resident_id for r in page] == ["res_0", "res_1"] and cursor
        rest, last = search(ctx, by, key, 2, cursor)
        assert [r.resident_id for r in rest] == ["res_2"] and last is None


def test_search_follows_a_change_of_name_phone_or_units_and_a_removal(repos: Harness):
    ctx, search = repos.ctx, repos.residents.search_residents
    _, first = with_place(repos)
    second = unit("unt_2", number="102")
    repos.commit(lambda uow: repos.residents.stage_new_unit(uow, ctx, second, on_duplicate=ConflictError()))
    before = named("res_1", "陈阿姨", "13800000001", first)
    repos.commit(lambda uow: repos.residents.stage_new_resident(uow, ctx, before, on_phone_taken=ConflictError()))
    after = replace(named("res_1", "程阿姨", "13811112222", second), version=2)

    repos.commit(lambda uow: repos.residents.stage_resident_update(
        uow, ctx, before, after, on_conflict=PreconditionFailedError(), on_phone_taken=ConflictError()))

    assert search(ctx, "name", "程", 10, None) == ([after], None) and found(search(ctx, "name", "陈", 10, None)) == []
    assert search(ctx, "phone", "13811112222", 10, None) == ([after], None)
    assert found(search(ctx, "phone", "13800000001", 10, None)) == []
    assert found(search(ctx, "phone_tail", "2222", 10, None)) == ["res_1"]
    assert found(search(ctx, "phone_tail", "0001", 10, None)) == []
    assert found(search(ctx, "unit", "1-1-102", 10, None)) == ["res_1"]
    assert found(search(ctx, "unit", "1-1-101", 10, None)) == []
    repos.commit(lambda uow: repos.residents.stage_resident_delete(uow, ctx, after,
                                                                   on_conflict=PreconditionFailedError()))
    for by, key in (("name", "程"), ("phone", "13811112222"), ("phone_tail", "2222"), ("unit", "1-1-102")):
        assert search(ctx, by, key, 10, None) == ([], None)


def test_phone_reveals_count_per_staff_member_and_window_up_to_the_cap(repos: Harness):
    ctx = repos.ctx

    def reveal(staff_id: str, window: str) -> None:
        repos.commit(lambda uow: repos.residents.stage_phone_reveal_count(
            uow, ctx, staff_id, window, cap=2, expires_at=1_800_000_000,
            on_conflict=RateLimitedError(code="reveal_limit", retry_after=60)))

    reveal("usr_agent", "2026112702")
    reveal("usr_agent", "2026112702")
    with pytest.raises(RateLimitedError) as refused:
        reveal("usr_agent", "2026112702")
    assert refused.value.code == "reveal_limit"
    reveal("usr_admin", "2026112702")  # another staff member
    reveal("usr_agent", "2026112703")  # the next hour
    stranger = admin_of(new_id("tnt"))
    repos.commit(lambda uow: repos.residents.stage_phone_reveal_count(
        uow, stranger, "usr_agent", "2026112702", cap=2, expires_at=1_800_000_000,
        on_conflict=RateLimitedError(retry_after=60)))  # another tenant's count


# --- sign-in codes ------------------------------------------------------------------------------------
def otp(sent_at: str = STAMP, digest: str = "d1", attempts: int = 0) -> Otp:
    return Otp(digest, sent_at, "2026-11-27T02:05:00Z", attempts, "res_1", 1_800_000_000)


def test_otp_counts_stop_at_their_caps_per_phone_per_source_and_per_tenant(repos: Harness):
    tenant_id = repos.ctx.tenant_id

    def count(stage, *args: str, cap: int = 2) -> None:  # noqa: ANN001
        limited = RateLimitedError(code="otp_limit", retry_after=60)
        repos.commit(lambda uow: stage(uow, tenant_id, *args, cap=cap, expires_at=1_800_000_000,
                                       on_conflict=limited))

    codes = repos.codes
    phone, source, tenant = codes.stage_phone_count, codes.stage_source_count, codes.stage_tenant_count
    for stage, args, other in ((phone, ("13800000001", "202611270800"), ("13800000002", "202611270800")),
                               (source, ("a1b2c3", "202611270800"), ("d4e5f6", "202611270800")),
                               (tenant, ("20261127",), ("20261128",))):
        count(stage, *args)
        count(stage, *args)
        with pytest.raises(RateLimitedError):
            count(stage, *args)
        count(stage, *other)  # another phone, address or day counts apart
    count(phone, "13800000001", "202611270815")  # the next window starts afresh


def test_a_code_is_replaced_only_after_the_cooldown(repos: Harness):
    tenant_id, cooldown = repos.ctx.tenant_id, RateLimitedError(code="otp_cooldown", retry_after=60)

    def send(code: Otp, resend_after: str) -> None:
        repos.commit(lambda uow: repos.codes.stage_code(uow, tenant_id, "13800000001", code,
                                                        resend_after=resend_after, on_conflict=cooldown))

    send(otp(), "2026-11-27T01:59:00Z")
    with pytest.raises(RateLimitedError):
        send(otp("2026-11-27T02:00:30Z", "d2"), "2026-11-27T01:59:30Z")
    assert repos.codes.get_code(tenant_id, "13800000001") == otp()
    with pytest.raises(RateLimitedError):
        send(otp("2026-11-27T02:01:00Z", "d3"), "2026-11-27T02:00:00Z")  # sent exactly at resend_after: blocks
    send(otp("2026-11-27T02:01:01Z", "d4"), "2026-11-27T02:00:01Z")

    assert repos.codes.get_code(tenant_id, "13800000001") == otp("2026-11-27T02:01:01Z", "d4")
    assert repos.codes.get_code(tenant_id, "13800000002") is None
    assert repos.codes.get_code(new_id("tnt"), "13800000001") is None


def test_wrong_attempts_count_up_to_the_lock_and_a_code_is_used_once(repos: Harness):
    tenant_id = repos.ctx.tenant_id
    repos.commit(lambda uow: repos.codes.stage_code(uow, tenant_id, "13800000001", otp(), resend_after=STAMP,
                                                    on_conflict=RateLimitedError(retry_after=60)))

    for _ in range(3):
        repos.codes.count_wrong_attempt(tenant_id, "13800000001", max_attempts=2)
    repos.codes.count_wrong_attempt(tenant_id, "13800000009", max_attempts=2)  # no code: nothing to count

    assert repos.codes.get_code(tenant_id, "13800000001") == otp(attempts=2)
    assert repos.codes.get_code(tenant_id, "13800000009") is None
    assert not repos.codes.consume_code(tenant_id, "13800000001", "d1", max_attempts=2)  # locked
    assert not repos.codes.consume_code(tenant_id, "13800000001", "d2", max_attempts=5)  # not this code
    assert repos.codes.consume_code(tenant_id, "13800000001", "d1", max_attempts=5)
    assert not repos.codes.consume_code(tenant_id, "13800000001", "d1", max_attempts=5)  # used once
    assert repos.codes.get_code(tenant_id, "13800000001") is None
