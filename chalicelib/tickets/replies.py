"""Canned replies on one ticket: the tenant's replies that suit the ticket, their placeholders filled for it, so the
console inserts text it need not assemble.

Reads: the ticket (one GetItem, through the access rules); the replies and the company's configuration from the
container's caches; the names a reply asks for and the ticket does not carry — the community's, the resident's when
the ticket has none (filed before tickets kept it) — in one BatchGetItem, only when an offered reply uses them; the
replying staff member's name from its cache. Warm, a ticket costs one round trip, two when its replies name the
community.
"""
from __future__ import annotations

from chalicelib.core.tenancy import TenantContext
from chalicelib.tenants.reply_templates import desk_order, placeholders_in, render, suits
from chalicelib.tickets.access import TicketAccess
from chalicelib.tickets.ports import CannedReplies, PlaceNames, StaffNames, TenantConfigs
from chalicelib.tickets.records import Ticket
from chalicelib.tickets.schemas import SuggestedReplyOut


class TicketReplies:
    """Owns what the reply box offers on a ticket: the canned replies of its kind and category (and the general
    ones), in the tenant's order, rendered for this ticket and this staff member."""

    def __init__(self, access: TicketAccess, configs: TenantConfigs, replies: CannedReplies, staff: StaffNames,
                 places: PlaceNames) -> None:
        self.access, self.configs, self.replies, self.staff, self.places = access, configs, replies, staff, places

    def suggestions(self, ctx: TenantContext, ticket_id: str) -> list[SuggestedReplyOut]:
        ticket = self.access.visible(ctx, ticket_id)
        offered = desk_order(r for r in self.replies.for_desk(ctx) if suits(r, ticket.kind, ticket.category))
        values = self._values(ctx, ticket, {name for reply in offered for name in placeholders_in(reply.body)})
        suggestions = []
        for reply in offered:
            text, unfilled = render(reply.body, values)
            suggestions.append(SuggestedReplyOut(id=reply.reply_id, title=reply.title, kind=reply.kind,
                                                 category=reply.category, text=text, unfilled=unfilled))
        return suggestions

    def _values(self, ctx: TenantContext, ticket: Ticket, needed: set[str]) -> dict[str, str | None]:
        """What each placeholder becomes on this ticket; only what ``needed`` names is looked up."""
        config = self.configs.config(ctx.tenant_id)
        kind = config.kind(ticket.kind)
        values: dict[str, str | None] = {
            "ticket_number": ticket.number, "kind_name": kind.name if kind else ticket.kind,
            "service_phone": config.branding.contact_phone, "resident_name": ticket.resident_name}
        if "staff_name" in needed and ctx.principal.kind == "staff":
            values["staff_name"] = self.staff.display_name(ctx, ctx.principal.id)
        resident_id = ticket.resident_id if "resident_name" in needed and not ticket.resident_name else None
        community_id = ticket.community_id if "community_name" in needed else None
        if resident_id or community_id:
            resident_name, values["community_name"] = self.places.place_names(ctx, resident_id=resident_id,
                                                                              community_id=community_id)
            values["resident_name"] = ticket.resident_name or resident_name
        return values
