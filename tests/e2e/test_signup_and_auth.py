"""Signup, login, refresh and logout over HTTP against the embedded stack."""
from __future__ import annotations

import uuid

import pytest

from tests.helpers import PASSWORD, ApiClient, assert_error

pytestmark = pytest.mark.e2e


def signup_body(**overrides):
    body = {"company_name": "万科物业", "slug": f"s-{uuid.uuid4().hex[:8]}",
            "admin_email": f"a-{uuid.uuid4().hex[:6]}@example.com", "admin_password": PASSWORD}
    body.update(overrides)
    return body


def test_signup_creates_tenant_admin_and_tokens(api: ApiClient):
    body = signup_body(company_name="碧桂园服务·东区")
    response = api.post("/v1/signup", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["tenant"]["slug"] == body["slug"]
    assert created["tenant"]["company_name"] == "碧桂园服务·东区"
    assert created["tenant"]["timezone"] == "Asia/Shanghai" and created["tenant"]["locale"] == "zh-CN"
    assert created["tenant"]["id"].startswith("tnt_") and created["user"]["id"].startswith("usr_")
    assert created["user"]["role"] == "admin" and created["user"]["email"] == body["admin_email"]
    assert "password" not in str(created["user"]) and "password_hash" not in created["user"]
    me = api.get("/v1/me", token=created["access_token"])
    assert me.status_code == 200 and me.json()["id"] == created["user"]["id"]
    assert me.json()["kind"] == "staff" and me.json()["tenant_id"] == created["tenant"]["id"]
    assert "api_keys:manage" in me.json()["permissions"]  # what the console shows or hides


@pytest.mark.parametrize("field,value,type_", [
    ("slug", "ab", "slug_format"), ("slug", "Has Space", "slug_format"), ("slug", "admin", "slug_reserved"),
    ("slug", "-lead", "slug_format"), ("slug", "double--dash", "slug_format"),
    ("admin_email", "not-an-email", "value_error"), ("admin_password", "short1", "weak_password"),
    ("admin_password", "onlyletterslong", "weak_password"), ("company_name", "", "string_too_short"),
])
def test_signup_rejects_bad_fields_and_stores_nothing(api: ApiClient, field, value, type_):
    body = signup_body(**{field: value})
    error = assert_error(api.post("/v1/signup", json=body), 422, "validation_failed")
    assert any(d["field"] == field and d["type"] == type_ for d in error["details"]), error
    if field != "slug":  # the slug stayed free: nothing was written
        assert api.post("/v1/signup", json=signup_body(slug=body["slug"])).status_code == 201


def test_slug_is_unique_platform_wide(api: ApiClient):
    body = signup_body()
    assert api.post("/v1/signup", json=body).status_code == 201
    again = signup_body(slug=body["slug"].upper())
    assert_error(api.post("/v1/signup", json=again), 409, "slug_taken")


def test_login_issues_tokens_and_refresh_rotates(api: ApiClient, tenant):
    login = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": tenant.admin_email.upper(),
                                             "password": PASSWORD})
    assert login.status_code == 200
    tokens = login.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert api.get("/v1/tenant", token=tokens["access_token"]).json()["id"] == tenant.id

    rotated = api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert api.get("/v1/tenant", token=new["access_token"]).status_code == 200

    # Re-using the old refresh token is theft: it fails and revokes the whole family.
    assert_error(api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401,
                 "refresh_token_reused")
    assert_error(api.post("/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}), 401)


def test_logout_revokes_refresh_token(api: ApiClient, tenant):
    assert api.post("/v1/auth/logout", json={"refresh_token": tenant.refresh_token}).status_code == 204
    assert_error(api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token}), 401,
                 "invalid_refresh_token")


def _strip_request_id(response):
    body = response.json()
    body["error"].pop("request_id")
    return response.status_code, body


def test_unknown_user_wrong_password_and_unknown_tenant_answer_identically(api: ApiClient, tenant):
    wrong_password = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": tenant.admin_email,
                                                      "password": "Wrong-password-1"})
    unknown_user = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": "nobody@example.com",
                                                    "password": "Wrong-password-1"})
    unknown_tenant = api.post("/v1/auth/login", json={"tenant_slug": "no-such-co", "email": tenant.admin_email,
                                                      "password": PASSWORD})
    assert _strip_request_id(wrong_password) == _strip_request_id(unknown_user) == _strip_request_id(unknown_tenant)
    assert wrong_password.status_code == 401
    assert wrong_password.json()["error"]["code"] == "invalid_credentials"


def test_failed_logins_lock_the_account_and_unknown_accounts_alike(api: ApiClient, tenant):
    for email in (tenant.admin_email, f"ghost-{uuid.uuid4().hex[:6]}@example.com"):
        bad = {"tenant_slug": tenant.slug, "email": email, "password": "Wrong-password-1"}
        codes = [api.post("/v1/auth/login", json=bad).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 401, 429]
        locked = api.post("/v1/auth/login", json={**bad, "password": PASSWORD})
        assert_error(locked, 429, "too_many_attempts")
        assert 0 < int(locked.headers["Retry-After"]) <= 61  # the first lock of the back-off: a minute


def test_disabled_staff_cannot_sign_in(api: ApiClient, tenant):
    agent, _ = api.add_staff(tenant, "agent")
    assert api.patch(f"/v1/staff/{agent['id']}", token=tenant.token, json={"status": "disabled"}).status_code == 200
    response = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": agent["email"],
                                                "password": PASSWORD})
    assert_error(response, 401, "invalid_credentials")


def test_me_lists_the_role_permissions_the_console_shows_or_hides(api: ApiClient, tenant):
    _, agent_token = api.add_staff(tenant, "agent")
    _, technician_token = api.add_staff(tenant, "technician")
    agent = api.get("/v1/me", token=agent_token).json()
    technician = api.get("/v1/me", token=technician_token).json()
    assert agent["role"] == "agent" and "tickets:dispatch" in agent["permissions"]
    assert "api_keys:manage" not in agent["permissions"] and "tenant:write" not in agent["permissions"]
    assert technician["permissions"] == sorted(["communities:read", "tenant:read", "tickets:read", "tickets:write"])
