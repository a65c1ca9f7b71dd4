"""Test helpers: an HTTP client for the local stack and a tenant factory."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

PASSWORD = "Correct-horse-42"


@dataclass
class Tenant:
    id: str
    slug: str
    admin_email: str
    token: str
    refresh_token: str
    admin_id: str
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class ApiClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method: str, path: str, *, token: str | None = None, headers: dict[str, str] | None = None,
                **kwargs: Any) -> requests.Response:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.base_url + path, headers=all_headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def new_tenant(self, slug: str | None = None, company: str = "绿城物业") -> Tenant:
        slug = slug or f"t-{uuid.uuid4().hex[:10]}"
        email = f"boss-{uuid.uuid4().hex[:6]}@example.com"
        response = self.post("/v1/signup", json={"company_name": company, "slug": slug, "admin_email": email,
                                                 "admin_password": PASSWORD})
        assert response.status_code == 201, response.text
        body = response.json()
        return Tenant(body["tenant"]["id"], slug, email, body["access_token"], body["refresh_token"],
                      body["user"]["id"], body)

    def add_staff(self, tenant: Tenant, role: str, password: str = PASSWORD) -> tuple[dict[str, Any], str]:
        email = f"{role}-{uuid.uuid4().hex[:6]}@example.com"
        response = self.post("/v1/staff", token=tenant.token,
                             json={"email": email, "name": f"{role} 同事", "role": role, "password": password})
        assert response.status_code == 201, response.text
        login = self.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": email, "password": password})
        assert login.status_code == 200, login.text
        return response.json(), login.json()["access_token"]


def sent_code(api: ApiClient, phone: str, timeout: float = 15) -> str:
    """The latest sign-in code the local SMS recorder got for ``phone`` (codes go out through the notifications
    queue, so this waits for it)."""
    deadline = time.monotonic() + timeout
    while True:
        messages = api.get("/v1/dev/messages", params={"to": phone}).json()["items"]
        if messages or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert messages and messages[0]["channel"] == "sms", f"no code reached {phone}"
    return messages[0]["params"]["code"]


def request_code(api: ApiClient, slug: str, phone: str, timeout: float = 15) -> str:
    """Ask for a sign-in code for ``phone`` and return the one that arrives for this request (not an earlier code
    or a ticket notice the same phone got by SMS)."""
    def codes() -> list[dict[str, Any]]:
        items = api.get("/v1/dev/messages", params={"to": phone}).json()["items"]
        return [m for m in items if m["channel"] == "sms" and "code" in (m.get("params") or {})]

    before = {m["id"] for m in codes()}
    assert api.post(f"/v1/public/tenants/{slug}/otp", json={"phone": phone}).status_code == 202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [m for m in codes() if m["id"] not in before]
        if fresh:
            return fresh[0]["params"]["code"]
        time.sleep(0.1)
    raise AssertionError(f"no new code reached {phone}")


def wait_out_the_resend_cooldown(api: ApiClient, phone: str, cooldown: float = 61) -> None:
    """Tests of one stack share the demo residents: when another test asked for this phone's sign-in code less
    than a minute ago, the API answers 429 for the rest of the minute, as it would a person. Wait until it
    would not."""
    from datetime import datetime, timezone

    items = api.get("/v1/dev/messages", params={"to": phone}).json()["items"]
    sent = [m["sent_at"] for m in items if m["channel"] == "sms" and "code" in (m.get("params") or {})]
    if sent:
        age = (datetime.now(timezone.utc) - datetime.fromisoformat(max(sent).replace("Z", "+00:00"))).total_seconds()
        if age < cooldown:
            time.sleep(cooldown - age)


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def assert_valid_openapi(document: dict[str, Any]) -> None:
    """What the frontends' generated types (openapi-typescript) rely on: a valid OpenAPI 3.1 document whose every
    ``$ref`` resolves inside it, one stable snake_case ``operationId`` per operation, named response models, the
    error responses on every operation, and ``If-None-Match`` → 304 on every conditional read."""
    import re

    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)
    unresolved = sorted({ref for ref in _references(document) if _resolve_pointer(document, ref) is None})
    assert not unresolved, f"$refs that point nowhere: {unresolved}"
    operations = [(f"{method.upper()} {path}", op) for path, item in document["paths"].items()
                  for method, op in item.items()]
    ids = [op.get("operationId") for _, op in operations]
    assert all(isinstance(i, str) and re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids), ids
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    for label, op in operations:
        responses = op["responses"]
        assert {"400", "401", "403", "404", "422", "429"} <= set(responses), label
        for status, response in responses.items():
            schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
            if status.startswith("2") and schema is not None:
                assert set(schema) == {"$ref"} and schema["$ref"].startswith("#/components/schemas/"), label
        if label.startswith("GET ") and "content" in responses.get("200", {}):
            assert responses["304"] == {"$ref": "#/components/responses/NotModified"}, label
            assert set(responses["200"]["headers"]) == {"ETag", "Cache-Control"}, label
            assert any(p.get("in") == "header" and p.get("name") == "If-None-Match"
                       for p in op.get("parameters", [])), label
        else:
            assert "304" not in responses, label
    not_modified = _resolve_pointer(document, "#/components/responses/NotModified")
    assert "content" not in not_modified and "ETag" in not_modified["headers"]


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _references(value)]
    return []


def _resolve_pointer(document: dict[str, Any], ref: str) -> Any:
    """The node a local ``$ref`` (``#/a/b~1c``) names, or None."""
    if not ref.startswith("#/"):
        return None
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
