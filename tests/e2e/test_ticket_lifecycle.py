"""The product's core, end to end over HTTP: a resident reports, staff handle, the resident confirms and rates,
and every step is on the timeline with its actor."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.helpers import ApiClient, assert_error, sent_code

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def estate(api: ApiClient, tenant):
    """A community with a unit, a resident signed in by OTP, an agent and a technician."""
    community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()
    building = api.post(f"/v1/communities/{community['id']}/buildings", token=tenant.token,
                        json={"name": "3栋"}).json()
    unit = api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                    json={"building_id": building["id"], "entrance": "2单元", "number": "1201"}).json()
    phone = "137" + str(uuid.uuid4().int)[:8]
    resident = api.post("/v1/residents", token=tenant.token, json={
        "name": "陈阿姨", "phone": phone, "units": [{"unit_id": unit["id"], "community_id": community["id"]}]}).json()
    assert api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": phone}).status_code == 202
    code = sent_code(api, phone)
    token = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify",
                     json={"phone": phone, "code": code}).json()["access_token"]
    agent, agent_token = api.add_staff(tenant, "agent")
    tech, tech_token = api.add_staff(tenant, "technician")
    return {"community": community, "unit": unit, "resident": resident, "resident_token": token, "agent": agent,
            "agent_token": agent_token, "tech": tech, "tech_token": tech_token, "building": building}


def upload_photo(api: ApiClient, token: str, path: str = "/v1/me/attachments") -> str:
    presigned = api.post(path, token=token, json={"content_type": "image/png", "size": len(PNG)})
    assert presigned.status_code == 201, presigned.text
    body = presigned.json()
    uploaded = requests.post(body["url"], data=body["fields"], files={"file": ("leak.png", PNG, "image/png")},
                             timeout=10)
    assert uploaded.status_code in (200, 204), uploaded.text
    return body["id"]


def act(api: ApiClient, token: str, ticket_id: str, action: str, **params):
    response = api.post(f"/v1/tickets/{ticket_id}/actions/{action}", token=token, json=params)
    assert response.status_code == 200, (action, response.text)
    return response.json()


def test_repair_from_report_to_five_stars(api: ApiClient, tenant, estate):
    resident_token = estate["resident_token"]
    photo = upload_photo(api, resident_token)
    created = api.post("/v1/me/tickets", token=resident_token, headers={"Idempotency-Key": str(uuid.uuid4())}, json={
        "kind": "repair", "category": "水电", "description": "厨房水管漏水，地板已经湿了",
        "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]},
        "attachments": [photo]})
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["status"] == "new" and ticket["priority"] == "P3" and ticket["number"].isdigit()
    assert ticket["location"]["label"] == "3栋2单元1201"
    assert ticket["attachments"][0]["id"] == photo
    assert requests.get(ticket["attachments"][0]["url"], timeout=10).content == PNG
    assert "cancel" in ticket["allowed_actions"]

    tid = ticket["id"]
    assert act(api, estate["agent_token"], tid, "acknowledge")["status"] == "acknowledged"
    assigned = act(api, estate["agent_token"], tid, "assign", assignee_id=estate["tech"]["id"])
    assert assigned["status"] == "assigned" and assigned["assignee_id"] == estate["tech"]["id"]
    assert act(api, estate["tech_token"], tid, "arrive")["arrived_at"]
    resolved = act(api, estate["tech_token"], tid, "resolve", note="更换了三通阀门，已试水无渗漏")
    assert resolved["status"] == "resolved" and resolved["resolution"]["note"] == "更换了三通阀门，已试水无渗漏"

    confirmed = api.post(f"/v1/me/tickets/{tid}/confirm", token=resident_token)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "closed"
    rated = api.post(f"/v1/me/tickets/{tid}/rate", token=resident_token,
                     json={"score": 5, "tags": ["准时", "专业"], "comment": "师傅很专业"})
    assert rated.status_code == 200
    assert rated.json()["rating"]["score"] == 5 and rated.json()["status"] == "closed"
    assert_error(api.post(f"/v1/me/tickets/{tid}/rate", token=resident_token, json={"score": 4}), 409,
                 "illegal_transition")

    everything = api.get(f"/v1/tickets/{tid}/events", token=tenant.token).json()["items"]
    timeline = [e for e in everything if e["type"].startswith("ticket.")]
    steps = [(e["type"], e["actor"]["type"], e["actor"].get("role")) for e in timeline]
    assert steps == [
        ("ticket.created", "resident", None),
        ("ticket.acknowledged", "staff", "agent"),
        ("ticket.assigned", "staff", "agent"),
        ("ticket.status_changed", "staff", "technician"),
        ("ticket.resolved", "staff", "technician"),
        ("ticket.closed", "resident", None),
        ("ticket.rated", "resident", None),
    ]
    assert timeline[1]["changes"]["status"] == {"before": "new", "after": "acknowledged"}
    assert timeline[2]["changes"]["assignee_id"] == {"before": None, "after": estate["tech"]["id"]}
    mine = api.get(f"/v1/me/tickets/{tid}/events", token=resident_token).json()["items"]
    assert [e["type"] for e in mine] == [s[0] for s in steps]  # the SLA ledger is internal
    ledger = [(e["type"], e["data"]["clock"]) for e in everything if e["type"].startswith("sla.")]
    assert ledger[:2] == [("sla.started", "first_response"), ("sla.started", "resolution")]
    assert ("sla.met", "first_response") in ledger and ("sla.met", "resolution") in ledger
    final = api.get(f"/v1/tickets/{tid}", token=tenant.token).json()
    assert {c["clock"]: c["state"] for c in final["sla"]} == {"first_response": "met", "resolution": "met"}


def test_complaint_ends_in_the_residents_confirmation(api: ApiClient, tenant, estate):
    resident_token = estate["resident_token"]
    created = api.post("/v1/me/tickets", token=resident_token, json={
        "kind": "complaint", "category": "噪音", "description": "楼上每晚十一点后装修噪音",
        "location": {"community_id": estate["community"]["id"], "common_area": "3栋楼道"}}).json()
    assert created["priority"] == "P2" and created["location"]["common_area"] == "3栋楼道"
    tid = created["id"]
    reply = api.post(f"/v1/tickets/{tid}/comments", token=estate["agent_token"],
                     json={"body": "您好，我们已联系楼上住户，今晚起停止夜间施工。"})
    assert reply.status_code == 201
    internal = api.post(f"/v1/tickets/{tid}/comments", token=estate["agent_token"],
                        json={"body": "1501 装修队负责人电话已登记", "visibility": "internal"})
    assert internal.status_code == 201
    after_reply = api.get(f"/v1/tickets/{tid}", token=estate["agent_token"]).json()
    assert after_reply["acknowledged_at"] is not None  # a human public reply is the first response
    act(api, estate["agent_token"], tid, "resolve", note="已与装修方沟通，施工时间调整为 8:00–18:00")
    assert api.post(f"/v1/me/tickets/{tid}/confirm", token=resident_token).json()["status"] == "closed"
    resident_view = api.get(f"/v1/me/tickets/{tid}/comments", token=resident_token).json()["items"]
    assert [c["body"] for c in resident_view] == ["您好，我们已联系楼上住户，今晚起停止夜间施工。"]
    staff_view = api.get(f"/v1/tickets/{tid}/comments", token=tenant.token).json()["items"]
    assert len(staff_view) == 2
    events = [e["type"] for e in api.get(f"/v1/me/tickets/{tid}/events", token=resident_token).json()["items"]]
    assert events == ["ticket.created", "ticket.commented", "ticket.resolved", "ticket.closed"]


def test_illegal_transitions_answer_409_with_the_allowed_actions(api: ApiClient, estate):
    ticket = api.post("/v1/me/tickets", token=estate["resident_token"], json={
        "kind": "repair", "description": "门锁坏了",
        "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}}).json()
    error = assert_error(api.post(f"/v1/tickets/{ticket['id']}/actions/close", token=estate["agent_token"],
                                  json={}), 409, "illegal_transition")
    assert error["details"]["status"] == "new"
    assert set(error["details"]["allowed_actions"]) >= {"acknowledge", "assign", "cancel", "resolve"}
    assert "close" not in error["details"]["allowed_actions"]
    assert_error(api.post(f"/v1/tickets/{ticket['id']}/actions/fly", token=estate["agent_token"], json={}), 404,
                 "unknown_action")
    # technicians see only their own jobs
    assert_error(api.get(f"/v1/tickets/{ticket['id']}", token=estate["tech_token"]), 404)
    act(api, estate["agent_token"], ticket["id"], "assign", assignee_id=estate["tech"]["id"])
    assert api.get(f"/v1/tickets/{ticket['id']}", token=estate["tech_token"]).status_code == 200
    assert_error(api.post(f"/v1/tickets/{ticket['id']}/actions/resolve", token=estate["tech_token"], json={}), 422)


def test_paid_service_quote_declined_ends_politely(api: ApiClient, estate):
    ticket = api.post("/v1/me/tickets", token=estate["resident_token"], json={
        "kind": "service", "category": "家政保洁", "description": "周六上午深度保洁",
        "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}}).json()
    act(api, estate["agent_token"], ticket["id"], "acknowledge")
    quoted = act(api, estate["agent_token"], ticket["id"], "quote", price="280.00", eta="周六 9:00-12:00")
    assert quoted["status"] == "waiting_on_resident" and quoted["quote"]["status"] == "pending"
    assert_error(api.post(f"/v1/tickets/{ticket['id']}/actions/start", token=estate["agent_token"], json={}), 409)
    declined = api.post(f"/v1/me/tickets/{ticket['id']}/quote/decline", token=estate["resident_token"],
                        json={"reason": "价格偏高"})
    assert declined.json()["status"] == "cancelled" and declined.json()["cancel_reason"] == "quote_declined"


def test_bad_input_is_refused_and_nothing_is_stored(api: ApiClient, tenant, estate, other_tenant):
    token = estate["resident_token"]
    base = {"kind": "repair", "description": "x",
            "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}}
    other_community = api.post("/v1/communities", token=tenant.token, json={"name": "别处"}).json()
    cases = [
        ({**base, "description": "长" * 2001}, "description"),
        ({**base, "kind": "teleport"}, "kind"),
        ({**base, "location": {"community_id": other_community["id"], "unit_id": estate["unit"]["id"]}},
         "location.unit_id"),
        ({**base, "location": {"community_id": estate["community"]["id"], "unit_id": "unt_other"}},
         "location.unit_id"),
        ({**base, "attachments": ["att_never_uploaded"]}, "attachments.0"),
        ({**base, "attachments": [f"att_{n}" for n in range(10)]}, "attachments"),
    ]
    for body, field in cases:
        error = assert_error(api.post("/v1/me/tickets", token=token, json=body), 422)
        assert any(d["field"] == field for d in error["details"]), (field, error)
    for content_type, size in (("image/gif", 100), ("image/png", 10 * 1024 * 1024 + 1), ("application/pdf", 5)):
        assert_error(api.post("/v1/me/attachments", token=token, json={"content_type": content_type, "size": size}),
                     422)
    assert api.get("/v1/me/tickets", token=token).json()["items"] == []
    assert api.get("/v1/tickets", token=tenant.token).json()["items"] == []
