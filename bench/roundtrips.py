"""Count AWS round trips per route (warm), with a botocore event hook on every client."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.clients import on_new_clients


@dataclass
class CallCounter:
    calls: list[str] = field(default_factory=list)

    def __call__(self, model: Any = None, **_: Any) -> None:
        self.calls.append(f"{model.service_model.service_name}:{model.name}")

    def measure(self, action: Callable[[], Any]) -> tuple[Any, list[str]]:
        self.calls.clear()
        result = action()
        return result, list(self.calls)


def install(counter: CallCounter) -> Callable[[], None]:
    """Every botocore client created from now on reports each API call to ``counter``; returns what stops that
    (for the clients of the next bench step)."""
    return on_new_clients(lambda client: client.meta.events.register("before-call", counter))


def run() -> list[tuple[str, str, int, list[str]]]:
    from chalice.test import Client

    from devstack.stack import LocalStack, free_port

    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-bench", seed=False)
    counter = CallCounter()
    uninstall = install(counter)
    stack.start()
    stack.emulator.stop()  # measure the API alone
    import app as application
    from chalicelib import bootstrap

    rows: list[tuple[str, str, int, list[str]]] = []
    with Client(application.app) as client:
        def call(method: str, path: str, body: Any = None, token: str | None = None) -> dict[str, Any]:
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            response = client.http.request(method, path, headers=headers,
                                           body=json.dumps(body).encode() if body is not None else b"")
            assert response.status_code < 300, (path, response.status_code, response.body)
            return json.loads(response.body) if response.body else {}

        def row(name: str, budget: str, action: Callable[[], Any]) -> Any:
            result, calls = counter.measure(action)
            rows.append((name, budget, len(calls), calls))
            return result

        signup = {"company_name": "基准物业", "slug": "bench", "admin_email": "admin@bench.test",
                  "admin_password": "Bench-pass-2026"}
        created = row("POST /v1/signup", "1", lambda: call("POST", "/v1/signup", signup))
        admin = created["access_token"]
        login = {"tenant_slug": "bench", "email": "admin@bench.test", "password": "Bench-pass-2026"}
        call("POST", "/v1/auth/login", login)
        tokens = row("POST /v1/auth/login (warm)", "≤ 2", lambda: call("POST", "/v1/auth/login", login))
        row("POST /v1/auth/refresh", "≤ 2",
            lambda: call("POST", "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}))
        call("GET", "/v1/tenant", token=admin)
        row("GET /v1/tenant (config cache warm)", "0", lambda: call("GET", "/v1/tenant", token=admin))
        bootstrap.tenant_configs().clear_cache()
        row("GET /v1/tenant (config cache cold)", "≤ 1", lambda: call("GET", "/v1/tenant", token=admin))
        row("PATCH /v1/tenant", "≤ 2",
            lambda: call("PATCH", "/v1/tenant", {"branding": {"primary_color": "#123456"}}, token=admin))
        staff = {"email": "agent@bench.test", "name": "客服", "role": "agent", "password": "Bench-pass-2026"}
        row("POST /v1/staff", "1", lambda: call("POST", "/v1/staff", staff, token=admin))
        row("GET /v1/staff (list page)", "1", lambda: call("GET", "/v1/staff?limit=25", token=admin))
        key = call("POST", "/v1/api-keys", {"name": "erp", "scopes": ["tenant:read"]}, token=admin)["key"]
        row("GET /v1/tenant (API key, key cache cold)", "≤ 1", lambda: call("GET", "/v1/tenant", token=key))
        row("GET /v1/tenant (API key, key cache warm)", "0", lambda: call("GET", "/v1/tenant", token=key))
        call("GET", "/v1/public/tenants/bench/branding")  # warm: the slug and the tenant are cached per container
        row("GET /v1/public/tenants/{slug}/branding", "0 warm",
            lambda: call("GET", "/v1/public/tenants/bench/branding"))

        community = call("POST", "/v1/communities", {"name": "翠苑"}, token=admin)["id"]
        building = call("POST", f"/v1/communities/{community}/buildings", {"name": "1栋"}, token=admin)["id"]
        unit = call("POST", f"/v1/communities/{community}/units", {"building_id": building, "number": "101"},
                    token=admin)["id"]
        resident = call("POST", "/v1/residents", {"name": "陈", "phone": "13500000001", "units": [
            {"unit_id": unit, "community_id": community}]}, token=admin)["id"]
        queued: list[dict[str, Any]] = []
        login_service = bootstrap.resident_login()
        real_send, login_service.send_code = login_service.send_code, lambda body, delay: queued.append(body)
        try:  # the emulator is stopped: take the queued code by hand, as the notifications consumer would
            call("POST", "/v1/public/tenants/bench/otp", {"phone": "13500000001"})
        finally:
            login_service.send_code = real_send
        code = queued[-1]["code"]
        resident_token = call("POST", "/v1/public/tenants/bench/otp/verify",
                              {"phone": "13500000001", "code": code})["access_token"]
        location = {"community_id": community, "unit_id": unit}
        keys = iter(range(100))

        def create(description: str, category: str) -> dict[str, Any]:
            headers_key = f"bench-{next(keys)}"
            response = client.http.request("POST", "/v1/me/tickets", body=json.dumps(
                {"kind": "inquiry", "category": category, "description": description,
                 "location": location}).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {resident_token}",
                         "Idempotency-Key": headers_key})
            assert response.status_code == 201, response.body
            return json.loads(response.body)

        create("warm-up", "其他")  # another category: the measured one is not a duplicate
        ticket = row("POST /v1/me/tickets (Idempotency-Key)", "1", lambda: create("物业费怎么交", "物业费"))
        row("GET /v1/me/tickets/{id}", "1", lambda: call("GET", f"/v1/me/tickets/{ticket['id']}",
                                                         token=resident_token))
        row("GET /v1/tickets (queue page)", "1", lambda: call("GET", "/v1/tickets?limit=25", token=admin))
        row("POST /v1/tickets/{id}/actions/acknowledge", "≤ 2",
            lambda: call("POST", f"/v1/tickets/{ticket['id']}/actions/acknowledge", {}, token=admin))
        row("POST /v1/tickets/{id}/comments", "≤ 2",
            lambda: call("POST", f"/v1/tickets/{ticket['id']}/comments", {"body": "您好，已收到"}, token=admin))
        row("POST /v1/tickets (staff, on behalf)", "2",
            lambda: call("POST", "/v1/tickets", {"kind": "inquiry", "category": "规章制度", "description": "电话咨询",
                                                 "location": location, "resident_id": resident}, token=admin))
        technician = {"email": "tech@bench.test", "name": "维修工", "role": "technician", "password": "Bench-pass-2026"}
        tech = call("POST", "/v1/staff", technician, token=admin)["id"]
        row("POST /v1/tickets/{id}/actions/assign", "≤ 2", lambda: call(
            "POST", f"/v1/tickets/{ticket['id']}/actions/assign", {"assignee_id": tech}, token=admin))
        other = call("POST", "/v1/staff", {**technician, "email": "tech2@bench.test"}, token=admin)["id"]
        row("POST /v1/tickets/{id}/actions/assign (transfer)", "≤ 2", lambda: call(
            "POST", f"/v1/tickets/{ticket['id']}/actions/assign", {"assignee_id": other}, token=admin))
        row("GET /v1/staff?role=technician&with_load=true", "2",
            lambda: call("GET", "/v1/staff?role=technician&with_load=true", token=admin))
        row("GET /v1/tickets?assignee_id=none (queue page)", "1",
            lambda: call("GET", "/v1/tickets?assignee_id=none", token=admin))
        row("GET /v1/tickets?resident_id= (their tickets)", "1",
            lambda: call("GET", f"/v1/tickets?resident_id={ticket['resident_id']}", token=admin))
        row("POST /v1/canned-replies", "1", lambda: call(
            "POST", "/v1/canned-replies", {"title": "已受理", "body": "您好，已收到您的反馈。"}, token=admin))
        row("GET /v1/canned-replies", "1", lambda: call("GET", "/v1/canned-replies", token=admin))
        suggested = f"/v1/tickets/{ticket['id']}/canned-replies"
        call("GET", suggested, token=admin)  # the desk's copy of the replies and the staff name: cached per container
        row("GET /v1/tickets/{id}/canned-replies (warm)", "1", lambda: call("GET", suggested, token=admin))
        call("POST", "/v1/canned-replies", {"title": "问候", "body": "{resident_name}您好，我是{community_name}的"
                                                                      "{staff_name}。"}, token=admin)
        call("GET", suggested, token=admin)
        row("GET /v1/tickets/{id}/canned-replies (+ names)", "2",
            lambda: call("GET", suggested, token=admin))
        row("GET /v1/residents?q= (phone: GSI3)", "1",
            lambda: call("GET", "/v1/residents?q=13500000001", token=admin))
        row("GET /v1/residents?q= (name prefix: GSI1)", "1", lambda: call("GET", "/v1/residents?q=%E9%99%88",
                                                                         token=admin))
        row("GET /v1/residents?q= (unit: links + residents)", "2",
            lambda: call("GET", "/v1/residents?q=1%E6%A0%8B101", token=admin))
        row("POST /v1/tickets/{id}/reveal-phone", "3",
            lambda: call("POST", f"/v1/tickets/{ticket['id']}/reveal-phone", token=admin))
        hook = row("POST /v1/webhooks (counted in the write)", "2", lambda: call(
            "POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "event_types": ["ticket.*"]}, token=admin))
        row("GET /v1/webhooks (list page)", "1", lambda: call("GET", "/v1/webhooks", token=admin))
        row("GET /v1/webhooks/{id}/deliveries", "2",
            lambda: call("GET", f"/v1/webhooks/{hook['id']}/deliveries", token=admin))
        from chalicelib.core.clock import to_rfc3339
        from chalicelib.core.tenancy import Principal, TenantContext
        from chalicelib.notifications.domain import notification_for

        event = {"id": "evt_bench0000000000000000000001", "type": "ticket.created",
                 "subject": {"type": "ticket", "id": ticket["id"]}}
        bootstrap.inbox_service().file(TenantContext(created["tenant"]["id"], Principal("system", "bench")),
                                       created["user"]["id"], notification_for(event, "bench", "新工单",
                                                                               to_rfc3339(_now())), _now())
        page = row("GET /v1/me/notifications (page + unread count)", "1",
                   lambda: call("GET", "/v1/me/notifications", token=admin))
        row("GET /v1/me/notifications/unread-count", "1",
            lambda: call("GET", "/v1/me/notifications/unread-count", token=admin))
        row("POST /v1/me/notifications/{id}/read", "2", lambda: call(
            "POST", f"/v1/me/notifications/{page['items'][0]['id']}/read", {}, token=admin))
    stack.stop()
    uninstall()
    return rows


def _now():  # noqa: ANN202
    from chalicelib.core.clock import utcnow

    return utcnow()


def report(rows: list[tuple[str, str, int, list[str]]]) -> str:
    lines = [f"{'route':<50} {'budget':>7} {'round trips':>12}  calls", "-" * 100]
    for name, budget, count, calls in rows:
        summary = ", ".join(f"{op}×{n}" if n > 1 else op for op, n in Counter(calls).items()) or "-"
        lines.append(f"{name:<50} {budget:>7} {count:>12}  {summary}")
    return "\n".join(lines)
