"""Ticket rules over HTTP: idempotency under concurrency, isolation, queues, dispatch, satisfaction, concurrency."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.test_ticket_lifecycle import act, estate  # noqa: F401 - the fixture
from tests.helpers import ApiClient, assert_error, sent_code

pytestmark = pytest.mark.e2e


def report(api: ApiClient, estate, **overrides):  # noqa: F811
    body = {"kind": "repair", "category": "门窗", "description": "窗户关不上",
            "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}}
    body.update(overrides)
    response = api.post("/v1/me/tickets", token=estate["resident_token"], json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_twenty_concurrent_creates_with_one_key_make_one_ticket(api: ApiClient, stack, estate):  # noqa: F811
    key = str(uuid.uuid4())
    body = {"kind": "repair", "description": "并发提交", "location": {
        "community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}}

    def submit(_):
        client = ApiClient(stack.api_url)
        return client.post("/v1/me/tickets", token=estate["resident_token"], headers={"Idempotency-Key": key},
                           json=body)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(submit, range(20)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(api.get("/v1/me/tickets", token=estate["resident_token"]).json()["items"]) == 1
    different = api.post("/v1/me/tickets", token=estate["resident_token"], headers={"Idempotency-Key": key},
                         json={**body, "description": "另一件事"})
    assert_error(different, 422, "idempotency_key_reused")


def test_other_residents_and_tenants_see_nothing(api: ApiClient, tenant, other_tenant, estate):  # noqa: F811
    ticket = report(api, estate)
    neighbour = api.post("/v1/residents", token=tenant.token, json={"name": "邻居", "phone": "13611112222"}).json()
    api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": "13611112222"})
    code = sent_code(api, "13611112222")
    neighbour_token = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify",
                               json={"phone": "13611112222", "code": code}).json()["access_token"]
    assert neighbour["id"]
    for path in (f"/v1/me/tickets/{ticket['id']}", f"/v1/me/tickets/{ticket['id']}/events",
                 f"/v1/me/tickets/{ticket['id']}/comments"):
        assert_error(api.get(path, token=neighbour_token), 404, "not_found")
    assert_error(api.post(f"/v1/me/tickets/{ticket['id']}/cancel", token=neighbour_token, json={}), 404)
    assert_error(api.post(f"/v1/me/tickets/{ticket['id']}/resume", token=neighbour_token), 404)
    assert api.get("/v1/me/tickets", token=neighbour_token).json()["items"] == []

    for path in (f"/v1/tickets/{ticket['id']}", f"/v1/tickets/by-number/{ticket['number']}",
                 f"/v1/tickets/{ticket['id']}/events", f"/v1/tickets/{ticket['id']}/comments"):
        foreign = api.get(path, token=other_tenant.token)
        missing = api.get(path.replace(ticket["id"], "tkt_missing").replace(ticket["number"], "00000000000"),
                          token=other_tenant.token)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json()["error"]["code"] == missing.json()["error"]["code"]
    assert_error(api.post(f"/v1/tickets/{ticket['id']}/actions/acknowledge", token=other_tenant.token, json={}), 404)
    assert_error(api.post(f"/v1/tickets/{ticket['id']}/comments", token=other_tenant.token, json={"body": "x"}), 404)
    assert api.get("/v1/tickets", token=other_tenant.token).json()["items"] == []
    assert api.get("/v1/tickets", token=tenant.token).json()["items"][0]["id"] == ticket["id"]


def test_queue_filters_and_urgency_order(api: ApiClient, tenant, estate):  # noqa: F811
    inquiry = report(api, estate, kind="inquiry", category="物业费", description="物业费怎么交")
    emergency = report(api, estate, kind="emergency", category="漏水", description="水管爆裂")
    repair = report(api, estate, category="水电")
    queue = api.get("/v1/tickets", token=tenant.token).json()["items"]
    assert [t["id"] for t in queue] == [emergency["id"], repair["id"], inquiry["id"]]  # P1, P3, P4
    assert [t["id"] for t in api.get("/v1/tickets", token=tenant.token, params={"kind": "inquiry"}).json()[
        "items"]] == [inquiry["id"]]
    assert [t["id"] for t in api.get("/v1/tickets", token=tenant.token, params={"priority": "P1"}).json()[
        "items"]] == [emergency["id"]]
    act(api, estate["agent_token"], repair["id"], "assign", assignee_id=estate["tech"]["id"])
    mine = api.get("/v1/tickets", token=estate["tech_token"]).json()["items"]
    assert [t["id"] for t in mine] == [repair["id"]]  # technicians see their own jobs only
    by_assignee = api.get("/v1/tickets", token=tenant.token, params={"assignee_id": estate["tech"]["id"]}).json()
    assert [t["id"] for t in by_assignee["items"]] == [repair["id"]]
    assert api.get("/v1/tickets", token=tenant.token, params={"community_id": "com_elsewhere"}).json()["items"] == []
    page = api.get("/v1/tickets", token=tenant.token, params={"limit": 2}).json()
    rest = api.get("/v1/tickets", token=tenant.token, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [t["id"] for t in page["items"] + rest["items"]] == [emergency["id"], repair["id"], inquiry["id"]]
    act(api, estate["agent_token"], inquiry["id"], "resolve", note="已告知缴费方式")
    resolved = api.get("/v1/tickets", token=tenant.token, params={"bucket": "resolved"}).json()["items"]
    assert [t["id"] for t in resolved] == [inquiry["id"]]
    by_number = api.get(f"/v1/tickets/by-number/{emergency['number']}", token=estate["agent_token"]).json()
    assert by_number["id"] == emergency["id"]


def test_duplicate_hint_and_daily_limit(api: ApiClient, tenant, estate):  # noqa: F811
    first = report(api, estate)
    second = api.get(f"/v1/tickets/{report(api, estate)['id']}", token=tenant.token).json()
    assert second["possible_duplicate_of"] == first["id"]
    other_category = api.get(f"/v1/tickets/{report(api, estate, category='水电')['id']}", token=tenant.token).json()
    assert other_category["possible_duplicate_of"] is None
    api.patch("/v1/tenant", token=tenant.token, json={"ticket_settings": {"resident_daily_limit": 4}})
    report(api, estate, kind="inquiry", category="其他")
    over = api.post("/v1/me/tickets", token=estate["resident_token"], json={
        "kind": "inquiry", "description": "第五件",
        "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}})
    assert_error(over, 429, "daily_ticket_limit")
    # staff can still file on the resident's behalf (a phone call)
    staff_filed = api.post("/v1/tickets", token=estate["agent_token"], json={
        "kind": "inquiry", "description": "电话咨询", "channel": "phone", "resident_id": estate["resident"]["id"],
        "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}})
    assert staff_filed.status_code == 201 and staff_filed.json()["channel"] == "phone"
    assert staff_filed.json()["resident_name"] == "陈阿姨"


def test_dispatch_rules_direct_round_robin_and_grab(api: ApiClient, tenant, estate):  # noqa: F811
    tech2, tech2_token = api.add_staff(tenant, "technician")
    tech_id = estate["tech"]["id"]
    config = {"teams": [{"id": "plumbers", "name": "水电组", "members": [{"user_id": tech_id},
                                                                       {"user_id": tech2["id"]}]},
                        {"id": "doors", "name": "门窗组", "members": [{"user_id": tech2["id"]}]}],
              "dispatch_rules": [{"match": {"kind": "emergency"}, "user_id": estate["agent"]["id"]},
                                 {"match": {"kind": "repair", "building_id": estate["building"]["id"]},
                                  "team_id": "plumbers", "mode": "round_robin"},
                                 {"match": {"kind": "complaint"}, "team_id": "doors", "mode": "grab"}]}
    assert api.patch("/v1/tenant", token=tenant.token, json=config).status_code == 200
    emergency = report(api, estate, kind="emergency", category="漏水")
    assert emergency["status"] == "assigned" and emergency["assignee_id"] == estate["agent"]["id"]
    rotation = [report(api, estate, category=c)["assignee_id"] for c in ("水电", "门窗", "家电", "其他")]
    assert rotation == [tech_id, tech2["id"], tech_id, tech2["id"]]
    pooled = report(api, estate, kind="complaint", category="卫生")
    assert pooled["assignee_id"] is None and pooled["status"] == "new"
    pool = api.get("/v1/tickets", token=tech2_token, params={"pool": "doors"}).json()["items"]
    assert [t["id"] for t in pool] == [pooled["id"]]
    assert_error(api.post(f"/v1/tickets/{pooled['id']}/actions/grab", token=estate["tech_token"], json={}), 404)
    grabbed = act(api, tech2_token, pooled["id"], "grab")
    assert grabbed["assignee_id"] == tech2["id"] and grabbed["status"] == "assigned"
    assert api.get("/v1/tickets", token=tech2_token, params={"pool": "doors"}).json()["items"] == []


def test_transfer_return_low_rating_flag_return_visit_and_reopen(api: ApiClient, tenant, estate):  # noqa: F811
    tech2, tech2_token = api.add_staff(tenant, "technician")
    ticket = report(api, estate)
    tid = ticket["id"]
    act(api, estate["agent_token"], tid, "assign", assignee_id=estate["tech"]["id"])
    transferred = act(api, estate["agent_token"], tid, "assign", assignee_id=tech2["id"], reason="换人处理")
    assert transferred["assignee_id"] == tech2["id"]
    assert_error(api.post(f"/v1/tickets/{tid}/actions/return", token=tech2_token, json={}), 422)
    returned = act(api, tech2_token, tid, "return", reason="缺少配件")
    assert returned["status"] == "acknowledged" and returned["assignee_id"] is None
    act(api, estate["agent_token"], tid, "assign", assignee_id=estate["tech"]["id"])
    act(api, estate["tech_token"], tid, "resolve", note="已修好")
    rated = api.post(f"/v1/me/tickets/{tid}/rate", token=estate["resident_token"], json={"score": 2,
                                                                                         "comment": "态度差"})
    assert rated.json()["status"] == "closed" and rated.json()["flagged"] is None  # residents don't see flags
    staff_view = api.get(f"/v1/tickets/{tid}", token=tenant.token).json()
    assert staff_view["flagged"]["reason"] == "low_rating"
    visited = act(api, estate["agent_token"], tid, "return_visit", note="已电话回访，住户表示理解", outcome="satisfied")
    assert visited["return_visits"][0]["outcome"] == "satisfied"
    reopened = api.post(f"/v1/me/tickets/{tid}/reopen", token=estate["resident_token"], json={"reason": "又坏了"})
    assert reopened.json()["status"] == "assigned" and reopened.json()["reopen_count"] == 1
    assert_error(api.post(f"/v1/me/tickets/{tid}/rate", token=estate["resident_token"], json={"score": 9}), 422)


def test_if_match_and_concurrent_transitions_lose_nothing(api: ApiClient, stack, estate):  # noqa: F811
    ticket = report(api, estate)
    stale = api.post(f"/v1/tickets/{ticket['id']}/actions/acknowledge", token=estate["agent_token"],
                     headers={"If-Match": str(ticket["version"] + 3)}, json={})
    assert_error(stale, 412, "version_mismatch")

    def comment(n):
        return ApiClient(stack.api_url).post(f"/v1/tickets/{ticket['id']}/comments", token=estate["agent_token"],
                                             json={"body": f"第{n}条", "visibility": "internal"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(zip(range(8), pool.map(comment, range(8)), strict=True))
    won = [n for n, r in results.items() if r.status_code == 201]
    lost = [n for n, r in results.items() if r.status_code != 201]
    assert won, "at least one of the concurrent comments must be saved"
    for n in lost:  # a loser is told plainly to retry, and nothing of it was written
        assert_error(results[n], 409, "write_conflict")
    stored = api.get(f"/v1/tickets/{ticket['id']}/comments", token=estate["agent_token"]).json()["items"]
    assert sorted(c["body"] for c in stored) == sorted(f"第{n}条" for n in won)
    for n in lost:  # retried one at a time, every loser lands: nothing is lost
        assert comment(n).status_code == 201
    final = api.get(f"/v1/tickets/{ticket['id']}", token=estate["agent_token"]).json()
    assert final["version"] == ticket["version"] + 8
    stored = api.get(f"/v1/tickets/{ticket['id']}/comments", token=estate["agent_token"]).json()["items"]
    assert sorted(c["body"] for c in stored) == sorted(f"第{n}条" for n in range(8))
    events = api.get(f"/v1/tickets/{ticket['id']}/events", token=estate["agent_token"]).json()["items"]
    assert len([e for e in events if e["type"] == "ticket.commented"]) == 8


def test_retriage_to_p1_retargets_the_clocks(api: ApiClient, tenant, estate):  # noqa: F811
    ticket = report(api, estate, category="水电")
    resolution = next(c for c in ticket["sla"] if c["clock"] == "resolution")
    assert resolution["policy"] == "报修" and resolution["target_seconds"] == 24 * 3600
    patched = api.patch(f"/v1/tickets/{ticket['id']}", token=estate["agent_token"],
                        headers={"If-Match": str(ticket["version"])}, json={"priority": "P1"})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["priority"] == "P1" and body["version"] == ticket["version"] + 1
    resolution = next(c for c in body["sla"] if c["clock"] == "resolution")
    assert resolution["policy"] == "紧急报修" and resolution["target_seconds"] == 12 * 3600
    events = api.get(f"/v1/tickets/{ticket['id']}/events", token=tenant.token).json()["items"]
    assert [e["type"] for e in events if e["type"] in ("ticket.updated", "sla.retargeted")][:2] == [
        "ticket.updated", "sla.retargeted"]
    assert_error(api.patch(f"/v1/tickets/{ticket['id']}", token=estate["tech_token"], json={"priority": "P2"}), 403)
    assert_error(api.patch(f"/v1/tickets/{ticket['id']}", token=estate["agent_token"], json={"kind": "nope"}), 422)
    at_risk = api.get("/v1/tickets/at-risk", token=estate["agent_token"]).json()["items"]
    assert ticket["id"] in [t["id"] for t in at_risk]
