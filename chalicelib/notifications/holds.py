"""Quiet hours, held once: an event whose SMS, WeChat or e-mail must wait for the end of the tenant's quiet hours
is stored once as a *hold* — an item in the platform's due index under the minute its window ends (``HOLD#<UTC
yyyymmddHHMM>``) — and nothing runs for it until then. The per-minute hold sweep reads the due minutes (like the
SLA sweep: from the last minute it read, with a bounded look-back, to a minute ahead), puts each held event back
on the notifications queue to arrive on the second the window ends, and lets the hold go.

Before this, a held event went back on the queue with SQS's longest delay (15 minutes) until the window ended:
some 40 hops a night, each re-running the whole handler. Exactly once still comes from the delivery claims: an
event delivered twice during quiet hours is held once (same key), and should a hold be released twice (a sweep
that dies between sending and letting go), the second run finds every message claimed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.queues import SQS_MAX_DELAY, Send, sqs_delay
from chalicelib.core.sweeps import SweepState, due_minutes, minute_of


@dataclass(frozen=True)
class Hold:
    tenant_id: str
    event_id: str
    release_at: str  # RFC 3339, UTC: when the tenant's quiet hours end
    event: dict[str, Any]


def hold_bucket(moment: datetime) -> str:
    """The due index's bucket of a hold released at ``moment``: its UTC minute.

    >>> hold_bucket(datetime(2026, 11, 28, 8, 0, 0, tzinfo=timezone(timedelta(hours=8))))
    'HOLD#202611280000'
    """
    return f"HOLD#{moment.astimezone(timezone.utc):%Y%m%d%H%M}"


class HoldStore(Protocol):
    def hold(self, hold: Hold) -> bool:
        """Store the hold unless the event is held already; whether this call stored it."""
        ...

    def due(self, bucket: str, until: str) -> tuple[list[Hold], int]:
        """The holds of one minute bucket released up to ``until``, and the index items read."""
        ...

    def release(self, hold: Hold) -> None:
        """Let the hold go (it is back on the queue)."""
        ...


@dataclass(frozen=True)
class HoldSweepReport:
    buckets: int
    items_read: int
    released: int


class HoldSweep:
    """Owns the per-minute read of the held notifications that fall due."""

    def __init__(self, holds: HoldStore, state: SweepState, send: Send) -> None:
        self.holds, self.state, self.send = holds, state, send

    def run(self, now: datetime) -> HoldSweepReport:
        horizon = to_rfc3339(now + timedelta(seconds=SQS_MAX_DELAY))
        minutes = due_minutes(self.state.last_minute(), now)
        items_read = released = 0
        for minute in minutes:
            found, read = self.holds.due(hold_bucket(minute), horizon)
            items_read += read
            for hold in found:
                # on the queue first, then let go: a sweep dying in between sends it twice, which the claims absorb
                self.send(hold.event, sqs_delay((from_rfc3339(hold.release_at) - now).total_seconds()))
                self.holds.release(hold)
                released += 1
        self.state.save_last_minute(minute_of(now))
        return HoldSweepReport(len(minutes), items_read, released)
