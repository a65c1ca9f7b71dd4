"""``python -m devstack``: start the embedded stack and wait for Ctrl-C; its data persists in ``LINLI_DATA_DIR``
(``.linli/``). ``python -m devstack reset`` (``make reset``) deletes that data."""
from __future__ import annotations

import os
import signal
import sys
import threading

from devstack.journal import DataDirBusyError, data_dir_from_env, reset_data, shown


def reset() -> int:
    root = data_dir_from_env()
    try:
        removed = reset_data(root)
    except DataDirBusyError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Deleted the local stack's data in {shown(root)}" if removed else f"No local stack data in {shown(root)}",
          "(the next make run starts fresh, with the demo tenant).")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["reset"]:
        return reset()
    if argv:
        print("usage: python -m devstack [reset]", file=sys.stderr)
        return 2
    from chalicelib.core.settings import SettingsError
    from devstack.banner import LOG_LEVELS, banner
    from devstack.stack import LocalStack, PortBusyError

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
    stack = LocalStack(http_port=http_port, aws_port=aws_port, log_level=log_level, data_dir=data_dir_from_env())
    try:
        stack.start()
    except (PortBusyError, DataDirBusyError) as exc:
        print(exc, file=sys.stderr)
        return 1
    except SettingsError as exc:  # e.g. LINLI_STAGE=prod in the shell: the embedded stack is the local stage
        print(f"Settings: {exc}", file=sys.stderr)
        return 2
    month = os.environ.get("LINLI_DEMO_MONTH", "").strip()
    if month:  # a month of the demo tenant's tickets for the reports (devstack/seedmonth.py)
        if not month.isdigit() or not 0 < int(month) <= 20000:
            print("LINLI_DEMO_MONTH must be a number of tickets, 1–20000.", file=sys.stderr)
            stack.stop()
            return 2
        from devstack.seedmonth import fill_demo

        print(f"Filing {month} tickets over the last 30 days for the demo tenant (about a second each)…", flush=True)
        filled = fill_demo(int(month))
        print(f"Filed {len(filled.ticket_ids)} tickets ({sum(filled.actions.values())} actions).", flush=True)
    print(banner(stack.api_url, stack.endpoint, stack.table_name, log_level=log_level,
                 data_dir=shown(stack.data_dir) if stack.journal else None), flush=True)
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
    sys.exit(main(sys.argv[1:]))
