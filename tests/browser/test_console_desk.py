"""The desk as an agent works it: the queue, a ticket from acknowledgement to a public reply, phone intake, and
what each role is shown."""
from __future__ import annotations

import re

import pytest

from devstack.demo import DEMO_PASSWORD, DEMO_SLUG
from tests.browser.conftest import shot, sign_in
from tests.helpers import ApiClient, request_code

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def staff_token(api: ApiClient, email: str) -> str:
    response = api.post("/v1/auth/login", json={"tenant_slug": DEMO_SLUG, "email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def resident_token(api: ApiClient, phone: str) -> str:
    code = request_code(api, DEMO_SLUG, phone)
    verified = api.post(f"/v1/public/tenants/{DEMO_SLUG}/otp/verify", json={"phone": phone, "code": code})
    assert verified.status_code == 200, verified.text
    return verified.json()["access_token"]


def file_as_resident(api: ApiClient, token: str, description: str) -> dict:
    home = api.get("/v1/me", token=token).json()["units"][0]
    created = api.post("/v1/me/tickets", token=token, json={
        "kind": "repair", "description": description,
        "location": {"community_id": home["community_id"], "unit_id": home["unit_id"]}})
    assert created.status_code == 201, created.text
    return created.json()


def test_agent_acknowledges_assigns_notes_and_replies_and_the_resident_sees_only_the_reply(page, api, stack):
    resident = resident_token(api, "13800000003")  # 13800000001 signs in on the resident page and in the README
    ticket = file_as_resident(api, resident, "厨房水龙头一直滴水，麻烦师傅来看看")

    sign_in(page, "agent@demo.test")
    row = page.locator("[data-test=queue-table] .el-table__row", has_text=ticket["number"])
    row.wait_for()
    page.wait_for_selector("[data-test=queue-table] .el-loading-mask", state="hidden")
    shot(page, "queue")
    row.click()
    page.wait_for_selector(f"[data-test=ticket-number]:has-text('{ticket['number']}')")
    page.click("[data-action=acknowledge]")
    page.wait_for_selector("[data-test=ticket-status]:has-text('已受理')")

    page.click("[data-action=assign]")
    dialog = page.locator("[data-test=action-dialog]")
    dialog.locator("[data-test=assignee-picker]").click()
    page.locator(".el-select-dropdown__item", has_text="张强").first.click()
    dialog.locator("[data-test=action-submit]").click()
    page.wait_for_selector("[data-test=ticket-status]:has-text('已派单')")

    page.locator("[data-test=visibility] label", has_text="内部备注").click()
    page.fill("[data-test=reply]", "业主白天不在家，师傅下午六点后上门")
    page.click("[data-test=send]")
    page.wait_for_selector("[data-test=conversation] .msg.internal")

    page.locator("[data-test=visibility] label", has_text="回复业主").click()
    page.click("[data-test=canned]")
    page.locator(".el-dropdown-menu__item[data-canned]:visible").first.click()
    reply = page.input_value("[data-test=reply]")
    assert "{" not in reply and ("刘先生" in reply or ticket["number"] in reply)  # filled in for this ticket
    page.click("[data-test=send]")
    page.wait_for_selector("[data-test=conversation] .msg.public")
    page.wait_for_selector("[data-test=timeline] >> text=派单给")
    shot(page, "ticket-desk")

    seen = api.get(f"/v1/me/tickets/{ticket['id']}/comments", token=resident).json()["items"]
    assert [c["body"] for c in seen] == [reply.strip()]
    assert all("六点" not in c["body"] for c in seen)
    staff_view = api.get(f"/v1/tickets/{ticket['id']}", token=staff_token(api, "agent@demo.test")).json()
    assert staff_view["status"] == "assigned" and staff_view["assignee_id"]


def test_phone_intake_finds_the_caller_by_phone_and_files_a_ticket(page, api, stack):
    sign_in(page, "agent@demo.test")
    page.click("[data-nav=intake]")
    page.fill("[data-test=caller-search]", "13800000001")
    page.click("[data-test=caller-find]")
    page.locator("[data-test=caller-results] .person", has_text="陈阿姨").wait_for()
    page.click("[data-test=intake-kind]")
    page.locator(".el-select-dropdown__item", has_text="报修").first.click()
    page.fill("[data-test=intake-description]", "来电：卫生间下水道堵塞")
    page.click("[data-test=intake-submit]")
    filed = page.locator("[data-test=intake-filed]")
    filed.wait_for()
    number = re.search(r"\d{6,}", filed.inner_text()).group(0)
    shot(page, "phone-intake")

    found = api.get(f"/v1/tickets/by-number/{number}", token=staff_token(api, "agent@demo.test"))
    assert found.status_code == 200
    body = found.json()
    assert body["channel"] == "phone" and body["resident_name"] == "陈阿姨"
    assert body["description"] == "来电：卫生间下水道堵塞" and body["kind"] == "repair"


def test_a_technician_sees_no_settings_and_an_agent_cannot_open_api_keys(page, api, stack):
    sign_in(page, "tech@demo.test")
    assert page.locator("[data-nav=queue]").is_visible()
    assert page.locator("[data-nav=settings]").count() == 0
    assert page.locator("[data-nav=intake]").count() == 0
    page.locator("[data-test=logout]").evaluate("el => el.click()")
    page.wait_for_url("**/console/login**")

    sign_in(page, "agent@demo.test")
    assert page.locator("[data-nav=settings]").count() == 0 or page.locator("[data-nav=apiKeys]").count() == 0
    page.goto("/console/settings/api-keys")
    page.wait_for_selector("[data-test=forbidden]")
    shot(page, "agent-forbidden")
    assert api.get("/v1/api-keys", token=staff_token(api, "agent@demo.test")).status_code == 403
