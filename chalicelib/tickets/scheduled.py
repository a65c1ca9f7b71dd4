"""What the schedules do to tickets: record the SLA marks that fell due, and auto-close resolved tickets the
resident did not confirm in time."""
from __future__ import annotations

import copy
import dataclasses
from datetime import datetime, timedelta

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, LinliError
from chalicelib.core.observability import logger
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.sla import domain as sla
from chalicelib.tickets import domain
from chalicelib.tickets.domain import Action, Status
from chalicelib.tickets.errors import SlaMarkRecordedError
from chalicelib.tickets.ports import TicketStore
from chalicelib.tickets.schemas import ActionIn
from chalicelib.tickets.sla_effects import Ledger, record_ledger
from chalicelib.tickets.transitions import TicketTransitions

SLA_CHECK_ATTEMPTS = 4
AUTO_CLOSE_LOOKBACK_HOURS = 72


class TicketSchedules:
    """Owns the timed side of tickets: SLA warnings, breaches and escalation steps, each recorded exactly once
    (a conditional mark item per clock cycle) as ``sla.*`` events — the notifications rules page from those —
    and the hourly auto-close."""

    def __init__(self, tickets: TicketStore, transitions: TicketTransitions, new_uow: UnitOfWorkFactory) -> None:
        self.tickets, self.transitions, self.new_uow = tickets, transitions, new_uow

    def sla_check(self, tenant_id: str, ticket_id: str, now: datetime) -> Ledger:
        """Record every SLA mark due now on one ticket; returns the ledger entries recorded."""
        ctx = TenantContext(tenant_id, Principal("system", "sla"))
        for attempt in range(SLA_CHECK_ATTEMPTS):
            ticket = self.tickets.get(ctx, ticket_id, consistent=True)
            if ticket is None or Status(ticket.status) not in domain.OPEN:
                return []
            clocks = copy.deepcopy(ticket.sla or {})
            marks = sla.due_marks(clocks, now)
            if not marks:
                return []
            uow = self.new_uow(tenant_id, ctx.actor, now)
            entries = []
            while marks:  # a breach whose first escalation step is due at once pages in the same check
                for clock, mark, step in marks:
                    self.tickets.stage_sla_mark(uow, ctx, ticket_id, f"{clock}#{clocks[clock]['cycle']}#{mark}#{step}",
                                                now)
                    entries.append(sla.record(clocks, clock, mark, step, now))
                marks = sla.due_marks(clocks, now)
            after = dataclasses.replace(ticket, sla=clocks, sla_state=sla.worst_state(clocks) or "met",
                                        version=ticket.version + 1, updated_at=to_rfc3339(now))
            self.tickets.stage_update(uow, ctx, ticket, after, on_conflict=ConflictError(code="write_conflict"))
            record_ledger(uow, ticket_id, entries)
            try:
                uow.commit()
            except SlaMarkRecordedError:
                continue  # another sweep or a redelivered message recorded it: re-read and see
            except ConflictError as exc:
                if exc.code != "write_conflict" or attempt == SLA_CHECK_ATTEMPTS - 1:
                    raise
                continue
            return entries
        return []

    def auto_close_due(self, now: datetime, lookback_hours: int = AUTO_CLOSE_LOOKBACK_HOURS) -> int:
        """Close resolved tickets the resident did not confirm within the tenant's window."""
        closed = 0
        until = to_rfc3339(now)
        for hours_ago in range(lookback_hours, -1, -1):
            due_bucket = f"DUE#{now - timedelta(hours=hours_ago):%Y%m%d%H}"
            for tenant_id, ticket_id in self.tickets.auto_close_due(due_bucket, until):
                ctx = TenantContext(tenant_id, Principal("system", "auto-close"))
                try:
                    self.transitions.act(ctx, ticket_id, Action.AUTO_CLOSE, ActionIn(), None, now)
                    closed += 1
                except LinliError as exc:  # closed or reopened meanwhile: nothing to do
                    logger.info("auto-close skipped", extra={"ticket_id": ticket_id, "reason": exc.code})
        return closed
