"""Daily OTP caps per phone and per tenant (moto), with fixed clocks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import RateLimitedError
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.settings import Settings
from chalicelib.notifications.channels import LocalOutbox
from chalicelib.residents.login import ResidentLogin
from chalicelib.residents.repository import OtpRepository, ResidentRepository
from chalicelib.residents.wechat import LocalWeChat
from chalicelib.storage.unit_of_work import UnitOfWork

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)


def login(per_phone=3, per_tenant=100) -> ResidentLogin:
    from chalicelib import bootstrap

    settings = Settings(otp_daily_per_phone=per_phone, otp_daily_per_tenant=per_tenant)
    return ResidentLogin(ResidentRepository(CursorCodec(b"k" * 32)), OtpRepository(), bootstrap.token_codec(),
                         LocalOutbox(), settings, LocalWeChat(), UnitOfWork)


def test_per_phone_daily_cap(stack):
    service, tenant_id = login(per_phone=3), new_id("tnt")
    for n in range(3):
        service.request_code(tenant_id, "物业", "13911112222", T0 + timedelta(minutes=2 * n))
    with pytest.raises(RateLimitedError) as raised:
        service.request_code(tenant_id, "物业", "13911112222", T0 + timedelta(minutes=10))
    assert raised.value.code == "otp_daily_limit" and raised.value.retry_after > 0
    service.request_code(tenant_id, "物业", "13911113333", T0 + timedelta(minutes=10))  # another phone still may
    service.request_code(tenant_id, "物业", "13911112222", T0 + timedelta(days=1))       # and tomorrow again


def test_per_tenant_daily_cap(stack):
    service, tenant_id = login(per_tenant=2), new_id("tnt")
    service.request_code(tenant_id, "物业", "13911114444", T0)
    service.request_code(tenant_id, "物业", "13911115555", T0)
    with pytest.raises(RateLimitedError) as raised:
        service.request_code(tenant_id, "物业", "13911116666", T0)
    assert raised.value.code == "otp_daily_limit"


def test_within_the_cooldown_at_the_cap_the_cooldown_is_reported(stack):
    service, tenant_id = login(per_phone=1), new_id("tnt")
    service.request_code(tenant_id, "物业", "13911117777", T0)
    with pytest.raises(RateLimitedError) as raised:
        service.request_code(tenant_id, "物业", "13911117777", T0 + timedelta(seconds=30))
    assert (raised.value.code, raised.value.retry_after) == ("otp_cooldown", 60)
