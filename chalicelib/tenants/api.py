"""Routes of the tenant context: signup, auth, tenant configuration and branding, staff, API keys, canned
replies."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.core.clock import utcnow
from chalicelib.core.http import LIST_QUERY, Call, ModelRefs, api
from chalicelib.core.permissions import Permission
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # models and services load on first use, keeping cold starts small
    from chalicelib.tenants.api_keys import ApiKeyService
    from chalicelib.tenants.auth import StaffAuth
    from chalicelib.tenants.canned_replies import CannedReplyService
    from chalicelib.tenants.config import TenantConfigs
    from chalicelib.tenants.schemas import (
        ApiKeyCreatedOut,
        ApiKeyOut,
        ApiKeyPage,
        CannedReplyList,
        CannedReplyOut,
        PublicBrandingOut,
        SignupOut,
        StaffOut,
        StaffPage,
        TenantOut,
        TokensOut,
    )
    from chalicelib.tenants.staff import StaffService


class ResidentProfiles(Protocol):
    """What ``/v1/me`` needs of the residents context: a signed-in resident's own profile."""

    def me(self, ctx: TenantContext) -> Any: ...


tenant_configs: Provided[TenantConfigs] = Provided("tenant_configs")
staff_auth: Provided[StaffAuth] = Provided("staff_auth")
staff: Provided[StaffService] = Provided("staff_service")
api_keys: Provided[ApiKeyService] = Provided("api_key_service")
resident_profiles: Provided[ResidentProfiles] = Provided("resident_profiles")
canned_replies: Provided[CannedReplyService] = Provided("canned_reply_service")

bp = api.blueprint(__name__)
schemas = ModelRefs("chalicelib.tenants.schemas")
AUTH, TENANT, STAFF, KEYS, REPLIES = ("auth",), ("tenant",), ("staff",), ("api-keys",), ("canned-replies",)


@api.route(bp, "POST", "/v1/signup", auth="public", body=schemas.SignupIn, response=schemas.SignupOut, status=201,
           tags=AUTH, summary="Sign a property company up: creates the tenant and its first admin")
def signup(call: Call) -> SignupOut:
    return staff_auth().signup(call.body, utcnow())


@api.route(bp, "POST", "/v1/auth/login", auth="public", body=schemas.LoginIn, response=schemas.TokensOut,
           tags=AUTH, summary="Staff sign-in: a short-lived access token and a rotating refresh token")
def login(call: Call) -> TokensOut:
    return staff_auth().login(call.body, utcnow(), call.source_ip)


@api.route(bp, "POST", "/v1/auth/refresh", auth="public", body=schemas.RefreshIn, response=schemas.TokensOut,
           tags=AUTH, summary="Exchange a refresh token for new tokens (the old one stops working)")
def refresh(call: Call) -> TokensOut:
    return staff_auth().refresh(call.body.refresh_token, utcnow())


@api.route(bp, "POST", "/v1/auth/logout", auth="public", body=schemas.RefreshIn, status=204, tags=AUTH,
           summary="Revoke a refresh token and every token rotated from it")
def logout(call: Call) -> None:
    staff_auth().logout(call.body.refresh_token)


# Public, the same for every resident, read on every launch of the H5 page and mini-program, changed rarely and
# already up to 60 s stale on a warm container: phones and CloudFront may reuse it for a minute (a notice that
# sends a whole estate to the page costs the origin one request per edge), then revalidate with its ETag. The
# console previews branding through GET /v1/tenant, which is never reused unrevalidated.
@api.route(bp, "GET", "/v1/public/tenants/{slug}/branding", auth="public", response=schemas.PublicBrandingOut,
           tags=TENANT, summary="What the white-labelled resident page shows", cache_control="public, max-age=60")
def public_branding(call: Call) -> PublicBrandingOut:
    return tenant_configs().public_branding(call.path["slug"])


@api.route(bp, "GET", "/v1/tenant", permission=Permission.TENANT_READ, response=schemas.TenantOut, tags=TENANT,
           summary="The caller's tenant: profile, branding and configuration")
def get_tenant(call: Call) -> TenantOut:
    return tenant_configs().get_tenant(call.tenant)


@api.route(bp, "PATCH", "/v1/tenant", permission=Permission.TENANT_WRITE, body=schemas.TenantPatch,
           response=schemas.TenantOut, tags=TENANT,
           summary="Change the tenant's profile and configuration (JSON merge patch, If-Match)")
def patch_tenant(call: Call) -> TenantOut:
    return tenant_configs().update_tenant(call.tenant, call.body, call.if_match, utcnow())


@api.route(bp, "GET", "/v1/me", auth="any", tags=STAFF, response=schemas.StaffMeOut,
           summary="Who is signed in: a staff member with their role's permissions (StaffMeOut), or a resident "
                   "(ResidentOut, own phone shown)")
def me(call: Call) -> Any:
    if call.tenant.principal.kind == "resident":
        return resident_profiles().me(call.tenant)
    return staff().me(call.tenant, tenant_configs().config(call.tenant.tenant_id))


@api.route(bp, "POST", "/v1/staff", permission=Permission.STAFF_WRITE, body=schemas.StaffIn,
           response=schemas.StaffOut, status=201, tags=STAFF, summary="Add a staff member")
def create_staff(call: Call) -> StaffOut:
    return staff().create_staff(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/staff", permission=Permission.STAFF_READ, query=schemas.StaffQuery,
           response=schemas.StaffPage, tags=STAFF,
           summary="List staff; role= one role's members; with_load=true adds each one's open_tickets (the assign "
                   "picker: ?role=technician&with_load=true)")
def list_staff(call: Call) -> StaffPage:
    from chalicelib.tenants.schemas import StaffPage

    query = call.query
    items, cursor = staff().list_staff(call.tenant, query.limit, query.cursor, role=query.role,
                                       with_load=query.with_load)
    return StaffPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/staff/{user_id}", permission=Permission.STAFF_READ, response=schemas.StaffOut,
           tags=STAFF, summary="One staff member")
def get_staff(call: Call) -> StaffOut:
    return staff().get_staff(call.tenant, call.path["user_id"])


@api.route(bp, "PATCH", "/v1/staff/{user_id}", permission=Permission.STAFF_WRITE, body=schemas.StaffPatch,
           response=schemas.StaffOut, tags=STAFF,
           summary="Change a staff member's name, role, status, phone or password (If-Match)")
def patch_staff(call: Call) -> StaffOut:
    return staff().update_staff(call.tenant, call.path["user_id"], call.body, call.if_match, utcnow())


@api.route(bp, "DELETE", "/v1/staff/{user_id}", permission=Permission.STAFF_WRITE, status=204, tags=STAFF,
           summary="Remove a staff member (never the last admin)")
def delete_staff(call: Call) -> None:
    staff().delete_staff(call.tenant, call.path["user_id"], call.if_match, utcnow())


@api.route(bp, "POST", "/v1/api-keys", permission=Permission.API_KEYS_MANAGE, body=schemas.ApiKeyIn,
           response=schemas.ApiKeyCreatedOut, status=201, tags=KEYS,
           summary="Create an API key; its secret is shown once")
def create_api_key(call: Call) -> ApiKeyCreatedOut:
    return api_keys().create_api_key(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/api-keys", permission=Permission.API_KEYS_MANAGE, query=LIST_QUERY,
           response=schemas.ApiKeyPage, tags=KEYS,
           summary="List API keys (newest first; secrets are never shown again)")
def list_api_keys(call: Call) -> ApiKeyPage:
    from chalicelib.tenants.schemas import ApiKeyPage

    items, cursor = api_keys().list_api_keys(call.tenant, call.query.limit, call.query.cursor)
    return ApiKeyPage(items=items, next_cursor=cursor)


@api.route(bp, "DELETE", "/v1/api-keys/{key_id}", permission=Permission.API_KEYS_MANAGE,
           response=schemas.ApiKeyOut, tags=KEYS, summary="Revoke an API key (effective everywhere within 60 s)")
def revoke_api_key(call: Call) -> ApiKeyOut:
    return api_keys().revoke_api_key(call.tenant, call.path["key_id"], utcnow())


@api.route(bp, "GET", "/v1/canned-replies", permission=Permission.TICKETS_READ, query=schemas.CannedReplyQuery,
           response=schemas.CannedReplyList, tags=REPLIES,
           summary="The desk's canned replies (快捷回复): all, or a kind's and/or category's plus the general ones")
def list_canned_replies(call: Call) -> CannedReplyList:
    from chalicelib.tenants.schemas import CannedReplyList

    return CannedReplyList(items=canned_replies().list_replies(call.tenant, call.query.kind, call.query.category))


@api.route(bp, "POST", "/v1/canned-replies", permission=Permission.CANNED_REPLIES_WRITE, body=schemas.CannedReplyIn,
           response=schemas.CannedReplyOut, status=201, tags=REPLIES,
           summary="Add a canned reply (admins and supervisors; at most 200); its {placeholders} are checked")
def create_canned_reply(call: Call) -> CannedReplyOut:
    return canned_replies().create(call.tenant, call.body, utcnow())


@api.route(bp, "PATCH", "/v1/canned-replies/{reply_id}", permission=Permission.CANNED_REPLIES_WRITE,
           body=schemas.CannedReplyPatch, response=schemas.CannedReplyOut, tags=REPLIES,
           summary="Change a canned reply (If-Match); kind or category null makes it general")
def update_canned_reply(call: Call) -> CannedReplyOut:
    return canned_replies().update(call.tenant, call.path["reply_id"], call.body, call.if_match, utcnow())


@api.route(bp, "DELETE", "/v1/canned-replies/{reply_id}", permission=Permission.CANNED_REPLIES_WRITE, status=204,
           tags=REPLIES, summary="Remove a canned reply (If-Match)")
def delete_canned_reply(call: Call) -> None:
    canned_replies().delete(call.tenant, call.path["reply_id"], call.if_match, utcnow())

