"""Resident sign-in: phone OTP through the notification channel interface."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from chalicelib.core.auth import TokenCodec
from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.errors import ConflictError, RateLimitedError, UnauthenticatedError
from chalicelib.core.settings import Settings
from chalicelib.notifications.channels import Channel, Message
from chalicelib.residents.repository import ResidentItem, ResidentRepository, openid_pk
from chalicelib.residents.wechat import WeChatAuth
from chalicelib.storage import keys
from chalicelib.storage.table import CounterItem, LinliModel, UniqueItem
from chalicelib.storage.unit_of_work import UnitOfWork

CODE_TTL = timedelta(minutes=5)
RESEND_COOLDOWN = timedelta(seconds=60)
MAX_ATTEMPTS = 5
CHINA = ZoneInfo("Asia/Shanghai")


class OtpItem(LinliModel, discriminator="otp"):
    code_digest = UnicodeAttribute()
    sent_at = UnicodeAttribute()
    valid_until = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    resident_id = UnicodeAttribute(null=True)


def _phone_key(tenant_id: str, phone: str) -> str:
    return hashlib.sha256(f"{tenant_id}:{phone}".encode()).hexdigest()[:32]


def _code_digest(tenant_id: str, phone: str, code: str) -> str:
    return hashlib.sha256(f"{tenant_id}:{phone}:{code}".encode()).hexdigest()


def _seconds_to_midnight(now: datetime) -> int:
    local = now.astimezone(CHINA)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((midnight - local).total_seconds()) + 1


class ResidentLogin:
    def __init__(self, repo: ResidentRepository, codec: TokenCodec, sms: Channel, settings: Settings,
                 wechat: WeChatAuth) -> None:
        self.repo, self.codec, self.sms, self.settings, self.wechat = repo, codec, sms, settings, wechat

    def request_code(self, tenant_id: str, brand: str, phone: str, now: datetime) -> None:
        """Send a code if the phone belongs to a resident; answer identically either way."""
        resident = self.repo.find_resident_by_phone(tenant_id, phone)
        code = f"{secrets.randbelow(10**6):06d}"
        phone_key = _phone_key(tenant_id, phone)
        day_pk = keys.tenant_pk(tenant_id, "OTPDAY", now.astimezone(CHINA).strftime("%Y%m%d"))
        expires = int((now + timedelta(days=2)).timestamp())
        daily = RateLimitedError("Too many codes today; try again tomorrow.", code="otp_daily_limit",
                                 retry_after=_seconds_to_midnight(now))
        uow = UnitOfWork(tenant_id, {"type": "resident", "id": None, "role": None}, now)
        for sk, cap in ((f"P#{phone_key}", self.settings.otp_daily_per_phone),
                        ("TENANT", self.settings.otp_daily_per_tenant)):
            uow.update(CounterItem(day_pk, sk), [CounterItem.count.add(1), CounterItem.expires_at.set(expires)],
                       condition=CounterItem.count.does_not_exist() | (CounterItem.count < cap), on_conflict=daily)
        otp = OtpItem(keys.tenant_pk(tenant_id, "OTP", phone_key), "OTP",
                      code_digest=_code_digest(tenant_id, phone, code if resident else secrets.token_hex(16)),
                      sent_at=to_rfc3339(now), valid_until=to_rfc3339(now + CODE_TTL), attempts=0,
                      resident_id=resident.resident_id if resident else None,
                      expires_at=int((now + CODE_TTL + timedelta(hours=1)).timestamp()))
        uow.put(otp, condition=OtpItem.PK.does_not_exist() | (OtpItem.sent_at < to_rfc3339(now - RESEND_COOLDOWN)),
                on_conflict=RateLimitedError("Wait a minute before asking for another code.", code="otp_cooldown",
                                             retry_after=int(RESEND_COOLDOWN.total_seconds())))
        uow.commit()
        if resident is not None:
            self.sms.send(Message(channel="sms", tenant_id=tenant_id, to=phone, template="otp", params={"code": code},
                                  body=f"【{brand}】您的验证码是{code}，5分钟内有效，请勿告诉他人。"))

    def wechat_login(self, tenant_id: str, app_id: str, code: str, now: datetime) -> tuple[str, ResidentItem]:
        """A bound openid signs in at once; an unbound one gets a binding token to present with an OTP."""
        openid = self.wechat.openid_for(app_id, code)
        resident = self.repo.resident_for_openid(tenant_id, openid)
        if resident is None:
            binding = self.codec.issue(tenant_id=tenant_id, subject=openid, kind="wechat_binding", role=None, now=now,
                                       ttl_seconds=600)
            raise ConflictError("Sign in once with your phone to link WeChat.", code="binding_required",
                                details={"binding_token": binding})
        return self._token(tenant_id, resident, now), resident

    def verify_code(self, tenant_id: str, phone: str, code: str, now: datetime,
                    binding_token: str | None = None) -> tuple[str, ResidentItem]:
        invalid = UnauthenticatedError("The code is wrong or has expired.", code="invalid_code")
        pk = keys.tenant_pk(tenant_id, "OTP", _phone_key(tenant_id, phone))
        try:
            otp = OtpItem.get(pk, "OTP", consistent_read=True)
        except DoesNotExist:
            raise invalid from None
        if from_rfc3339(otp.valid_until) <= now:
            raise invalid
        if otp.attempts >= MAX_ATTEMPTS:
            raise RateLimitedError("Too many wrong codes; ask for a new code.", code="otp_locked",
                                   retry_after=int((from_rfc3339(otp.valid_until) - now).total_seconds()) + 1)
        if otp.resident_id is None or not hmac.compare_digest(otp.code_digest, _code_digest(tenant_id, phone, code)):
            try:
                otp.update(actions=[OtpItem.attempts.add(1)], condition=OtpItem.attempts < MAX_ATTEMPTS)
            except UpdateError:
                pass
            raise invalid
        try:
            otp.delete(condition=(OtpItem.attempts < MAX_ATTEMPTS) & (OtpItem.code_digest == otp.code_digest))
        except DeleteError as exc:  # the code was used concurrently: one sign-in only
            raise invalid from exc
        resident = self.repo.find_resident_by_phone(tenant_id, phone)
        if resident is None or resident.resident_id != otp.resident_id:
            raise invalid
        if binding_token:
            self._bind(tenant_id, resident, binding_token, now)
        return self._token(tenant_id, resident, now), resident

    def _bind(self, tenant_id: str, resident: ResidentItem, binding_token: str, now: datetime) -> None:
        claims = self.codec.verify(binding_token)
        if claims.kind != "wechat_binding" or claims.tenant_id != tenant_id:
            raise UnauthenticatedError("The WeChat binding has expired; open the mini-program again.",
                                       code="invalid_binding_token")
        uow = UnitOfWork(tenant_id, {"type": "resident", "id": resident.resident_id, "role": None}, now)
        uow.put(UniqueItem(openid_pk(tenant_id, claims.subject), keys.UNIQUE_SK, owner_id=resident.resident_id),
                condition=UniqueItem.PK.does_not_exist() | (UniqueItem.owner_id == resident.resident_id),
                on_conflict=ConflictError("This WeChat account is linked to another resident.",
                                          code="wechat_already_bound"))
        uow.update(resident, [ResidentItem.wechat_openid.set(claims.subject)])
        uow.record("resident.wechat_bound", pk=keys.tenant_pk(tenant_id), subject=("resident", resident.resident_id))
        uow.commit()

    def _token(self, tenant_id: str, resident: ResidentItem, now: datetime) -> str:
        units = [(u["community_id"], u["unit_id"], u["label"], u.get("building_id") or "") for u in resident.units]
        return self.codec.issue(tenant_id=tenant_id, subject=resident.resident_id, kind="resident", role=None,
                                now=now, units=units, ttl_seconds=self.settings.resident_token_ttl_seconds)
