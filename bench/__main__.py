"""``make bench``: AWS round trips per route (warm), write units per ticket lifecycle, consumer calls per event and
lag under load, queue page cost per filter and size, cold-start import time, SLA sweep scaling, fair share, and the
weight and speed of the staff console and the resident page.

Each step starts its own embedded stack, which sets the local stage's environment (``LINLI_*``, ``AWS_ENDPOINT_URL``);
every step runs in the environment ``make bench`` was started with, restored after the step before it.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from bench import (  # noqa: E402
    coldstart,
    console,
    consumers,
    fairshare,
    firstrequest,
    lag,
    pages,
    reports,
    resident,
    roundtrips,
    sweep,
    writecost,
)


@contextmanager
def own_environment() -> Iterator[None]:
    """The step changes ``os.environ`` as it likes; the next one starts from what was there before."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    print("AWS round trips per request (botocore before-call hook; warm container)\n")
    with own_environment():
        print(roundtrips.report(roundtrips.run()))
    print("\nDynamoDB write units of one ticket's lifecycle (item sizes, GSI entries, ×2 in transactions; consumers "
          "included)\n")
    with own_environment():
        steps = writecost.run()
        print(writecost.report(steps))
    print("\nConsumers: AWS calls per event over that lifecycle, with one webhook endpoint and without\n")
    with own_environment():
        calls = consumers.run()
        print(consumers.report(calls))
    print("\nConsumers under load: SMS and webhook lag and queue backlog, 8 clients for 60 s\n")
    with own_environment():
        load = lag.run()
        print(lag.report(load))
    print("\nQueue pages: the first page of each filter at 1k / 10k / 100k tickets\n")
    with own_environment():
        page_rows = pages.run()
        print(pages.report(page_rows))
    print("\nCold start\n")
    with own_environment():
        print(coldstart.report(*coldstart.run()))
    print("\nFirst request of a new container: import app + one request in a fresh interpreter, against the floor\n")
    with own_environment():
        first = firstrequest.run()
        print(firstrequest.report(first))
    print("\nSLA sweep: items read with N open tickets, 10 due\n")
    with own_environment():
        print(sweep.report(sweep.run()))
    print("\nFair share: tenant B's queue page alone and while tenant A floods (loopback HTTP, deployed limits)\n")
    with own_environment():
        print(fairshare.report(fairshare.run()))
    print("\nReports: rollup items read and latency of the dashboard's figures at 1k / 10k / 100k tickets\n")
    with own_environment():
        print(reports.report(reports.run()))
    print("\nStaff console: JavaScript per route (gzip) and navigation → queue rendered (built by make web)\n")
    with own_environment():
        print(console.report(console.run()))
    print("\nResident page: JavaScript for home + report (gzip), tap 提交 → ticket on screen (built by make web)\n")
    with own_environment():
        print(resident.report(resident.run()))
    print("\nCost and scale against the performance issue's goals\n")
    print(summary(steps, calls, load, page_rows, first))


def summary(steps: list[writecost.Step], calls: list[consumers.Result], load: lag.Figures,
            page_rows: list[pages.Row], first: list[firstrequest.Row]) -> str:
    """One table: each goal of the performance issue, what was measured, and whether it holds."""
    lifecycle = sum(step.tally.total for step in steps)
    with_hooks = next(r for r in calls if r.webhooks)
    without = next(r for r in calls if not r.webhooks)
    per_delivery = sum(with_hooks.calls.get("webhooks_consumer", {}).values()) / max(with_hooks.deliveries, 1)
    per_event = sum(with_hooks.calls.get("notifications_consumer", {}).values()) / max(with_hooks.events, 1)
    quiet_tenant = sum(without.calls.get("webhooks_consumer", {}).values()) / max(without.events, 1)
    worst_trips = max(r.round_trips for r in page_rows)
    worst_read = max(r.items_read for r in page_rows)
    floor = first[0].total_ms
    worst_first = max(r.total_ms for r in first[1:]) / floor
    sms_p95, hook_p95 = lag.p95(load.sms_lags), lag.p95(load.webhook_lags)
    rows = [
        ("write units, one ticket lifecycle", f"{lifecycle}", "≤ 70", lifecycle <= 70),
        ("queue page: round trips (worst filter, ≤100k)", f"{worst_trips}", "≤ 2", worst_trips <= 2),
        ("queue page: items read (worst filter, page 25)", f"{worst_read}", "≤ 50", worst_read <= 50),
        ("first request ÷ floor (worst route)", f"{worst_first:.2f}×", "≤ 1.5×", worst_first <= 1.5),
        ("webhooks: AWS calls per delivery", f"{per_delivery:.2f}", "≤ 4", per_delivery <= 4),
        ("notifications: AWS calls per event", f"{per_event:.2f}", "≤ 4", per_event <= 4),
        ("webhooks: calls per event, tenant without endpoints", f"{quiet_tenant:.2f}", "0", quiet_tenant == 0),
        ("SMS lag p95 under load", f"{sms_p95:.1f} s", "≤ 10 s", sms_p95 <= 10),
        ("webhook lag p95 under load", f"{hook_p95:.1f} s", "≤ 10 s", hook_p95 <= 10),
    ]
    lines = [f"{'goal':<52} {'measured':>10} {'target':>8}  holds", "-" * 80]
    lines += [f"{name:<52} {value:>10} {target:>8}  {'yes' if ok else 'NO'}" for name, value, target, ok in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
