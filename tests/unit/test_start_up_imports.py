"""A new container's ``import app`` registers every route without importing pydantic (about 70 ms of its first
request, and the schemas' classes more): routes name their models as ``"module:Name"`` references, loaded when a
request first needs one. Checked in a fresh interpreter, as deployed and as the local stack runs it (dev routes on)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys
import app
routes = app.app.routes
assert "/v1/openapi.json" in routes and "/v1/tickets" in routes, sorted(routes)
print(("/v1/dev/messages" in routes), sorted({m.split(".")[0] for m in sys.modules} & {"pydantic", "pydantic_core"}))
"""


@pytest.mark.parametrize(("stage", "dev_routes"), [({"LINLI_STAGE": "prod"}, "False"),
                                                   ({"LINLI_STAGE": "local", "LINLI_LISTEN": "loopback"}, "True")])
def test_importing_the_app_imports_no_pydantic(stage, dev_routes):
    own = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "AWS_ENDPOINT"))}
    env = {**own, "AWS_DEFAULT_REGION": "us-east-1", "LINLI_TABLE_NAME": "linli-probe",
           "POWERTOOLS_LOG_LEVEL": "ERROR", **stage}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=ROOT,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == [dev_routes, "[]"]
