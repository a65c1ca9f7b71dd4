"""The one clock. Pure code takes ``now``; edges ask the clock."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_rfc3339(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with millisecond precision.

    Example
    -------
    >>> to_rfc3339(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc))
    '2026-01-02T03:04:05.678Z'
    """
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def from_rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
