"""An estate of 20,000 residents imported as one XLSX: no request waits on the file, every request's duration is
printed for the record (timings are not asserted: the embedded emulator serves one request at a time on a shared
machine), and the residents are all there afterwards.

It runs on a stack of its own, in its own process (the 120,000 items it writes would otherwise slow every test
that shares the session's table, and it gets a core of its own); ``LINLI_IMPORT_SCALE_ROWS`` changes the size."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_import_jobs import Timed, estate_rows, start, upload, wait_until_done, xlsx
from tests.helpers import ApiClient

pytestmark = [pytest.mark.e2e, pytest.mark.scale]

ROWS = int(os.environ.get("LINLI_IMPORT_SCALE_ROWS", "20000"))
ROOT = Path(__file__).resolve().parents[2]
STACK = """
import json, signal, sys
from devstack.stack import LocalStack, free_port
stack = LocalStack(http_port=free_port(), aws_port=free_port(), seed=False, table_name=sys.argv[1]).start()
print(json.dumps({"api": stack.api_url, "aws": stack.endpoint}), flush=True)
signal.sigwait({signal.SIGTERM})
stack.stop()
"""


@pytest.fixture(scope="module")
def own_stack() -> Iterator[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "AWS_", "POWERTOOLS_"))}
    env.update(LINLI_STAGE="local", LINLI_PASSWORD_HASH_PROFILE="fast", POWERTOOLS_LOG_LEVEL="ERROR",
               PYTHONPATH=str(ROOT))
    table = f"linli-scale-{uuid.uuid4().hex[:6]}"
    process = subprocess.Popen([sys.executable, "-c", STACK, table], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line, f"the stack did not start (exit code {process.poll()})"
        yield {**json.loads(line), "table": table}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def stored_residents(stack: dict[str, Any], tenant_id: str) -> int:
    """Residents in the table itself (a COUNT query of the tenant's partition, page by page)."""
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=stack["aws"], aws_access_key_id="local",
                          aws_secret_access_key="local")
    count, start_key = 0, None
    while True:
        page = client.query(TableName=stack["table"], Select="COUNT",
                            KeyConditionExpression="PK = :pk AND begins_with(SK, :res)",
                            ExpressionAttributeValues={":pk": {"S": f"T#{tenant_id}"}, ":res": {"S": "RES#"}},
                            **({"ExclusiveStartKey": start_key} if start_key else {}))
        count += page["Count"]
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            return count


def test_20000_rows_import_while_every_request_stays_short(own_stack):
    api = ApiClient(own_stack["api"])
    tenant = api.new_tenant()
    assert api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).status_code == 201
    timed = Timed(api)
    data = xlsx(estate_rows(ROWS))

    began = time.monotonic()
    job = start(timed, tenant, upload(timed, tenant, data)).json()
    done = wait_until_done(timed, tenant, job["id"], timeout=900)
    took = time.monotonic() - began

    timed.report(f"{ROWS:,}-row XLSX ({len(data) / 1e6:.1f} MB): imported in {took:.1f} s, {ROWS / took:.0f} rows/s")
    assert (done["status"], done["total_rows"], done["created"], done["failed"]) == ("completed", ROWS, ROWS, 0)
    assert stored_residents(own_stack, tenant.id) == ROWS
    assert all(status < 500 for _, _, status, _ in timed.log)
