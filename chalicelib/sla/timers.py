"""SLA timers: the per-minute sweep reads only due buckets of the DueIndex and schedules exact checks
on the SLA queue with a delay; the consumer records marks exactly once and pages the escalation chain."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.observability import logger
from chalicelib.core.queues import SQS_MAX_DELAY, Send, sqs_delay
from chalicelib.tickets.repository import SweepStateItem, TicketRepository

LOOK_AHEAD = timedelta(minutes=1)
MIN_LOOKBACK = timedelta(minutes=5)
MAX_LOOKBACK = timedelta(hours=2)
SendCheck = Send


@dataclass(frozen=True)
class SweepReport:
    buckets: int
    items_read: int
    scheduled: int


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class SlaSweep:
    def __init__(self, repo: TicketRepository, send_check: SendCheck) -> None:
        self.repo = repo
        self.send_check = send_check

    def run(self, now: datetime) -> SweepReport:
        state = SweepStateItem("SWEEP#SLA", "STATE")
        try:
            state.refresh(consistent_read=True)
            last = from_rfc3339(state.last_minute)
        except DoesNotExist:
            last = now - MIN_LOOKBACK
        start = _minute(max(min(last, now - MIN_LOOKBACK), now - MAX_LOOKBACK))
        end = _minute(now + LOOK_AHEAD)
        horizon = to_rfc3339(now + timedelta(seconds=SQS_MAX_DELAY))
        buckets = items_read = scheduled = 0
        minute = start
        while minute <= end:
            found, read = self.repo.sla_due(f"SLA#{minute:%Y%m%d%H%M}", horizon)
            buckets, items_read = buckets + 1, items_read + read
            for tenant_id, ticket_id, due_at in found:
                # round up (and a second of slack): a check that arrives early finds nothing due yet
                delay = sqs_delay((from_rfc3339(due_at) - now).total_seconds() + 1)
                self.send_check({"type": "sla_check", "tenant_id": tenant_id, "ticket_id": ticket_id,
                                 "due_at": due_at}, delay)
                scheduled += 1
            minute += timedelta(minutes=1)
        state.last_minute = to_rfc3339(_minute(now))
        state.save()
        return SweepReport(buckets, items_read, scheduled)



def handle_check(body: dict[str, Any], check: Callable[[str, str, datetime], list[dict[str, Any]]],
                 now: datetime) -> list[dict[str, Any]]:
    if body.get("type") != "sla_check":
        logger.warning("unexpected message on the SLA queue", extra={"type": body.get("type")})
        return []
    return check(body["tenant_id"], body["ticket_id"], now)
