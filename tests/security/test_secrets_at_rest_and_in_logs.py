"""Secrets never rest in clear; logs never carry phone numbers, passwords or tokens."""
from __future__ import annotations

import io
import json
import logging
import re
import zlib

import boto3
import pytest

from tests.helpers import PASSWORD, ApiClient

pytestmark = pytest.mark.e2e


def _scan_all(stack) -> list[dict]:
    table = boto3.resource("dynamodb", endpoint_url=stack.endpoint).Table(stack.table_name)
    items, kwargs = [], {}
    while True:
        page = table.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _readable(value: object) -> str:
    """An item value as text for the search: binary attributes (a ticket's deflated SLA clocks) inflated, so a
    secret cannot hide in them from this test."""
    raw = getattr(value, "value", None)
    if isinstance(raw, bytes):
        try:
            return zlib.decompress(raw).decode()
        except (zlib.error, UnicodeDecodeError):
            return raw.hex()
    return str(value)


def test_no_table_item_holds_a_password_api_key_or_token_in_clear(api: ApiClient, stack, tenant):
    staff_password = "Another-Secret-77"
    api.post("/v1/staff", token=tenant.token, json={"email": "s@example.com", "name": "s", "role": "agent",
                                                    "password": staff_password})
    key = api.post("/v1/api-keys", token=tenant.token, json={"name": "k", "scopes": ["tenant:read"]}).json()["key"]
    assert api.get("/v1/tenant", token=key).status_code == 200
    refresh_secret = tenant.refresh_token.rsplit(".", 1)[-1]
    hook = api.post("/v1/webhooks", token=tenant.token, json={"url": "http://127.0.0.1:9/hook"}).json()
    rotated = api.post(f"/v1/webhooks/{hook['id']}/rotate-secret", token=tenant.token).json()

    items = _scan_all(stack)
    dump = json.dumps(items, default=_readable, ensure_ascii=False)
    for secret in (PASSWORD, staff_password, key, key.removeprefix("lk_live_"), refresh_secret, tenant.token,
                   hook["secret"], hook["secret"].removeprefix("whsec_"), rotated["secret"].removeprefix("whsec_")):
        assert secret not in dump
    staff = [i for i in items if i.get("entity") == "staff" and i["tenant_id"] == tenant.id]
    assert staff and all(i["password_hash"].startswith("$argon2id$") for i in staff)


def test_no_key_holds_a_residents_phone_and_tickets_hold_it_masked(api: ApiClient, stack, tenant):
    phone = "13987650001"
    community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()
    resident = api.post("/v1/residents", token=tenant.token, json={"name": "钥匙", "phone": phone}).json()
    ticket = api.post("/v1/tickets", token=tenant.token, json={
        "kind": "inquiry", "description": "来电", "resident_id": resident["id"],
        "location": {"community_id": community["id"], "common_area": "大门"}}).json()
    assert api.post(f"/v1/tickets/{ticket['id']}/reveal-phone", token=tenant.token).json()["phone"] == phone

    mine = [i for i in _scan_all(stack) if tenant.id in str(i.get("PK"))]
    key_values = [str(i.get(name)) for i in mine for name in i if name in ("PK", "SK") or name.startswith("GSI")]
    assert mine and not [k for k in key_values if phone in k]
    [stored] = [i for i in mine if i.get("entity") == "ticket" and i["ticket_id"] == ticket["id"]]
    assert stored["resident_phone"] == "139****0001"
    events = [i for i in mine if i.get("entity") == "event" and i["subject_id"] == ticket["id"]]
    assert "resident.phone_revealed" in [e["type"] for e in events] and phone not in json.dumps(events,
                                                                                                  default=_readable)


def test_logs_carry_no_phone_password_email_or_token(api: ApiClient, tenant):
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    linli_logger = logging.getLogger("linli")
    handler.setFormatter(linli_logger.handlers[0].formatter)
    linli_logger.addHandler(handler)
    level = linli_logger.level
    linli_logger.setLevel(logging.INFO)  # what is logged at INFO, whatever an earlier test left the level at
    phone = "13987654321"
    try:
        api.post("/v1/staff", token=tenant.token, json={"email": "phone.owner@example.com", "name": "有电话",
                                                        "role": "agent", "password": PASSWORD, "phone": phone})
        api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": tenant.admin_email,
                                         "password": "Wrong-but-secret-9"})
        api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": f"{phone}@example.com",
                                         "password": PASSWORD})
        api.get("/v1/tenant", token=tenant.token)
        api.post("/v1/auth/refresh", json={"refresh_token": tenant.refresh_token})
        community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()
        resident = api.post("/v1/residents", token=tenant.token, json={"name": "日志", "phone": "13987650002"}).json()
        api.get("/v1/residents", token=tenant.token, params={"q": "13987650002"})
        ticket = api.post("/v1/tickets", token=tenant.token, json={
            "kind": "inquiry", "description": "来电", "resident_id": resident["id"],
            "location": {"community_id": community["id"], "common_area": "大门"}}).json()
        api.post(f"/v1/tickets/{ticket['id']}/reveal-phone", token=tenant.token)
    finally:
        linli_logger.removeHandler(handler)
        linli_logger.setLevel(level)
    output = buffer.getvalue()
    assert "request completed" in output and "login attempt" in output  # the logs were written…
    assert phone not in output and "13987650002" not in output            # …without what they must not hold
    assert PASSWORD not in output and "Wrong-but-secret-9" not in output
    assert tenant.admin_email not in output
    assert tenant.token not in output and tenant.refresh_token.rsplit(".", 1)[-1] not in output
    assert re.search(r"\w\*\*\*@example\.com", output)
    for line in output.strip().splitlines():
        record = json.loads(line)
        # Records of the API's requests carry their request id. (Consumers log on the stack's other threads at the
        # same time, and Powertools' lambda-context keys are process-wide, so tell API records by their message.)
        if record.get("message") in ("request completed", "login attempt"):
            assert record.get("request_id")
