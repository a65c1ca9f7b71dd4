"""What a change does to a ticket, SLA clocks included: goals met, pauses, resumes, restarts, stops.

Pure: the tenant's configuration, the ticket record and ``now`` come in; the ticket after the change, the
changed fields (before/after, for the event) and the SLA ledger entries (each becomes an ``sla.*`` event)
come out. Intake, transitions and the scheduled checks all move clocks through here.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.uow import UnitOfWork
from chalicelib.sla import domain as sla
from chalicelib.sla.policies import SlaPolicy, match_policy
from chalicelib.tenants.domain import TenantConfig
from chalicelib.tickets.domain import OPEN, Status
from chalicelib.tickets.records import Ticket

Ledger = list[dict[str, Any]]


class Reply(StrEnum):
    """A message on the ticket, as far as the reply clocks care."""

    STAFF_PUBLIC = "public reply by staff"
    RESIDENT = "reply by resident"
    INTERNAL = "internal note"


@dataclass(frozen=True)
class Cause:
    """Why a ticket changes: the words written on the SLA ledger, and the reply it was, if any."""

    text: str = ""
    reply: Reply | None = None


@dataclass(frozen=True)
class Change:
    after: Ticket
    changes: dict[str, dict[str, Any]]  # field → {"before", "after"} for the event
    ledger: Ledger


def policy_for(config: TenantConfig, ticket: Ticket, changes: dict[str, Any] | None = None) -> SlaPolicy:
    """The SLA policy matching the ticket (with these triage changes, if any)."""
    changes = changes or {}
    return match_policy(config.policies(), kind=changes.get("kind", ticket.kind),
                        category=changes.get("category", ticket.category),
                        priority=changes.get("priority", ticket.priority), community_id=ticket.community_id)


def apply_change(config: TenantConfig, ticket: Ticket, status: Status, changes: dict[str, Any], now: datetime,
                 cause: Cause, clocks: dict[str, Any] | None = None) -> Change:
    """The ticket after ``changes`` and a move to ``status``, with its clocks moved along.

    ``clocks`` are the ticket's clocks already adjusted by the caller (re-triage), else the ticket's own.
    A ``return_visit`` change appends to the ticket's return visits.
    """
    clocks = copy.deepcopy(ticket.sla or {} if clocks is None else clocks)
    ledger = move_clocks(config, ticket, clocks, status, changes, now, cause)
    values, diff = {}, {}
    for name, value in changes.items():
        if name == "return_visit":
            visits = [*ticket.return_visits, value]
            values["return_visits"] = visits
            diff["return_visits"] = {"before": len(ticket.return_visits), "after": len(visits)}
            continue
        values[name] = value
        if getattr(ticket, name) != value:
            diff[name] = {"before": getattr(ticket, name), "after": value}
    if status.value != ticket.status:
        diff["status"] = {"before": ticket.status, "after": status.value}
    auto_close_at = to_rfc3339(now + timedelta(days=config.ticket_settings.auto_close_days)) \
        if status == Status.RESOLVED else None
    after = dataclasses.replace(ticket, **values, status=status.value, sla=clocks, sla_state=sla.worst_state(clocks),
                                updated_at=to_rfc3339(now), version=ticket.version + 1, auto_close_at=auto_close_at)
    return Change(after, diff, ledger)


def move_clocks(config: TenantConfig, ticket: Ticket, clocks: dict[str, Any], status: Status,
                changes: dict[str, Any], now: datetime, cause: Cause) -> Ledger:
    """The SLA consequences of a change, applied to ``clocks``; returns the ledger entries."""
    calendars = config.calendar_for(ticket.community_id)
    before = Status(ticket.status)
    ledger: Ledger = []
    if cause.reply == Reply.STAFF_PUBLIC:
        ledger += sla.meet(clocks, "next_reply", now, calendars, cause.text)
    elif cause.reply == Reply.RESIDENT and status in OPEN:
        policy = policy_for(config, ticket)
        if "next_reply" in policy.targets and clocks.get("next_reply", {}).get("state") != "running":
            ledger += sla.restart(clocks, policy, "next_reply", now, calendars, cause.text)
    if changes.get("acknowledged_at") and not ticket.acknowledged_at:
        ledger += sla.meet(clocks, "first_response", now, calendars, cause.text or "first human response")
    if changes.get("arrived_at") and not ticket.arrived_at:
        ledger += sla.meet(clocks, "on_site", now, calendars, "arrived on site")
    if status == Status.WAITING_ON_RESIDENT and before != Status.WAITING_ON_RESIDENT:
        ledger += sla.pause(clocks, now, calendars, cause.text or "waiting on the resident")
    if before == Status.WAITING_ON_RESIDENT and status in OPEN and status != before:
        ledger += sla.resume(clocks, now, calendars, cause.text or "resident answered")
    if status == Status.RESOLVED and before != Status.RESOLVED:
        ledger += sla.meet(clocks, "resolution", now, calendars, "resolved")
        ledger += sla.stop(clocks, now, calendars, "resolved")
    if status in OPEN and before in (Status.RESOLVED, Status.CLOSED):
        ledger += sla.restart(clocks, policy_for(config, ticket), "resolution", now, calendars, "reopened")
    if status in (Status.CLOSED, Status.CANCELLED) and before in OPEN:
        ledger += sla.stop(clocks, now, calendars, status.value)
    return ledger


def record_ledger(uow: UnitOfWork, ticket_id: str, ledger: Ledger) -> None:
    """Each ledger entry becomes an internal ``sla.*`` event of the ticket, in the same transaction."""
    for entry in ledger:
        uow.record(entry["type"], subject=("ticket", ticket_id),
                   data={**{k: v for k, v in entry.items() if k != "type"}, "visibility": "internal"})
