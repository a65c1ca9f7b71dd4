"""The in-app inbox over HTTP: residents and staff read what the notifications consumer filed for them,
mark it read, set preferences; nobody reads anybody else's inbox, across tenants or within one."""
from __future__ import annotations

import time

import pytest

from tests.e2e.test_notifications import daytime_zone
from tests.e2e.test_ticket_lifecycle import act, estate  # noqa: F401 - the fixture
from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.e2e


def wait_inbox(api: ApiClient, token: str, count: int, timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    while True:
        page = api.get("/v1/me/notifications", token=token).json()
        if len(page["items"]) >= count or time.time() > deadline:
            return page
        time.sleep(0.3)


def test_resident_and_technician_inboxes(api: ApiClient, tenant, other_tenant, estate):  # noqa: F811
    assert api.patch("/v1/tenant", token=tenant.token, json={"timezone": daytime_zone()}).status_code == 200
    resident_token, tech_token = estate["resident_token"], estate["tech_token"]
    empty = api.get("/v1/me/notifications", token=resident_token)
    assert empty.status_code == 200 and empty.json()["items"] == [] and empty.json()["unread_count"] == 0
    ticket = api.post("/v1/me/tickets", token=resident_token, json={
        "kind": "repair", "category": "水电", "description": "热水器不出热水",
        "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}}).json()
    act(api, estate["agent_token"], ticket["id"], "acknowledge")
    act(api, estate["agent_token"], ticket["id"], "assign", assignee_id=estate["tech"]["id"])
    act(api, estate["agent_token"], ticket["id"], "resolve", note="已修好")

    page = wait_inbox(api, resident_token, 2)
    assert page["unread_count"] == 2 and {n["event_type"] for n in page["items"]} == {
        "ticket.acknowledged", "ticket.resolved"}
    assert all(n["ticket_id"] == ticket["id"] and not n["read"] for n in page["items"])
    assert page["items"][0]["event_type"] == "ticket.resolved"  # newest first
    tech_page = wait_inbox(api, tech_token, 1)
    assert [n["event_type"] for n in tech_page["items"]] == ["ticket.assigned"]

    first = page["items"][0]["id"]
    # Nobody else can read or mark it: another tenant, a colleague, an integration.
    assert_error(api.post(f"/v1/me/notifications/{first}/read", token=other_tenant.token), 404)
    assert_error(api.post(f"/v1/me/notifications/{first}/read", token=tech_token), 404)
    key = api.post("/v1/api-keys", token=tenant.token, json={"name": "erp", "scopes": ["tickets:read"]}).json()
    assert_error(api.get("/v1/me/notifications", token=key["key"]), 403)
    assert api.get("/v1/me/notifications", token=other_tenant.token).json()["items"] == []

    marked = api.post(f"/v1/me/notifications/{first}/read", token=resident_token)
    assert marked.status_code == 200 and marked.json()["read"] is True
    assert api.post(f"/v1/me/notifications/{first}/read", token=resident_token).status_code == 200  # again: fine
    assert api.get("/v1/me/notifications/unread-count", token=resident_token).json() == {"unread_count": 1}
    unread = api.get("/v1/me/notifications", token=resident_token, params={"unread": "true"}).json()
    assert [n["event_type"] for n in unread["items"]] == ["ticket.acknowledged"]
    assert api.post("/v1/me/notifications/read-all", token=resident_token).json() == {"marked": 1}
    assert api.get("/v1/me/notifications/unread-count", token=resident_token).json() == {"unread_count": 0}
    assert_error(api.post("/v1/me/notifications/ntf_nope/read", token=resident_token), 404)


def test_preferences_are_personal_and_validated(api: ApiClient, tenant, other_tenant):
    put = api.request("PUT", "/v1/me/notification-preferences", token=tenant.token,
                      json={"muted_channels": ["sms"], "muted_events": ["ticket.rated"]})
    assert put.status_code == 200, put.text
    assert api.get("/v1/me/notification-preferences", token=tenant.token).json()["muted_channels"] == ["sms"]
    assert api.get("/v1/me/notification-preferences", token=other_tenant.token).json()["muted_channels"] == []
    assert_error(api.request("PUT", "/v1/me/notification-preferences", token=tenant.token,
                             json={"muted_channels": ["pigeon"]}), 422, "validation_failed")
    assert_error(api.request("PUT", "/v1/me/notification-preferences", token=tenant.token,
                             json={"muted_events": ["staff.created"]}), 422, "validation_failed")
    assert api.get("/v1/me/notification-preferences", token=tenant.token).json()["muted_events"] == ["ticket.rated"]


def test_tenant_notification_settings_are_validated(api: ApiClient, tenant):
    shown = api.get("/v1/tenant", token=tenant.token).json()["notifications"]
    assert any(r["event"] == "ticket.created" and r["kinds"] == ["emergency"] for r in shown["rules"])
    for bad in ({"rules": [{"event": "staff.created", "recipients": ["admins"], "channels": ["inbox"]}]},
                {"rules": [{"event": "ticket.resolved", "recipients": ["everyone"], "channels": ["inbox"]}]},
                {"templates": {"ticket.resolved": {"sms": {"zh-CN": "{password}"}}}},
                {"quiet_hours": {"start": "25:00", "end": "08:00"}}):
        assert_error(api.patch("/v1/tenant", token=tenant.token, json={"notifications": bad}), 422,
                     "validation_failed")
    good = api.patch("/v1/tenant", token=tenant.token, json={"notifications": {
        "templates": {"ticket.resolved": {"sms": {"en": "{brand}: {number} done"}}}}})
    assert good.status_code == 200, good.text
    assert good.json()["notifications"]["templates"]["ticket.resolved"]["sms"]["en"] == "{brand}: {number} done"
