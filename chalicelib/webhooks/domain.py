"""Webhook records (endpoints, deliveries) and delivery rules: the retry schedule, what a response means,
event-type filters. Pure."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from chalicelib.core.clock import to_rfc3339

# Seconds to wait before attempt n+1 after attempt n failed (the Standard Webhooks schedule):
# at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts over about 27.5 hours.
SCHEDULE: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(SCHEDULE)
JITTER = 0.1
MAX_RETRY_AFTER = 24 * 3600
EXCERPT_BYTES = 1024
DELIVERY_LOG_DAYS = 30


@dataclass(frozen=True)
class Endpoint:
    """A tenant's webhook endpoint. ``secrets`` are sealed: ``[{"sealed", "hint", "created_at", "expires_at"?}]``."""

    endpoint_id: str
    url: str
    created_at: str
    updated_at: str
    description: str = ""
    event_types: list[str] = field(default_factory=list)
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: str | None = None
    failing_since: str | None = None
    secrets: list[dict[str, Any]] = field(default_factory=list)
    version: int = 1


@dataclass(frozen=True)
class Delivery:
    """One event to one endpoint (``dlv_<event token>``): its exact body and every attempt made."""

    delivery_id: str
    tenant_id: str
    endpoint_id: str
    webhook_id: str  # the event id: the webhook-id header of every attempt and replay
    event_type: str
    body: str
    created_at: str
    status: str = "pending"  # pending | succeeded | failed
    attempts: list[dict[str, Any]] = field(default_factory=list)
    attempts_made: int = 0
    lease_until: str | None = None
    next_attempt_at: str | None = None
    expires_at: int | None = None


def new_delivery(tenant_id: str, endpoint_id: str, event: dict[str, Any], payload: dict[str, Any],
                 now: datetime) -> Delivery:
    """The delivery of an event to an endpoint, before its first attempt (kept 30 days).

    Example
    -------
    >>> from datetime import timezone
    >>> d = new_delivery("tnt_1", "whk_1", {"id": "evt_01", "type": "webhook.test"}, {"a": 1},
    ...                  datetime(2026, 11, 27, tzinfo=timezone.utc))
    >>> d.delivery_id, d.body, d.status, d.next_attempt_at
    ('dlv_01', '{"a":1}', 'pending', '2026-11-27T00:00:00.000Z')
    """
    return Delivery(delivery_id="dlv_" + event["id"].removeprefix("evt_"), tenant_id=tenant_id,
                    endpoint_id=endpoint_id, webhook_id=event["id"], event_type=event["type"],
                    body=json.dumps(payload, ensure_ascii=False, separators=(",", ":")), created_at=to_rfc3339(now),
                    next_attempt_at=to_rfc3339(now),
                    expires_at=int((now + timedelta(days=DELIVERY_LOG_DAYS)).timestamp()))


def attempt_message(delivery: Delivery, attempt: int, not_before: str | None = None, *,
                    manual: bool = False) -> dict[str, Any]:
    """The queue message that runs one attempt of a delivery.

    Example
    -------
    >>> d = Delivery("dlv_01", "tnt_1", "whk_1", "evt_01", "ticket.created", "{}", "2026-11-27T00:00:00.000Z")
    >>> attempt_message(d, 2)["attempt"], attempt_message(d, 1, manual=True)["manual"]
    (2, True)
    """
    return {"kind": "webhook.attempt", "tenant_id": delivery.tenant_id, "endpoint_id": delivery.endpoint_id,
            "delivery_id": delivery.delivery_id, "attempt": attempt, "not_before": not_before, "manual": manual}


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
