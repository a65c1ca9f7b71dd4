"""SLA timers: the per-minute sweep reads only the due minute buckets of the DueIndex and schedules exact
checks on the SLA queue with a delay; the SLA consumer hands each check to the ticket context, which
records the marks due exactly once (``tickets.scheduled.SlaChecks``). A check is sent to arrive on the
second its mark falls due, with no slack: one that arrives early anyway waits again on the queue."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.observability import logger
from chalicelib.core.queues import SQS_MAX_DELAY, Send, sqs_delay
from chalicelib.core.sweeps import SweepState, due_minutes, minute_of


class DueIndexReader(Protocol):
    def sla_due(self, due_bucket: str, until: str) -> tuple[list[tuple[str, str, str]], int]:
        """(tenant_id, ticket_id, due_at) due in one minute bucket up to ``until``, and the items read."""
        ...


@dataclass(frozen=True)
class SweepReport:
    buckets: int
    items_read: int
    scheduled: int


class SlaSweep:
    """Owns the per-minute scan of the due index: from the last bucket read (bounded look-back) to now + 1 min."""

    def __init__(self, due: DueIndexReader, state: SweepState, send_check: Send) -> None:
        self.due, self.state, self.send_check = due, state, send_check

    def run(self, now: datetime) -> SweepReport:
        horizon = to_rfc3339(now + timedelta(seconds=SQS_MAX_DELAY))
        minutes = due_minutes(self.state.last_minute(), now)
        items_read = scheduled = 0
        for minute in minutes:
            found, read = self.due.sla_due(f"SLA#{minute:%Y%m%d%H%M}", horizon)
            items_read += read
            for tenant_id, ticket_id, due_at in found:
                delay = sqs_delay((from_rfc3339(due_at) - now).total_seconds())  # rounded up
                self.send_check({"type": "sla_check", "tenant_id": tenant_id, "ticket_id": ticket_id,
                                 "due_at": due_at}, delay)
                scheduled += 1
        self.state.save_last_minute(minute_of(now))
        return SweepReport(len(minutes), items_read, scheduled)


def handle_check(body: dict[str, Any], check: Callable[[str, str, datetime], list[dict[str, Any]]],
                 now: datetime, wait_again: Send) -> list[dict[str, Any]]:
    """One SLA queue message → the ticket context's check (other messages are logged and dropped).

    A check that arrives before its ``due_at`` (this host's clock behind the sender's) goes back on the
    queue for the rest of the wait instead of finding nothing due and leaving the mark to the next sweep."""
    if body.get("type") != "sla_check":
        logger.warning("unexpected message on the SLA queue", extra={"type": body.get("type")})
        return []
    early = (from_rfc3339(body["due_at"]) - now).total_seconds() if body.get("due_at") else 0
    if early > 0:
        wait_again(body, sqs_delay(early))
        return []
    return check(body["tenant_id"], body["ticket_id"], now)
