"""Records → what the API shows the caller. Residents see less: no internal notes or staff bookkeeping."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.tenancy import TenantContext
from chalicelib.sla import domain as sla
from chalicelib.tickets import domain
from chalicelib.tickets.ports import AttachmentSigner, TenantConfigs
from chalicelib.tickets.public_timeline import PublicEntry
from chalicelib.tickets.records import Comment, Ticket, actor_of
from chalicelib.tickets.schemas import AttachmentOut, CommentOut, EventOut, ResidentEventOut, TicketOut


class TicketPresenter:
    """Owns the ticket's outward shape: fields by audience, SLA clocks, the actions allowed now,
    short-lived photo links."""

    def __init__(self, configs: TenantConfigs, attachments: AttachmentSigner) -> None:
        self.configs, self.attachments = configs, attachments

    def ticket(self, ctx: TenantContext, ticket: Ticket, now: datetime) -> TicketOut:
        resident = ctx.principal.kind == "resident"
        settings = self.configs.config(ctx.tenant_id).ticket_settings
        policy = domain.Policy(settings.reopen_window_days, settings.rating_window_days, settings.low_rating_action)
        return TicketOut(
            id=ticket.ticket_id, number=ticket.number, kind=ticket.kind, category=ticket.category,
            priority=ticket.priority, status=domain.Status(ticket.status), description=ticket.description,
            channel=ticket.channel, resident_id=ticket.resident_id,
            resident_name=None if resident else ticket.resident_name,
            resident_phone=None if resident else ticket.resident_phone, location=ticket.location,
            preferred_visit=ticket.preferred_visit,
            attachments=[self.attachment(ctx, a) for a in ticket.attachments],
            assignee_id=ticket.assignee_id, grab_team=None if resident else ticket.grab_team, quote=ticket.quote,
            resolution=ticket.resolution, rating=ticket.rating, flagged=None if resident else ticket.flagged,
            return_visits=[] if resident else list(ticket.return_visits), acknowledged_at=ticket.acknowledged_at,
            arrived_at=ticket.arrived_at, resolved_at=ticket.resolved_at, closed_at=ticket.closed_at,
            cancelled_at=ticket.cancelled_at, cancel_reason=ticket.cancel_reason, merged_into=ticket.merged_into,
            possible_duplicate_of=None if resident else ticket.possible_duplicate_of,
            reopen_count=ticket.reopen_count, created_by=ticket.created_by, created_at=ticket.created_at,
            updated_at=ticket.updated_at, version=ticket.version, sla_state=ticket.sla_state,
            sla=sla.view(ticket.sla or {}),
            allowed_actions=domain.allowed_actions(ticket.state(), actor_of(ctx), now, policy))

    def attachment(self, ctx: TenantContext, attachment_id: str) -> AttachmentOut:
        return AttachmentOut(id=attachment_id, url=self.attachments.presign_download(ctx.tenant_id, attachment_id))

    def comment(self, ctx: TenantContext, comment: Comment) -> CommentOut:
        return CommentOut(id=comment.comment_id, author=comment.author, body=comment.body,
                          visibility=comment.visibility, created_at=comment.created_at,
                          attachments=[self.attachment(ctx, a) for a in comment.attachments])

    @staticmethod
    def event(message: dict[str, Any]) -> EventOut:
        """A staff member's view of an event: the audit record as it is."""
        return EventOut(id=message["id"], type=message["type"], occurred_at=message["occurred_at"],
                        actor=message["actor"], changes=message.get("changes") or {}, data=message.get("data") or {})

    @staticmethod
    def resident_event(entry: PublicEntry) -> ResidentEventOut:
        """A resident's view of an event: its public projection (``tickets.public_timeline``), field for field."""
        return ResidentEventOut(id=entry.id, type=entry.type, occurred_at=entry.occurred_at, title=entry.title,
                                title_en=entry.title_en, actor_label=entry.actor_label,
                                actor_label_en=entry.actor_label_en, status=entry.status, price=entry.price,
                                eta=entry.eta, score=entry.score)
