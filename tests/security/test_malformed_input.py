"""No input crashes a route (issue 11), at the HTTP edge: cursors replayed on another list, JSON nested 1,000 deep,
hostile ``If-Match`` values. Each answer is a 4xx with its code, never a 500."""
from __future__ import annotations

import pytest

from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.e2e


def _created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def _estate(api: ApiClient, tenant) -> dict:
    """Two of everything a list route pages over, so that ``limit=1`` mints a cursor on each."""
    token = tenant.token
    communities = [_created(api.post("/v1/communities", token=token, json={"name": f"小区{i}"})) for i in range(2)]
    c1 = communities[0]["id"]
    buildings = [_created(api.post(f"/v1/communities/{c1}/buildings", token=token, json={"name": f"{i}栋"}))
                 for i in range(2)]
    units = [_created(api.post(f"/v1/communities/{c1}/units", token=token,
                               json={"building_id": buildings[0]["id"], "number": f"10{i}"})) for i in range(2)]
    residents = [_created(api.post("/v1/residents", token=token, json={
        "name": f"业主{i}", "phone": f"1390000{i:04d}", "units": [{"unit_id": units[i]["id"], "community_id": c1}]}))
        for i in range(2)]
    api.add_staff(tenant, "agent")
    for i in range(2):
        _created(api.post("/v1/api-keys", token=token, json={"name": f"K{i}", "scopes": ["tenant:read"]}))
    webhooks = [_created(api.post("/v1/webhooks", token=token, json={"url": f"http://127.0.0.1:9/hook{i}"}))
                for i in range(2)]
    for i in range(2):
        _created(api.post("/v1/tickets", token=token, json={
            "kind": "inquiry", "description": f"电话咨询{i}", "channel": "phone", "resident_id": residents[i]["id"],
            "location": {"community_id": c1, "unit_id": units[i]["id"]}}))
    return {"c1": c1, "c2": communities[1]["id"], "building": buildings[0]["id"], "webhook": webhooks[0]["id"],
            "resident": residents[0]["id"]}


def test_cross_route_cursor_replay_is_400_not_500(api: ApiClient, tenant):
    estate = _estate(api, tenant)
    c1, c2 = estate["c1"], estate["c2"]
    lists = [
        ("/v1/staff", {}), ("/v1/api-keys", {}), ("/v1/communities", {}), (f"/v1/communities/{c1}/buildings", {}),
        (f"/v1/communities/{c1}/units", {}), (f"/v1/communities/{c1}/units", {"building_id": estate["building"]}),
        ("/v1/residents", {}), ("/v1/webhooks", {}), ("/v1/tickets", {}), ("/v1/tickets", {"bucket": "closed"}),
        ("/v1/tickets", {"assignee_id": tenant.admin_id}), ("/v1/tickets", {"pool": "maintenance"}),
        ("/v1/tickets/at-risk", {}), (f"/v1/communities/{c2}/buildings", {}),
        (f"/v1/webhooks/{estate['webhook']}/deliveries", {}), ("/v1/me/notifications", {}),
    ]
    minted = []
    for path, params in lists:
        page = api.get(path, token=tenant.token, params={**params, "limit": 1})
        assert page.status_code == 200, (path, params, page.text)
        cursor = page.json().get("next_cursor")
        if cursor:
            minted.append((path, params, cursor))
            again = api.get(path, token=tenant.token, params={**params, "limit": 5, "cursor": cursor})
            assert again.status_code == 200, (path, params, again.text)  # its own list pages on, any page size
    assert len(minted) >= 7, minted
    for source, source_params, cursor in minted:
        for path, params in lists:
            if (path, params) == (source, source_params):
                continue
            response = api.get(path, token=tenant.token, params={**params, "limit": 1, "cursor": cursor})
            assert response.status_code != 500, (source, source_params, path, params, response.text)
            assert_error(response, 400, "invalid_cursor")


def test_json_nested_1000_deep_is_400(api: ApiClient, tenant):
    for body in (b"[" * 1000 + b"]" * 1000, b'{"company_name": ' + b"[" * 1000 + b"]" * 1000 + b"}",
                 b'{"a":' * 1000 + b"1" + b"}" * 1000, b"[" * 100_000):
        response = api.patch("/v1/tenant", token=tenant.token, data=body, headers={"Content-Type": "application/json"})
        error = assert_error(response, 400, "malformed_json")
        assert "deeper than 32" in error["message"]
    shallow = '{"company_name": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ 物业"}'.encode()  # in a string
    assert api.patch("/v1/tenant", token=tenant.token, data=shallow,
                     headers={"Content-Type": "application/json"}).status_code == 200
    assert_error(api.post("/v1/signup", data=b"[" * 5000, headers={"Content-Type": "application/json"}), 400,
                 "malformed_json")


def _patch_with_if_match(api: ApiClient, tenant, value: str):
    return api.patch("/v1/tenant", token=tenant.token, json={"company_name": "新名字物业"},
                     headers={"If-Match": value.encode("utf-8")})


def test_if_match_superscript_two_is_400(api: ApiClient, tenant):
    for value in ("²", '"²"', 'W/"²"', "٣", "1.0"):
        assert_error(_patch_with_if_match(api, tenant, value), 400, "invalid_if_match")
    version = api.get("/v1/tenant", token=tenant.token).json()["version"]
    assert _patch_with_if_match(api, tenant, f'W/"{version}"').status_code == 200


def test_if_match_5000_digits_is_400(api: ApiClient, tenant):
    for value in ("1" * 5000, "9" * 10, f'"{"1" * 5000}"'):
        assert_error(_patch_with_if_match(api, tenant, value), 400, "invalid_if_match")
    assert api.get("/v1/tenant", token=tenant.token).json()["version"] == 1
