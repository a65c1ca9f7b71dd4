"""Over HTTP: what a resident sees of their ticket's history, a resident's reply answering a ticket that waits on
them, and the follow-up list of low-rated tickets (issue 10)."""
from __future__ import annotations

import pytest

from tests.e2e.test_ticket_lifecycle import act, estate  # noqa: F401 - the fixture
from tests.e2e.test_ticket_rules import report as file_report
from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.e2e
RESIDENT_EVENT_FIELDS = {"id", "type", "occurred_at", "title", "title_en", "actor_label", "actor_label_en", "status",
                         "price", "eta", "score"}


def report(api: ApiClient, estate, **overrides):  # noqa: F811
    return file_report(api, estate, **{"category": "水电", "description": "卫生间水管漏水", **overrides})


def test_the_residents_timeline_shows_no_reason_staff_id_or_return_visit(api: ApiClient, tenant, estate):  # noqa: F811
    tech2, tech2_token = api.add_staff(tenant, "technician")
    tid = report(api, estate)["id"]
    act(api, estate["agent_token"], tid, "assign", assignee_id=estate["tech"]["id"])
    act(api, estate["agent_token"], tid, "assign", assignee_id=tech2["id"], reason="原师傅请病假，转给二组")
    note = api.post(f"/v1/tickets/{tid}/comments", token=estate["agent_token"],
                    json={"body": "业主说话比较冲，注意方式", "visibility": "internal"})
    assert note.status_code == 201
    act(api, tech2_token, tid, "resolve", note="已更换密封圈")
    assert api.post(f"/v1/me/tickets/{tid}/rate", token=estate["resident_token"], json={"score": 2}).status_code == 200
    act(api, estate["agent_token"], tid, "return_visit", note="住户嫌上门太晚，已致歉", outcome="unsatisfied")

    response = api.get(f"/v1/me/tickets/{tid}/events", token=estate["resident_token"])
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert all(set(item) == RESIDENT_EVENT_FIELDS for item in items)
    assert [(i["type"], i["title"], i["actor_label"]) for i in items] == [
        ("ticket.created", "工单已提交", "您"),
        ("ticket.assigned", "已安排专人处理", "客服"),
        ("ticket.assigned", "已转交其他同事处理", "客服"),
        ("ticket.resolved", "已处理完成，请确认", "维修师傅"),
        ("ticket.rated", "您评价了本次服务", "您"),
    ]
    assert items[-1]["score"] == 2 and items[-1]["status"] == "closed"
    text = response.text
    for leak in ("usr_", estate["agent"]["id"], estate["tech"]["id"], tech2["id"], tenant.admin_id, "原师傅请病假",
                 "业主说话比较冲", "住户嫌上门太晚", "return_visit", "sla.", "flagged", "low_rating", "reason"):
        assert leak not in text, leak
    audit = api.get(f"/v1/tickets/{tid}/events", token=estate["agent_token"]).json()["items"]
    assert any(e["data"].get("reason") == "原师傅请病假，转给二组" for e in audit)  # staff keep the audit log
    assert "ticket.return_visited" in [e["type"] for e in audit]


def test_a_residents_reply_resumes_a_waiting_ticket_but_not_a_pending_quote(api: ApiClient, estate):  # noqa: F811
    resident = estate["resident_token"]
    tid = report(api, estate)["id"]
    act(api, estate["agent_token"], tid, "assign", assignee_id=estate["tech"]["id"])
    waiting = act(api, estate["tech_token"], tid, "wait_on_resident", reason="请拍一张漏水处的照片")
    assert waiting["status"] == "waiting_on_resident"
    paused = {c["clock"]: c["state"] for c in waiting["sla"]}
    assert paused["resolution"] == "paused"

    reply = api.post(f"/v1/me/tickets/{tid}/comments", token=resident, json={"body": "照片发您了，是接口处在滴水"})
    assert reply.status_code == 201, reply.text
    resumed = api.get(f"/v1/me/tickets/{tid}", token=resident).json()
    assert resumed["status"] == "assigned"
    assert {c["clock"]: c["state"] for c in resumed["sla"]}["resolution"] == "running"
    audit = api.get(f"/v1/tickets/{tid}/events", token=estate["agent_token"]).json()["items"]
    steps = [e for e in audit if e["type"].startswith("ticket.")][-2:]
    assert [e["type"] for e in steps] == ["ticket.commented", "ticket.status_changed"]
    assert steps[1]["data"]["action"] == "resume" and steps[1]["data"]["via"] == "reply"
    mine = api.get(f"/v1/me/tickets/{tid}/events", token=resident).json()["items"]
    assert [i["title"] for i in mine][-2:] == ["您补充了留言", "继续处理"]

    # with nothing to add, the resident may also just carry on
    act(api, estate["tech_token"], tid, "wait_on_resident", reason="请确认上门时间")
    carried_on = api.post(f"/v1/me/tickets/{tid}/resume", token=resident)
    assert carried_on.status_code == 200 and carried_on.json()["status"] == "assigned"

    # a pending quote is answered by approving or declining it, never by a reply
    service = report(api, estate, kind="service", category="家政保洁", description="周六上午深度保洁")
    act(api, estate["agent_token"], service["id"], "acknowledge")
    act(api, estate["agent_token"], service["id"], "quote", price="280.00", eta="周六 9:00-12:00")
    question = api.post(f"/v1/me/tickets/{service['id']}/comments", token=resident, json={"body": "能便宜点吗？"})
    assert question.status_code == 201
    still = api.get(f"/v1/me/tickets/{service['id']}", token=resident).json()
    assert still["status"] == "waiting_on_resident" and still["quote"]["status"] == "pending"
    error = assert_error(api.post(f"/v1/me/tickets/{service['id']}/resume", token=resident), 409,
                         "illegal_transition")
    assert set(error["details"]["allowed_actions"]) >= {"approve_quote", "decline_quote"}
    approved = api.post(f"/v1/me/tickets/{service['id']}/quote/approve", token=resident)
    assert approved.json()["status"] == "acknowledged"


def test_a_low_rating_waits_on_the_follow_up_list_until_a_return_visit(api: ApiClient, tenant, other_tenant,
                                                                        estate):  # noqa: F811
    tid = report(api, estate)["id"]
    act(api, estate["agent_token"], tid, "resolve", note="已更换阀门")
    happy = report(api, estate, category="门窗", description="窗户关不严")["id"]
    act(api, estate["agent_token"], happy, "resolve", note="已调整合页")
    assert api.get("/v1/tickets", token=tenant.token, params={"bucket": "flagged"}).json()["items"] == []

    api.post(f"/v1/me/tickets/{happy}/rate", token=estate["resident_token"], json={"score": 5})
    rated = api.post(f"/v1/me/tickets/{tid}/rate", token=estate["resident_token"], json={"score": 1})
    assert rated.status_code == 200 and rated.json()["status"] == "closed"
    flagged = api.get("/v1/tickets", token=estate["agent_token"], params={"bucket": "flagged"})
    assert flagged.status_code == 200, flagged.text
    assert [t["id"] for t in flagged.json()["items"]] == [tid]
    assert flagged.json()["items"][0]["flagged"]["reason"] == "low_rating"
    assert api.get("/v1/tickets", token=other_tenant.token, params={"bucket": "flagged"}).json()["items"] == []

    visited = act(api, estate["agent_token"], tid, "return_visit", note="已电话致歉，住户接受", outcome="satisfied")
    assert visited["flagged"]["followed_up_at"] == visited["return_visits"][0]["at"]  # the flag stays, as history
    assert api.get("/v1/tickets", token=tenant.token, params={"bucket": "flagged"}).json()["items"] == []
    assert_error(api.get("/v1/tickets", token=tenant.token, params={"bucket": "flaged"}), 422)
