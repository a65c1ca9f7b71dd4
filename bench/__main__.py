"""``make bench``: AWS round trips per route (warm) and cold-start import time."""
from __future__ import annotations

import os

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from bench import coldstart, roundtrips, sweep  # noqa: E402


def main() -> None:
    print("AWS round trips per request (botocore before-call hook; warm container)\n")
    print(roundtrips.report(roundtrips.run()))
    print("\nCold start\n")
    print(coldstart.report(*coldstart.run()))
    print("\nSLA sweep: items read with N open tickets, 10 due\n")
    print(sweep.report(sweep.run()))


if __name__ == "__main__":
    main()
