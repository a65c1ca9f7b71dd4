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


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]
