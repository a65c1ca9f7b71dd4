"""Reading tickets: one ticket, the queues, what breaches next, a resident's own list, the timeline, the
conversation. Every read is one Query or GetItem."""
from __future__ import annotations

from datetime import datetime

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ForbiddenError, NotFoundError
from chalicelib.core.permissions import Role
from chalicelib.core.tenancy import TenantContext
from chalicelib.tickets.access import TicketAccess
from chalicelib.tickets.ports import TicketStore
from chalicelib.tickets.presentation import TicketPresenter
from chalicelib.tickets.public_timeline import project_timeline
from chalicelib.tickets.records import QueueFilter
from chalicelib.tickets.schemas import CommentOut, EventOut, ResidentEventOut, TicketOut, TicketQuery

TicketsPage = tuple[list[TicketOut], str | None]


class TicketQueries:
    """Owns the read side of tickets, for staff, integrations and residents alike (visibility by TicketAccess)."""

    def __init__(self, tickets: TicketStore, access: TicketAccess, presenter: TicketPresenter) -> None:
        self.tickets, self.access, self.presenter = tickets, access, presenter

    def get(self, ctx: TenantContext, ticket_id: str, now: datetime) -> TicketOut:
        return self.presenter.ticket(ctx, self.access.visible(ctx, ticket_id), now)

    def get_by_number(self, ctx: TenantContext, number: str, now: datetime) -> TicketOut:
        ticket_id = self.tickets.ticket_id_for_number(ctx, number)
        if ticket_id is None:
            raise NotFoundError()
        return self.get(ctx, ticket_id, now)

    def queue(self, ctx: TenantContext, query: TicketQuery, now: datetime) -> TicketsPage:
        """A queue page; technicians see only their own jobs or the grab pool of a team they are in. The ``flagged``
        bucket is the follow-up list: low-rated tickets no return visit has answered yet, newest flag first.
        ``assignee_id`` may be ``me`` (the caller) or ``none`` (the unassigned list); a ``resident_id`` lists that
        resident's tickets newest first, across buckets unless the caller names one."""
        assignee, pool = query.assignee_id, query.pool
        unassigned = assignee == "none"
        if assignee in ("me", "none"):
            assignee = ctx.principal.id if assignee == "me" else None
        if ctx.principal.role == Role.TECHNICIAN:
            if pool and ctx.principal.id not in self.access.team_members(ctx, pool):
                raise ForbiddenError("You are not in this team.")
            assignee = None if pool else ctx.principal.id
            unassigned = unassigned and bool(pool)
        every_bucket = query.resident_id and "bucket" not in query.model_fields_set
        spec = QueueFilter(
            bucket=None if every_bucket else query.bucket, status=query.status.value if query.status else None,
            kind=query.kind, priority=query.priority, community_id=query.community_id, unit_id=query.unit_id,
            created_from=to_rfc3339(query.created_from) if query.created_from else None,
            created_to=to_rfc3339(query.created_to) if query.created_to else None, sla_state=query.sla_state,
            assignee_id=assignee, unassigned=unassigned, pool=None if assignee else pool,
            resident_id=query.resident_id)
        tickets, cursor = self.tickets.queue(ctx, spec, query.limit, query.cursor)
        return [self.presenter.ticket(ctx, t, now) for t in tickets], cursor

    def at_risk(self, ctx: TenantContext, limit: int, cursor: str | None, now: datetime) -> TicketsPage:
        """Open tickets with a running clock, the next deadline first."""
        tickets, next_cursor = self.tickets.at_risk(ctx, limit, cursor)
        return [self.presenter.ticket(ctx, t, now) for t in tickets], next_cursor

    def my_tickets(self, ctx: TenantContext, limit: int, cursor: str | None, now: datetime) -> TicketsPage:
        tickets, next_cursor = self.tickets.queue(ctx, QueueFilter(bucket=None, resident_id=ctx.principal.id), limit,
                                                  cursor)
        return [self.presenter.ticket(ctx, t, now) for t in tickets], next_cursor

    def timeline(self, ctx: TenantContext, ticket_id: str) -> list[EventOut]:
        """The audit log of a ticket, for staff and integrations. Residents read :meth:`public_timeline`."""
        if ctx.principal.kind == "resident":
            raise ForbiddenError("Residents read the public timeline of their ticket.")
        self.access.visible(ctx, ticket_id)
        return [self.presenter.event(message) for message in self.tickets.timeline(ctx, ticket_id)]

    def public_timeline(self, ctx: TenantContext, ticket_id: str) -> list[ResidentEventOut]:
        """What the ticket's resident sees of its history: the public projection of each event (plain words, roles,
        whitelisted facts), never the audit record itself."""
        ticket = self.access.visible(ctx, ticket_id)
        return [self.presenter.resident_event(entry)
                for entry in project_timeline(self.tickets.timeline(ctx, ticket_id), ticket.resident_id)]

    def comments(self, ctx: TenantContext, ticket_id: str) -> list[CommentOut]:
        self.access.visible(ctx, ticket_id)
        resident = ctx.principal.kind == "resident"
        return [self.presenter.comment(ctx, c) for c in self.tickets.comments(ctx, ticket_id)
                if not (resident and c.visibility == "internal")]
