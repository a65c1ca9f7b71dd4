"""Webhooks end to end on the local stack: ticket events reach a receiver on 127.0.0.1, signed per the
Standard Webhooks spec and verified with the independent ``standardwebhooks`` library; retries, the
delivery log, replay, rotation, test pings, SSRF refusals and tenant isolation over HTTP."""
from __future__ import annotations

import json
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tests.e2e.test_ticket_lifecycle import act, estate  # noqa: F401 - the fixture
from tests.helpers import ApiClient, assert_error
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver():
    instance = Receiver().start()
    yield instance
    instance.stop()


def register(api: ApiClient, tenant, url: str, event_types: list[str] | None = None) -> dict:
    response = api.post("/v1/webhooks", token=tenant.token, json={"url": url, "event_types": event_types or [],
                                                                  "description": "ERP 对接"})
    assert response.status_code == 201, response.text
    return response.json()


def file_ticket(api: ApiClient, estate) -> dict:  # noqa: F811
    response = api.post("/v1/me/tickets", token=estate["resident_token"], json={
        "kind": "repair", "category": "水电", "description": "卫生间漏水",
        "location": {"community_id": estate["community"]["id"], "unit_id": estate["unit"]["id"]}})
    assert response.status_code == 201, response.text
    return response.json()


def deliveries(api: ApiClient, tenant, webhook_id: str) -> list[dict]:
    response = api.get(f"/v1/webhooks/{webhook_id}/deliveries", token=tenant.token)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def wait_for_log(api: ApiClient, tenant, webhook_id: str, done, timeout: float = 30) -> list[dict]:  # noqa: ANN001
    deadline = time.time() + timeout
    while True:
        items = deliveries(api, tenant, webhook_id)
        if done(items) or time.time() > deadline:
            return items
        time.sleep(0.2)


def test_created_acknowledged_and_resolved_arrive_signed(api: ApiClient, tenant, estate, receiver):  # noqa: F811
    hook = register(api, tenant, receiver.base_url + "/ok",
                    ["ticket.created", "ticket.acknowledged", "ticket.resolved"])
    # A witness subscribed to the assignment: once it has it, that event was fanned out to every endpoint.
    register(api, tenant, receiver.base_url + "/witness", ["ticket.assigned"])
    assert hook["secret"].startswith("whsec_") and hook["enabled"] is True
    assert "secret" not in api.get(f"/v1/webhooks/{hook['id']}", token=tenant.token).json()
    ticket = file_ticket(api, estate)
    act(api, estate["agent_token"], ticket["id"], "acknowledge")
    act(api, estate["agent_token"], ticket["id"], "assign", assignee_id=estate["tech"]["id"])  # filtered out
    act(api, estate["agent_token"], ticket["id"], "resolve", note="已更换密封圈")

    got = receiver.wait_count(lambda r: r.path == "/ok", 3)
    verifier = Webhook(hook["secret"])
    payloads = [verifier.verify(r.body, r.headers) for r in got]
    assert sorted(p["type"] for p in payloads) == ["ticket.acknowledged", "ticket.created", "ticket.resolved"]
    assert {p["data"]["ticket_id"] for p in payloads} == {ticket["id"]}
    created = next(p for p in payloads if p["type"] == "ticket.created")
    assert created["data"]["number"] == ticket["number"] and created["version"] == 1
    assert "description" not in json.dumps(created)  # thin: nothing the resident typed
    resolved = next(p for p in payloads if p["type"] == "ticket.resolved")
    assert resolved["data"]["changes"]["status"] == "resolved"
    assert len({r.headers["webhook-id"] for r in got}) == 3

    assert len(receiver.wait_count(lambda r: r.path == "/witness", 1)) == 1
    assert len([r for r in receiver.requests if r.path == "/ok"]) == 3  # the assignment was filtered out, not late
    log = wait_for_log(api, tenant, hook["id"], lambda items: len(items) == 3)
    assert [d["status"] for d in log] == ["succeeded"] * 3
    assert all(len(d["attempts"]) == 1 and d["attempts"][0]["status_code"] == 204 for d in log)
    assert all(isinstance(d["attempts"][0]["latency_ms"], int) for d in log)

    # Tampering with the body, the timestamp or the id breaks the signature.
    sample = got[0]
    with pytest.raises(WebhookVerificationError):
        verifier.verify(sample.body.replace(b'"ticket.', b'"tickets.'), sample.headers)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(sample.body, {**sample.headers,
                                      "webhook-timestamp": str(int(sample.headers["webhook-timestamp"]) - 1)})
    with pytest.raises(WebhookVerificationError):
        verifier.verify(sample.body, {**sample.headers, "webhook-id": sample.headers["webhook-id"] + "x"})
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(sample.body, sample.headers)


def test_a_receiver_failing_twice_gets_it_on_the_third_attempt_and_a_replay_keeps_the_id(
        api: ApiClient, tenant, estate, receiver):  # noqa: F811
    hook = register(api, tenant, receiver.base_url + "/flaky", ["ticket.created"])
    ticket = file_ticket(api, estate)
    got = receiver.wait_count(lambda r: r.path == "/flaky", 3)
    assert [r.status for r in got] == [500, 500, 200]
    assert len({r.headers["webhook-id"] for r in got}) == 1
    for request in got:
        assert Webhook(hook["secret"]).verify(request.body, request.headers)["data"]["ticket_id"] == ticket["id"]

    log = wait_for_log(api, tenant, hook["id"], lambda items: items and items[0]["status"] == "succeeded")
    assert len(log) == 1
    delivery = log[0]
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["attempts"][0]["response_excerpt"] == "try later"
    assert delivery["attempts"][0]["error"] == "500"
    assert delivery["webhook_id"] == got[0].headers["webhook-id"]

    replay = api.post(f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry", token=tenant.token)
    assert replay.status_code == 202, replay.text
    again = receiver.wait_count(lambda r: r.path == "/flaky", 4)
    assert again[3].headers["webhook-id"] == delivery["webhook_id"]
    assert json.loads(again[3].body) == json.loads(got[2].body)
    log = wait_for_log(api, tenant, hook["id"], lambda items: len(items[0]["attempts"]) == 4)
    assert log[0]["attempts"][3]["manual"] is True and log[0]["status"] == "succeeded"


def test_rotate_with_expire_previous_signs_with_the_new_secret_only(api: ApiClient, tenant, receiver):
    hook = register(api, tenant, receiver.base_url + "/expire", ["sla.breached"])
    rotated = api.post(f"/v1/webhooks/{hook['id']}/rotate-secret?expire_previous=true", token=tenant.token)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["rotating_until"] is None and new["secret"] != hook["secret"]
    assert api.post(f"/v1/webhooks/{hook['id']}/test", token=tenant.token).status_code == 202
    got = receiver.wait_count(lambda r: r.path == "/expire", 1)
    assert len(got[0].headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new["secret"]).verify(got[0].body, got[0].headers)["type"] == "webhook.test"
    params = api.get("/v1/openapi.json").json()["paths"]["/v1/webhooks/{webhook_id}/rotate-secret"]["post"]
    assert any(p["name"] == "expire_previous" for p in params.get("parameters", []))


def test_rotation_signs_with_both_secrets_and_a_ping_reaches_the_endpoint(api: ApiClient, tenant, receiver):
    hook = register(api, tenant, receiver.base_url + "/ok", ["sla.breached"])
    rotated = api.post(f"/v1/webhooks/{hook['id']}/rotate-secret", token=tenant.token)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["secret"] != hook["secret"] and new["rotating_until"] and new["version"] == 2
    ping = api.post(f"/v1/webhooks/{hook['id']}/test", token=tenant.token)
    assert ping.status_code == 202, ping.text
    got = receiver.wait_count(lambda r: r.path == "/ok", 1)
    assert len(got[0].headers["webhook-signature"].split(" ")) == 2
    for secret in (hook["secret"], new["secret"]):  # either secret alone verifies during the overlap
        assert Webhook(secret).verify(got[0].body, got[0].headers)["type"] == "webhook.test"
    log = wait_for_log(api, tenant, hook["id"], lambda items: items and items[0]["status"] == "succeeded")
    assert log[0]["id"] == ping.json()["id"] and log[0]["event_type"] == "webhook.test"


@pytest.mark.parametrize("url", [
    "https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "https://[::ffff:10.0.0.1]/",
    "https://0x0a000001/", "https://[fd00::1]/", "https://100.64.0.1/", "https://0.0.0.0/", "ftp://example.com/",
    "https://user:pw@93.184.216.34/",
])
def test_unsafe_urls_are_refused_at_registration(api: ApiClient, tenant, url):
    error = assert_error(api.post("/v1/webhooks", token=tenant.token, json={"url": url}), 422, "validation_failed")
    assert error["details"][0]["field"] == "url" and error["details"][0]["type"] == "url_not_allowed"
    assert api.get("/v1/webhooks", token=tenant.token).json()["items"] == []


def test_bad_input_changes_nothing(api: ApiClient, tenant, receiver):
    error = assert_error(api.post("/v1/webhooks", token=tenant.token,
                                  json={"url": receiver.base_url + "/ok", "event_types": ["ticket.exploded"]}),
                         422, "validation_failed")
    assert error["details"][0]["type"] == "unknown_event_type"
    assert_error(api.post("/v1/webhooks", token=tenant.token, json={"url": 42}), 422, "validation_failed")
    assert api.get("/v1/webhooks", token=tenant.token).json()["items"] == []
    hook = register(api, tenant, receiver.base_url + "/ok", ["ticket.*"])
    assert_error(api.patch(f"/v1/webhooks/{hook['id']}", token=tenant.token, json={"url": "https://10.1.1.1/"}),
                 422, "validation_failed")
    assert_error(api.patch(f"/v1/webhooks/{hook['id']}", token=tenant.token, headers={"If-Match": '"7"'},
                           json={"enabled": False}), 412)
    assert api.get(f"/v1/webhooks/{hook['id']}", token=tenant.token).json()["url"] == receiver.base_url + "/ok"
    types = api.get("/v1/webhooks/event-types", token=tenant.token).json()["items"]
    assert {"ticket.created", "sla.breached", "resident.registered"} <= {t["type"] for t in types}
    assert all("staff." not in t["type"] for t in types)


def test_disable_enable_and_delete(api: ApiClient, tenant, estate, receiver):  # noqa: F811
    hook = register(api, tenant, receiver.base_url + "/ok", ["ticket.created"])
    register(api, tenant, receiver.base_url + "/witness", ["ticket.created"])  # shows when the event was handled
    off = api.patch(f"/v1/webhooks/{hook['id']}", token=tenant.token, json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert off.json()["disabled_reason"] == "disabled by the tenant"
    file_ticket(api, estate)
    assert len(receiver.wait_count(lambda r: r.path == "/witness", 1)) == 1  # the event was handled…
    assert [r for r in receiver.requests if r.path == "/ok"] == [] and deliveries(api, tenant, hook["id"]) == []
    on = api.patch(f"/v1/webhooks/{hook['id']}", token=tenant.token, json={"enabled": True})
    assert on.json()["enabled"] is True and on.json()["disabled_reason"] is None
    assert api.delete(f"/v1/webhooks/{hook['id']}", token=tenant.token).status_code == 204
    assert_error(api.get(f"/v1/webhooks/{hook['id']}", token=tenant.token), 404)


def test_webhooks_are_invisible_across_tenants_and_to_roles_without_the_permission(
        api: ApiClient, tenant, other_tenant, receiver):
    hook = register(api, tenant, receiver.base_url + "/ok")
    ping = api.post(f"/v1/webhooks/{hook['id']}/test", token=tenant.token).json()
    base = f"/v1/webhooks/{hook['id']}"
    missing = "/v1/webhooks/whk_doesnotexist"
    for method, path, body in (("GET", "", None), ("PATCH", "", {"enabled": False}), ("DELETE", "", None),
                               ("POST", "/rotate-secret", None), ("POST", "/test", None),
                               ("GET", "/deliveries", None), ("GET", f"/deliveries/{ping['id']}", None),
                               ("POST", f"/deliveries/{ping['id']}/retry", None)):
        theirs = api.request(method, base + path, token=other_tenant.token, json=body)
        nobody = api.request(method, missing + path, token=other_tenant.token, json=body)
        assert_error(theirs, 404)
        assert {k: v for k, v in theirs.json()["error"].items() if k != "request_id"} == {
            k: v for k, v in nobody.json()["error"].items() if k != "request_id"}
    assert api.get("/v1/webhooks", token=other_tenant.token).json()["items"] == []
    assert api.get(base, token=tenant.token).json()["enabled"] is True
    _, agent_token = api.add_staff(tenant, "supervisor")
    assert_error(api.get("/v1/webhooks", token=agent_token), 403)
    key = api.post("/v1/api-keys", token=tenant.token, json={"name": "erp", "scopes": ["tickets:read"]}).json()
    assert_error(api.get("/v1/webhooks", token=key["key"]), 403)
