"""The per-minute sweeps of the platform-wide due index (SLA checks, held notifications): which minute buckets a
run reads, and where it keeps the last one it read."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

LOOK_AHEAD = timedelta(minutes=1)
MIN_LOOKBACK = timedelta(minutes=5)
MAX_LOOKBACK = timedelta(hours=2)


class SweepState(Protocol):
    def last_minute(self) -> datetime | None: ...
    def save_last_minute(self, minute: datetime) -> None: ...


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def due_minutes(last: datetime | None, now: datetime) -> list[datetime]:
    """The minute buckets a run at ``now`` reads: from the last one read — at least five minutes back (an item
    written late into a past bucket is still found), at most two hours (a sweep that stopped for a day does not
    read the whole day) — to a minute ahead.

    >>> from datetime import timezone
    >>> now = datetime(2026, 11, 28, 8, 0, 30, tzinfo=timezone.utc)
    >>> [m.strftime("%H:%M") for m in due_minutes(now - timedelta(minutes=1), now)]
    ['07:55', '07:56', '07:57', '07:58', '07:59', '08:00', '08:01']
    >>> len(due_minutes(now - timedelta(days=1), now))
    122
    """
    start = last or now - MIN_LOOKBACK
    minute = minute_of(max(min(start, now - MIN_LOOKBACK), now - MAX_LOOKBACK))
    end = minute_of(now + LOOK_AHEAD)
    out = []
    while minute <= end:
        out.append(minute)
        minute += timedelta(minutes=1)
    return out
