"""``python -m devstack.rebuild_reports <slug>`` (``make rebuild-reports SLUG=demo``): recompute a tenant's KPI
rollups from its tickets' event logs on the running embedded stack (``make run`` in another terminal), through the
very function AWS runs, ``rebuild_reports``. Idempotent: on exact rollups it changes nothing and says so."""
from __future__ import annotations

import json
import os
import sys

from devstack.replay import local_environment


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m devstack.rebuild_reports <tenant slug>\n")
        return 2
    port = os.environ.get("LINLI_AWS_PORT", "4566")
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{port}"
    table_name = os.environ.get("LINLI_TABLE_NAME", "linli-local")
    try:
        environment = local_environment(endpoint, table_name)
    except Exception as exc:  # noqa: BLE001 - any failure here means there is no stack to work on
        sys.stderr.write(f"No embedded stack with table {table_name} answers at {endpoint} ({type(exc).__name__}): "
                         "start it with make run (or set LINLI_AWS_PORT / LINLI_TABLE_NAME).\n")
        return 1
    os.environ.update(environment)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import app
    from chalicelib import bootstrap
    from devstack.emulator import LambdaContext

    tenant_id = bootstrap.tenant_repository().tenant_id_for_slug(argv[0])
    if tenant_id is None:
        sys.stderr.write(f"No tenant {argv[0]!r} on this stack.\n")
        return 1
    report = app.rebuild_reports({"tenant_id": tenant_id}, LambdaContext("rebuild_reports"))
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
