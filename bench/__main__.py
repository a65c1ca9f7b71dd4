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
        print(writecost.report(writecost.run()))
    print("\nConsumers: AWS calls per event over that lifecycle, with one webhook endpoint and without\n")
    with own_environment():
        print(consumers.report(consumers.run()))
    print("\nConsumers under load: SMS and webhook lag and queue backlog, 8 clients for 60 s\n")
    with own_environment():
        print(lag.report(lag.run()))
    print("\nQueue pages: the first page of each filter at 1k / 10k / 100k tickets\n")
    with own_environment():
        print(pages.report(pages.run()))
    print("\nCold start\n")
    with own_environment():
        print(coldstart.report(*coldstart.run()))
    print("\nFirst request of a new container: import app + one request in a fresh interpreter, against the floor\n")
    with own_environment():
        print(firstrequest.report(firstrequest.run()))
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


if __name__ == "__main__":
    main()
