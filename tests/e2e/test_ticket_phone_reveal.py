"""The ticket desk and the resident's phone over HTTP: masked on every staff view of the ticket, the full number by
POST /v1/tickets/{id}/reveal-phone for agents and the assigned technician, each reveal in the staff timeline and
nowhere else (not the resident's timeline, not webhooks, not notifications). Another tenant's ticket: see
tests/e2e/test_isolation.py."""
from __future__ import annotations

import pytest

from tests.e2e.test_ticket_lifecycle import act, estate  # noqa: F401 - the fixture
from tests.helpers import ApiClient, assert_error
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e


def file_leak(api: ApiClient, estate) -> dict:  # noqa: F811
    response = api.post("/v1/me/tickets", token=estate["resident_token"], json={
        "kind": "repair", "category": "水电", "description": "厨房水管漏水",
        "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}})
    assert response.status_code == 201, response.text
    return response.json()


def masked(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def full_phone(api: ApiClient, tenant, estate) -> str:  # noqa: F811
    return api.get(f"/v1/residents/{estate['resident']['id']}", token=tenant.token).json()["phone"]


def test_staff_see_the_phone_masked_on_tickets_filed_by_the_resident_or_for_them(api: ApiClient, tenant,
                                                                                  estate):  # noqa: F811
    phone = full_phone(api, tenant, estate)
    own = file_leak(api, estate)
    for_them = api.post("/v1/tickets", token=estate["agent_token"], json={
        "kind": "inquiry", "description": "来电咨询物业费", "resident_id": estate["resident"]["id"],
        "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}}).json()

    assert for_them["resident_phone"] == masked(phone)
    for ticket in (own, for_them):
        shown = api.get(f"/v1/tickets/{ticket['id']}", token=estate["agent_token"]).json()
        assert (shown["resident_name"], shown["resident_phone"]) == ("陈阿姨", masked(phone))
    queue = api.get("/v1/tickets", token=estate["agent_token"]).json()["items"]
    assert {t["resident_phone"] for t in queue} == {masked(phone)}
    assert own["resident_phone"] is None  # the resident's own view of their ticket carries no staff fields
    assert api.get(f"/v1/me/tickets/{own['id']}", token=estate["resident_token"]).json()["resident_phone"] is None


def test_an_agent_reveals_the_number_and_the_staff_timeline_records_it(api: ApiClient, tenant,
                                                                       estate):  # noqa: F811
    phone, ticket = full_phone(api, tenant, estate), file_leak(api, estate)

    revealed = api.post(f"/v1/tickets/{ticket['id']}/reveal-phone", token=estate["agent_token"])

    assert revealed.status_code == 200, revealed.text
    assert revealed.json() == {"resident_id": estate["resident"]["id"], "phone": phone}
    assert revealed.headers["Cache-Control"] == "no-store"
    events = api.get(f"/v1/tickets/{ticket['id']}/events", token=tenant.token).json()["items"]
    [reveal] = [e for e in events if e["type"] == "resident.phone_revealed"]
    assert reveal["actor"] == {"type": "staff", "id": estate["agent"]["id"], "role": "agent"}
    assert reveal["data"] == {"resident_id": estate["resident"]["id"]} and phone not in str(reveal)
    mine = api.get(f"/v1/me/tickets/{ticket['id']}/events", token=estate["resident_token"]).json()["items"]
    assert mine and "resident.phone_revealed" not in [e["type"] for e in mine]


def test_the_technician_once_assigned_may_a_butler_may_not(api: ApiClient, tenant, estate):  # noqa: F811
    ticket = file_leak(api, estate)
    path = f"/v1/tickets/{ticket['id']}/reveal-phone"
    assert_error(api.post(path, token=estate["tech_token"]), 404, "not_found")  # not their job: not in sight
    act(api, estate["agent_token"], ticket["id"], "assign", assignee_id=estate["tech"]["id"])

    assert api.post(path, token=estate["tech_token"]).json()["phone"] == full_phone(api, tenant, estate)
    _, butler = api.add_staff(tenant, "butler")
    assert_error(api.post(path, token=butler), 403, "forbidden")
    key = api.post("/v1/api-keys", token=tenant.token, json={"name": "ERP", "scopes": ["tickets:read"]}).json()
    assert_error(api.post(path, token=key["key"]), 403, "forbidden")


def test_integrations_and_notifications_never_hear_of_a_reveal(api: ApiClient, stack, tenant,
                                                               estate):  # noqa: F811
    receiver = Receiver().start()
    try:
        hook = api.post("/v1/webhooks", token=tenant.token,
                        json={"url": receiver.base_url + "/all", "event_types": ["*"]}).json()
        ticket = file_leak(api, estate)
        assert api.post(f"/v1/tickets/{ticket['id']}/reveal-phone", token=estate["agent_token"]).status_code == 200
        stack.settle("webhooks")
        stack.settle("notifications")
        log = api.get(f"/v1/webhooks/{hook['id']}/deliveries", token=tenant.token).json()["items"]
        assert [d["event_type"] for d in log] == ["ticket.created"]
    finally:
        receiver.stop()
    subscribing = api.post("/v1/webhooks", token=tenant.token,
                           json={"url": "http://127.0.0.1:9/x", "event_types": ["resident.phone_revealed"]})
    assert_error(subscribing, 422, "validation_failed")
