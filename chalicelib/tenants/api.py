"""Routes of the tenant context: signup, auth, tenant configuration and branding, staff, API keys."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import bootstrap
from chalicelib.core.clock import utcnow
from chalicelib.core.http import LIST_QUERY, Call, ModelRefs, api
from chalicelib.core.permissions import Permission as P

if TYPE_CHECKING:  # models load on first use, keeping cold starts small
    from chalicelib.tenants.schemas import (
        ApiKeyCreatedOut,
        ApiKeyOut,
        ApiKeyPage,
        PublicBrandingOut,
        SignupOut,
        StaffOut,
        StaffPage,
        TenantOut,
        TokensOut,
    )


bp = api.blueprint(__name__)
S = ModelRefs("chalicelib.tenants.schemas")
AUTH, TENANT, STAFF, KEYS = ("auth",), ("tenant",), ("staff",), ("api-keys",)


def service():  # noqa: ANN201
    return bootstrap.tenant_service()


@api.route(bp, "POST", "/v1/signup", auth="public", body=S.SignupIn, response=S.SignupOut, status=201, tags=AUTH,
           summary="Sign a property company up: creates the tenant and its first admin")
def signup(call: Call) -> SignupOut:
    return service().signup(call.body, utcnow())


@api.route(bp, "POST", "/v1/auth/login", auth="public", body=S.LoginIn, response=S.TokensOut, tags=AUTH,
           summary="Staff sign-in: a short-lived access token and a rotating refresh token")
def login(call: Call) -> TokensOut:
    return service().login(call.body, utcnow())


@api.route(bp, "POST", "/v1/auth/refresh", auth="public", body=S.RefreshIn, response=S.TokensOut, tags=AUTH,
           summary="Exchange a refresh token for new tokens (the old one stops working)")
def refresh(call: Call) -> TokensOut:
    return service().refresh(call.body.refresh_token, utcnow())


@api.route(bp, "POST", "/v1/auth/logout", auth="public", body=S.RefreshIn, status=204, tags=AUTH,
           summary="Revoke a refresh token and every token rotated from it")
def logout(call: Call) -> None:
    service().logout(call.body.refresh_token)


@api.route(bp, "GET", "/v1/public/tenants/{slug}/branding", auth="public", response=S.PublicBrandingOut,
           tags=TENANT, summary="What the white-labelled resident page shows")
def public_branding(call: Call) -> PublicBrandingOut:
    return service().public_branding(call.path["slug"])


@api.route(bp, "GET", "/v1/tenant", permission=P.TENANT_READ, response=S.TenantOut, tags=TENANT,
           summary="The caller's tenant: profile, branding and configuration")
def get_tenant(call: Call) -> TenantOut:
    return service().get_tenant(call.tenant)


@api.route(bp, "PATCH", "/v1/tenant", permission=P.TENANT_WRITE, body=S.TenantPatch, response=S.TenantOut,
           tags=TENANT, summary="Change the tenant's profile and configuration (JSON merge patch, If-Match)")
def patch_tenant(call: Call) -> TenantOut:
    return service().update_tenant(call.tenant, call.body, call.if_match, utcnow())


@api.route(bp, "GET", "/v1/me", auth="any", tags=STAFF,
           summary="Who is signed in: a staff member (StaffOut) or a resident (ResidentOut, own phone shown)")
def me(call: Call):  # noqa: ANN201
    if call.tenant.principal.kind == "resident":
        return bootstrap.resident_service().me(call.tenant)
    return service().me(call.tenant)


@api.route(bp, "POST", "/v1/staff", permission=P.STAFF_WRITE, body=S.StaffIn, response=S.StaffOut, status=201,
           tags=STAFF, summary="Add a staff member")
def create_staff(call: Call) -> StaffOut:
    return service().create_staff(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/staff", permission=P.STAFF_READ, query=LIST_QUERY, response=S.StaffPage,
           tags=STAFF, summary="List staff")
def list_staff(call: Call) -> StaffPage:
    from chalicelib.tenants.schemas import StaffPage

    items, cursor = service().list_staff(call.tenant, call.query.limit, call.query.cursor)
    return StaffPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/staff/{user_id}", permission=P.STAFF_READ, response=S.StaffOut, tags=STAFF,
           summary="One staff member")
def get_staff(call: Call) -> StaffOut:
    return service().get_staff(call.tenant, call.path["user_id"])


@api.route(bp, "PATCH", "/v1/staff/{user_id}", permission=P.STAFF_WRITE, body=S.StaffPatch, response=S.StaffOut,
           tags=STAFF, summary="Change a staff member's name, role, status, phone or password (If-Match)")
def patch_staff(call: Call) -> StaffOut:
    return service().update_staff(call.tenant, call.path["user_id"], call.body, call.if_match, utcnow())


@api.route(bp, "DELETE", "/v1/staff/{user_id}", permission=P.STAFF_WRITE, status=204, tags=STAFF,
           summary="Remove a staff member (never the last admin)")
def delete_staff(call: Call) -> None:
    service().delete_staff(call.tenant, call.path["user_id"], call.if_match, utcnow())


@api.route(bp, "POST", "/v1/api-keys", permission=P.API_KEYS_MANAGE, body=S.ApiKeyIn, response=S.ApiKeyCreatedOut,
           status=201, tags=KEYS, summary="Create an API key; its secret is shown once")
def create_api_key(call: Call) -> ApiKeyCreatedOut:
    return service().create_api_key(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/api-keys", permission=P.API_KEYS_MANAGE, query=LIST_QUERY, response=S.ApiKeyPage,
           tags=KEYS, summary="List API keys (newest first; secrets are never shown again)")
def list_api_keys(call: Call) -> ApiKeyPage:
    from chalicelib.tenants.schemas import ApiKeyPage

    items, cursor = service().list_api_keys(call.tenant, call.query.limit, call.query.cursor)
    return ApiKeyPage(items=items, next_cursor=cursor)


@api.route(bp, "DELETE", "/v1/api-keys/{key_id}", permission=P.API_KEYS_MANAGE, response=S.ApiKeyOut, tags=KEYS,
           summary="Revoke an API key (effective everywhere within 60 s)")
def revoke_api_key(call: Call) -> ApiKeyOut:
    return service().revoke_api_key(call.tenant, call.path["key_id"], utcnow())
