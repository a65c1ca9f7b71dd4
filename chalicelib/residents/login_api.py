"""Public resident sign-in routes (phone OTP, WeChat) on the tenant's white-labelled page."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.clock import utcnow
from chalicelib.core.http import Call, ModelRefs, api
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # services and models load on first use, keeping cold starts small
    from chalicelib.residents.login import ResidentLogin, ResidentSession
    from chalicelib.residents.ports import TenantDirectory
    from chalicelib.residents.schemas import OtpSentOut, ResidentTokenOut

bp = api.blueprint(__name__)
schemas = ModelRefs("chalicelib.residents.schemas")
LOGIN = ("resident-login",)

login: Provided[ResidentLogin] = Provided("resident_login")
tenants: Provided[TenantDirectory] = Provided("tenant_directory")


@api.route(bp, "POST", "/v1/public/tenants/{slug}/otp", auth="public", body=schemas.OtpIn,
           response=schemas.OtpSentOut, status=202, tags=LOGIN,
           summary="Send a 6-digit sign-in code by SMS (same answer for unknown phones)")
def request_otp(call: Call) -> OtpSentOut:
    tenant_id = tenants().tenant_id_for_slug(call.path["slug"])
    brand = tenants().public_branding(call.path["slug"]).name
    login().request_code(tenant_id, brand, call.body.phone, utcnow(), call.source_ip)
    from chalicelib.residents.schemas import OtpSentOut

    return OtpSentOut()


@api.route(bp, "POST", "/v1/public/tenants/{slug}/otp/verify", auth="public", body=schemas.OtpVerifyIn,
           response=schemas.ResidentTokenOut, tags=LOGIN, summary="Exchange the code for a resident access token")
def verify_otp(call: Call) -> ResidentTokenOut:
    tenant_id = tenants().tenant_id_for_slug(call.path["slug"])
    return _token_out(login().verify_code(tenant_id, call.body.phone, call.body.code, utcnow(),
                                          call.body.wechat_binding_token))


@api.route(bp, "POST", "/v1/public/tenants/{slug}/wechat/login", auth="public", body=schemas.WeChatLoginIn,
           response=schemas.ResidentTokenOut, tags=LOGIN,
           summary="Mini-program sign-in with wx.login()'s code; 409 binding_required until linked by OTP")
def wechat_login(call: Call) -> ResidentTokenOut:
    tenant_id = tenants().tenant_id_for_slug(call.path["slug"])
    app_id = tenants().config(tenant_id).wechat_app_id or "local"
    return _token_out(login().wechat_login(tenant_id, app_id, call.body.code, utcnow()))


@api.route(bp, "POST", "/v1/public/tenants/{slug}/refresh", auth="public", body=schemas.ResidentRefreshIn,
           response=schemas.ResidentTokenOut, tags=LOGIN,
           summary="Renew a resident's access token (the refresh token is spent; a new one comes back)")
def resident_refresh(call: Call) -> ResidentTokenOut:
    tenant_id = tenants().tenant_id_for_slug(call.path["slug"])
    return _token_out(login().refresh(tenant_id, call.body.refresh_token, utcnow()))


@api.route(bp, "POST", "/v1/public/tenants/{slug}/logout", auth="public", body=schemas.ResidentRefreshIn,
           status=204, tags=LOGIN, summary="Sign a resident out: their refresh token and every one rotated from it")
def resident_logout(call: Call) -> None:
    login().logout(tenants().tenant_id_for_slug(call.path["slug"]), call.body.refresh_token)


def _token_out(session: ResidentSession) -> ResidentTokenOut:
    from chalicelib.residents.schemas import ResidentTokenOut, ResidentUnitOut

    resident = session.resident
    return ResidentTokenOut(access_token=session.access_token, expires_in=login().token_ttl_seconds,
                            refresh_token=session.refresh_token, resident_id=resident.resident_id,
                            name=resident.name, units=[ResidentUnitOut(**u) for u in resident.units])
