"""Hostile residents' files (issue 11): a CSV row cannot store what the API refuses nor answer a 500, and spreadsheet
formulas lose their meaning on the way in and on the way out. Over HTTP against the embedded stack."""
from __future__ import annotations

import csv
import io

import pytest

from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.e2e

HEADER = "小区,楼栋,单元,房号,姓名,手机,身份\n"
CSV = {"Content-Type": "text/csv"}


def _community(api: ApiClient, tenant, name: str = "翠苑") -> dict:
    created = api.post("/v1/communities", token=tenant.token, json={"name": name})
    assert created.status_code == 201, created.text
    return created.json()


def _import(api: ApiClient, tenant, *lines: str) -> dict:
    response = api.post("/v1/residents/import", token=tenant.token, headers=CSV,
                        data=(HEADER + "".join(line + "\n" for line in lines)).encode())
    assert response.status_code == 200, response.text
    return response.json()


def _buildings(api: ApiClient, tenant, community: dict) -> list[str]:
    return [b["name"] for b in api.get(f"/v1/communities/{community['id']}/buildings", token=tenant.token,
                                       params={"limit": 100}).json()["items"]]


def _export(api: ApiClient, token: str) -> list[list[str]]:
    response = api.get("/v1/residents/export", token=token)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_csv_building_name_over_the_limit_is_a_row_error_not_a_500(api: ApiClient, tenant):
    community = _community(api, tenant)

    report = _import(api, tenant, "翠苑," + "栋" * 51 + ",,101,王先生,13800000001,业主",
                     "翠苑,1栋,,101,陈阿姨,13800000002,业主")

    assert (report["created"], report["updated"], report["unchanged"]) == (1, 0, 0)
    assert report["errors"] == [{"line": 2, "field": "building",
                                 "message": "building: String should have at most 50 characters"}]
    assert _buildings(api, tenant, community) == ["1栋"]  # the bad row changed nothing
    names = {r["name"] for r in api.get("/v1/residents", token=tenant.token).json()["items"]}
    assert names == {"陈阿姨"}
    # the same name through the API is refused the same way
    assert_error(api.post(f"/v1/communities/{community['id']}/buildings", token=tenant.token,
                          json={"name": "栋" * 51}), 422, "validation_failed")


def test_a_long_entrance_cannot_build_an_oversized_key(api: ApiClient, tenant):
    community = _community(api, tenant)
    long_entrance = "单" * 700  # 2,100 bytes of UTF-8: the unit's claim key would pass DynamoDB's 2,048

    report = _import(api, tenant, f"翠苑,1栋,{long_entrance},101,王先生,13800000001,业主",
                     "翠苑,1栋,,1" + "0" * 700 + ",李女士,13800000003,业主")

    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "entrance"), (3, "number")]
    assert report["created"] == 0 and _buildings(api, tenant, community) == []
    assert api.get("/v1/residents", token=tenant.token).json()["items"] == []


def test_a_csv_field_past_the_csv_limit_or_a_file_past_the_row_limit_is_a_4xx_not_a_500(api: ApiClient, tenant):
    community = _community(api, tenant)
    huge_cell = api.post("/v1/residents/import", token=tenant.token, headers=CSV,
                         data=(HEADER + "翠苑,1栋,," + "1" * 200_000 + ",王,13800000001,\n").encode())
    assert "line 2" in assert_error(huge_cell, 422, "unreadable_file")["message"]
    many = HEADER + "".join(f"翠苑,1栋,,{i},王,1380000{i:04d},\n" for i in range(501))
    assert_error(api.post("/v1/residents/import", token=tenant.token, headers=CSV, data=many.encode()), 413,
                 "too_many_rows")
    assert _buildings(api, tenant, community) == []


def test_formula_cells_are_neutralised_on_import_and_export(api: ApiClient, tenant):
    community = _community(api, tenant)

    # In: a file full of formulas, next to values that only look like them (a phone in +86 form, a basement -1).
    report = _import(api, tenant, "翠苑,@SUM(1+1),=1+2,-1,=cmd|' /C calc'!A0,+86 138 0000 0001,业主",
                     "翠苑,1栋,,101,\t+HYPERLINK(\"http://evil.example\"),13800000002,住户")
    assert (report["created"], report["errors"]) == (2, [])
    residents = {r["name"]: r for r in api.get("/v1/residents", token=tenant.token).json()["items"]}
    assert set(residents) == {"'=cmd|' /C calc'!A0", "'+HYPERLINK(\"http://evil.example\")"}
    assert residents["'=cmd|' /C calc'!A0"]["units"][0]["label"] == "'@SUM(1+1)'=1+2-1"
    assert set(_buildings(api, tenant, community)) == {"'@SUM(1+1)", "1栋"}
    unit_numbers = {u["number"] for u in api.get(f"/v1/communities/{community['id']}/units",
                                                  token=tenant.token).json()["items"]}
    assert unit_numbers == {"-1", "101"}

    # Out: values typed through the API are stored as typed, and neutralised in the export.
    building = api.post(f"/v1/communities/{community['id']}/buildings", token=tenant.token,
                        json={"name": "2栋"}).json()
    unit = api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                    json={"building_id": building["id"], "entrance": "+1单元", "number": "-2"}).json()
    typed = api.post("/v1/residents", token=tenant.token, json={
        "name": "=HYPERLINK(\"http://evil.example\",\"点我\")", "phone": "13800000003",
        "units": [{"unit_id": unit["id"], "community_id": community["id"]}]})
    assert typed.status_code == 201, typed.text

    lines = _export(api, tenant.token)
    assert lines[0] == ["小区", "楼栋", "单元", "房号", "姓名", "手机", "身份"]
    assert sorted(lines[1:]) == sorted([
        ["翠苑", "'@SUM(1+1)", "'=1+2", "-1", "'=cmd|' /C calc'!A0", "13800000001", "业主"],
        ["翠苑", "1栋", "", "101", "'+HYPERLINK(\"http://evil.example\")", "13800000002", "住户"],
        ["翠苑", "2栋", "'+1单元", "-2", "'=HYPERLINK(\"http://evil.example\",\"点我\")", "13800000003", "业主"]])
    assert [cell for line in lines for cell in line if cell[:1] in ("=", "+", "-", "@", "\t", "\r")
            and cell not in ("-1", "-2")] == []  # plain numbers are not formulas

    # And back in: what the file brought in comes back unchanged.
    out = io.StringIO()
    csv.writer(out).writerows(line for line in lines if line[5] != "13800000003")
    again = api.post("/v1/residents/import", token=tenant.token, headers=CSV, data=out.getvalue().encode("utf-8-sig"))
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"], again.json()["errors"]) == (
        0, 0, 2, [])


def test_an_export_is_the_tenants_own_and_only_for_those_who_manage_residents(api: ApiClient, tenant, other_tenant):
    _community(api, other_tenant)
    _import(api, other_tenant, "翠苑,1栋,,101,别家业主,13800000001,业主")
    assert _export(api, tenant.token) == [["小区", "楼栋", "单元", "房号", "姓名", "手机", "身份"]]
    _, butler = api.add_staff(tenant, "butler")
    assert_error(api.get("/v1/residents/export", token=butler), 403, "forbidden")


def test_a_file_cannot_give_a_resident_more_units_than_the_api_allows(api: ApiClient, tenant):
    _community(api, tenant)

    report = _import(api, tenant, *[f"翠苑,1栋,,{100 + i},王先生,13800000001,业主" for i in range(11)])

    assert (report["created"], report["updated"]) == (1, 9)
    assert report["errors"] == [{"line": 12, "field": None,
                                 "message": "units: a resident lives in at most 10 units"}]
    [resident] = api.get("/v1/residents", token=tenant.token).json()["items"]
    assert len(resident["units"]) == 10
    units = api.get(f"/v1/communities/{resident['units'][0]['community_id']}/units", token=tenant.token,
                    params={"limit": 100}).json()["items"]
    assert len(units) == 10  # the refused row created no unit either
