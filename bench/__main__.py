"""``make bench``: AWS round trips per route (warm) and cold-start import time."""
from __future__ import annotations

from bench import coldstart, roundtrips


def main() -> None:
    print("AWS round trips per request (botocore before-call hook; warm container)\n")
    print(roundtrips.report(roundtrips.run()))
    print("\nCold start\n")
    print(coldstart.report(*coldstart.run()))


if __name__ == "__main__":
    main()
