"""Tenant isolation: another tenant's ids answer exactly like missing ones, and the tenant comes
only from the credential — never from path, query, body or header."""
from __future__ import annotations

import pytest

from tests.helpers import ApiClient

pytestmark = pytest.mark.e2e


def _body_without_request_id(response):
    body = response.json()
    body["error"].pop("request_id")
    return response.status_code, body


@pytest.fixture
def b_resources(api: ApiClient, other_tenant):
    staff, _ = api.add_staff(other_tenant, "agent")
    key = api.post("/v1/api-keys", token=other_tenant.token, json={"name": "B", "scopes": ["tenant:read"]}).json()
    reply = api.post("/v1/canned-replies", token=other_tenant.token, json={"title": "B", "body": "您好"}).json()
    return {"staff_id": staff["id"], "key_id": key["id"], "reply_id": reply["id"]}


@pytest.mark.parametrize("method,template,body", [
    ("GET", "/v1/staff/{staff_id}", None),
    ("PATCH", "/v1/staff/{staff_id}", {"name": "hijack"}),
    ("DELETE", "/v1/staff/{staff_id}", None),
    ("DELETE", "/v1/api-keys/{key_id}", None),
    ("PATCH", "/v1/canned-replies/{reply_id}", {"title": "hijack"}),
    ("DELETE", "/v1/canned-replies/{reply_id}", None),
])
def test_other_tenants_ids_are_404_like_missing_ones(api: ApiClient, tenant, other_tenant, b_resources,
                                                     method, template, body):
    kwargs = {"json": body} if body is not None else {}
    foreign = api.request(method, template.format(**b_resources), token=tenant.token, **kwargs)
    missing_ids = {k: v[:4] + "0" * (len(v) - 4) for k, v in b_resources.items()}
    missing = api.request(method, template.format(**missing_ids), token=tenant.token, **kwargs)
    assert foreign.status_code == 404
    assert _body_without_request_id(foreign) == _body_without_request_id(missing)
    # and B's things are untouched
    assert api.get(f"/v1/staff/{b_resources['staff_id']}", token=other_tenant.token).json()["name"] == "agent 同事"
    keys = api.get("/v1/api-keys", token=other_tenant.token).json()["items"]
    assert keys[0]["revoked_at"] is None
    assert [r["title"] for r in api.get("/v1/canned-replies", token=other_tenant.token).json()["items"]] == ["B"]


def test_lists_never_show_another_tenants_items(api: ApiClient, tenant, other_tenant, b_resources):
    staff_ids = {s["id"] for s in api.get("/v1/staff", token=tenant.token).json()["items"]}
    assert b_resources["staff_id"] not in staff_ids and other_tenant.admin_id not in staff_ids
    assert api.get("/v1/api-keys", token=tenant.token).json()["items"] == []
    assert api.get("/v1/canned-replies", token=tenant.token).json()["items"] == []
    loaded = api.get("/v1/staff", token=tenant.token, params={"role": "agent", "with_load": "true"}).json()["items"]
    assert b_resources["staff_id"] not in {s["id"] for s in loaded}


def test_tenant_id_in_path_query_body_or_header_is_ignored(api: ApiClient, tenant, other_tenant):
    response = api.get("/v1/tenant", token=tenant.token, params={"tenant_id": other_tenant.id},
                       headers={"X-Tenant-Id": other_tenant.id, "X-Linli-Tenant": other_tenant.id})
    assert response.json()["id"] == tenant.id
    patched = api.patch("/v1/tenant", token=tenant.token, json={"tenant_id": other_tenant.id, "id": other_tenant.id,
                                                                "company_name": "只改自己"})
    assert patched.json()["id"] == tenant.id and patched.json()["company_name"] == "只改自己"
    assert api.get("/v1/tenant", token=other_tenant.token).json()["company_name"] != "只改自己"
    created = api.post("/v1/staff", token=tenant.token, json={
        "email": "x@example.com", "name": "x", "role": "agent", "password": "Correct-horse-42",
        "tenant_id": other_tenant.id})
    assert created.status_code == 201
    assert created.json()["id"] not in {s["id"] for s in api.get("/v1/staff", token=other_tenant.token).json()["items"]}


def test_cursors_are_bound_to_the_tenant_that_minted_them(api: ApiClient, tenant, other_tenant):
    api.add_staff(tenant, "agent")
    cursor = api.get("/v1/staff", token=tenant.token, params={"limit": 1}).json()["next_cursor"]
    assert cursor
    response = api.get("/v1/staff", token=other_tenant.token, params={"cursor": cursor})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_cursor"


def test_api_key_of_one_tenant_reads_only_its_own(api: ApiClient, tenant, other_tenant):
    key = api.post("/v1/api-keys", token=tenant.token, json={"name": "A", "scopes": ["tenant:read",
                                                                                    "staff:read"]}).json()["key"]
    assert api.get("/v1/tenant", token=key).json()["id"] == tenant.id
    assert api.get(f"/v1/staff/{other_tenant.admin_id}", token=key).status_code == 404


def test_another_tenants_ticket_reveals_no_phone_and_answers_like_a_missing_one(api: ApiClient, tenant, other_tenant):
    community = api.post("/v1/communities", token=other_tenant.token, json={"name": "荷塘"}).json()
    resident = api.post("/v1/residents", token=other_tenant.token,
                        json={"name": "赵女士", "phone": "13800000002"}).json()
    ticket = api.post("/v1/tickets", token=other_tenant.token, json={
        "kind": "inquiry", "description": "来电", "resident_id": resident["id"],
        "location": {"community_id": community["id"], "common_area": "大门"}}).json()

    foreign = api.post(f"/v1/tickets/{ticket['id']}/reveal-phone", token=tenant.token)
    missing = api.post(f"/v1/tickets/tkt_{'0' * (len(ticket['id']) - 4)}/reveal-phone", token=tenant.token)

    assert foreign.status_code == 404
    assert _body_without_request_id(foreign) == _body_without_request_id(missing)
    assert "resident.phone_revealed" not in [e["type"] for e in api.get(
        f"/v1/tickets/{ticket['id']}/events", token=other_tenant.token).json()["items"]]
