"""The OpenAPI document as the app builds it, without a stack: valid OpenAPI 3.1 with every ``$ref`` resolving, for
every route of every stage (the served copy is checked over HTTP in tests/e2e/test_contracts.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import assert_valid_openapi

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ("import json, app\n"
          "from chalicelib.core.http import api\n"
          "from chalicelib.core.openapi import build_document\n"
          "print(json.dumps({'document': build_document(api),\n"
          "                  'handlers': {op.method + ' ' + op.path: op.name for op in api.operations}}))\n")


def built(stage_env: dict[str, str]) -> dict[str, Any]:
    """A fresh interpreter imports app.py, as a cold start does (so the routes it registers are the stage's)."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "AWS_REGION": "us-east-1",
           "LINLI_JWT_KEYS": json.dumps({"k1": "x" * 40}), "POWERTOOLS_TRACE_DISABLED": "true",
           "POWERTOOLS_METRICS_DISABLED": "true", **stage_env}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def local() -> dict[str, Any]:
    return built({"LINLI_STAGE": "local", "LINLI_LISTEN": "loopback"})  # what make run serves, dev routes too


@pytest.mark.parametrize("stage_env", [{"LINLI_STAGE": "prod"}, {"LINLI_STAGE": "dev"}])
def test_deployed_stages_document_is_valid_openapi(stage_env):
    assert_valid_openapi(built(stage_env)["document"])


def test_local_document_is_valid_openapi_and_names_each_operation_after_its_handler(local):
    document = local["document"]
    assert_valid_openapi(document)
    ids = {f"{method.upper()} {path}": op["operationId"] for path, item in document["paths"].items()
           for method, op in item.items()}
    assert ids == local["handlers"]  # stable: renaming a handler is the only way to change an operationId
    assert ids["POST /v1/auth/refresh"] == "refresh" and ids["POST /v1/public/tenants/{slug}/refresh"] \
        == "resident_refresh"


def test_query_filters_refer_to_components(local):
    document = local["document"]
    params = {p["name"]: p for p in document["paths"]["/v1/tickets"]["get"]["parameters"]}
    status = params["status"]["schema"]
    assert {"$ref": "#/components/schemas/Status"} in status["anyOf"]  # was #/$defs/Status, which is nowhere
    assert "new" in document["components"]["schemas"]["Status"]["enum"]
    assert params["limit"]["schema"]["maximum"] == 100 and params["limit"]["required"] is False
    assert "TicketQuery" not in document["components"]["schemas"]  # spelled out as parameters instead
    assert "$defs" not in json.dumps(document)  # no model's own definitions left behind anywhere


def test_reads_document_etag_and_304_and_writes_do_not(local):
    paths = local["document"]["paths"]
    ticket = paths["/v1/tickets/{ticket_id}"]
    read = ticket["get"]
    assert read["responses"]["200"]["headers"]["ETag"] == {"$ref": "#/components/headers/ETag"}
    assert read["responses"]["304"] == {"$ref": "#/components/responses/NotModified"}
    assert {"name": "If-None-Match", "in": "header"}.items() <= read["parameters"][-1].items()
    assert "304" not in ticket["patch"]["responses"]
    assert not any(p.get("in") == "header" for p in ticket["patch"].get("parameters", []))
    assert "304" in paths["/v1/tickets"]["get"]["responses"]  # the queue page too
    assert "304" in paths["/v1/public/tenants/{slug}/branding"]["get"]["responses"]
    components = local["document"]["components"]
    assert components["responses"]["TooManyRequests"]["headers"]["Retry-After"]["$ref"] == \
        "#/components/headers/Retry-After"
