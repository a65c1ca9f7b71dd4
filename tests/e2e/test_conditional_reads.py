"""Reads send ETag; If-None-Match → 304 (API.md, issue 12): over HTTP, the way the console polls its queue."""
from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.e2e
STRONG_TAG = re.compile(r'"[A-Za-z0-9_-]{27}"')


@pytest.fixture
def file_ticket(api: ApiClient, tenant):
    """Files tickets as the tenant's admin, for a resident of a unit of its one community."""
    community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()
    building = api.post(f"/v1/communities/{community['id']}/buildings", token=tenant.token,
                        json={"name": "1栋"}).json()
    unit = api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                    json={"building_id": building["id"], "entrance": "1单元", "number": "101"}).json()
    resident = api.post("/v1/residents", token=tenant.token, json={
        "name": "陈阿姨", "phone": "137" + str(uuid.uuid4().int)[:8],
        "units": [{"unit_id": unit["id"], "community_id": community["id"]}]}).json()

    def file(description: str = "厨房水管漏水") -> dict:
        created = api.post("/v1/tickets", token=tenant.token, json={
            "kind": "complaint", "description": description, "resident_id": resident["id"],
            "location": {"community_id": community["id"], "unit_id": unit["id"]}})
        assert created.status_code == 201, created.text
        return created.json()

    return file


def revalidate(api: ApiClient, path: str, token: str, etag: str, **params):
    return api.get(path, token=token, params=params, headers={"If-None-Match": etag})


def assert_not_modified(response, etag: str) -> None:
    assert response.status_code == 304, (response.status_code, response.text)
    assert response.content == b"" and response.headers["ETag"] == etag
    assert "Content-Type" not in response.headers and response.headers["X-Request-Id"]


def test_a_ticket_read_is_304_until_the_ticket_changes(api: ApiClient, tenant, file_ticket):
    ticket = file_ticket()
    path = f"/v1/tickets/{ticket['id']}"
    first = api.get(path, token=tenant.token)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert STRONG_TAG.fullmatch(etag) and first.headers["Cache-Control"] == "private, no-cache"

    assert_not_modified(revalidate(api, path, tenant.token, etag), etag)
    assert_not_modified(revalidate(api, path, tenant.token, f'W/"stale", W/{etag}'), etag)  # a list, weak form

    acknowledged = api.post(f"{path}/actions/acknowledge", token=tenant.token, json={})
    assert acknowledged.status_code == 200 and acknowledged.json()["version"] == ticket["version"] + 1
    after = revalidate(api, path, tenant.token, etag)
    assert after.status_code == 200 and after.json()["status"] == "acknowledged"
    assert after.json()["version"] == first.json()["version"] + 1 and after.headers["ETag"] != etag
    assert_not_modified(revalidate(api, path, tenant.token, after.headers["ETag"]), after.headers["ETag"])


def test_the_queue_page_is_304_until_a_ticket_is_filed(api: ApiClient, tenant, file_ticket):
    file_ticket("电梯异响")
    page = api.get("/v1/tickets", token=tenant.token, params={"limit": 10})
    assert page.status_code == 200 and len(page.json()["items"]) == 1
    assert page.json()["items"][0]["sla"][0]["state"] == "running"
    etag = page.headers["ETag"]
    time.sleep(1.1)  # its SLA clocks run, yet the page reads the same: nothing in it is counted from the clock
    assert_not_modified(revalidate(api, "/v1/tickets", tenant.token, etag, limit=10), etag)

    filed = file_ticket("楼道灯不亮")
    after = revalidate(api, "/v1/tickets", tenant.token, etag, limit=10)
    assert after.status_code == 200 and filed["id"] in [t["id"] for t in after.json()["items"]]
    assert after.headers["ETag"] != etag
    assert_not_modified(revalidate(api, "/v1/tickets", tenant.token, after.headers["ETag"], limit=10),
                        after.headers["ETag"])


def test_errors_never_answer_304(api: ApiClient, tenant, other_tenant, file_ticket):
    ticket = file_ticket()
    path = f"/v1/tickets/{ticket['id']}"
    etag = api.get(path, token=tenant.token).headers["ETag"]
    for header in (etag, "*"):  # the owner's tag, or anything at all: another tenant gets the 404 a missing one gets
        stranger = api.get(path, token=other_tenant.token, headers={"If-None-Match": header})
        assert_error(stranger, 404, "not_found")
        assert "ETag" not in stranger.headers
        missing = api.get("/v1/tickets/tkt_nothing", token=tenant.token, headers={"If-None-Match": header})
        assert_error(missing, 404, "not_found")
        assert stranger.content.replace(stranger.headers["X-Request-Id"].encode(), b"") == \
            missing.content.replace(missing.headers["X-Request-Id"].encode(), b"")
    assert_error(api.get(path, headers={"If-None-Match": "*"}), 401, "unauthenticated")


def test_public_branding_may_be_reused_for_a_minute(api: ApiClient, tenant):
    path = f"/v1/public/tenants/{tenant.slug}/branding"
    branding = api.get(path)
    assert branding.status_code == 200 and branding.headers["Cache-Control"] == "public, max-age=60"
    assert_not_modified(api.get(path, headers={"If-None-Match": branding.headers["ETag"]}), branding.headers["ETag"])
    patched = api.patch("/v1/tenant", token=tenant.token, headers={"If-Match": "1"},
                        json={"branding": {"display_name": "荷塘管家"}})
    assert patched.status_code == 200, patched.text
    changed = api.get(path, headers={"If-None-Match": branding.headers["ETag"]})
    assert changed.status_code == 200 and changed.json()["name"] == "荷塘管家"
