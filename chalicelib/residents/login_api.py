"""Public resident sign-in routes (phone OTP, WeChat) on the tenant's white-labelled page."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.clock import utcnow
from chalicelib.core.http import Call, ModelRefs, api
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # services and models load on first use, keeping cold starts small
    from chalicelib.residents.domain import Resident
    from chalicelib.residents.login import ResidentLogin
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
    login().request_code(tenant_id, brand, call.body.phone, utcnow())
    from chalicelib.residents.schemas import OtpSentOut

    return OtpSentOut()


@api.route(bp, "POST", "/v1/public/tenants/{slug}/otp/verify", auth="public", body=schemas.OtpVerifyIn,
           response=schemas.ResidentTokenOut, tags=LOGIN, summary="Exchange the code for a resident access token")
def verify_otp(call: Call) -> ResidentTokenOut:
    tenant_id = tenants().tenant_id_for_slug(call.path["slug"])
    token, resident = login().verify_code(tenant_id, call.body.phone, call.body.code, utcnow(),
                                          call.body.wechat_binding_token)
    return _token_out(token, resident)


@api.route(bp, "POST", "/v1/public/tenants/{slug}/wechat/login", auth="public", body=schemas.WeChatLoginIn,
           response=schemas.ResidentTokenOut, tags=LOGIN,
           summary="Mini-program sign-in with wx.login()'s code; 409 binding_required until linked by OTP")
def wechat_login(call: Call) -> ResidentTokenOut:
    tenant_id = tenants().tenant_id_for_slug(call.path["slug"])
    app_id = tenants().config(tenant_id).wechat_app_id or "local"
    token, resident = login().wechat_login(tenant_id, app_id, call.body.code, utcnow())
    return _token_out(token, resident)


def _token_out(token: str, resident: Resident) -> ResidentTokenOut:
    from chalicelib.residents.schemas import ResidentTokenOut, ResidentUnitOut

    return ResidentTokenOut(access_token=token, expires_in=login().token_ttl_seconds,
                            resident_id=resident.resident_id, name=resident.name,
                            units=[ResidentUnitOut(**u) for u in resident.units])
