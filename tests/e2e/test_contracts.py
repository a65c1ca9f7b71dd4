"""The error contract of API.md on every path, including Chalice's and API Gateway's own errors."""
from __future__ import annotations

import pytest

from tests.helpers import ApiClient, assert_error, assert_valid_openapi

pytestmark = pytest.mark.e2e


def test_malformed_json_is_400(api: ApiClient, tenant):
    response = api.patch("/v1/tenant", token=tenant.token, data=b'{"locale": ',
                         headers={"Content-Type": "application/json"})
    assert_error(response, 400, "malformed_json")
    assert_error(api.post("/v1/signup", data=b"[1, 2]", headers={"Content-Type": "application/json"}), 400,
                 "malformed_json")
    assert_error(api.post("/v1/signup", data="\xff\xfe".encode("latin-1"),
                          headers={"Content-Type": "application/json"}), 400, "malformed_json")


def test_wrong_types_are_422_with_details(api: ApiClient):
    error = assert_error(api.post("/v1/signup", json={"company_name": ["x"], "slug": 5}), 422, "validation_failed")
    fields = {d["field"] for d in error["details"]}
    assert {"company_name", "slug", "admin_email", "admin_password"} <= fields


def test_body_over_one_megabyte_is_413(api: ApiClient, tenant):
    big = b'{"company_name": "' + b"x" * (1024 * 1024) + b'"}'
    response = api.patch("/v1/tenant", token=tenant.token, data=big, headers={"Content-Type": "application/json"})
    assert_error(response, 413, "payload_too_large")
    assert api.get("/v1/tenant", token=tenant.token).json()["version"] == 1


def test_unknown_route_and_wrong_method(api: ApiClient, tenant):
    assert_error(api.get("/v1/nowhere"), 404, "route_not_found")
    assert_error(api.get("/v1/nowhere", token=tenant.token), 404, "route_not_found")
    response = api.request("PUT", "/v1/tenant", token=tenant.token, json={})
    assert_error(response, 405, "method_not_allowed")


def test_missing_or_bad_credentials_are_401(api: ApiClient, tenant):
    assert_error(api.get("/v1/tenant"), 401, "unauthenticated")
    assert_error(api.get("/v1/tenant", headers={"Authorization": "Basic abc"}), 401)
    assert_error(api.get("/v1/tenant", token="not-a-jwt"), 401)
    head, payload, _ = tenant.token.split(".")
    assert_error(api.get("/v1/tenant", token=f"{head}.{payload}.AAAA"), 401)
    none_alg = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + "."
    assert_error(api.get("/v1/tenant", token=none_alg), 401)


def test_form_bodies_are_415(api: ApiClient):
    response = api.post("/v1/auth/login", data="a=b", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 415, "unsupported_media_type")


def test_every_response_carries_a_request_id(api: ApiClient, tenant):
    for response in (api.get("/v1/tenant", token=tenant.token), api.get("/v1/openapi.json"),
                     api.get("/v1/public/tenants/x-none/branding"), api.get("/v1/nowhere")):
        assert response.headers.get("X-Request-Id")


def test_chinese_text_round_trips_unescaped(api: ApiClient, tenant):
    response = api.patch("/v1/tenant", token=tenant.token, json={"company_name": "阳光花园物业服务有限公司"})
    assert "阳光花园物业服务有限公司".encode() in response.content
    assert response.headers["Content-Type"].startswith("application/json")


def test_openapi_document_covers_every_route(api: ApiClient, stack):
    import app as application

    document = api.get("/v1/openapi.json")
    assert document.status_code == 200
    spec = document.json()
    assert spec["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    served = {(path, method) for path, methods in application.app.routes.items() for method in methods}
    assert served == documented
    login = spec["paths"]["/v1/auth/login"]["post"]
    schema_name = login["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(spec["components"]["schemas"][schema_name]["required"]) == {"tenant_slug", "email", "password"}
    assert "security" in spec["paths"]["/v1/tenant"]["get"]
    assert "security" not in spec["paths"]["/v1/signup"]["post"]


def test_served_openapi_document_is_valid_and_every_ref_resolves(api: ApiClient, stack):
    """What openapi-typescript generates the frontends' types from: the document as it is served, dev routes too."""
    from chalicelib.core.http import api as registry
    from chalicelib.core.openapi import build_document

    served = api.get("/v1/openapi.json")
    assert served.status_code == 200 and served.headers["Cache-Control"] == "no-cache"
    assert_valid_openapi(served.json())
    assert served.json() == build_document(registry)  # the same document the process builds
    assert "/v1/dev/messages" in served.json()["paths"]
    assert api.get("/v1/openapi.json", headers={"If-None-Match": served.headers["ETag"]}).status_code == 304


def _api_key(api: ApiClient, tenant) -> str:
    created = api.post("/v1/api-keys", token=tenant.token, json={"name": "ERP", "scopes": ["tenant:read"]})
    assert created.status_code == 201, created.text
    return created.json()["key"]


def test_api_keys_are_accepted_as_x_api_key(api: ApiClient, tenant):
    key = _api_key(api, tenant)
    response = api.get("/v1/tenant", headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == tenant.id
    both = api.get("/v1/tenant", headers={"X-API-Key": key, "Authorization": f"Bearer {key}"})  # the same key twice
    assert both.status_code == 200 and both.json()["id"] == tenant.id


def test_x_api_key_takes_only_a_valid_api_key(api: ApiClient, tenant):
    error = assert_error(api.get("/v1/tenant", headers={"X-API-Key": tenant.token}), 401, "unauthenticated")
    assert "X-API-Key" in error["message"]                                     # a staff JWT is not an API key
    assert_error(api.get("/v1/tenant", headers={"X-API-Key": "lk_live_" + "x" * 43}), 401, "unauthenticated")
    assert_error(api.get("/v1/tenant", headers={"X-API-Key": ""}), 401, "unauthenticated")


def test_two_different_credentials_are_refused_not_chosen_between(api: ApiClient, tenant, other_tenant):
    key, others = _api_key(api, tenant), _api_key(api, other_tenant)
    for headers in ({"X-API-Key": key, "Authorization": f"Bearer {others}"},
                    {"X-API-Key": key, "Authorization": f"Bearer {tenant.token}"},  # each valid on its own
                    {"X-API-Key": key, "Authorization": "Basic abc"}):
        error = assert_error(api.get("/v1/tenant", headers=headers), 401, "unauthenticated")
        assert error["message"] in ("Authorization and X-API-Key carry different credentials; send one.",
                                    "Missing or invalid credentials.")


def test_openapi_documents_both_ways_of_sending_a_credential(api: ApiClient):
    spec = api.get("/v1/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert spec["paths"]["/v1/tenant"]["get"]["security"] == [{"bearer": []}, {"apiKey": []}]  # either one
    assert spec["paths"]["/v1/me/tickets"]["get"]["security"] == [{"bearer": []}]          # residents' tokens only
    assert "security" not in spec["paths"]["/v1/signup"]["post"]


def test_a_client_hanging_up_leaves_no_traceback(api: ApiClient, stack, capfd):
    """Interrupted clients (curl ^C, a closed tab) just end their connection: the terminal of ``make run`` stays
    quiet, as it does behind API Gateway."""
    import socket
    import struct
    import time

    capfd.readouterr()
    host, port = stack.api_url.removeprefix("http://").split(":")
    for request_sent, read_first in ((True, True), (True, False), (False, False)):
        client = socket.create_connection((host, int(port)))
        client.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: linli\r\n" + (b"\r\n" if request_sent else b""))
        if read_first:
            client.recv(16)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not a clean close
        client.close()
    time.sleep(0.5)  # the handler threads end in milliseconds; their silence is all there is to observe
    assert api.get("/v1/openapi.json").status_code == 200
    assert "Traceback" not in capfd.readouterr().err
