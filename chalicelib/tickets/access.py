"""Who may see which ticket. A ticket the caller may not see answers 404, exactly like a missing one."""
from __future__ import annotations

from chalicelib.core.errors import NotFoundError
from chalicelib.core.permissions import Role
from chalicelib.core.tenancy import TenantContext
from chalicelib.tickets.ports import TenantConfigs, TicketStore
from chalicelib.tickets.records import Ticket


class TicketAccess:
    """Owns visibility: residents see their own tickets, technicians their jobs and their team's grab pool,
    other staff and integrations every ticket of the tenant."""

    def __init__(self, tickets: TicketStore, configs: TenantConfigs) -> None:
        self.tickets, self.configs = tickets, configs

    def visible(self, ctx: TenantContext, ticket_id: str, *, consistent: bool = False) -> Ticket:
        ticket = self.tickets.get(ctx, ticket_id, consistent=consistent)
        if ticket is None:
            raise NotFoundError()
        principal = ctx.principal
        if principal.kind == "resident" and ticket.resident_id != principal.id:
            raise NotFoundError()
        if principal.role == Role.TECHNICIAN and ticket.assignee_id != principal.id:
            in_pool = bool(ticket.grab_team and ticket.assignee_id is None
                           and principal.id in self.team_members(ctx, ticket.grab_team))
            if not in_pool:
                raise NotFoundError()
        return ticket

    def team_members(self, ctx: TenantContext, team_id: str) -> set[str]:
        team = self.configs.config(ctx.tenant_id).team(team_id)
        return {m.user_id for m in team.members} if team else set()
