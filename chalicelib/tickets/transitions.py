"""Changing a ticket: the lifecycle actions, re-triage, and the conversation (public replies, internal notes).

Each is one version-checked write of the ticket plus its event and SLA ledger events, in one transaction.
"""
from __future__ import annotations

import copy
from datetime import datetime

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, ForbiddenError, LinliError, PreconditionFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.sla import domain as sla
from chalicelib.tenants.domain import TenantConfig
from chalicelib.tickets import domain
from chalicelib.tickets.access import TicketAccess
from chalicelib.tickets.domain import Action, Status
from chalicelib.tickets.errors import invalid_field
from chalicelib.tickets.ports import StaffChecks, TenantConfigs, TicketStore
from chalicelib.tickets.presentation import TicketPresenter
from chalicelib.tickets.records import Comment, Ticket, actor_of
from chalicelib.tickets.schemas import ActionIn, CommentOut, TicketOut, TicketPatch
from chalicelib.tickets.sla_effects import Cause, Reply, apply_change, policy_for, record_ledger


def kind_rules(config: TenantConfig, ticket: Ticket) -> domain.KindRules:
    """What resolving this kind needs, and whether it is paid."""
    kind = config.kind(ticket.kind)
    required = list(kind.required_to_resolve) if kind else ["note"]
    if ticket.kind == "repair" and config.ticket_settings.photo_required_for_repairs and "photo" not in required:
        required.append("photo")
    return domain.KindRules(paid=bool(kind and kind.paid), required_to_resolve=tuple(required))


def lifecycle_policy(config: TenantConfig) -> domain.Policy:
    settings = config.ticket_settings
    return domain.Policy(settings.reopen_window_days, settings.rating_window_days, settings.low_rating_action)


def version_conflict(if_match: int | None) -> LinliError:
    """412 when the caller named the version it read; otherwise someone acted first: 409 write_conflict."""
    return PreconditionFailedError() if if_match is not None else ConflictError(
        "The ticket changed while you were acting on it; reload and retry.", code="write_conflict")


class TicketTransitions:
    """Owns every change to an existing ticket: actions through the pure lifecycle rules, re-triage with its SLA
    re-targeting, and comments (a public staff reply is the first response if none came before)."""

    def __init__(self, tickets: TicketStore, configs: TenantConfigs, staff: StaffChecks, access: TicketAccess,
                 presenter: TicketPresenter, new_uow: UnitOfWorkFactory) -> None:
        self.tickets, self.configs, self.staff, self.access = tickets, configs, staff, access
        self.presenter, self.new_uow = presenter, new_uow

    def act(self, ctx: TenantContext, ticket_id: str, action: Action, params: ActionIn, if_match: int | None,
            now: datetime) -> TicketOut:
        ticket = self.access.visible(ctx, ticket_id, consistent=True)
        if if_match is not None and if_match != ticket.version:
            raise PreconditionFailedError()
        config = self.configs.config(ctx.tenant_id)
        actor = actor_of(ctx)
        if action == Action.GRAB and ticket.grab_team and \
                ctx.principal.id not in self.access.team_members(ctx, ticket.grab_team):
            raise ForbiddenError("Only members of the team can grab this job.")
        decision = domain.decide(ticket.state(), action, actor, params.model_dump(mode="json"), now,
                                 kind_rules(config, ticket), lifecycle_policy(config))
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        if action == Action.ASSIGN:
            self.staff.stage_active_staff_check(uow, ctx, params.assignee_id or "", on_conflict=invalid_field(
                "assignee_id", "unknown_staff", "No active staff member with this id."))
        if action == Action.MERGE:
            if params.into_ticket_id == ticket_id:
                raise invalid_field("into_ticket_id", "same_ticket", "A ticket cannot be merged into itself.")
            self.tickets.stage_ticket_exists_check(uow, ctx, params.into_ticket_id or "", on_conflict=invalid_field(
                "into_ticket_id", "unknown_ticket", "No such ticket."))
        if action == Action.RESOLVE:
            self.tickets.stage_attachments_check(uow, ctx, params.photos, owner_id=None, field="photos",
                                                 message="Upload the photo first.")
        change = apply_change(config, ticket, decision.status, decision.changes, now,
                              Cause(f"{action.value} by {actor.kind}"))
        self.tickets.stage_update(uow, ctx, ticket, change.after, on_conflict=version_conflict(if_match))
        uow.record(decision.event_type, subject=("ticket", ticket_id), subject_version=change.after.version,
                   changes=change.changes, data={**decision.data, "visibility": decision.visibility,
                                                 "status": decision.status.value})
        record_ledger(uow, ticket_id, change.ledger)
        uow.commit()
        return self.presenter.ticket(ctx, change.after, now)

    def triage(self, ctx: TenantContext, ticket_id: str, patch: TicketPatch, if_match: int | None,
               now: datetime) -> TicketOut:
        """Change kind, category or priority; the SLA policy is matched again and the clocks re-target."""
        ticket = self.access.visible(ctx, ticket_id, consistent=True)
        if if_match is not None and if_match != ticket.version:
            raise PreconditionFailedError()
        if Status(ticket.status) not in domain.OPEN:
            raise ConflictError("Only open tickets can be re-triaged.", code="ticket_not_open")
        config = self.configs.config(ctx.tenant_id)
        fields = patch.model_dump(exclude_unset=True, exclude_none=True)
        kind = config.kind(fields.get("kind", ticket.kind))
        if kind is None:
            raise invalid_field("kind", "unknown_kind", "No such ticket kind in this company's catalogue.")
        category = fields.get("category", ticket.category if "kind" not in fields else None)
        if category and kind.categories and category not in kind.categories:
            raise invalid_field("category", "unknown_category",
                                f"Categories of {kind.key}: {', '.join(kind.categories)}")
        wanted = {"kind": kind.key, "category": category, "priority": fields.get("priority", ticket.priority)}
        changes = {k: v for k, v in wanted.items() if v != getattr(ticket, k)}
        if not changes:
            return self.presenter.ticket(ctx, ticket, now)
        policy = policy_for(config, ticket, changes)
        clocks = copy.deepcopy(ticket.sla or {})
        reason = ", ".join(f"{k} {getattr(ticket, k)} → {v}" for k, v in changes.items())
        retargeted = sla.retarget(clocks, policy, now, config.calendar_for(ticket.community_id), reason)
        change = apply_change(config, ticket, Status(ticket.status), changes, now, Cause(), clocks=clocks)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.tickets.stage_update(uow, ctx, ticket, change.after, on_conflict=version_conflict(if_match))
        uow.record("ticket.updated", subject=("ticket", ticket_id), subject_version=change.after.version,
                   changes=change.changes, data={"visibility": "internal", "policy": policy.name})
        record_ledger(uow, ticket_id, retargeted + change.ledger)
        uow.commit()
        return self.presenter.ticket(ctx, change.after, now)

    def comment(self, ctx: TenantContext, ticket_id: str, body: str, visibility: str, attachments: list[str],
                now: datetime) -> CommentOut:
        """Add to the conversation. A public staff reply is the first response if none came before.

        A resident's reply to a ticket that waits on them is their answer, so it also resumes the ticket in the same
        transaction (status back to where it was, paused clocks run again, a ``ticket.status_changed`` event with
        ``action: resume`` after the ``ticket.commented`` one): someone asked "请提供照片" or "什么时候方便上门？",
        and a resident answers by replying — not by finding a separate "resume" button and hoping staff notice.
        Not while a quote is pending: that wait ends only by approving or declining the quote (a question about the
        price must not count as accepting it), so the reply stays just a reply. See ``domain.reply_resumes``.
        """
        ticket = self.access.visible(ctx, ticket_id, consistent=True)
        staff = ctx.principal.human  # a staff member, or an API key acting for one
        if ctx.principal.kind == "resident":
            visibility = "public"
        if ticket.status == Status.CANCELLED or ticket.merged_into:
            raise ConflictError("This ticket is closed for comments.", code="ticket_closed")
        stamp = to_rfc3339(now)
        comment = Comment(comment_id=new_id("cmt"), ticket_id=ticket_id, author=ctx.actor, body=body,
                          visibility=visibility, created_at=stamp, attachments=list(dict.fromkeys(attachments)))
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.tickets.stage_attachments_check(uow, ctx, comment.attachments, owner_id=ctx.principal.id,
                                             field="attachments", message="Upload the photo first.")
        self.tickets.stage_comment(uow, ctx, comment)
        first_response = staff and visibility == "public" and ticket.acknowledged_at is None
        changes = {"acknowledged_at": stamp} if first_response else {}
        status = Status.ACKNOWLEDGED if first_response and ticket.status == Status.NEW else Status(ticket.status)
        actor, state = actor_of(ctx), ticket.state()
        resumes = domain.reply_resumes(state, actor, now)
        resume = domain.decide(state, Action.RESUME, actor, {}, now) if resumes else None
        if resume is not None:
            status, changes = resume.status, {**changes, **resume.changes}
        reply = Reply.STAFF_PUBLIC if staff and visibility == "public" else (
            Reply.RESIDENT if ctx.principal.kind == "resident" else Reply.INTERNAL)
        change = apply_change(self.configs.config(ctx.tenant_id), ticket, status, changes, now,
                              Cause(reply.value, reply))
        self.tickets.stage_update(uow, ctx, ticket, change.after, on_conflict=version_conflict(None))
        uow.record("ticket.commented", subject=("ticket", ticket_id), subject_version=change.after.version,
                   changes={} if resume else change.changes,
                   data={"comment_id": comment.comment_id, "visibility": visibility,
                         "first_response": first_response})
        if resume is not None:
            uow.record(resume.event_type, subject=("ticket", ticket_id), subject_version=change.after.version,
                       changes=change.changes, data={**resume.data, "via": "reply", "comment_id": comment.comment_id,
                                                     "visibility": resume.visibility, "status": resume.status.value})
        record_ledger(uow, ticket_id, change.ledger)
        uow.commit()
        return self.presenter.comment(ctx, comment)
