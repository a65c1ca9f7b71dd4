"""Resident sign-in: phone OTP through the notification channel interface, and WeChat mini-program sign-in."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.core.auth import TokenCodec
from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.errors import ConflictError, RateLimitedError, UnauthenticatedError
from chalicelib.core.settings import Settings
from chalicelib.core.tenancy import Principal, TenantContext, UnitClaim
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.notifications.channels import Channel, Message
from chalicelib.residents.domain import Otp, Resident
from chalicelib.residents.ports import OtpStore, ResidentStore
from chalicelib.residents.wechat import WeChatAuth

CODE_TTL = timedelta(minutes=5)
RESEND_COOLDOWN = timedelta(seconds=60)
MAX_ATTEMPTS = 5
CHINA = ZoneInfo("Asia/Shanghai")


def code_digest(tenant_id: str, phone: str, code: str) -> str:
    """What is stored of a code: its digest, bound to the tenant and the phone.

    Example
    -------
    >>> code_digest("tnt_1", "13812345678", "123456") == code_digest("tnt_2", "13812345678", "123456")
    False
    """
    return hashlib.sha256(f"{tenant_id}:{phone}:{code}".encode()).hexdigest()


def seconds_to_midnight(now: datetime) -> int:
    """Until the daily caps reset (midnight in China), plus one second.

    Example
    -------
    >>> from datetime import timezone
    >>> seconds_to_midnight(datetime(2026, 11, 27, 15, 59, tzinfo=timezone.utc))  # 23:59 in Shanghai
    61
    """
    local = now.astimezone(CHINA)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((midnight - local).total_seconds()) + 1


class ResidentLogin:
    """Owns residents' sign-in: sending phone codes (cooldown, daily caps per phone and per tenant), verifying
    them (one use, locked after five wrong tries), WeChat sign-in and its one-time binding, resident tokens."""

    def __init__(self, residents: ResidentStore, codes: OtpStore, codec: TokenCodec, sms: Channel,
                 settings: Settings, wechat: WeChatAuth, new_uow: UnitOfWorkFactory) -> None:
        self.residents, self.codes, self.codec, self.sms = residents, codes, codec, sms
        self.settings, self.wechat, self.new_uow = settings, wechat, new_uow

    @property
    def token_ttl_seconds(self) -> int:
        return self.settings.resident_token_ttl_seconds

    def request_code(self, tenant_id: str, brand: str, phone: str, now: datetime) -> None:
        """Send a code if the phone belongs to a resident; answer identically either way."""
        resident = self.residents.find_resident_by_phone(tenant_id, phone)
        code = f"{secrets.randbelow(10**6):06d}"
        otp = Otp(code_digest=code_digest(tenant_id, phone, code if resident else secrets.token_hex(16)),
                  sent_at=to_rfc3339(now), valid_until=to_rfc3339(now + CODE_TTL), attempts=0,
                  resident_id=resident.resident_id if resident else None,
                  expires_at=int((now + CODE_TTL + timedelta(hours=1)).timestamp()))
        uow = self.new_uow(tenant_id, {"type": "resident", "id": None, "role": None}, now)
        # the cooldown is staged (and reported) before the daily caps, as DynamoDB checks puts before updates
        self.codes.stage_code(uow, tenant_id, phone, otp, resend_after=to_rfc3339(now - RESEND_COOLDOWN),
                              on_conflict=RateLimitedError("Wait a minute before asking for another code.",
                                                           code="otp_cooldown",
                                                           retry_after=int(RESEND_COOLDOWN.total_seconds())))
        self.codes.stage_daily_count(
            uow, tenant_id, phone, now.astimezone(CHINA).strftime("%Y%m%d"),
            per_phone=self.settings.otp_daily_per_phone, per_tenant=self.settings.otp_daily_per_tenant,
            expires_at=int((now + timedelta(days=2)).timestamp()),
            on_conflict=RateLimitedError("Too many codes today; try again tomorrow.", code="otp_daily_limit",
                                         retry_after=seconds_to_midnight(now)))
        uow.commit()
        if resident is not None:
            self.sms.send(Message(channel="sms", tenant_id=tenant_id, to=phone, template="otp", params={"code": code},
                                  body=f"【{brand}】您的验证码是{code}，5分钟内有效，请勿告诉他人。"))

    def wechat_login(self, tenant_id: str, app_id: str, code: str, now: datetime) -> tuple[str, Resident]:
        """A bound openid signs in at once; an unbound one gets a binding token to present with an OTP."""
        openid = self.wechat.openid_for(app_id, code)
        resident = self.residents.resident_for_openid(tenant_id, openid)
        if resident is None:
            binding = self.codec.issue(tenant_id=tenant_id, subject=openid, kind="wechat_binding", role=None, now=now,
                                       ttl_seconds=600)
            raise ConflictError("Sign in once with your phone to link WeChat.", code="binding_required",
                                details={"binding_token": binding})
        return self._token(tenant_id, resident, now), resident

    def verify_code(self, tenant_id: str, phone: str, code: str, now: datetime,
                    binding_token: str | None = None) -> tuple[str, Resident]:
        invalid = UnauthenticatedError("The code is wrong or has expired.", code="invalid_code")
        otp = self.codes.get_code(tenant_id, phone)
        if otp is None or from_rfc3339(otp.valid_until) <= now:
            raise invalid
        if otp.attempts >= MAX_ATTEMPTS:
            raise RateLimitedError("Too many wrong codes; ask for a new code.", code="otp_locked",
                                   retry_after=int((from_rfc3339(otp.valid_until) - now).total_seconds()) + 1)
        if otp.resident_id is None or not hmac.compare_digest(otp.code_digest, code_digest(tenant_id, phone, code)):
            self.codes.count_wrong_attempt(tenant_id, phone, max_attempts=MAX_ATTEMPTS)
            raise invalid
        if not self.codes.consume_code(tenant_id, phone, otp.code_digest, max_attempts=MAX_ATTEMPTS):
            raise invalid  # the code was used concurrently: one sign-in only
        resident = self.residents.find_resident_by_phone(tenant_id, phone)
        if resident is None or resident.resident_id != otp.resident_id:
            raise invalid
        if binding_token:
            self._bind(tenant_id, resident, binding_token, now)
        return self._token(tenant_id, resident, now), resident

    def _bind(self, tenant_id: str, resident: Resident, binding_token: str, now: datetime) -> None:
        claims = self.codec.verify(binding_token)
        if claims.kind != "wechat_binding" or claims.tenant_id != tenant_id:
            raise UnauthenticatedError("The WeChat binding has expired; open the mini-program again.",
                                       code="invalid_binding_token")
        ctx = TenantContext(tenant_id, Principal("resident", resident.resident_id))
        uow = self.new_uow(tenant_id, ctx.actor, now)
        self.residents.stage_wechat_binding(uow, ctx, resident, claims.subject, on_conflict=ConflictError(
            "This WeChat account is linked to another resident.", code="wechat_already_bound"))
        uow.record("resident.wechat_bound", subject=("resident", resident.resident_id))
        uow.commit()

    def _token(self, tenant_id: str, resident: Resident, now: datetime) -> str:
        units = [UnitClaim(u["community_id"], u["unit_id"], u["label"], u.get("building_id") or "")
                 for u in resident.units]
        return self.codec.issue(tenant_id=tenant_id, subject=resident.resident_id, kind="resident", role=None,
                                now=now, units=units, ttl_seconds=self.token_ttl_seconds)
