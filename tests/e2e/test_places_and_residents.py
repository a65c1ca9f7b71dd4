"""Communities → buildings → units, residents with masked phones, CSV import (UTF-8, BOM, GBK)."""
from __future__ import annotations

import pytest

from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.e2e


def make_place(api: ApiClient, tenant, name="翠苑", butler_id=None):
    community = api.post("/v1/communities", token=tenant.token, json={"name": name, "city": "杭州"}).json()
    building = api.post(f"/v1/communities/{community['id']}/buildings", token=tenant.token,
                        json={"name": "3栋", "butler_id": butler_id}).json()
    unit = api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                    json={"building_id": building["id"], "entrance": "2单元", "number": "1201"}).json()
    return community, building, unit


def test_communities_buildings_units(api: ApiClient, tenant):
    community, building, unit = make_place(api, tenant)
    assert community["id"].startswith("com_") and community["name"] == "翠苑" and community["version"] == 1
    assert unit["label"] == "3栋2单元1201" and unit["building_id"] == building["id"]
    assert api.get(f"/v1/communities/{community['id']}", token=tenant.token).json() == community
    listed = api.get(f"/v1/communities/{community['id']}/units", token=tenant.token,
                     params={"building_id": building["id"]}).json()
    assert [u["id"] for u in listed["items"]] == [unit["id"]]
    duplicate = api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                         json={"building_id": building["id"], "entrance": "2单元", "number": "1201"})
    assert_error(duplicate, 409, "unit_exists")
    unknown_building = api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                                json={"building_id": "bld_nope", "number": "1"})
    assert_error(unknown_building, 422)
    renamed = api.patch(f"/v1/communities/{community['id']}", token=tenant.token, headers={"If-Match": "1"},
                        json={"name": "翠苑一区"})
    assert renamed.json()["name"] == "翠苑一区" and renamed.json()["version"] == 2
    assert_error(api.delete(f"/v1/communities/{community['id']}", token=tenant.token), 409, "community_not_empty")
    empty = api.post("/v1/communities", token=tenant.token, json={"name": "空小区"}).json()
    assert api.delete(f"/v1/communities/{empty['id']}", token=tenant.token).status_code == 204


def test_residents_phone_masking_and_units(api: ApiClient, tenant):
    butler, butler_token = api.add_staff(tenant, "butler")
    community, _, unit = make_place(api, tenant, butler_id=butler["id"])
    created = api.post("/v1/residents", token=tenant.token, json={
        "name": "陈阿姨", "phone": "+86 138-1234-5678",
        "units": [{"unit_id": unit["id"], "community_id": community["id"], "relation": "owner"}]})
    assert created.status_code == 201
    resident = created.json()
    assert resident["phone"] == "13812345678"  # the admin manages residents: full number on one resident
    assert resident["units"] == [{"unit_id": unit["id"], "community_id": community["id"], "relation": "owner",
                                  "label": "3栋2单元1201", "building_id": unit["building_id"]}]
    listed = api.get("/v1/residents", token=tenant.token).json()["items"]
    assert [r["phone"] for r in listed] == ["138****5678"]
    assert api.get(f"/v1/residents/{resident['id']}", token=butler_token).json()["phone"] == "138****5678"
    assert_error(api.post("/v1/residents", token=tenant.token, json={"name": "重复", "phone": "13812345678"}), 409,
                 "phone_taken")
    other_community, _, _ = make_place(api, tenant, "荷塘")
    wrong = api.post("/v1/residents", token=tenant.token, json={
        "name": "错位", "phone": "13900000000",
        "units": [{"unit_id": unit["id"], "community_id": other_community["id"]}]})
    assert assert_error(wrong, 422)["details"][0]["type"] == "unknown_unit"
    assert_error(api.post("/v1/residents", token=tenant.token, json={"name": "x", "phone": "12345"}), 422)
    moved = api.patch(f"/v1/residents/{resident['id']}", token=tenant.token, json={"phone": "13912345678"})
    assert moved.json()["phone"] == "13912345678"
    assert api.post("/v1/residents", token=tenant.token, json={"name": "新", "phone": "13812345678"}).status_code == 201


def test_butler_gets_404_for_a_resident_of_another_building(api: ApiClient, tenant):
    butler, butler_token = api.add_staff(tenant, "butler")
    ids = []
    for name, butler_id, phone in (("翠苑", butler["id"], "13800000011"), ("荷塘", None, "13800000012")):
        community, _, unit = make_place(api, tenant, name, butler_id=butler_id)
        ids.append(api.post("/v1/residents", token=tenant.token, json={"name": name, "phone": phone, "units": [
            {"unit_id": unit["id"], "community_id": community["id"]}]}).json()["id"])
    own, other = ids
    assert [r["id"] for r in api.get("/v1/residents", token=butler_token).json()["items"]] == [own]
    assert api.get(f"/v1/residents/{own}", token=butler_token).status_code == 200
    outside = api.get(f"/v1/residents/{other}", token=butler_token)
    missing = api.get("/v1/residents/res_nobody", token=butler_token)
    assert_error(outside, 404) and assert_error(missing, 404)
    assert outside.json()["error"] | {"request_id": None} == missing.json()["error"] | {"request_id": None}


CSV = "小区,楼栋,单元,房号,姓名,手机,身份\n翠苑,1栋,1单元,101,陈阿姨,13800000001,业主\n" \
      "翠苑,1栋,1单元,102,刘先生,13800000003,住户\n翠苑,2栋,,201,赵女士,bad-phone,业主\n" \
      "无此小区,1栋,,1,孙,13800000009,业主\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_import_reports_rows_and_is_idempotent(api: ApiClient, tenant, encoding):
    api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"})
    headers = {"Content-Type": "text/csv"}
    first = api.post("/v1/residents/import", token=tenant.token, data=CSV.encode(encoding), headers=headers)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (2, 0, 0)
    assert [e["line"] for e in report["errors"]] == [4, 5]
    assert "phone" in report["errors"][0]["message"] and "无此小区" in report["errors"][1]["message"]
    again = api.post("/v1/residents/import", token=tenant.token, data=CSV.encode(encoding), headers=headers).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    residents = api.get("/v1/residents", token=tenant.token).json()["items"]
    assert sorted(r["name"] for r in residents) == ["刘先生", "陈阿姨"]
    assert {r["units"][0]["label"] for r in residents} == {"1栋1单元101", "1栋1单元102"}


def test_places_and_residents_are_isolated(api: ApiClient, tenant, other_tenant):
    community, _, unit = make_place(api, other_tenant)
    resident = api.post("/v1/residents", token=other_tenant.token, json={"name": "B", "phone": "13700000000"}).json()
    for path in (f"/v1/communities/{community['id']}", f"/v1/residents/{resident['id']}",
                 f"/v1/communities/{community['id']}/units", f"/v1/communities/{community['id']}/buildings"):
        response = api.get(path, token=tenant.token)
        assert response.status_code == 404, path
    assert api.patch(f"/v1/residents/{resident['id']}", token=tenant.token, json={"name": "x"}).status_code == 404
    assert api.delete(f"/v1/residents/{resident['id']}", token=tenant.token).status_code == 404
    # a unit of another tenant cannot be linked
    linked = api.post("/v1/residents", token=tenant.token, json={
        "name": "A", "phone": "13600000000", "units": [{"unit_id": unit["id"], "community_id": community["id"]}]})
    assert_error(linked, 422)
    assert api.get("/v1/residents", token=tenant.token).json()["items"] == []
    assert api.get("/v1/communities", token=tenant.token).json()["items"] == []


def test_technicians_cannot_manage_places_or_people(api: ApiClient, tenant):
    _, tech = api.add_staff(tenant, "technician")
    assert_error(api.post("/v1/communities", token=tech, json={"name": "x"}), 403)
    assert_error(api.get("/v1/residents", token=tech), 403)
    assert api.get("/v1/communities", token=tech).status_code == 200


def test_demo_tenant_has_places_staff_and_residents(api: ApiClient):
    login = api.post("/v1/auth/login", json={"tenant_slug": "demo", "email": "agent@demo.test",
                                             "password": "Linli-demo-2026"})
    assert login.status_code == 200
    token = login.json()["access_token"]
    communities = api.get("/v1/communities", token=token).json()["items"]
    assert {c["name"] for c in communities} == {"翠苑", "荷塘月色"}
    residents = api.get("/v1/residents", token=token).json()["items"]
    phones = {r["phone"] for r in residents}
    assert {"138****0001", "138****0002"} <= phones
    by_phone = {r["phone"]: r for r in residents}
    assert by_phone["138****0001"]["units"][0]["unit_id"] != by_phone["138****0002"]["units"][0]["unit_id"]
