"""The bench steps that count what notifications cost measure the common case: a tenant whose residents are awake.

Quiet hours (22:00–08:00 in the tenant's time zone) hold a resident's SMS and write a hold item for it, so the same
lifecycle costs more write units and consumer calls at night than by day. A step's tenant takes a time zone where it
is daytime now, and the figures no longer depend on the hour ``make bench`` is run."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

ZONES = ("Asia/Shanghai", "Europe/London", "America/New_York", "Pacific/Honolulu", "Asia/Kolkata")


def daytime_zone(now: datetime | None = None) -> str:
    """A time zone where it is daytime (09:00–21:00) at ``now``.

    >>> daytime_zone(datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc))  # 10:00 in Shanghai
    'Asia/Shanghai'
    >>> daytime_zone(datetime(2026, 11, 28, 14, 30, tzinfo=timezone.utc))  # 22:30 in Shanghai, 14:30 in London
    'Europe/London'
    """
    now = now or datetime.now(timezone.utc)
    for name in ZONES:
        if 9 <= now.astimezone(ZoneInfo(name)).hour < 21:
            return name
    return ZONES[0]
