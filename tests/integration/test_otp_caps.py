"""OTP limits per phone and per address per window, and the cooldown, on DynamoDB (moto), with fixed clocks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import RateLimitedError
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.settings import Settings
from chalicelib.residents.login import ResidentLogin
from chalicelib.residents.repository import OtpRepository, ResidentRepository
from chalicelib.residents.wechat import LocalWeChat
from chalicelib.storage.unit_of_work import UnitOfWork

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)


def login(per_phone=3, per_source=4, per_tenant=100) -> tuple[ResidentLogin, list[dict]]:
    from chalicelib import bootstrap

    queued: list[dict] = []
    settings = Settings(otp_per_phone_window=per_phone, otp_per_source_window=per_source,
                        otp_daily_per_tenant=per_tenant)
    return ResidentLogin(ResidentRepository(CursorCodec(b"k" * 32)), OtpRepository(), bootstrap.token_codec(),
                         lambda body, delay: queued.append(body), settings, LocalWeChat(), UnitOfWork,
                         bootstrap.refresh_tokens()), queued


def test_a_phone_gets_a_few_codes_per_window_and_more_when_it_ends(stack):
    (service, queued), tenant_id = login(per_phone=3), new_id("tnt")
    for n in range(3):
        service.request_code(tenant_id, "物业", "13911112222", T0 + timedelta(minutes=2 * n), f"203.0.113.{n}")
    with pytest.raises(RateLimitedError) as raised:
        service.request_code(tenant_id, "物业", "13911112222", T0 + timedelta(minutes=10), "203.0.113.9")
    assert raised.value.code == "otp_phone_limit" and raised.value.retry_after == 5 * 60 + 1
    service.request_code(tenant_id, "物业", "13911113333", T0 + timedelta(minutes=10))  # another phone still may
    service.request_code(tenant_id, "物业", "13911112222", T0 + timedelta(minutes=15))  # and this one, next window
    assert len(queued) == 5 and all(m["code"] is None for m in queued)  # nobody lives there: nothing to send


def test_one_address_is_slowed_per_window(stack):
    (service, _), tenant_id = login(per_source=2), new_id("tnt")
    service.request_code(tenant_id, "物业", "13911114444", T0, "203.0.113.7")
    service.request_code(tenant_id, "物业", "13911115555", T0, "203.0.113.7")
    with pytest.raises(RateLimitedError) as raised:
        service.request_code(tenant_id, "物业", "13911116666", T0, "203.0.113.7")
    assert raised.value.code == "otp_source_limit"
    service.request_code(tenant_id, "物业", "13911116666", T0, "198.51.100.1")


def test_within_the_cooldown_at_the_cap_the_cooldown_is_reported(stack):
    (service, _), tenant_id = login(per_phone=1), new_id("tnt")
    service.request_code(tenant_id, "物业", "13911117777", T0)
    with pytest.raises(RateLimitedError) as raised:
        service.request_code(tenant_id, "物业", "13911117777", T0 + timedelta(seconds=30))
    assert (raised.value.code, raised.value.retry_after) == ("otp_cooldown", 60)
