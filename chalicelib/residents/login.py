"""Resident sign-in: phone OTP through the notification channel interface, and WeChat mini-program sign-in."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from chalicelib.core.auth import TokenCodec
from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.errors import ConflictError, RateLimitedError, UnauthenticatedError
from chalicelib.core.privacy import mask_phone
from chalicelib.core.queues import Send
from chalicelib.core.settings import Settings
from chalicelib.core.tenancy import Principal, TenantContext, UnitClaim
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.notifications.channels import Channel, Message
from chalicelib.residents.domain import Otp, Resident
from chalicelib.residents.ports import OtpStore, ResidentStore, Sessions
from chalicelib.residents.wechat import WeChatAuth

CODE_TTL = timedelta(minutes=5)
OTP_WINDOW_MINUTES = 15
OTP_MESSAGE = "otp.send"  # on the notifications queue: see OtpDelivery
RESEND_COOLDOWN = timedelta(seconds=60)
MAX_ATTEMPTS = 5
CHINA = ZoneInfo("Asia/Shanghai")


class ResidentSession(NamedTuple):
    """A signed-in resident: a short access token, the refresh token that renews it, and who they are."""

    access_token: str
    refresh_token: str
    resident: Resident


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


def otp_window(now: datetime) -> tuple[str, datetime]:
    """The 15-minute window the per-phone and per-address counts of ``now`` fall in, and when it ends.

    Example
    -------
    >>> from datetime import timezone
    >>> otp_window(datetime(2026, 11, 27, 8, 37, 12, tzinfo=timezone.utc))[0]
    '202611270830'
    """
    start = now.replace(minute=now.minute - now.minute % OTP_WINDOW_MINUTES, second=0, microsecond=0)
    return f"{start:%Y%m%d%H%M}", start + timedelta(minutes=OTP_WINDOW_MINUTES)


def otp_source_key(source_ip: str) -> str:
    """An address as the OTP counts key it: a short digest (raw addresses are not stored)."""
    return hashlib.sha256(f"otp-source:{source_ip}".encode()).hexdigest()[:16]


class OtpDelivery:
    """The notifications queue's consumer of sign-in codes: sends the SMS a request queued, and nothing for a
    message without a code (a phone that is no resident's: the request looked the same)."""

    def __init__(self, sms: Channel) -> None:
        self.sms = sms

    def handle(self, body: dict[str, Any], now: datetime) -> int:
        code = body.get("code")
        if not code:
            return 0
        self.sms.send(Message(channel="sms", tenant_id=body["tenant_id"], to=body["phone"], template="otp",
                              params={"code": code},
                              body=f"【{body['brand']}】您的验证码是{code}，5分钟内有效，请勿告诉他人。"))
        return 1


class ResidentLogin:
    """Owns residents' sign-in: phone codes (queued for sending; a one-minute cooldown, per-phone and
    per-address counts per 15 minutes, the tenant's daily cap counting residents' phones only), verifying
    them (one use, locked after five wrong tries), WeChat sign-in and its one-time binding, short access tokens
    and the rotating refresh tokens that renew them."""

    def __init__(self, residents: ResidentStore, codes: OtpStore, codec: TokenCodec, send_code: Send,
                 settings: Settings, wechat: WeChatAuth, new_uow: UnitOfWorkFactory, sessions: Sessions) -> None:
        self.residents, self.codes, self.codec, self.send_code = residents, codes, codec, send_code
        self.settings, self.wechat, self.new_uow, self.sessions = settings, wechat, new_uow, sessions

    @property
    def token_ttl_seconds(self) -> int:
        return self.settings.resident_token_ttl_seconds

    def request_code(self, tenant_id: str, brand: str, phone: str, now: datetime, source_ip: str = "-") -> None:
        """Queue a code for the phone if it is a resident's; answer identically, in the same time, either way.

        Both paths do the same work — find the phone, one transaction (the code with its one-minute cooldown, the
        phone's and the address's counts for this 15-minute window), one message on the notifications queue —
        and part only in the consumer, which sends an SMS when the message carries a code. Only codes for
        residents count against the tenant's daily cap, so made-up numbers cannot use it up; a flood for one
        phone is slowed to a few codes per window and lifts when the window ends (no lock-out for the day)."""
        resident = self.residents.find_resident_by_phone(tenant_id, phone)
        code = f"{secrets.randbelow(10**6):06d}"
        otp = Otp(code_digest=code_digest(tenant_id, phone, code if resident else secrets.token_hex(16)),
                  sent_at=to_rfc3339(now), valid_until=to_rfc3339(now + CODE_TTL), attempts=0,
                  resident_id=resident.resident_id if resident else None,
                  expires_at=int((now + CODE_TTL + timedelta(hours=1)).timestamp()))
        window, window_ends = otp_window(now)
        window_wait = int((window_ends - now).total_seconds()) + 1
        expires = int((window_ends + timedelta(hours=1)).timestamp())
        uow = self.new_uow(tenant_id, {"type": "resident", "id": None, "role": None}, now)
        # the cooldown is staged (and reported) before the counts, as DynamoDB checks puts before updates
        self.codes.stage_code(uow, tenant_id, phone, otp, resend_after=to_rfc3339(now - RESEND_COOLDOWN),
                              on_conflict=RateLimitedError("Wait a minute before asking for another code.",
                                                           code="otp_cooldown",
                                                           retry_after=int(RESEND_COOLDOWN.total_seconds())))
        self.codes.stage_phone_count(uow, tenant_id, phone, window, cap=self.settings.otp_per_phone_window,
                                     expires_at=expires, on_conflict=RateLimitedError(
                                         "Too many codes for this phone just now; try again in a few minutes.",
                                         code="otp_phone_limit", retry_after=window_wait))
        self.codes.stage_source_count(uow, tenant_id, otp_source_key(source_ip), window,
                                      cap=self.settings.otp_per_source_window, expires_at=expires,
                                      on_conflict=RateLimitedError(
                                          "Too many codes asked for from this network; try again in a few minutes.",
                                          code="otp_source_limit", retry_after=window_wait))
        if resident is not None:
            self.codes.stage_tenant_count(
                uow, tenant_id, now.astimezone(CHINA).strftime("%Y%m%d"), cap=self.settings.otp_daily_per_tenant,
                expires_at=int((now + timedelta(days=2)).timestamp()), on_conflict=RateLimitedError(
                    "Sign-in codes are paused for today; try again tomorrow or call the service desk.",
                    code="otp_daily_limit", retry_after=seconds_to_midnight(now)))
        uow.commit()
        self.send_code({"type": OTP_MESSAGE, "tenant_id": tenant_id, "phone": phone, "brand": brand,
                        "code": code if resident is not None else None}, 0)

    def wechat_login(self, tenant_id: str, app_id: str, code: str, now: datetime) -> ResidentSession:
        """A bound openid signs in at once; an unbound one gets a binding token to present with an OTP."""
        openid = self.wechat.openid_for(app_id, code)
        resident = self.residents.resident_for_openid(tenant_id, openid)
        if resident is None:
            binding = self.codec.issue(tenant_id=tenant_id, subject=openid, kind="wechat_binding", role=None, now=now,
                                       ttl_seconds=600)
            raise ConflictError("Sign in once with your phone to link WeChat.", code="binding_required",
                                details={"binding_token": binding})
        return self._signed_in(tenant_id, resident, now)

    def verify_code(self, tenant_id: str, phone: str, code: str, now: datetime,
                    binding_token: str | None = None) -> ResidentSession:
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
        return self._signed_in(tenant_id, resident, now)

    def refresh(self, tenant_id: str, refresh_token: str, now: datetime) -> ResidentSession:
        """Spend a refresh token for a new access token naming the resident's units as they are now (a deleted
        resident cannot refresh; a spent token presented again ends its whole family)."""
        found: dict[str, Resident] = {}

        def holder(resident_id: str) -> TenantContext | None:
            resident = self.residents.get_resident(TenantContext(tenant_id, Principal("resident", resident_id)),
                                                   resident_id, consistent=True)
            if resident is None:
                return None
            found["resident"] = resident
            return TenantContext(tenant_id, Principal("resident", resident_id))

        _, refresh = self.sessions.rotate(refresh_token, now, tenant_id=tenant_id, holder=holder)
        resident = found["resident"]
        return ResidentSession(self._token(tenant_id, resident, now), refresh, resident)

    def logout(self, tenant_id: str, refresh_token: str) -> None:
        """End the presented refresh token's family (silently nothing when it is not valid)."""
        self.sessions.end(refresh_token, tenant_id=tenant_id)

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

    def _signed_in(self, tenant_id: str, resident: Resident, now: datetime) -> ResidentSession:
        """A short access token and the refresh token that renews it (committed here: one round trip)."""
        ctx = TenantContext(tenant_id, Principal("resident", resident.resident_id))
        uow = self.new_uow(tenant_id, ctx.actor, now)
        refresh = self.sessions.stage_issue(uow, ctx, resident.resident_id, now)
        uow.commit()
        return ResidentSession(self._token(tenant_id, resident, now), refresh, resident)

    def _token(self, tenant_id: str, resident: Resident, now: datetime) -> str:
        units = [UnitClaim(u["community_id"], u["unit_id"], u["label"], u.get("building_id") or "")
                 for u in resident.units]
        return self.codec.issue(tenant_id=tenant_id, subject=resident.resident_id, kind="resident", role=None,
                                now=now, units=units, ttl_seconds=self.token_ttl_seconds, name=resident.name,
                                phone_hint=mask_phone(resident.phone))
