"""Hostile notification templates (issue 11): a template is plain ``{placeholder}`` text, refused at save time
otherwise, and no template — saved today or stored before the rule — can make the consumer, whose batches mix
tenants, build more than a channel's cap."""
from __future__ import annotations

import time

import pytest

from chalicelib.notifications.templates import limit_for
from tests.helpers import ApiClient, assert_error
from tests.service.test_notifications_consumer import NOON_SHANGHAI, World, event

pytestmark = pytest.mark.e2e


def _templates(event_type: str, channel: str, text: str) -> dict:
    return {"notifications": {"templates": {event_type: {channel: {"zh-CN": text}}}}}


def _refused(api: ApiClient, tenant, text: str) -> str:
    response = api.patch("/v1/tenant", token=tenant.token, json=_templates("ticket.assigned", "inbox", text))
    error = assert_error(response, 422, "validation_failed")
    [detail] = error["details"]
    return detail["message"]


def test_a_format_spec_template_is_refused_and_cannot_blow_up_the_consumer(api: ApiClient, tenant):
    version = api.get("/v1/tenant", token=tenant.token).json()["version"]
    # Saving: every shape but a plain known field is a 422 that names the field and says what to write.
    assert "{number:>999999999}: format specs are not allowed; write {number}" in _refused(
        api, tenant, "工单{number:>999999999}")
    assert "{number!r}: conversions are not allowed; write {number}" in _refused(api, tenant, "{number!r}")
    assert "attribute and index access are not allowed" in _refused(api, tenant, "{number.__class__.__mro__}")
    assert "attribute and index access are not allowed" in _refused(api, tenant, "{unit[0]}")
    assert "positional fields are not allowed" in _refused(api, tenant, "{0}{}")
    assert "unknown variable {password}" in _refused(api, tenant, "{password}")
    assert api.get("/v1/tenant", token=tenant.token).json()["version"] == version  # nothing was saved

    # The consumer: a template stored before the rule loads (no tenant is locked out of its own configuration),
    # its odd fields stay literal text, and every channel's text stays within its cap.
    stored = {"templates": {"ticket.assigned": {"sms": {"zh-CN": "{number:>200000}"},
                                                "inbox": {"zh-CN": "{unit:>300000}" + "{unit}" * 80}}}}
    world = World(notifications=stored)
    world.ticket()
    assert world.consumer().handle(event("ticket.assigned"), NOON_SHANGHAI) == 2
    assert world.texts("13800000004") == ["{number:>200000}"]
    [note] = world.inbox_of("usr_tech")
    assert note.body.startswith("{unit:>300000}1栋101") and len(note.body) <= limit_for("inbox")


def test_a_sixteen_character_template_cannot_build_a_huge_inbox_entry(api: ApiClient, tenant):
    assert len("{number:>200000}") == 16
    _refused(api, tenant, "{number:>200000}")

    # The most a legal template can ask for: 83 copies of the longest unit label the API allows (90 characters).
    legal = "{unit}" * 83
    saved = api.patch("/v1/tenant", token=tenant.token, json=_templates("ticket.assigned", "inbox", legal))
    assert saved.status_code == 200, saved.text
    community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()
    building = api.post(f"/v1/communities/{community['id']}/buildings", token=tenant.token,
                        json={"name": "栋" * 50}).json()
    unit = api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                    json={"building_id": building["id"], "entrance": "单" * 20, "number": "1" * 20}).json()
    resident = api.post("/v1/residents", token=tenant.token, json={
        "name": "陈阿姨", "phone": "13800000001", "units": [{"unit_id": unit["id"], "community_id": community["id"]}]})
    ticket = api.post("/v1/tickets", token=tenant.token, json={
        "kind": "repair", "description": "厨房水管漏水", "channel": "phone", "resident_id": resident.json()["id"],
        "location": {"community_id": community["id"], "unit_id": unit["id"]}})
    assert ticket.status_code == 201, ticket.text
    tech, tech_token = api.add_staff(tenant, "technician")
    for action, params in (("acknowledge", {}), ("assign", {"assignee_id": tech["id"]})):
        acted = api.post(f"/v1/tickets/{ticket.json()['id']}/actions/{action}", token=tenant.token, json=params)
        assert acted.status_code == 200, acted.text

    deadline, items = time.time() + 60, []
    while not items and time.time() < deadline:
        items = api.get("/v1/me/notifications", token=tech_token).json()["items"]
        time.sleep(0.3)
    [note] = items
    label = "栋" * 50 + "单" * 20 + "1" * 20
    assert note["event_type"] == "ticket.assigned" and note["body"].startswith(label * 11)
    assert len(note["body"]) == limit_for("inbox") and note["body"].endswith("…")  # not 83 × 90 = 7,470
