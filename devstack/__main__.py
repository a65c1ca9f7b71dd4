"""``python -m devstack``: start the embedded stack and wait for Ctrl-C."""
from __future__ import annotations

import os
import signal
import sys
import threading

from chalicelib.core.settings import SettingsError
from devstack.banner import LOG_LEVELS, banner
from devstack.stack import LocalStack, PortBusyError


def main() -> int:
    try:
        http_port = int(os.environ.get("LINLI_HTTP_PORT", "8000"))
        aws_port = int(os.environ.get("LINLI_AWS_PORT", "4566"))
    except ValueError:
        print("LINLI_HTTP_PORT and LINLI_AWS_PORT must be port numbers.", file=sys.stderr)
        return 2
    log_level = os.environ.get("LINLI_LOG_LEVEL", "WARNING").strip().upper()
    if log_level not in LOG_LEVELS:
        print(f"LINLI_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} (got {log_level!r}).", file=sys.stderr)
        return 2
    stack = LocalStack(http_port=http_port, aws_port=aws_port, log_level=log_level)
    try:
        stack.start()
    except PortBusyError as exc:
        print(exc, file=sys.stderr)
        return 1
    except SettingsError as exc:  # e.g. LINLI_STAGE=prod in the shell: the embedded stack is the local stage
        print(f"Settings: {exc}", file=sys.stderr)
        return 2
    print(banner(stack.api_url, stack.endpoint, stack.table_name, log_level=log_level), flush=True)
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
