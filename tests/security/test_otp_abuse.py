"""Nobody can lock residents out of sign-in, and nothing about a phone leaks from the OTP route (issue 11's rows
"400 anonymous OTP requests for random phones locked every resident out until midnight", "10 requests lock one
known phone for the day", "OTP for a known phone sends the SMS inside the request"). The limits run on the stack's
DynamoDB with small caps and fixed clocks; the route's behaviour over HTTP."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import RateLimitedError
from chalicelib.core.settings import Settings
from tests.helpers import ApiClient, assert_error, sent_code

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


def _login(queued: list[dict], **caps: int):  # noqa: ANN202 - ResidentLogin on the stack's DynamoDB
    from chalicelib import bootstrap
    from chalicelib.core.pagination import CursorCodec
    from chalicelib.residents.login import ResidentLogin
    from chalicelib.residents.repository import OtpRepository, ResidentRepository
    from chalicelib.residents.wechat import LocalWeChat

    return ResidentLogin(ResidentRepository(CursorCodec(b"k" * 32)), OtpRepository(), bootstrap.token_codec(),
                         lambda body, delay: queued.append(body), Settings(**caps), LocalWeChat(),
                         bootstrap.unit_of_work, bootstrap.refresh_tokens())


@pytest.fixture
def resident_phone(api: ApiClient, tenant) -> str:  # noqa: ANN001
    community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()
    building = api.post(f"/v1/communities/{community['id']}/buildings", token=tenant.token, json={"name": "1栋"})
    unit = api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                    json={"building_id": building.json()["id"], "number": "101"}).json()
    phone = "135" + str(uuid.uuid4().int)[:8]
    created = api.post("/v1/residents", token=tenant.token, json={
        "name": "陈阿姨", "phone": phone, "units": [{"unit_id": unit["id"], "community_id": community["id"]}]})
    assert created.status_code == 201
    return phone


def test_four_hundred_requests_for_made_up_phones_do_not_lock_the_tenants_residents_out(stack, tenant,
                                                                                       resident_phone):
    queued: list[dict] = []
    login = _login(queued, otp_daily_per_tenant=5, otp_per_source_window=20)
    refused = 0
    for n in range(400):  # twenty addresses, twenty made-up numbers each, past the tenant's daily cap of 5
        try:
            login.request_code(tenant.id, "物业", f"1700000{n:04d}", T0, f"203.0.113.{n % 20}")
        except RateLimitedError as exc:
            assert exc.code == "otp_source_limit"
            refused += 1
    login.request_code(tenant.id, "物业", resident_phone, T0, "198.51.100.7")
    assert refused == 0 and [m["phone"] for m in queued if m["code"]] == [resident_phone]


def test_ten_requests_for_a_known_phone_cannot_lock_it_for_the_day(stack, tenant, resident_phone):
    queued: list[dict] = []
    login = _login(queued)
    codes, limited = 0, []
    for n in range(10):  # one every 61 s: past the cooldown every time, from ten addresses
        try:
            login.request_code(tenant.id, "物业", resident_phone, T0 + timedelta(seconds=61 * n), f"203.0.113.{n}")
            codes += 1
        except RateLimitedError as exc:
            limited.append(exc)
    assert codes == 5 and {e.code for e in limited} == {"otp_phone_limit"}
    assert max(e.retry_after for e in limited) <= 15 * 60
    login.request_code(tenant.id, "物业", resident_phone, T0 + timedelta(minutes=15), "198.51.100.7")  # minutes later
    assert [m["phone"] for m in queued if m["code"]][-1] == resident_phone and len(queued) == 6


def test_known_and_unknown_phones_cost_the_request_the_same_calls_and_send_nothing_inside_it(stack, tenant,
                                                                                           resident_phone):
    from chalicelib import bootstrap
    from chalicelib.storage.table import transaction_connection

    calls: list[str] = []
    here = threading.get_ident()  # the clients are shared with the stack's pollers: count this thread's calls

    def count(event_name: str, **_: object) -> None:
        if threading.get_ident() == here:
            calls.append(event_name.split(".")[-1])

    queued: list[dict] = []
    login = _login(queued)
    clients = [bootstrap.sqs_client(), transaction_connection().client]  # every item type shares that client
    for client in clients:
        client.meta.events.register("before-call.*.*", count)
    try:
        login.request_code(tenant.id, "物业", resident_phone, T0, "198.51.100.7")
        known = list(calls)
        calls.clear()
        login.request_code(tenant.id, "物业", "17099990000", T0, "198.51.100.8")
        unknown = list(calls)
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", count)
    assert known == unknown == ["Query", "TransactWriteItems"]  # the SMS is queued after, never sent here
    assert [bool(m["code"]) for m in queued] == [True, False]


def test_the_otp_route_answers_alike_and_an_sms_provider_failure_never_reaches_it(stack, api: ApiClient, tenant,
                                                                                  resident_phone):
    from chalicelib import bootstrap

    channel = bootstrap.sms_channel()
    original = channel.send

    def broken(message: object) -> None:
        raise ConnectionError("the SMS provider is down")

    channel.send = broken
    try:
        known = api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": resident_phone})
        unknown = api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": "17088887777"})
    finally:
        channel.send = original
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (202, known.json())
    assert sent_code(api, resident_phone)  # the queued code goes out once the provider is back
    assert_error(api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": "17088887777"}), 429,
                 "otp_cooldown")
