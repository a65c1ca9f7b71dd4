"""Routes of the tenant context: signup, auth, tenant configuration and branding, staff, API keys."""
from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.core.clock import utcnow
from chalicelib.core.http import Call, api
from chalicelib.core.pagination import ListQuery
from chalicelib.core.permissions import Permission as P
from chalicelib.tenants.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeyPage,
    LoginIn,
    PublicBrandingOut,
    RefreshIn,
    SignupIn,
    SignupOut,
    StaffIn,
    StaffOut,
    StaffPage,
    StaffPatch,
    TenantOut,
    TenantPatch,
    TokensOut,
)

bp = api.blueprint(__name__)
AUTH, TENANT, STAFF, KEYS = ("auth",), ("tenant",), ("staff",), ("api-keys",)


def service():  # noqa: ANN201
    return bootstrap.tenant_service()


@api.route(bp, "POST", "/v1/signup", auth="public", body=SignupIn, response=SignupOut, status=201, tags=AUTH,
           summary="Sign a property company up: creates the tenant and its first admin")
def signup(call: Call) -> SignupOut:
    return service().signup(call.body, utcnow())


@api.route(bp, "POST", "/v1/auth/login", auth="public", body=LoginIn, response=TokensOut, tags=AUTH,
           summary="Staff sign-in: a short-lived access token and a rotating refresh token")
def login(call: Call) -> TokensOut:
    return service().login(call.body, utcnow())


@api.route(bp, "POST", "/v1/auth/refresh", auth="public", body=RefreshIn, response=TokensOut, tags=AUTH,
           summary="Exchange a refresh token for new tokens (the old one stops working)")
def refresh(call: Call) -> TokensOut:
    return service().refresh(call.body.refresh_token, utcnow())


@api.route(bp, "POST", "/v1/auth/logout", auth="public", body=RefreshIn, status=204, tags=AUTH,
           summary="Revoke a refresh token and every token rotated from it")
def logout(call: Call) -> None:
    service().logout(call.body.refresh_token)


@api.route(bp, "GET", "/v1/public/tenants/{slug}/branding", auth="public", response=PublicBrandingOut,
           tags=TENANT, summary="What the white-labelled resident page shows")
def public_branding(call: Call) -> PublicBrandingOut:
    return service().public_branding(call.path["slug"])


@api.route(bp, "GET", "/v1/tenant", permission=P.TENANT_READ, response=TenantOut, tags=TENANT,
           summary="The caller's tenant: profile, branding and configuration")
def get_tenant(call: Call) -> TenantOut:
    return service().get_tenant(call.tenant)


@api.route(bp, "PATCH", "/v1/tenant", permission=P.TENANT_WRITE, body=TenantPatch, response=TenantOut,
           tags=TENANT, summary="Change the tenant's profile and configuration (JSON merge patch, If-Match)")
def patch_tenant(call: Call) -> TenantOut:
    return service().update_tenant(call.tenant, call.body, call.if_match, utcnow())


@api.route(bp, "GET", "/v1/me", auth="any", tags=STAFF,
           summary="Who is signed in: a staff member (StaffOut) or a resident (ResidentOut, own phone shown)")
def me(call: Call):  # noqa: ANN201
    if call.tenant.principal.kind == "resident":
        return bootstrap.resident_service().me(call.tenant)
    return service().me(call.tenant)


@api.route(bp, "POST", "/v1/staff", permission=P.STAFF_WRITE, body=StaffIn, response=StaffOut, status=201,
           tags=STAFF, summary="Add a staff member")
def create_staff(call: Call) -> StaffOut:
    return service().create_staff(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/staff", permission=P.STAFF_READ, query=ListQuery, response=StaffPage,
           tags=STAFF, summary="List staff")
def list_staff(call: Call) -> StaffPage:
    items, cursor = service().list_staff(call.tenant, call.query.limit, call.query.cursor)
    return StaffPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/staff/{user_id}", permission=P.STAFF_READ, response=StaffOut, tags=STAFF,
           summary="One staff member")
def get_staff(call: Call) -> StaffOut:
    return service().get_staff(call.tenant, call.path["user_id"])


@api.route(bp, "PATCH", "/v1/staff/{user_id}", permission=P.STAFF_WRITE, body=StaffPatch, response=StaffOut,
           tags=STAFF, summary="Change a staff member's name, role, status, phone or password (If-Match)")
def patch_staff(call: Call) -> StaffOut:
    return service().update_staff(call.tenant, call.path["user_id"], call.body, call.if_match, utcnow())


@api.route(bp, "DELETE", "/v1/staff/{user_id}", permission=P.STAFF_WRITE, status=204, tags=STAFF,
           summary="Remove a staff member (never the last admin)")
def delete_staff(call: Call) -> None:
    service().delete_staff(call.tenant, call.path["user_id"], call.if_match, utcnow())


@api.route(bp, "POST", "/v1/api-keys", permission=P.API_KEYS_MANAGE, body=ApiKeyIn, response=ApiKeyCreatedOut,
           status=201, tags=KEYS, summary="Create an API key; its secret is shown once")
def create_api_key(call: Call) -> ApiKeyCreatedOut:
    return service().create_api_key(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/api-keys", permission=P.API_KEYS_MANAGE, query=ListQuery, response=ApiKeyPage,
           tags=KEYS, summary="List API keys (newest first; secrets are never shown again)")
def list_api_keys(call: Call) -> ApiKeyPage:
    items, cursor = service().list_api_keys(call.tenant, call.query.limit, call.query.cursor)
    return ApiKeyPage(items=items, next_cursor=cursor)


@api.route(bp, "DELETE", "/v1/api-keys/{key_id}", permission=P.API_KEYS_MANAGE, response=ApiKeyOut, tags=KEYS,
           summary="Revoke an API key (effective everywhere within 60 s)")
def revoke_api_key(call: Call) -> ApiKeyOut:
    return service().revoke_api_key(call.tenant, call.path["key_id"], utcnow())
