"""The first request of a new container: ``import app`` and one request, in a fresh interpreter against the embedded
stack's emulator, beside the floor — chalice, pynamodb and one botocore DynamoDB client imported, and one GetItem.

Three requests, each in its own fresh interpreter (fastest of ``RUNS``; noise on a shared machine only adds), run
in rounds with the floor so that a machine changing speed during the bench weighs on both alike:
``GET /v1/tickets/{id}``, the queue page ``GET /v1/tickets`` and ``POST /v1/tickets`` (staff, for a resident). Each
child gets the stack's local-stage environment and a staff token minted by the parent, and invokes the handler the
way Lambda does — ``app.app(event, context)`` with an API Gateway proxy event — so what is timed is the container's
own work: imports, settings, the JWT key from Secrets Manager, the tenant's configuration, and the request's reads
and writes on the emulator. (Chalice's test client is not used: importing it alone costs about as much as the
floor, and a deployed container never loads it.) The app's modules are compiled to bytecode first, as the Lambda
package ships them (``infra.package.with_bytecode``); the floor's libraries were compiled when they were installed.
"""
from __future__ import annotations

import compileall
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
PROBE = """
import json, os, time
t = time.perf_counter()
{imports}
imported = time.perf_counter()
{request}
done = time.perf_counter()
print(json.dumps([imported - t, done - t]))
"""
FLOOR_IMPORTS = ("import chalice, pynamodb.models, botocore.session\n"
                 "client = botocore.session.get_session().create_client('dynamodb', region_name='us-east-1', "
                 "endpoint_url=os.environ['AWS_ENDPOINT_URL'])")
FLOOR_REQUEST = ("client.get_item(TableName=os.environ['LINLI_TABLE_NAME'], "
                 "Key={'PK': {'S': 'nothing'}, 'SK': {'S': 'nothing'}})")
APP_IMPORTS = "import app"
APP_REQUEST = """
from urllib.parse import parse_qsl, urlsplit
method, target = os.environ['PROBE_METHOD'], urlsplit(os.environ['PROBE_PATH'])
resource = os.environ['PROBE_RESOURCE']
query = dict(parse_qsl(target.query))
headers = {'authorization': 'Bearer ' + os.environ['PROBE_TOKEN'], 'content-type': 'application/json',
           'host': 'probe.local'}
event = {'resource': resource, 'path': target.path, 'httpMethod': method, 'headers': headers,
         'multiValueHeaders': {k: [v] for k, v in headers.items()},
         'queryStringParameters': query or None,
         'multiValueQueryStringParameters': {k: [v] for k, v in query.items()} or None,
         'pathParameters': json.loads(os.environ.get('PROBE_PARAMS', 'null')), 'stageVariables': None,
         'requestContext': {'resourcePath': resource, 'httpMethod': method, 'path': target.path, 'stage': 'api',
                            'requestId': 'probe', 'identity': {'sourceIp': '127.0.0.1'}},
         'body': os.environ.get('PROBE_BODY') or None, 'isBase64Encoded': False}
class Context:
    function_name, memory_limit_in_mb, aws_request_id = 'api_handler', 1024, 'probe'
    invoked_function_arn = 'arn:aws:lambda:local:000000000000:function:api_handler'
    def get_remaining_time_in_millis(self):
        return 30000
answer = app.app(event, Context())
assert answer['statusCode'] < 300, answer
"""


@dataclass
class Row:
    name: str
    imported_ms: float
    total_ms: float


def _child(imports: str, request: str, extra: dict[str, str]) -> tuple[float, float]:
    env = {**os.environ, **extra, "POWERTOOLS_LOG_LEVEL": "ERROR"}
    out = subprocess.run([sys.executable, "-c", PROBE.format(imports=imports, request=request)], capture_output=True,
                         text=True, env=env, check=False, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    imported, total = json.loads(out.stdout.strip().splitlines()[-1])
    return imported * 1000, total * 1000


def compile_app() -> None:
    """Bytecode for app.py and chalicelib/ in their ``__pycache__``, as the deployed package carries it (the
    children may not write it: ``PYTHONDONTWRITEBYTECODE`` is often set)."""
    compileall.compile_file(ROOT / "app.py", quiet=2)
    compileall.compile_dir(ROOT / "chalicelib", quiet=2)


def run() -> list[Row]:
    from devstack.stack import LocalStack, free_port
    from tests.helpers import ApiClient

    compile_app()
    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-first-bench", seed=False)
    stack.start()
    try:
        api = ApiClient(stack.api_url)
        tenant = api.new_tenant()
        community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()["id"]
        building = api.post(f"/v1/communities/{community}/buildings", token=tenant.token,
                            json={"name": "1栋"}).json()["id"]
        unit = api.post(f"/v1/communities/{community}/units", token=tenant.token,
                        json={"building_id": building, "number": "101"}).json()["id"]
        resident = api.post("/v1/residents", token=tenant.token, json={
            "name": "陈先生", "phone": "13500000007",
            "units": [{"unit_id": unit, "community_id": community}]}).json()["id"]
        body = {"kind": "inquiry", "category": "其他", "description": "首次请求", "resident_id": resident,
                "location": {"community_id": community, "unit_id": unit}}
        ticket = api.post("/v1/tickets", token=tenant.token, json=body).json()["id"]
        stack.emulator.stop()  # the children's requests alone on the emulator
        base = {"PROBE_TOKEN": tenant.token}
        probes: list[tuple[str, str, str, dict[str, str], dict[str, Any] | None]] = [
            ("floor: chalice + pynamodb + 1 client, 1 GetItem", FLOOR_IMPORTS, FLOOR_REQUEST, {}, None)]
        for name, method, path, resource, params, payload in (
                ("GET /v1/tickets/{id}", "GET", f"/v1/tickets/{ticket}", "/v1/tickets/{ticket_id}",
                 {"ticket_id": ticket}, None),
                ("GET /v1/tickets (queue page)", "GET", "/v1/tickets?limit=25", "/v1/tickets", None, None),
                ("POST /v1/tickets (staff)", "POST", "/v1/tickets", "/v1/tickets", None,
                 {**body, "description": "首次请求 {n}"})):
            probes.append((name, APP_IMPORTS, APP_REQUEST, {**base, "PROBE_METHOD": method, "PROBE_PATH": path,
                                                              "PROBE_RESOURCE": resource,
                                                              "PROBE_PARAMS": json.dumps(params)}, payload))
        # Rounds, each running every probe once: a machine that speeds up or slows down during the bench weighs
        # on the floor and the routes alike (the fastest run of each is kept).
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in probes}
        for n in range(RUNS):
            for name, imports, request, extra, payload in probes:
                if payload:  # each run files a ticket of its own (a different description: not a duplicate)
                    extra = {**extra, "PROBE_BODY": json.dumps(
                        {**payload, "description": payload["description"].format(n=n)}, ensure_ascii=False)}
                runs[name].append(_child(imports, request, extra))
        rows = [Row(name, min(r[0] for r in runs[name]), min(r[1] for r in runs[name])) for name, *_ in probes]
        return rows
    finally:
        stack.stop()


def report(rows: list[Row]) -> str:
    floor = rows[0].total_ms
    lines = [f"{'fresh interpreter':<50} {'import':>9} {'+ request':>10} {'vs floor':>9}", "-" * 82]
    lines += [f"{r.name:<50} {r.imported_ms:>7.0f}ms {r.total_ms:>8.0f}ms {r.total_ms / floor:>8.2f}×" for r in rows]
    lines.append(f"\nFastest of {RUNS} each; the goal is a first request within 1.5× the floor.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
