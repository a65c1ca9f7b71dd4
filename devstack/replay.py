"""``python -m devstack.replay`` (``make replay-events``): replay the event dispatcher's dead letters on the running
embedded stack (``make run`` in another terminal) through the very function AWS runs, ``replay_dispatch_failures``.

Safe to run any time, as often as you like: a dead letter is deleted only once its events were dispatched, and
consumers dedupe by event id, so nobody is notified twice.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

from devstack.resources import DISPATCH_FAILURES, QUEUES


def local_environment(endpoint: str, table_name: str) -> dict[str, str]:
    """The variables the stack gives its functions, found on the running emulator (queues named after the table)."""
    import boto3
    from botocore.config import Config

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    sqs = boto3.client("sqs", region_name=region, endpoint_url=endpoint,
                       aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
                       aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
                       config=Config(retries={"max_attempts": 1}, connect_timeout=2))

    def url(name: str) -> str:
        return sqs.get_queue_url(QueueName=f"{table_name}-{name}")["QueueUrl"]

    return {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            "LINLI_STAGE": "local", "LINLI_TABLE_NAME": table_name,
            **{f"LINLI_{name.upper()}_QUEUE_URL": url(name) for name in QUEUES},
            "LINLI_DISPATCH_FAILURES_QUEUE_URL": url(DISPATCH_FAILURES),
            "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true"}


def main(argv: list[str] | None = None) -> int:
    del argv
    port = os.environ.get("LINLI_AWS_PORT", "4566")
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{port}"
    table_name = os.environ.get("LINLI_TABLE_NAME", "linli-local")
    try:
        environment = local_environment(endpoint, table_name)
    except Exception as exc:  # noqa: BLE001 - any failure here means there is no stack to replay on
        sys.stderr.write(f"No embedded stack with table {table_name} answers at {endpoint} ({type(exc).__name__}): "
                         "start it with make run (or set LINLI_AWS_PORT / LINLI_TABLE_NAME).\n")
        return 1
    os.environ.update(environment)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import app
    from devstack.emulator import LambdaContext

    report: dict[str, Any] = app.replay_dispatch_failures({}, LambdaContext("replay_dispatch_failures"))
    sys.stdout.write(json.dumps(report) + "\n")
    return 0 if not (report["failing"] or report["missing"] or report["unreadable"]) else 3


if __name__ == "__main__":
    sys.exit(main())
