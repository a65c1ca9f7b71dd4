"""On the embedded stack, a 20-second first-response policy breaches on time and pages the supervisor."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from tests.e2e.test_ticket_lifecycle import estate  # noqa: F401 - the fixture
from tests.helpers import PASSWORD, ApiClient

pytestmark = pytest.mark.e2e


def test_a_short_first_response_target_breaches_on_time_and_pages_the_supervisor(api: ApiClient, tenant, estate):  # noqa: F811
    policy = {"sla_policies": [{"name": "二十秒", "match": {}, "targets": {"first_response": "PT20S"},
                                "calendar": "24x7", "warn_at": 0.75}]}
    assert api.patch("/v1/tenant", token=tenant.token, json=policy).status_code == 200
    supervisor_phone = "13912340000"
    api.post("/v1/staff", token=tenant.token, json={"email": "sup@example.com", "name": "主管", "role": "supervisor",
                                                    "password": PASSWORD, "phone": supervisor_phone})
    ticket = api.post("/v1/me/tickets", token=estate["resident_token"], json={
        "kind": "repair", "description": "没人回复会怎样", "location": {
            "community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}}).json()
    clock = next(c for c in ticket["sla"] if c["clock"] == "first_response")
    assert clock["state"] == "running" and clock["target_seconds"] == 20
    due = datetime.fromisoformat(clock["due_at"].replace("Z", "+00:00"))
    paged_at = None
    while time.time() < due.timestamp() + 30:
        messages = api.get("/v1/dev/messages", params={"to": supervisor_phone}).json()["items"]
        if messages:
            paged_at = datetime.now(timezone.utc)
            break
        time.sleep(0.5)
    assert paged_at is not None, "the supervisor was not paged"
    lateness = (paged_at - due).total_seconds()
    print(f"\nSLA breach paged {lateness:.1f} s after the deadline")
    assert lateness <= 10
    assert ticket["number"] in messages[0]["body"] and "首次响应" in messages[0]["body"]
    breached = api.get(f"/v1/tickets/{ticket['id']}", token=tenant.token).json()
    assert breached["sla_state"] == "breached"
    assert next(c for c in breached["sla"] if c["clock"] == "first_response")["breached_at"] is not None
    at_risk = api.get("/v1/tickets", token=tenant.token, params={"sla_state": "breached"}).json()["items"]
    assert [t["id"] for t in at_risk] == [ticket["id"]]
    ledger = [e["type"] for e in api.get(f"/v1/tickets/{ticket['id']}/events", token=tenant.token).json()["items"]
              if e["type"].startswith("sla.")]
    assert ledger[:4] == ["sla.started", "sla.warning", "sla.breached", "sla.escalated"]
