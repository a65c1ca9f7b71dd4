"""Staff CRUD with the last-admin rule, and API keys (shown once, hashed, scoped, revocable)."""
from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, ApiClient, assert_error

pytestmark = pytest.mark.e2e


def test_staff_crud(api: ApiClient, tenant):
    created = api.post("/v1/staff", token=tenant.token, json={
        "email": "Li.Na@Example.com", "name": "李娜", "role": "agent", "password": PASSWORD, "phone": "13912345678"})
    assert created.status_code == 201
    agent = created.json()
    assert agent["email"] == "li.na@example.com" and agent["name"] == "李娜" and agent["version"] == 1
    assert api.get(f"/v1/staff/{agent['id']}", token=tenant.token).json() == agent

    duplicate = api.post("/v1/staff", token=tenant.token, json={
        "email": "li.na@example.com", "name": "又一个", "role": "agent", "password": PASSWORD})
    assert_error(duplicate, 409, "email_taken")

    stale = api.patch(f"/v1/staff/{agent['id']}", token=tenant.token, headers={"If-Match": "7"},
                      json={"role": "supervisor"})
    assert_error(stale, 412)
    promoted = api.patch(f"/v1/staff/{agent['id']}", token=tenant.token, headers={"If-Match": "1"},
                         json={"role": "supervisor"})
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "supervisor" and promoted.json()["version"] == 2

    assert api.delete(f"/v1/staff/{agent['id']}", token=tenant.token).status_code == 204
    assert_error(api.get(f"/v1/staff/{agent['id']}", token=tenant.token), 404, "not_found")
    again = api.post("/v1/staff", token=tenant.token, json={
        "email": "li.na@example.com", "name": "李娜", "role": "agent", "password": PASSWORD})
    assert again.status_code == 201  # the e-mail was released with the member


def test_staff_list_is_paginated_with_opaque_cursors(api: ApiClient, tenant):
    for role in ("agent", "technician", "butler"):
        api.add_staff(tenant, role)
    seen, cursor = [], None
    while True:
        page = api.get("/v1/staff", token=tenant.token, params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        body = page.json()
        assert len(body["items"]) <= 2
        seen.extend(member["id"] for member in body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 4
    assert_error(api.get("/v1/staff", token=tenant.token, params={"cursor": "garbage"}), 400, "invalid_cursor")
    assert_error(api.get("/v1/staff", token=tenant.token, params={"limit": 1000}), 422)


def test_the_last_admin_cannot_be_removed_demoted_or_disabled(api: ApiClient, tenant):
    me = f"/v1/staff/{tenant.admin_id}"
    assert_error(api.patch(me, token=tenant.token, json={"role": "agent"}), 409, "last_admin")
    assert_error(api.patch(me, token=tenant.token, json={"status": "disabled"}), 409, "last_admin")
    assert_error(api.delete(me, token=tenant.token), 409, "last_admin")
    assert api.get(me, token=tenant.token).json()["role"] == "admin"

    second = api.post("/v1/staff", token=tenant.token, json={
        "email": "second@example.com", "name": "二号管理员", "role": "admin", "password": PASSWORD}).json()
    demoted = api.patch(me, token=tenant.token, json={"role": "agent"})
    assert demoted.status_code == 200 and demoted.json()["role"] == "agent"
    # A role change signs the member out: refresh tokens are revoked, access tokens expire within 15 min.
    assert_error(api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token}), 401)
    assert_error(api.delete(f"/v1/staff/{second['id']}", token=second_login(api, tenant)), 409, "last_admin")


def second_login(api: ApiClient, tenant) -> str:
    return api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": "second@example.com",
                                            "password": PASSWORD}).json()["access_token"]


def test_api_key_is_shown_once_hashed_scoped_and_revocable(api: ApiClient, tenant):
    created = api.post("/v1/api-keys", token=tenant.token, json={"name": "物业ERP", "scopes": ["tenant:read",
                                                                                              "tickets:read"]})
    assert created.status_code == 201
    key = created.json()
    assert key["key"].startswith("lk_live_") and len(key["key"]) > 40
    assert key["hint"].startswith("lk_live_") and key["key"] not in key["hint"]

    listed = api.get("/v1/api-keys", token=tenant.token).json()["items"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert "key" not in listed[0] and key["key"] not in str(listed)
    assert listed[0]["last_used_at"] is None

    as_integrator = api.get("/v1/tenant", token=key["key"])
    assert as_integrator.status_code == 200 and as_integrator.json()["id"] == tenant.id
    assert api.get("/v1/api-keys", token=tenant.token).json()["items"][0]["last_used_at"] is not None
    assert_error(api.get("/v1/staff", token=key["key"]), 403, "forbidden")  # scope not granted

    revoked = api.delete(f"/v1/api-keys/{key['id']}", token=tenant.token)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_error(api.get("/v1/tenant", token=key["key"]), 401, "unauthenticated")


def test_api_keys_cannot_hold_administrative_scopes(api: ApiClient, tenant):
    error = assert_error(api.post("/v1/api-keys", token=tenant.token,
                                  json={"name": "too much", "scopes": ["staff:write", "tenant:read"]}), 422)
    assert error["details"][0]["type"] == "scope_not_allowed"
    assert_error(api.post("/v1/api-keys", token=tenant.token, json={"name": "x", "scopes": ["nope"]}), 422)
    assert api.get("/v1/api-keys", token=tenant.token).json()["items"] == []


def test_unknown_api_key_is_401(api: ApiClient):
    assert_error(api.get("/v1/tenant", token="lk_live_" + "x" * 43), 401, "unauthenticated")


def test_staff_phones_are_masked_for_everyone_but_admins_and_the_member(api: ApiClient, tenant):
    member = api.post("/v1/staff", token=tenant.token, json={
        "email": "wang@example.com", "name": "王师傅", "role": "technician", "password": PASSWORD,
        "phone": "13912345678"}).json()
    assert member["phone"] == "13912345678"
    key = api.post("/v1/api-keys", token=tenant.token, json={"name": "ERP", "scopes": ["staff:read"]}).json()["key"]
    readers = {role: api.add_staff(tenant, role)[1] for role in ("agent", "supervisor", "technician", "butler")}
    for reader, token in {**readers, "api_key": key}.items():  # the role matrix: who reads another's phone
        one = api.get(f"/v1/staff/{member['id']}", token=token)
        if one.status_code == 403:  # technicians and butlers may not read the directory at all
            assert reader in ("technician", "butler")
            continue
        listed = [m for m in api.get("/v1/staff", token=token, params={"limit": 100}).json()["items"]
                  if m["id"] == member["id"]]
        assert one.json()["phone"] == "139****5678" and [m["phone"] for m in listed] == ["139****5678"], reader
    assert api.get(f"/v1/staff/{member['id']}", token=tenant.token).json()["phone"] == "13912345678"
    login = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": "wang@example.com",
                                             "password": PASSWORD}).json()
    assert api.get("/v1/me", token=login["access_token"]).json()["phone"] == "13912345678"
