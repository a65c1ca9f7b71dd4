"""``python -m devstack``: start the embedded stack and wait for Ctrl-C."""
from __future__ import annotations

import os
import signal
import sys
import threading

from devstack.demo import DEMO_PASSWORD, DEMO_SLUG, DEMO_STAFF
from devstack.stack import LocalStack, PortBusyError


def main() -> int:
    try:
        http_port = int(os.environ.get("LINLI_HTTP_PORT", "8000"))
        aws_port = int(os.environ.get("LINLI_AWS_PORT", "4566"))
    except ValueError:
        print("LINLI_HTTP_PORT and LINLI_AWS_PORT must be port numbers.", file=sys.stderr)
        return 2
    stack = LocalStack(http_port=http_port, aws_port=aws_port)
    try:
        stack.start()
    except PortBusyError as exc:
        print(exc, file=sys.stderr)
        return 1
    staff = "\n".join(f"    {email:<18} {role.value:<11} password {DEMO_PASSWORD}" for email, _, role in DEMO_STAFF)
    print(f"""
Linli is running (stage: local)
  API              {stack.api_url}
  OpenAPI          {stack.api_url}/v1/openapi.json
  Demo branding    {stack.api_url}/v1/public/tenants/{DEMO_SLUG}/branding
  Sent messages    {stack.api_url}/v1/dev/messages   (SMS, WeChat and e-mail the local providers recorded)
  Webhooks         POST {stack.api_url}/v1/webhooks  (loopback allowed locally; retries compressed 100×)
  AWS emulator     {stack.endpoint}   (table {stack.table_name}; stream and queues emulated)

Demo tenant slug: {DEMO_SLUG}
{staff}

Press Ctrl-C to stop.""", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    print("\nStopping…", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
