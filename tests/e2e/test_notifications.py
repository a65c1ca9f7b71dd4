"""Events reach people: the resident on acknowledge and resolve, the technician on assignment (SMS, local
recorder), through the outbox stream → dispatcher → notifications queue → consumer."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_ticket_lifecycle import act, estate  # noqa: F401 - the fixture
from tests.helpers import PASSWORD, ApiClient

pytestmark = pytest.mark.e2e


def daytime_zone() -> str:
    """A tenant time zone where it is daytime now, so quiet hours don't hold the messages under test."""
    for name in ("Asia/Shanghai", "Europe/London", "America/New_York", "Pacific/Honolulu", "Asia/Kolkata"):
        if 9 <= datetime.now(timezone.utc).astimezone(ZoneInfo(name)).hour < 21:
            return name
    return "Asia/Shanghai"


def wait_for(api: ApiClient, phone: str, count: int, timeout: float = 90) -> list[dict]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        messages = api.get("/v1/dev/messages", params={"to": phone}).json()["items"]
        if len(messages) >= count:
            return messages
        time.sleep(0.3)
    return api.get("/v1/dev/messages", params={"to": phone}).json()["items"]


def test_resident_and_technician_are_told(api: ApiClient, stack, tenant, estate):  # noqa: F811
    assert api.patch("/v1/tenant", token=tenant.token, json={"timezone": daytime_zone()}).status_code == 200
    tech_phone = "13712345000"
    tech = api.post("/v1/staff", token=tenant.token, json={"email": "fixer@example.com", "name": "师傅",
                                                           "role": "technician", "password": PASSWORD,
                                                           "phone": tech_phone}).json()
    resident_phone = api.get(f"/v1/residents/{estate['resident']['id']}", token=tenant.token).json()["phone"]
    before = len(api.get("/v1/dev/messages", params={"to": resident_phone}).json()["items"])  # the OTP
    ticket = api.post("/v1/me/tickets", token=estate["resident_token"], json={
        "kind": "repair", "category": "电梯", "description": "电梯异响",
        "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}}).json()
    act(api, estate["agent_token"], ticket["id"], "acknowledge")
    act(api, estate["agent_token"], ticket["id"], "assign", assignee_id=tech["id"])
    act(api, estate["agent_token"], ticket["id"], "resolve", note="已调整")
    resident_messages = wait_for(api, resident_phone, before + 2)
    bodies = [m["body"] for m in resident_messages[: len(resident_messages) - before]]
    assert any("已受理" in b and ticket["number"] in b for b in bodies), bodies
    assert any("已处理完成" in b for b in bodies), bodies
    tech_messages = wait_for(api, tech_phone, 1)
    assert len(tech_messages) == 1 and ticket["number"] in tech_messages[0]["body"]
    stack.settle("notifications")  # every event handled: the technician was told once only
    assert len(api.get("/v1/dev/messages", params={"to": tech_phone}).json()["items"]) == 1
