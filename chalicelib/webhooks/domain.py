"""Webhook delivery rules: the retry schedule, what a response means, event-type filters. Pure."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# Seconds to wait before attempt n+1 after attempt n failed (the Standard Webhooks schedule):
# at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts over about 27.5 hours.
SCHEDULE: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(SCHEDULE)
JITTER = 0.1
MAX_RETRY_AFTER = 24 * 3600
EXCERPT_BYTES = 1024


def retry_delay(attempt: int, *, scale: float = 1.0, rand: random.Random | None = None,
                retry_after: float | None = None) -> float | None:
    """Seconds before the attempt after ``attempt`` (1-based), or None when the schedule is spent.

    A receiver's ``Retry-After`` (429/503) wins over the schedule. Delays carry ±10 % jitter so
    retries of one outage don't arrive in step; ``scale`` compresses the schedule (local stage).

    Example
    -------
    >>> retry_delay(1, rand=random.Random(1)) is not None and 4.5 <= retry_delay(1, rand=random.Random(1)) <= 5.5
    True
    >>> retry_delay(8) is None
    True
    >>> retry_delay(2, retry_after=60)
    60.0
    """
    if attempt >= MAX_ATTEMPTS:
        return None
    if retry_after is not None:
        return float(min(max(retry_after, 0), MAX_RETRY_AFTER))
    base = SCHEDULE[attempt] * scale
    spread = (rand or random).uniform(-JITTER, JITTER)
    return max(0.0, base * (1 + spread))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date.

    Example
    -------
    >>> from datetime import timezone
    >>> parse_retry_after("120", datetime(2026, 11, 27, tzinfo=timezone.utc))
    120.0
    >>> parse_retry_after("Fri, 27 Nov 2026 00:01:00 GMT", datetime(2026, 11, 27, tzinfo=timezone.utc))
    60.0
    >>> parse_retry_after("soon", datetime(2026, 11, 27, tzinfo=timezone.utc)) is None
    True
    >>> parse_retry_after("Fri, 27 Nov 2026 00:01:00 -0000", datetime(2026, 11, 27, tzinfo=timezone.utc))
    60.0
    >>> parse_retry_after("²", datetime(2026, 11, 27, tzinfo=timezone.utc)) is None
    True
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
        if moment.tzinfo is None:  # "-0000" and zone-less dates: HTTP dates are GMT
            moment = moment.replace(tzinfo=now.tzinfo)
        return max(0.0, (moment - now).total_seconds())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


@dataclass(frozen=True)
class Outcome:
    ok: bool
    disable_endpoint: bool = False
    retry: bool = False
    retry_after: float | None = None
    reason: str = ""


def classify(status: int | None, headers: dict[str, str], now: datetime, error: str | None = None) -> Outcome:
    """What an attempt's result means for the delivery and the endpoint.

    Example
    -------
    >>> from datetime import timezone
    >>> t = datetime(2026, 11, 27, tzinfo=timezone.utc)
    >>> classify(204, {}, t).ok, classify(410, {}, t).disable_endpoint, classify(500, {}, t).retry
    (True, True, True)
    >>> classify(429, {"retry-after": "30"}, t).retry_after
    30.0
    >>> classify(302, {}, t).reason
    'redirects are not followed (302)'
    """
    if status is None:
        return Outcome(ok=False, retry=True, reason=error or "no response")
    if 200 <= status < 300:
        return Outcome(ok=True, reason=f"{status}")
    if status == 410:
        return Outcome(ok=False, disable_endpoint=True, reason="410 Gone: the endpoint asked to be disabled")
    if status in (429, 503):
        return Outcome(ok=False, retry=True, retry_after=parse_retry_after(headers.get("retry-after"), now),
                       reason=f"{status}")
    if 300 <= status < 400:
        return Outcome(ok=False, retry=True, reason=f"redirects are not followed ({status})")
    return Outcome(ok=False, retry=True, reason=f"{status}")


def should_auto_disable(failing_since: datetime | None, now: datetime, after_seconds: int) -> bool:
    """An endpoint failing without a single success for ``after_seconds`` (5 days) is disabled.

    Example
    -------
    >>> from datetime import timezone
    >>> t = datetime(2026, 11, 27, tzinfo=timezone.utc)
    >>> should_auto_disable(t - timedelta(days=5), t, 5 * 86400), should_auto_disable(None, t, 5 * 86400)
    (True, False)
    """
    return failing_since is not None and now - failing_since >= timedelta(seconds=after_seconds)


def matches(filters: list[str], event_type: str) -> bool:
    """Does an endpoint's event-type filter take this type? Empty = everything; ``ticket.*`` = a family.

    Example
    -------
    >>> matches([], "ticket.created"), matches(["ticket.*"], "ticket.resolved")
    (True, True)
    >>> matches(["sla.breached"], "sla.warning")
    False
    >>> matches(["ticket.created"], "webhook.test")
    True
    """
    if not filters or event_type == "webhook.test":
        return True
    return any(f == event_type or f == "*" or (f.endswith(".*") and event_type.startswith(f[:-1])) for f in filters)
