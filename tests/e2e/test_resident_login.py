"""Resident phone OTP: the code arrives through the SMS channel (recorded locally), caps and locks hold,
and known and unknown phones are answered identically."""
from __future__ import annotations

import uuid

import pytest

from tests.helpers import ApiClient, assert_error, sent_code

pytestmark = pytest.mark.e2e


def _resident(api: ApiClient, tenant, phone: str):
    community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()
    building = api.post(f"/v1/communities/{community['id']}/buildings", token=tenant.token,
                        json={"name": "1栋"}).json()
    unit = api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                    json={"building_id": building["id"], "number": "101"}).json()
    return api.post("/v1/residents", token=tenant.token, json={
        "name": "陈阿姨", "phone": phone, "units": [{"unit_id": unit["id"], "community_id": community["id"]}]}).json()


def _phone() -> str:
    return "139" + str(uuid.uuid4().int)[:8]


def _code(api: ApiClient, phone: str) -> str:
    return sent_code(api, phone)


def test_otp_login_with_code_from_dev_messages(api: ApiClient, tenant):
    phone = _phone()
    resident = _resident(api, tenant, phone)
    sent = api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": phone})
    assert sent.status_code == 202
    sent_code(api, phone)  # it goes out through the notifications queue
    message = api.get("/v1/dev/messages", params={"to": phone}).json()["items"][0]
    assert message["tenant_id"] == tenant.id and message["params"]["code"] in message["body"]
    assert message["body"].startswith("【绿城物业】")
    verified = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify",
                        json={"phone": phone, "code": message["params"]["code"]})
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["resident_id"] == resident["id"] and body["units"] == resident["units"]
    me = api.get("/v1/me", token=body["access_token"]).json()
    assert me["id"] == resident["id"] and me["phone"] == phone
    # a code works once
    reused = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify",
                      json={"phone": phone, "code": message["params"]["code"]})
    assert_error(reused, 401, "invalid_code")
    # residents are not staff
    assert_error(api.get("/v1/tenant", token=body["access_token"]), 403)


def test_known_and_unknown_phones_are_answered_identically(stack, api: ApiClient, tenant):
    known, unknown = _phone(), _phone()
    _resident(api, tenant, known)
    a = api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": known})
    b = api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": unknown})
    assert (a.status_code, a.json()) == (b.status_code, b.json())
    sent_code(api, known)
    stack.settle("notifications")
    assert api.get("/v1/dev/messages", params={"to": unknown}).json()["items"] == []
    again_a = api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": known})
    again_b = api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": unknown})
    for response in (again_a, again_b):
        assert_error(response, 429, "otp_cooldown")
        assert response.headers["Retry-After"] == "60"
    wrong_a = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify", json={"phone": known, "code": "000000"})
    wrong_b = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify", json={"phone": unknown, "code": "000000"})
    assert wrong_a.status_code == wrong_b.status_code == 401
    assert wrong_a.json()["error"]["code"] == wrong_b.json()["error"]["code"] == "invalid_code"


def test_the_sixth_wrong_code_is_refused_even_when_right(api: ApiClient, tenant):
    phone = _phone()
    _resident(api, tenant, phone)
    api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": phone})
    code = _code(api, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert_error(api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify", json={"phone": phone, "code": wrong}),
                     401, "invalid_code")
    locked = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify", json={"phone": phone, "code": code})
    assert_error(locked, 429, "otp_locked")


def test_bad_phone_or_code_format_is_422(api: ApiClient, tenant):
    assert_error(api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": "12345"}), 422)
    assert_error(api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify",
                          json={"phone": _phone(), "code": "12ab56"}), 422)
    assert_error(api.post("/v1/public/tenants/no-such-tenant/otp", json={"phone": _phone()}), 404)


def test_wechat_login_needs_one_otp_binding_then_signs_in_directly(api: ApiClient, tenant):
    phone = _phone()
    resident = _resident(api, tenant, phone)
    first = api.post(f"/v1/public/tenants/{tenant.slug}/wechat/login", json={"code": "wx-code-1"})
    error = assert_error(first, 409, "binding_required")
    binding = error["details"]["binding_token"]
    api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": phone})
    bound = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify",
                     json={"phone": phone, "code": _code(api, phone), "wechat_binding_token": binding})
    assert bound.status_code == 200 and bound.json()["resident_id"] == resident["id"]
    again = api.post(f"/v1/public/tenants/{tenant.slug}/wechat/login", json={"code": "wx-code-1"})
    assert again.status_code == 200 and again.json()["resident_id"] == resident["id"]
    assert api.get("/v1/me", token=again.json()["access_token"]).json()["id"] == resident["id"]
    assert_error(api.post(f"/v1/public/tenants/{tenant.slug}/wechat/login", json={"code": "invalid"}), 401,
                 "invalid_wechat_code")
