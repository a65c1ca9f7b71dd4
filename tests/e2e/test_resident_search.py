"""Phone intake (来电登记) over HTTP: GET /v1/residents?q= finds the caller by phone, name or unit, within the
caller's tenant, for the roles that read residents; a malformed q is a 422 in the documented shape."""
from __future__ import annotations

import pytest

from tests.helpers import ApiClient, Tenant, assert_error

pytestmark = pytest.mark.e2e


def unit_in(api: ApiClient, tenant: Tenant, community: str, building: str, entrance: str | None,
            number: str) -> dict:
    communities = {c["name"]: c["id"] for c in api.get("/v1/communities", token=tenant.token).json()["items"]}
    community_id = communities.get(community) or api.post("/v1/communities", token=tenant.token,
                                                          json={"name": community}).json()["id"]
    building_id = api.post(f"/v1/communities/{community_id}/buildings", token=tenant.token,
                           json={"name": building}).json()["id"]
    return api.post(f"/v1/communities/{community_id}/units", token=tenant.token,
                    json={"building_id": building_id, "entrance": entrance, "number": number}).json()


def register(api: ApiClient, tenant: Tenant, name: str, phone: str, unit: dict) -> dict:
    response = api.post("/v1/residents", token=tenant.token, json={"name": name, "phone": phone, "units": [
        {"unit_id": unit["id"], "community_id": unit["community_id"]}]})
    assert response.status_code == 201, response.text
    return response.json()


def names(api: ApiClient, token: str, q: str, **params) -> list[str]:
    response = api.get("/v1/residents", token=token, params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [r["name"] for r in response.json()["items"]]


@pytest.fixture
def desk(api: ApiClient, tenant: Tenant, other_tenant: Tenant):
    """陈阿姨 (13800000001, 翠苑1栋1单元101) and 刘先生 (翠苑1栋2单元202) in this tenant; in another, 陈老师 with
    the same phone and unit label. Returns an agent's token."""
    register(api, tenant, "陈阿姨", "13800000001", unit_in(api, tenant, "翠苑", "1栋", "1单元", "101"))
    register(api, tenant, "刘先生", "13800000003", unit_in(api, tenant, "翠苑", "1栋", "2单元", "202"))
    register(api, other_tenant, "陈老师", "13800000001", unit_in(api, other_tenant, "翠苑", "1栋", "1单元", "101"))
    _, agent = api.add_staff(tenant, "agent")
    return agent


def test_an_agent_finds_the_caller_by_phone_name_or_unit(api: ApiClient, desk: str):
    found = api.get("/v1/residents", token=desk, params={"q": "138 0000 0001"}).json()
    assert [(r["name"], r["phone"]) for r in found["items"]] == [("陈阿姨", "138****0001")]
    assert found["next_cursor"] is None
    assert names(api, desk, "0001") == ["陈阿姨"]
    assert names(api, desk, "陈") == ["陈阿姨"]
    assert names(api, desk, "翠苑1栋2单元202") == ["刘先生"]
    assert names(api, desk, "1-1-101") == ["陈阿姨"]
    assert names(api, desk, "王") == []


def test_another_tenants_residents_never_appear(api: ApiClient, desk: str, other_tenant: Tenant):
    for q in ("13800000001", "0001", "陈老", "翠苑1栋1单元101"):
        assert "陈老师" not in names(api, desk, q)
    assert names(api, other_tenant.token, "13800000001") == ["陈老师"]


def test_search_pages_are_bound_to_their_query(api: ApiClient, tenant: Tenant, desk: str):
    register(api, tenant, "陈先生", "13900000002", unit_in(api, tenant, "翠苑", "2栋", None, "301"))
    first = api.get("/v1/residents", token=desk, params={"q": "陈", "limit": 1}).json()
    assert [r["name"] for r in first["items"]] == ["陈先生"] and first["next_cursor"]
    rest = api.get("/v1/residents", token=desk, params={"q": "陈", "limit": 1, "cursor": first["next_cursor"]})
    assert [r["name"] for r in rest.json()["items"]] == ["陈阿姨"]
    elsewhere = api.get("/v1/residents", token=desk, params={"q": "刘", "cursor": first["next_cursor"]})
    assert_error(elsewhere, 400, "invalid_cursor")


def test_technicians_may_not_search_residents_and_butlers_see_their_buildings(api: ApiClient, tenant: Tenant,
                                                                             desk: str):
    _, technician = api.add_staff(tenant, "technician")
    assert_error(api.get("/v1/residents", token=technician, params={"q": "13800000001"}), 403, "forbidden")
    _, butler = api.add_staff(tenant, "butler")
    assert names(api, butler, "13800000001") == []  # no building of theirs


@pytest.mark.parametrize("q", ["陈" * 65, "陈\x00", "1栋\n202", "\x7f陈"])
def test_a_malformed_query_is_422_in_the_error_shape(api: ApiClient, desk: str, q: str):
    error = assert_error(api.get("/v1/residents", token=desk, params={"q": q}), 422, "validation_failed")
    assert error["details"][0]["field"] == "q"


def test_the_demo_desk_finds_the_demo_residents(api: ApiClient):
    login = api.post("/v1/auth/login", json={"tenant_slug": "demo", "email": "agent@demo.test",
                                             "password": "Linli-demo-2026"}).json()
    assert names(api, login["access_token"], "13800000001") == ["陈阿姨"]
    assert names(api, login["access_token"], "荷塘月色5栋301") == ["孙老师"]
