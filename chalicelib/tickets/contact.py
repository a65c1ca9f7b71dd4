"""Reaching a ticket's resident: the desk shows their phone masked (copied onto the ticket when it is filed); the
full number is revealed on purpose, to those whose work needs it, and every reveal is on the record.

A reveal is one transaction before the number leaves: the audit event ``resident.phone_revealed`` in the ticket's
timeline (who, which ticket, which resident — never the number) and the staff member's count of reveals this hour.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core.errors import ForbiddenError, NotFoundError, RateLimitedError
from chalicelib.core.permissions import Role
from chalicelib.core.privacy import may_see_phones
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.tickets.access import TicketAccess
from chalicelib.tickets.domain import OPEN, Status
from chalicelib.tickets.ports import ResidentPhones
from chalicelib.tickets.records import Ticket
from chalicelib.tickets.schemas import RevealedPhoneOut

REVEALS_PER_HOUR = 60  # per staff member, across every container: a busy phone desk's hour, far below a harvest


def may_reveal(ctx: TenantContext, ticket: Ticket) -> bool:
    """Who sees a ticket's resident's full phone: staff who manage residents (``core.privacy.may_see_phones``:
    admins, supervisors, agents), and the technician the ticket is assigned to while it is open (they call to
    arrange the visit). Butlers, other technicians, residents and API keys do not.

    Example
    -------
    >>> from dataclasses import replace
    >>> from chalicelib.core.permissions import permissions_for
    >>> from chalicelib.core.tenancy import Principal
    >>> tech = TenantContext("tnt_1", Principal("staff", "usr_t", Role.TECHNICIAN, permissions_for(Role.TECHNICIAN)))
    >>> job = Ticket("tkt_1", "tnt_1", "1", "repair", "normal", "in_progress", "漏水", "h5", "res_1", {}, "com_1",
    ...              {}, "t", "t", assignee_id="usr_t")
    >>> may_reveal(tech, job), may_reveal(tech, replace(job, status="closed"))
    (True, False)
    >>> may_reveal(tech, replace(job, assignee_id="usr_other"))
    False
    """
    principal = ctx.principal
    if may_see_phones(principal):
        return True
    return (principal.kind == "staff" and principal.role == Role.TECHNICIAN and ticket.assignee_id == principal.id
            and Status(ticket.status) in OPEN)


class ResidentContact:
    """Owns the audited reveal of a ticket's resident's phone (:func:`may_reveal`, at most ``REVEALS_PER_HOUR`` per
    staff member)."""

    def __init__(self, access: TicketAccess, residents: ResidentPhones, new_uow: UnitOfWorkFactory) -> None:
        self.access, self.residents, self.new_uow = access, residents, new_uow

    def reveal_phone(self, ctx: TenantContext, ticket_id: str, now: datetime) -> RevealedPhoneOut:
        """The full number of the ticket's resident, once the reveal is recorded: 404 for a ticket the caller cannot
        see (another tenant's included), 403 for a caller :func:`may_reveal` refuses, 429 past the hourly count."""
        ticket = self.access.visible(ctx, ticket_id)
        if not may_reveal(ctx, ticket):
            raise ForbiddenError("Only staff who manage residents, or the technician assigned to this open ticket, "
                                 "may see the resident's full phone number.")
        resident = self.residents.get_resident(ctx, ticket.resident_id)
        if resident is None:
            raise NotFoundError("The ticket's resident is no longer registered.", code="resident_not_found")
        hour = now.replace(minute=0, second=0, microsecond=0)
        next_hour = hour + timedelta(hours=1)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.residents.stage_phone_reveal_count(
            uow, ctx, ctx.principal.id, hour.strftime("%Y%m%d%H"), cap=REVEALS_PER_HOUR,
            expires_at=int((next_hour + timedelta(hours=1)).timestamp()), on_conflict=RateLimitedError(
                f"You have seen {REVEALS_PER_HOUR} full phone numbers this hour; the masked number is on the ticket.",
                code="reveal_limit", retry_after=int((next_hour - now).total_seconds()) + 1))
        uow.record("resident.phone_revealed", subject=("ticket", ticket.ticket_id),
                   data={"resident_id": resident.resident_id})
        uow.commit()
        return RevealedPhoneOut(resident_id=resident.resident_id, phone=resident.phone)
