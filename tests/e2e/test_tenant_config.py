"""Tenant configuration, branding and the README walk-through."""
from __future__ import annotations

import pytest

from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.e2e


def test_readme_walkthrough_signup_login_patch_branding_public(api: ApiClient):
    tenant = api.new_tenant(company="翠湖物业")
    login = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": tenant.admin_email,
                                             "password": "Correct-horse-42"}).json()
    patched = api.patch("/v1/tenant", token=login["access_token"], json={"branding": {
        "display_name": "翠湖管家", "primary_color": "#0A7D4F", "logo_url": "https://cdn.example.com/logo.png",
        "contact_phone": "400-820-8820"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2
    public = api.get(f"/v1/public/tenants/{tenant.slug}/branding")
    assert public.status_code == 200
    assert public.json()["name"] == "翠湖管家"
    assert public.json()["primary_color"] == "#0A7D4F"
    assert public.json()["logo_url"] == "https://cdn.example.com/logo.png"
    assert public.json()["contact_phone"] == "400-820-8820"
    assert {k["key"] for k in public.json()["ticket_kinds"]} >= {"repair", "complaint", "emergency"}


def test_patch_is_a_merge_and_honours_if_match(api: ApiClient, tenant):
    first = api.patch("/v1/tenant", token=tenant.token, json={"branding": {"primary_color": "#112233"}})
    assert first.status_code == 200
    version = first.json()["version"]
    stale = api.patch("/v1/tenant", token=tenant.token, headers={"If-Match": str(version - 1)},
                      json={"timezone": "Asia/Urumqi"})
    assert_error(stale, 412, "version_mismatch")
    fresh = api.patch("/v1/tenant", token=tenant.token, headers={"If-Match": f'"{version}"'},
                      json={"timezone": "Asia/Urumqi", "branding": {"display_name": "东区"}})
    assert fresh.status_code == 200
    body = fresh.json()
    assert body["version"] == version + 1
    assert body["timezone"] == "Asia/Urumqi"
    assert body["branding"]["primary_color"] == "#112233"  # untouched by the second patch
    assert body["branding"]["display_name"] == "东区"
    cleared = api.patch("/v1/tenant", token=tenant.token, json={"branding": {"display_name": None}})
    assert cleared.json()["branding"]["display_name"] is None


@pytest.mark.parametrize("patch,field", [
    ({"branding": {"primary_color": "red"}}, "branding.primary_color"),
    ({"branding": {"logo_url": "http://insecure.example.com/x.png"}}, "branding.logo_url"),
    ({"branding": {"contact_phone": "12345"}}, "branding.contact_phone"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"locale": "fr-FR"}, "locale"),
    ({"company_name": 42}, "company_name"),
])
def test_invalid_config_is_rejected_and_changes_nothing(api: ApiClient, tenant, patch, field):
    before = api.get("/v1/tenant", token=tenant.token).json()
    error = assert_error(api.patch("/v1/tenant", token=tenant.token, json=patch), 422, "validation_failed")
    assert any(d["field"] == field for d in error["details"]), error
    assert api.get("/v1/tenant", token=tenant.token).json() == before


def test_unknown_fields_are_ignored_never_stored(api: ApiClient, tenant):
    response = api.patch("/v1/tenant", token=tenant.token,
                         json={"locale": "en", "evil": "x", "branding": {"script": "<script>"}})
    assert response.status_code == 200
    assert "evil" not in response.text and "<script>" not in response.text
    assert response.json()["locale"] == "en"


def test_public_branding_of_unknown_slug_is_404(api: ApiClient):
    assert_error(api.get("/v1/public/tenants/no-such-company/branding"), 404, "not_found")
    assert_error(api.get("/v1/public/tenants/BAD SLUG!/branding"), 404)


def test_roles_limit_configuration(api: ApiClient, tenant):
    _, tech_token = api.add_staff(tenant, "technician")
    assert api.get("/v1/tenant", token=tech_token).status_code == 200
    assert_error(api.patch("/v1/tenant", token=tech_token, json={"locale": "en"}), 403, "forbidden")
    _, supervisor_token = api.add_staff(tenant, "supervisor")
    assert_error(api.post("/v1/staff", token=supervisor_token, json={}), 403)
