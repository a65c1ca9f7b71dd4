"""What the staff console's ticket desk reads, end to end over HTTP: canned replies (快捷回复) managed by the company
and offered filled in on a ticket, the assign picker's open load per technician, and the queue's console buckets
(mine, unassigned, one resident's, one unit's) — never another company's."""
from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_ticket_lifecycle import act, estate  # noqa: F401 - the fixture
from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.e2e
RECEIVED = "您好，已收到您的报修，维修师傅将在30分钟内联系您。"


def file_repair(api: ApiClient, estate: dict, category: str = "水电",  # noqa: F811
                description: str = "厨房水管漏水") -> dict:
    location = {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}
    created = api.post("/v1/me/tickets", token=estate["resident_token"], headers={"Idempotency-Key": str(uuid.uuid4())},
                       json={"kind": "repair", "category": category, "description": description, "location": location})
    assert created.status_code == 201, created.text
    return created.json()


def test_canned_replies_are_the_companys_and_a_ticket_gets_them_filled_in(api: ApiClient, tenant, other_tenant,
                                                                          estate):  # noqa: F811
    api.patch("/v1/tenant", token=tenant.token, json={"branding": {"contact_phone": "400-820-8820"}})
    added = api.post("/v1/canned-replies", token=tenant.token, json={
        "title": "已受理", "body": RECEIVED, "kind": "repair", "sort_order": 20})
    assert added.status_code == 201, added.text
    reply = added.json()
    assert reply["id"].startswith("crp_") and reply["version"] == 1 and reply["placeholders"] == []
    supervisor, supervisor_token = api.add_staff(tenant, "supervisor")
    greeting = api.post("/v1/canned-replies", token=supervisor_token, json={
        "title": "问候", "body": "{resident_name}您好，我是{community_name}的{staff_name}。工单{ticket_number}"
                                 "（{kind_name}）已受理，急事请拨{service_phone}。{{谢谢}}", "sort_order": 10})
    assert greeting.status_code == 201, greeting.text
    assert greeting.json()["placeholders"] == ["resident_name", "community_name", "staff_name", "ticket_number",
                                               "kind_name", "service_phone"]
    complaint = api.post("/v1/canned-replies", token=tenant.token,
                         json={"title": "投诉", "body": "已记录您的投诉。", "kind": "complaint"}).json()

    # a bad placeholder is refused, named, and nothing is saved
    refused = api.post("/v1/canned-replies", token=tenant.token, json={"title": "坏", "body": "{resident_name:>99}"})
    [detail] = assert_error(refused, 422, "validation_failed")["details"]
    assert detail["field"] == "body" and detail["type"] == "invalid_placeholder"
    assert "{resident_name:>99}: format specs are not allowed; write {resident_name}" in detail["message"]
    unknown = api.post("/v1/canned-replies", token=tenant.token, json={"title": "坏", "body": "{phone}"})
    assert "unknown variable {phone}" in assert_error(unknown, 422)["details"][0]["message"]
    assert_error(api.post("/v1/canned-replies", token=tenant.token, json={"title": "x", "body": "y", "kind": "nope"}),
                 422)
    # agents use them; only admins and supervisors manage them
    assert_error(api.post("/v1/canned-replies", token=estate["agent_token"], json={"title": "x", "body": "y"}), 403)
    listed = api.get("/v1/canned-replies", token=estate["agent_token"], params={"kind": "repair"})
    assert [r["title"] for r in listed.json()["items"]] == ["问候", "已受理"]

    ticket = file_repair(api, estate)
    offered = api.get(f"/v1/tickets/{ticket['id']}/canned-replies", token=estate["agent_token"])
    assert offered.status_code == 200, offered.text
    assert [(s["title"], s["text"], s["unfilled"]) for s in offered.json()["items"]] == [
        ("问候", f"陈阿姨您好，我是翠苑的agent 同事。工单{ticket['number']}（报修）已受理，"
               "急事请拨400-820-8820。{谢谢}", []),
        ("已受理", RECEIVED, [])]
    assert offered.headers["ETag"]

    # changing one (If-Match) or removing it shows on the desk at once
    stale = api.patch(f"/v1/canned-replies/{reply['id']}", token=tenant.token, headers={"If-Match": "7"},
                      json={"title": "改"})
    assert_error(stale, 412)
    changed = api.patch(f"/v1/canned-replies/{reply['id']}", token=tenant.token, headers={"If-Match": "1"},
                        json={"body": "{resident_name}您好，" + RECEIVED[3:], "kind": None})
    assert changed.status_code == 200 and changed.json()["version"] == 2 and changed.json()["kind"] is None
    assert api.delete(f"/v1/canned-replies/{greeting.json()['id']}", token=supervisor_token).status_code == 204
    offered = api.get(f"/v1/tickets/{ticket['id']}/canned-replies", token=estate["agent_token"]).json()["items"]
    assert [s["text"] for s in offered] == ["陈阿姨您好，" + RECEIVED[3:]]

    # another company: its replies are its own, ours answer 404 like missing ones
    assert api.get("/v1/canned-replies", token=other_tenant.token).json()["items"] == []
    for method, kwargs in (("PATCH", {"json": {"title": "劫持"}}), ("DELETE", {})):
        foreign = api.request(method, f"/v1/canned-replies/{complaint['id']}", token=other_tenant.token, **kwargs)
        missing = api.request(method, "/v1/canned-replies/crp_" + "0" * 26, token=other_tenant.token, **kwargs)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json()["error"]["code"] == missing.json()["error"]["code"]
    assert_error(api.get(f"/v1/tickets/{ticket['id']}/canned-replies", token=other_tenant.token), 404)
    events = api.get("/v1/canned-replies", token=tenant.token).json()["items"]
    assert {r["title"] for r in events} == {"已受理", "投诉"}


def test_the_assign_picker_shows_each_technicians_open_load(api: ApiClient, tenant, other_tenant,
                                                            estate):  # noqa: F811
    agent = estate["agent_token"]
    tech2, _ = api.add_staff(tenant, "technician")
    api.add_staff(other_tenant, "technician")

    def load() -> dict[str, int]:
        page = api.get("/v1/staff", token=agent, params={"role": "technician", "with_load": "true"})
        assert page.status_code == 200, page.text
        assert {m["role"] for m in page.json()["items"]} == {"technician"}
        return {m["id"]: m["open_tickets"] for m in page.json()["items"]}

    first, second = file_repair(api, estate), file_repair(api, estate, "门窗", "入户门锁坏了")
    assert load() == {estate["tech"]["id"]: 0, tech2["id"]: 0}
    act(api, agent, first["id"], "assign", assignee_id=estate["tech"]["id"])
    act(api, agent, second["id"], "assign", assignee_id=estate["tech"]["id"])
    assert load() == {estate["tech"]["id"]: 2, tech2["id"]: 0}
    act(api, agent, second["id"], "assign", assignee_id=tech2["id"], reason="换人")          # transfer
    assert load() == {estate["tech"]["id"]: 1, tech2["id"]: 1}
    act(api, estate["tech_token"], first["id"], "resolve", note="已更换水管")                  # resolve
    assert load() == {estate["tech"]["id"]: 0, tech2["id"]: 1}
    act(api, agent, first["id"], "reopen", reason="还在漏")                                   # reopen
    assert load() == {estate["tech"]["id"]: 1, tech2["id"]: 1}
    plain = api.get("/v1/staff", token=agent).json()["items"]
    assert {m["open_tickets"] for m in plain} == {None}  # only when asked for


def test_the_console_buckets_mine_unassigned_a_residents_and_a_units(api: ApiClient, tenant, other_tenant,
                                                                     estate):  # noqa: F811
    agent = estate["agent_token"]
    mine, nobodys, done = (file_repair(api, estate, c) for c in ("水电", "门窗", "家电"))
    act(api, agent, mine["id"], "assign", assignee_id=estate["agent"]["id"])
    act(api, agent, done["id"], "resolve", note="已处理")

    def ids(token: str = agent, **params: str) -> list[str]:
        page = api.get("/v1/tickets", token=token, params=params)
        assert page.status_code == 200, page.text
        return [t["id"] for t in page.json()["items"]]

    assert ids(assignee_id="me") == [mine["id"]]
    assert ids(assignee_id="none") == [nobodys["id"]]
    assert ids(resident_id=estate["resident"]["id"]) == [done["id"], nobodys["id"], mine["id"]]
    assert ids(resident_id=estate["resident"]["id"], bucket="resolved") == [done["id"]]
    assert ids(unit_id=estate["unit"]["id"], assignee_id="none") == [nobodys["id"]]
    refused = api.get("/v1/tickets", token=agent, params={"resident_id": "res_1'; drop"})
    assert assert_error(refused, 422)["details"][0]["field"] == "resident_id"
    # another company's staff asking for our resident or unit get an empty page, not our tickets
    assert ids(other_tenant.token, resident_id=estate["resident"]["id"]) == []
    assert ids(other_tenant.token, unit_id=estate["unit"]["id"]) == []
    assert ids(other_tenant.token, assignee_id="none") == []
