"""Revoked people lose access at once: deleted, disabled and demoted staff, changed passwords, and the API keys
of removed admins (the first row of issue 11's table), over HTTP on the embedded stack."""
from __future__ import annotations

import uuid

import pytest

from tests.helpers import PASSWORD, ApiClient, assert_error, sent_code

pytestmark = pytest.mark.e2e


def _admin(api: ApiClient, tenant) -> tuple[dict, str, str]:  # noqa: ANN001
    email = f"admin-{uuid.uuid4().hex[:6]}@example.com"
    member = api.post("/v1/staff", token=tenant.token, json={"email": email, "name": "副总", "role": "admin",
                                                             "password": PASSWORD})
    assert member.status_code == 201, member.text
    login = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return member.json(), email, login.json()["access_token"]


def _ghost_admin(api: ApiClient, token: str) -> object:
    return api.post("/v1/staff", token=token, json={"email": f"ghost-{uuid.uuid4().hex[:6]}@example.com",
                                                    "name": "幽灵", "role": "admin", "password": PASSWORD})


def test_a_deleted_admin_loses_all_power_at_once_and_cannot_mint_a_ghost_admin(api: ApiClient, tenant):
    member, _, token = _admin(api, tenant)
    assert api.get("/v1/staff", token=token).status_code == 200
    assert api.delete(f"/v1/staff/{member['id']}", token=tenant.token).status_code == 204

    assert_error(api.get("/v1/staff", token=token), 401, "token_revoked")
    assert_error(_ghost_admin(api, token), 401, "token_revoked")
    names = [s["name"] for s in api.get("/v1/staff", token=tenant.token).json()["items"]]
    assert "幽灵" not in names


def test_a_disabled_admin_loses_all_power_at_once(api: ApiClient, tenant):
    member, email, token = _admin(api, tenant)
    assert api.patch(f"/v1/staff/{member['id']}", token=tenant.token, json={"status": "disabled"}).status_code == 200

    assert_error(_ghost_admin(api, token), 401, "token_revoked")
    assert_error(api.get("/v1/tickets", token=token), 401, "token_revoked")
    login = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": email, "password": PASSWORD})
    assert_error(login, 401)


def test_a_demoted_admin_can_no_longer_create_admins_and_signs_in_again_as_what_they_are(api: ApiClient, tenant):
    member, email, token = _admin(api, tenant)
    assert api.patch(f"/v1/staff/{member['id']}", token=tenant.token, json={"role": "agent"}).status_code == 200

    assert_error(_ghost_admin(api, token), 401, "token_revoked")
    again = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": email, "password": PASSWORD})
    assert again.status_code == 200
    fresh = again.json()["access_token"]
    assert api.get("/v1/tickets", token=fresh).status_code == 200  # a fresh sign-in works at once
    assert_error(_ghost_admin(api, fresh), 403)


def test_a_password_change_ends_the_sessions_issued_before_it(api: ApiClient, tenant):
    member, token = api.add_staff(tenant, "agent")
    new_password = "Another-horse-77"
    changed = api.patch(f"/v1/staff/{member['id']}", token=tenant.token, json={"password": new_password})
    assert changed.status_code == 200

    assert_error(api.get("/v1/tickets", token=token), 401, "token_revoked")
    login = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": member["email"],
                                             "password": new_password})
    assert login.status_code == 200
    assert api.get("/v1/tickets", token=login.json()["access_token"]).status_code == 200
    assert api.get("/v1/tickets", token=tenant.token).status_code == 200  # nobody else is signed out


def test_the_api_keys_of_a_removed_admin_stop_unless_the_tenant_keeps_them(api: ApiClient, tenant):
    member, _, token = _admin(api, tenant)
    key = api.post("/v1/api-keys", token=token, json={"name": "ERP", "scopes": ["tickets:read"]}).json()["key"]
    assert api.get("/v1/tickets", token=key).status_code == 200
    assert api.delete(f"/v1/staff/{member['id']}", token=tenant.token).status_code == 204
    assert_error(api.get("/v1/tickets", token=key), 401)
    listed = {k["name"]: k for k in api.get("/v1/api-keys", token=tenant.token).json()["items"]}
    assert listed["ERP"]["revoked_at"] is not None

    assert api.patch("/v1/tenant", token=tenant.token, json={"api_keys_outlive_creator": True}).status_code == 200
    kept_member, _, kept_token = _admin(api, tenant)
    kept = api.post("/v1/api-keys", token=kept_token, json={"name": "BI", "scopes": ["tickets:read"]}).json()["key"]
    assert api.delete(f"/v1/staff/{kept_member['id']}", token=tenant.token).status_code == 204
    assert api.get("/v1/tickets", token=kept).status_code == 200


def test_revoking_one_tenants_member_touches_no_other_tenant(api: ApiClient, tenant, other_tenant):
    member, _, _ = _admin(api, tenant)
    assert api.delete(f"/v1/staff/{member['id']}", token=tenant.token).status_code == 204
    assert api.get("/v1/staff", token=other_tenant.token).status_code == 200
    assert_error(api.delete(f"/v1/staff/{other_tenant.admin_id}", token=tenant.token), 404)


# --- residents ----------------------------------------------------------------------------------------
def _resident(api: ApiClient, tenant, units: list[dict]) -> tuple[dict, dict]:  # noqa: ANN001
    phone = "136" + str(uuid.uuid4().int)[:8]
    resident = api.post("/v1/residents", token=tenant.token, json={"name": "王先生", "phone": phone, "units": units})
    assert resident.status_code == 201, resident.text
    assert api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": phone}).status_code == 202
    code = sent_code(api, phone)
    signed_in = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify", json={"phone": phone, "code": code})
    assert signed_in.status_code == 200, signed_in.text
    return resident.json(), signed_in.json()


@pytest.fixture
def two_units(api: ApiClient, tenant) -> dict:  # noqa: ANN001
    community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()
    building = api.post(f"/v1/communities/{community['id']}/buildings", token=tenant.token,
                        json={"name": "3栋"}).json()
    units = [api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                      json={"building_id": building["id"], "number": number}).json() for number in ("101", "102")]
    return {"community": community, "links": [{"unit_id": u["id"], "community_id": community["id"]} for u in units]}


def _file(api: ApiClient, token: str, community_id: str, unit_id: str | None) -> object:
    location = {"community_id": community_id, **({"unit_id": unit_id} if unit_id else {"common_area": "大堂"})}
    return api.post("/v1/me/tickets", token=token, json={"kind": "repair", "description": "门禁坏了",
                                                         "location": location})


def test_a_deleted_resident_can_neither_file_nor_read_their_history_nor_refresh(api: ApiClient, tenant, two_units):
    resident, session = _resident(api, tenant, two_units["links"][:1])
    token = session["access_token"]
    assert _file(api, token, two_units["community"]["id"], two_units["links"][0]["unit_id"]).status_code == 201
    assert api.delete(f"/v1/residents/{resident['id']}", token=tenant.token).status_code == 204

    assert_error(api.get("/v1/me/tickets", token=token), 401, "token_revoked")
    assert_error(_file(api, token, two_units["community"]["id"], two_units["links"][0]["unit_id"]), 401)
    refreshed = api.post(f"/v1/public/tenants/{tenant.slug}/refresh",
                         json={"refresh_token": session["refresh_token"]})
    assert_error(refreshed, 401, "invalid_refresh_token")


def test_a_resident_removed_from_a_unit_loses_it_at_once_and_refreshing_gives_what_remains(api: ApiClient, tenant,
                                                                                         two_units):
    resident, session = _resident(api, tenant, two_units["links"])
    community_id, [kept, taken] = two_units["community"]["id"], [u["unit_id"] for u in two_units["links"]]
    moved = api.patch(f"/v1/residents/{resident['id']}", token=tenant.token, json={"units": two_units["links"][:1]})
    assert moved.status_code == 200, moved.text

    assert_error(_file(api, session["access_token"], community_id, taken), 401, "token_revoked")
    renewed = api.post(f"/v1/public/tenants/{tenant.slug}/refresh", json={"refresh_token": session["refresh_token"]})
    assert renewed.status_code == 200, renewed.text
    assert [u["unit_id"] for u in renewed.json()["units"]] == [kept]
    assert_error(_file(api, renewed.json()["access_token"], community_id, taken), 422)
    assert _file(api, renewed.json()["access_token"], community_id, kept).status_code == 201


def test_resident_access_tokens_are_short_and_their_refresh_tokens_rotate_once(api: ApiClient, tenant, two_units):
    _, session = _resident(api, tenant, two_units["links"][:1])
    assert session["expires_in"] <= 3600 and session["refresh_token"].startswith("rt_")
    path = f"/v1/public/tenants/{tenant.slug}/refresh"
    renewed = api.post(path, json={"refresh_token": session["refresh_token"]})
    assert renewed.status_code == 200 and api.get("/v1/me/tickets", token=renewed.json()["access_token"]).ok
    assert_error(api.post(path, json={"refresh_token": session["refresh_token"]}), 401, "refresh_token_reused")
    assert_error(api.post(path, json={"refresh_token": renewed.json()["refresh_token"]}), 401)  # the family ended
    assert_error(api.post("/v1/auth/refresh", json={"refresh_token": renewed.json()["refresh_token"]}), 401)


def test_a_resident_refresh_token_works_only_on_its_own_tenants_page(api: ApiClient, tenant, other_tenant,
                                                                      two_units):
    _, session = _resident(api, tenant, two_units["links"][:1])
    elsewhere = api.post(f"/v1/public/tenants/{other_tenant.slug}/refresh",
                         json={"refresh_token": session["refresh_token"]})
    assert_error(elsewhere, 401, "invalid_refresh_token")
    here = api.post(f"/v1/public/tenants/{tenant.slug}/refresh", json={"refresh_token": session["refresh_token"]})
    assert here.status_code == 200


def test_intake_rechecks_the_unit_in_its_transaction_even_when_the_token_is_not_cut_off(stack, api: ApiClient, tenant,
                                                                                       two_units):
    """A container whose tenant cache still predates the removal accepts the token; the write does not."""
    from chalicelib import bootstrap
    from chalicelib.core.clock import utcnow
    from chalicelib.core.errors import UnauthenticatedError
    from chalicelib.core.tenancy import Principal, TenantContext, UnitClaim
    from chalicelib.tickets.schemas import TicketIn

    resident, _ = _resident(api, tenant, two_units["links"])
    community_id, taken = two_units["community"]["id"], two_units["links"][1]["unit_id"]
    assert api.patch(f"/v1/residents/{resident['id']}", token=tenant.token,
                     json={"units": two_units["links"][:1]}).status_code == 200
    stale = TenantContext(tenant.id, Principal("resident", resident["id"], units=(
        UnitClaim(community_id, two_units["links"][0]["unit_id"]), UnitClaim(community_id, taken))))
    with pytest.raises(UnauthenticatedError) as refused:
        bootstrap.ticket_intake().create(stale, TicketIn(kind="repair", description="门禁坏了", location={
            "community_id": community_id, "unit_id": taken}), None, utcnow())
    assert refused.value.code == "access_revoked"
