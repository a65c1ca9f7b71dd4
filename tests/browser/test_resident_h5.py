"""The resident page (the uni-app H5 build at /r/<slug>/) on a phone-sized screen, used as a resident would: sign in
with the SMS code, report a leak with a photo, and find it in 我的工单."""
from __future__ import annotations

import json
import re
import struct
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.demo import DEMO_SLUG
from devstack.web import RESIDENT_DIST
from tests.browser.conftest import shot
from tests.helpers import PASSWORD, ApiClient, wait_out_the_resend_cooldown

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PHONE = {"width": 390, "height": 844}
RESIDENT = "13800000001"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain one-colour PNG, made here so the test needs no fixture file."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


@pytest.fixture
def phone(browser, stack) -> Iterator[Any]:
    if not (RESIDENT_DIST / "index.html").is_file():
        raise RuntimeError(f"The resident H5 build is missing at {RESIDENT_DIST}: cd web/resident && npm run build:h5")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                                  locale="zh-CN", timezone_id="Asia/Shanghai", base_url=stack.api_url)
    context.set_default_timeout(15000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def sms_code_ids(api: ApiClient, phone: str) -> set[str]:
    items = api.get("/v1/dev/messages", params={"to": phone}).json()["items"]
    return {m["id"] for m in items if m["channel"] == "sms" and "code" in (m.get("params") or {})}


def code_sent_after(api: ApiClient, phone: str, seen: set[str], timeout: float = 15) -> str:
    """The sign-in code the page asked for: the first SMS code for ``phone`` that was not there before."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = api.get("/v1/dev/messages", params={"to": phone}).json()["items"]
        fresh = [m for m in items if m["channel"] == "sms" and "code" in (m.get("params") or {})
                 and m["id"] not in seen]
        if fresh:
            return fresh[0]["params"]["code"]
        time.sleep(0.1)
    raise AssertionError(f"no new code reached {phone}")


def stored_session(page: Any, key: str) -> dict[str, Any]:
    """The session the page keeps (uni storage wraps each value as {"type", "data"} in localStorage)."""
    stored = json.loads(page.evaluate("key => localStorage.getItem(key)", key))
    while isinstance(stored, dict) and "data" in stored and "type" in stored:
        stored = stored["data"]
    return json.loads(stored) if isinstance(stored, str) else stored


def sign_in_as_resident(page: Any, api: ApiClient, phone: str) -> None:
    """On the sign-in page: ask for a code, read it from the local SMS recorder, sign in."""
    page.locator("[data-test=phone] input").fill(phone)
    wait_out_the_resend_cooldown(api, phone)
    seen = sms_code_ids(api, phone)
    page.click("[data-test=get-code]")
    code = code_sent_after(api, phone, seen)
    page.locator("[data-test=get-code]", has_text=re.compile(r"\d+秒后重发")).wait_for()  # the resend countdown
    page.locator("[data-test=code] input").fill(code)
    page.click("[data-test=sign-in]")


def test_a_resident_signs_in_reports_a_leak_with_a_photo_and_finds_it_in_my_tickets(phone, api, stack, tmp_path):
    page = phone
    page.goto(f"/r/{DEMO_SLUG}/")
    page.wait_for_selector("[data-test=tenant-name]:has-text('邻里示范物业')")
    page.locator("[data-kind=repair]", has_text="报修").wait_for()
    page.locator("[data-test=emergency]", has_text="紧急求助").wait_for()
    shot(page, "resident-home-guest")

    page.click("[data-kind=repair]")  # not signed in yet: the sign-in page, then back to the report form
    page.wait_for_selector("[data-test=login-form]")
    shot(page, "resident-login")
    sign_in_as_resident(page, api, RESIDENT)

    page.wait_for_selector("[data-test=kinds] [data-kind=repair].on")
    page.click("[data-test=categories] [data-category=水电]")
    page.locator("[data-test=unit]").first.wait_for()
    assert "on" in (page.locator("[data-test=unit]").first.get_attribute("class") or "")  # own home by default
    description = "厨房水槽下面的水管漏水，地上都是水"
    page.locator("[data-test=description] textarea").fill(description)

    photo = tmp_path / "leak.png"
    photo.write_bytes(png(64, 48, (40, 90, 200)))
    with page.expect_file_chooser() as chooser:
        page.click("[data-test=add-photo]")
    chooser.value.set_files(str(photo))
    page.wait_for_selector("[data-test=photo] img, [data-test=photo] uni-image")
    shot(page, "resident-report")

    page.click("[data-test=submit]")
    page.wait_for_selector("[data-test=detail-number]")
    number = re.search(r"\d{6,}", page.inner_text("[data-test=detail-number]")).group(0)
    page.wait_for_selector("[data-test=detail-status]:has-text('待受理')")
    page.wait_for_selector(f"[data-test=detail-description]:has-text('{description}')")
    page.wait_for_selector("[data-test=detail-photo]")
    page.wait_for_selector("[data-test=timeline] >> text=提交")
    shot(page, "resident-ticket-detail")

    page.locator("uni-page-head .uni-page-head-btn").first.click()  # back: 我的工单, where the new ticket is
    page.locator("uni-tabbar .uni-tabbar__item", has_text="我的工单").wait_for()
    card = page.locator(f"[data-test=my-tickets] [data-test=ticket-card][data-number='{number}']")
    card.wait_for()
    assert "待受理" in card.inner_text() and "水电" in card.inner_text()
    shot(page, "resident-my-tickets")

    # what the API holds is what the page showed: the resident's own ticket, from the H5 channel, with the photo
    token = stored_session(page, f"linli.{DEMO_SLUG}.resident")
    mine = api.get("/v1/me/tickets", token=token["access_token"]).json()["items"]
    filed = next(t for t in mine if t["number"] == number)
    assert filed["kind"] == "repair" and filed["category"] == "水电" and filed["channel"] == "h5"
    assert filed["description"] == description and len(filed["attachments"]) == 1
    assert filed["location"]["unit_id"]  # the resident's own unit, not a common area


def staff_token(api: ApiClient, email: str, slug: str = DEMO_SLUG) -> str:
    from devstack.demo import DEMO_PASSWORD

    response = api.post("/v1/auth/login", json={"tenant_slug": slug, "email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def technician_phone(browser, stack) -> Iterator[Any]:
    """A second phone, 360 px wide (the narrowest the technician mode is made for)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=stack.api_url)
    context.set_default_timeout(15000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def test_the_desk_acknowledges_a_technician_resolves_on_the_phone_and_the_resident_confirms_and_rates_once(
        phone, technician_phone, api, stack, tmp_path):
    from devstack.demo import DEMO_PASSWORD

    page, resident_phone = phone, "13800000002"
    page.goto(f"/r/{DEMO_SLUG}/#/pages/tickets/index")  # signed out: sign in, then back to 我的工单
    page.wait_for_selector("[data-test=login-form]")
    sign_in_as_resident(page, api, resident_phone)
    page.wait_for_selector("[data-test=my-tickets]")
    session = stored_session(page, f"linli.{DEMO_SLUG}.resident")
    home = session["units"][0]
    filed = api.post("/v1/me/tickets", token=session["access_token"], json={
        "kind": "repair", "category": "门窗", "description": "阳台推拉门卡住拉不动",
        "location": {"community_id": home["community_id"], "unit_id": home["unit_id"]}}).json()

    agent = staff_token(api, "agent@demo.test")
    acknowledged = api.post(f"/v1/tickets/{filed['id']}/actions/acknowledge", token=agent, json={})
    assert acknowledged.status_code == 200, acknowledged.text
    technician = next(s for s in api.get("/v1/staff", token=agent, params={"role": "technician"}).json()["items"]
                      if s["email"] == "tech@demo.test")
    assigned = api.post(f"/v1/tickets/{filed['id']}/actions/assign", token=agent,
                        json={"assignee_id": technician["id"]})
    assert assigned.status_code == 200, assigned.text

    page.reload()  # the resident sees the new status and the unread notice
    card = page.locator(f"[data-test=ticket-card][data-number='{filed['number']}']")
    card.locator("[data-test=ticket-status]:has-text('已派单')").wait_for()
    page.locator("uni-tabbar .uni-tabbar__badge").wait_for()
    page.locator("uni-tabbar .uni-tabbar__item", has_text="消息").click()
    page.locator("[data-test=notification].unread").first.wait_for()
    assert int(re.search(r"\d+", page.inner_text("[data-test=unread-count]")).group(0)) >= 1
    shot(page, "resident-messages")

    tech = technician_phone
    tech.goto(f"/r/{DEMO_SLUG}/#/pages/tech/jobs")
    tech.wait_for_selector("[data-test=tech-login]")
    tech.locator("[data-test=tech-email] input").fill("tech@demo.test")
    tech.locator("[data-test=tech-password] input").fill(DEMO_PASSWORD)
    tech.click("[data-test=tech-sign-in]")
    job = tech.locator(f"[data-test=job][data-number='{filed['number']}']")
    job.wait_for()
    shot(tech, "technician-jobs")
    job.click()
    tech.click("[data-action=start]")
    tech.wait_for_selector("[data-test=job-status]:has-text('处理中')")
    tech.click("[data-action=arrive]")
    tech.wait_for_selector("[data-action=arrive]", state="detached")
    tech.click("[data-action=resolve]")
    tech.click("[data-test=job-sheet-submit]")  # the note is required: said, not sent
    tech.wait_for_selector("[data-test=job-sheet] >> text=请写处理说明")
    tech.locator("[data-test=resolve-note] textarea").fill("调整了推拉门滑轮，已能顺畅开关")
    photo = tmp_path / "done.png"
    photo.write_bytes(png(80, 60, (20, 160, 90)))
    with tech.expect_file_chooser() as chooser:
        tech.click("[data-test=resolve-add-photo]")
    chooser.value.set_files(str(photo))
    tech.wait_for_selector("[data-test=resolve-photo]")
    shot(tech, "technician-resolve")
    tech.click("[data-test=job-sheet-submit]")
    tech.wait_for_selector("[data-test=job-status]:has-text('待确认')")
    resolved = api.get(f"/v1/tickets/{filed['id']}", token=agent).json()
    assert resolved["status"] == "resolved" and resolved["resolution"]["note"] == "调整了推拉门滑轮，已能顺畅开关"
    assert len(resolved["resolution"]["photos"]) == 1

    page.locator("uni-tabbar .uni-tabbar__item", has_text="我的工单").click()
    page.locator(f"[data-test=ticket-card][data-number='{filed['number']}']").click()
    page.wait_for_selector("[data-test=detail-status]:has-text('待确认')")
    page.click("[data-action=confirm]")
    page.wait_for_selector("[data-test=detail-status]:has-text('已完成')")
    page.wait_for_selector("[data-test=timeline] >> text=您已确认问题解决")  # the page has reloaded the story
    page.click("[data-action=rate]")
    sheet = page.locator("[data-test=rate-sheet]")
    sheet.wait_for()
    sheet.locator(".wd-rate__item").nth(4).click()
    sheet.locator(".chip", has_text="技术好").click()
    sheet.locator("[data-test=rate-comment] textarea").fill("师傅很专业")
    sheet.locator("[data-test=rate-submit]").click()
    page.wait_for_selector("[data-test=rated]")
    assert page.locator("[data-action=rate]").count() == 0  # rated once: not offered again
    shot(page, "resident-rated")
    rating = api.get(f"/v1/tickets/{filed['id']}", token=agent).json()["rating"]
    assert rating["score"] == 5 and rating["tags"] == ["技术好"] and rating["comment"] == "师傅很专业"


def test_two_tenants_get_their_own_name_and_colour_from_the_same_build(phone, api, stack):
    page = phone
    brands = (("绿城物业", "#00A870", "rgb(0, 168, 112)"), ("金桂物业", "#C2185B", "rgb(194, 24, 91)"))
    for company, colour, rgb in brands:
        tenant = api.new_tenant(company=company)
        branding = {"primary_color": colour, "contact_phone": "0571-88880000",
                    "notice": f"{company}：12月3日 9:00–12:00 3栋停水检修，请提前储水",
                    "page_title": f"{company}服务大厅"}
        patched = api.patch("/v1/tenant", token=tenant.token, json={"branding": branding})
        assert patched.status_code == 200, patched.text
        page.goto(f"/r/{tenant.slug}/")
        page.wait_for_selector(f"[data-test=tenant-name]:has-text('{company}')")
        hero = page.locator(".hero")
        page.wait_for_function("([el, rgb]) => getComputedStyle(el).backgroundColor === rgb",
                               arg=[hero.element_handle(), rgb])
        head = page.locator("uni-page-head .uni-page-head").first
        assert head.evaluate("el => getComputedStyle(el).backgroundColor") == rgb  # the navigation bar too
        assert page.inner_text("[data-test=hotline]") == "0571-88880000"
        assert page.inner_text("[data-test=notice]").endswith(branding["notice"])
        page.wait_for_function("title => document.title.includes(title)", arg=branding["page_title"])
        shot(page, f"resident-tenant-{colour.lstrip('#').lower()}")


def test_elder_mode_makes_the_type_larger_and_stays_on_after_a_reload(phone, stack):
    page = phone
    page.goto(f"/r/{DEMO_SLUG}/#/pages/me/index")
    page.wait_for_selector("[data-test=elder-toggle]")
    size = "el => getComputedStyle(el).fontSize"
    assert page.locator(".page").evaluate(size) == "16px"
    page.click("[data-test=elder-switch]")
    page.wait_for_selector(".page.elder")
    page.reload()
    page.wait_for_selector(".page.elder")
    assert page.locator(".page").evaluate(size) == "20px"
    page.locator("uni-tabbar .uni-tabbar__item", has_text="首页").click()
    page.wait_for_selector("[data-kind=repair]")
    assert page.locator(".page.elder").count() == 1
    shot(page, "resident-elder-home")


def test_emergency_is_one_tap_from_home_and_files_a_p1_ticket(phone, api, stack):
    page = phone
    page.goto(f"/r/{DEMO_SLUG}/#/pages/login/index")
    sign_in_as_resident(page, api, "13800000004")
    page.click("[data-test=emergency]")
    sheet = page.locator("[data-test=emergency-sheet]")
    sheet.wait_for()
    sheet.locator("[data-test=emergency-send]").click()  # above the tab bar, not under it
    page.wait_for_selector("[data-test=detail-number]")
    number = re.search(r"\d{6,}", page.inner_text("[data-test=detail-number]")).group(0)
    token = stored_session(page, f"linli.{DEMO_SLUG}.resident")["access_token"]
    filed = next(t for t in api.get("/v1/me/tickets", token=token).json()["items"] if t["number"] == number)
    assert filed["kind"] == "emergency" and filed["priority"] == "P1"


def test_a_technician_grabs_a_job_from_the_team_pool_and_a_slower_one_is_told_it_is_gone(
        technician_phone, api, stack):
    """Where the tenant dispatches to a grab pool (抢单), its team's technicians see the pool beside their jobs; the
    first tap takes the job, a colleague who was slower is told so and the job leaves the pool."""
    tenant = api.new_tenant(company="抢单物业")
    fast, _ = api.add_staff(tenant, "technician")
    slow, slow_token = api.add_staff(tenant, "technician")
    config = {"teams": [{"id": "plumbers", "name": "水电班", "members": [{"user_id": fast["id"]},
                                                                        {"user_id": slow["id"]}]}],
              "dispatch_rules": [{"match": {"kind": "repair"}, "team_id": "plumbers", "mode": "grab"}]}
    assert api.patch("/v1/tenant", token=tenant.token, json=config).status_code == 200
    community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()
    resident = api.post("/v1/residents", token=tenant.token, json={"name": "陈阿姨", "phone": "13700001234"}).json()

    def file(description: str) -> dict[str, Any]:
        created = api.post("/v1/tickets", token=tenant.token, json={
            "kind": "repair", "category": "水电", "description": description, "resident_id": resident["id"],
            "location": {"community_id": community["id"], "common_area": "3栋电梯厅"}})
        assert created.status_code == 201, created.text
        assert created.json()["assignee_id"] is None  # in the pool, nobody's yet
        return created.json()

    first, second = file("电梯厅顶灯不亮"), file("楼道水管滴水")
    me = api.get("/v1/me", token=slow_token).json()
    assert me["teams"] == [{"id": "plumbers", "name": "水电班", "grab_pool": True}]

    tech = technician_phone
    tech.goto(f"/r/{tenant.slug}/#/pages/tech/login")
    tech.locator("[data-test=tech-email] input").fill(fast["email"])
    tech.locator("[data-test=tech-password] input").fill(PASSWORD)
    tech.click("[data-test=tech-sign-in]")
    tech.click("[data-test=tab-pool]")
    tech.locator(f"[data-test=pool-job][data-number='{second['number']}']").wait_for()
    assert tech.locator("[data-test=pool-job]").count() == 2
    shot(tech, "technician-grab-pool")

    taken = api.post(f"/v1/tickets/{second['id']}/actions/grab", token=slow_token, json={})  # a colleague is faster
    assert taken.status_code == 200, taken.text
    tech.locator(f"[data-test=pool-job][data-number='{second['number']}'] [data-test=grab]").click()
    tech.wait_for_selector("[data-test=pool-notice] >> text=已被其他师傅抢走")
    tech.locator(f"[data-test=pool-job][data-number='{second['number']}']").wait_for(state="detached")

    tech.locator(f"[data-test=pool-job][data-number='{first['number']}'] [data-test=grab]").click()
    tech.wait_for_selector("[data-test=job-status]")  # straight to the job it took
    grabbed = api.get(f"/v1/tickets/{first['id']}", token=tenant.token).json()
    assert (grabbed["assignee_id"], grabbed["status"]) == (fast["id"], "assigned")
    assert api.get("/v1/tickets", token=slow_token, params={"pool": "plumbers"}).json()["items"] == []
