"""Filing tickets: a resident's report, or staff and integrations filing on a resident's behalf; photo uploads.

A new ticket is one transaction: the ticket, its unique number, the idempotency record, the resident's
daily count, checks that the photos were uploaded, the duplicate marker, ``ticket.created`` and the SLA
clocks' ``sla.started`` events.
"""
from __future__ import annotations

import dataclasses
import hashlib
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, NotFoundError, UnauthenticatedError, ValidationFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.privacy import mask_phone
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.sla import domain as sla
from chalicelib.tenants.domain import TenantConfig, TicketKind
from chalicelib.tickets import dispatch
from chalicelib.tickets.domain import Status
from chalicelib.tickets.errors import DuplicateSeenError, IdempotentReplayError, NumberTakenError, invalid_field
from chalicelib.tickets.numbers import NumberBlocks
from chalicelib.tickets.ports import AttachmentSigner, PlaceDirectory, TenantConfigs, TicketStore
from chalicelib.tickets.presentation import TicketPresenter
from chalicelib.tickets.records import Attachment, NewTicketGuards, Ticket
from chalicelib.tickets.schemas import AttachmentIn, AttachmentUploadOut, TicketIn, TicketOut
from chalicelib.tickets.sla_effects import policy_for, record_ledger

CHINA = ZoneInfo("Asia/Shanghai")
DUPLICATE_WINDOW = timedelta(hours=24)
NUMBER_ATTEMPTS = 6


class TicketIntake:
    """Owns filing: catalogue checks, where the ticket is (and whose), first dispatch, the clocks it starts,
    idempotent replays, duplicate flags, the resident's daily limit; and presigned photo uploads."""

    def __init__(self, tickets: TicketStore, configs: TenantConfigs, places: PlaceDirectory,
                 attachments: AttachmentSigner, presenter: TicketPresenter, new_uow: UnitOfWorkFactory) -> None:
        self.tickets, self.configs, self.places = tickets, configs, places
        self.attachments, self.presenter, self.new_uow = attachments, presenter, new_uow
        self.numbers = NumberBlocks(tickets.reserve_numbers)

    def create(self, ctx: TenantContext, cmd: TicketIn, idempotency_key: str | None, now: datetime) -> TicketOut:
        config = self.configs.config(ctx.tenant_id)
        resident_channel = ctx.principal.kind == "resident"
        kind = self._kind(config, cmd, resident_channel=resident_channel)
        ticket = self._new_ticket(ctx, config, kind, cmd, now, resident_channel=resident_channel)
        clocks, started = sla.start(policy_for(config, ticket), now, config.calendar_for(ticket.community_id))
        ticket.sla, ticket.sla_state = clocks, sla.worst_state(clocks)
        place = ticket.location.get("unit_id") or ticket.location.get("common_area")
        guards = NewTicketGuards(
            idempotency_key_digest=_digest(idempotency_key) if idempotency_key else None,
            request_digest=hashlib.sha256(cmd.model_dump_json().encode()).hexdigest(),
            duplicate_key=_digest(f"{place}|{ticket.community_id}|{kind.key}|{cmd.category}"), check_duplicate=True,
            daily_limit=config.ticket_settings.resident_daily_limit if resident_channel else None,
            local_day=now.astimezone(CHINA).strftime("%Y%m%d"),
            duplicate_window_ends=to_rfc3339(now + DUPLICATE_WINDOW))
        ticket.number = self.numbers.next(ctx.tenant_id, now)
        for attempt in range(NUMBER_ATTEMPTS):
            uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
            self.tickets.stage_new(uow, ctx, ticket, guards)
            if resident_channel:  # the token names the units; the store says whether they still do
                self.places.stage_resident_link_check(
                    uow, ctx, resident_id=ctx.principal.id, community_id=ticket.community_id,
                    unit_id=ticket.location.get("unit_id"), on_conflict=UnauthenticatedError(
                        "You no longer live here according to the property company; sign in again.",
                        code="access_revoked"))
            uow.record("ticket.created", subject=("ticket", ticket.ticket_id), subject_version=1, data={
                "number": ticket.number, "kind": ticket.kind, "category": ticket.category,
                "priority": ticket.priority, "channel": ticket.channel, "status": ticket.status,
                "community_id": ticket.community_id, "unit_id": ticket.location.get("unit_id"),
                "assignee_id": ticket.assignee_id, "possible_duplicate_of": ticket.possible_duplicate_of,
                "visibility": "public"})
            record_ledger(uow, ticket.ticket_id, started)
            try:
                uow.commit()
                break
            except IdempotentReplayError:
                return self._replay(ctx, guards, now)
            except NumberTakenError:  # only if the day's counter was lost: take the next one
                ticket.number = self.numbers.next(ctx.tenant_id, now)
                continue
            except DuplicateSeenError:
                ticket.possible_duplicate_of = self.tickets.duplicate_of(ctx, guards.duplicate_key)
                guards = dataclasses.replace(guards, check_duplicate=False)
            except ConflictError as exc:
                if exc.code != "write_conflict" or attempt == NUMBER_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        else:
            raise ConflictError("Could not file the ticket; retry.", code="write_conflict")
        return self.presenter.ticket(ctx, ticket, now)

    def presign_attachment(self, ctx: TenantContext, cmd: AttachmentIn, now: datetime) -> AttachmentUploadOut:
        """Register a photo and hand out a presigned upload (type and size enforced by the POST policy)."""
        attachment_id = new_id("att")
        self.tickets.save_attachment(ctx, Attachment(
            attachment_id=attachment_id, owner_id=ctx.principal.id, content_type=cmd.content_type, size=cmd.size,
            key=self.attachments.key_for(ctx.tenant_id, attachment_id), created_at=to_rfc3339(now)))
        upload = self.attachments.presign_upload(ctx.tenant_id, attachment_id, cmd.content_type, cmd.size)
        return AttachmentUploadOut(id=attachment_id, url=upload["url"], fields=upload["fields"], expires_in=600)

    # --- helpers ------------------------------------------------------------------------------------------
    @staticmethod
    def _kind(config: TenantConfig, cmd: TicketIn, *, resident_channel: bool) -> TicketKind:
        kind = config.kind(cmd.kind)
        if kind is None or (resident_channel and not kind.resident_visible):
            raise invalid_field("kind", "unknown_kind", "No such ticket kind in this company's catalogue.")
        if cmd.category and kind.categories and cmd.category not in kind.categories:
            raise invalid_field("category", "unknown_category",
                                f"Categories of {kind.key}: {', '.join(kind.categories)}")
        return kind

    def _new_ticket(self, ctx: TenantContext, config: TenantConfig, kind: TicketKind, cmd: TicketIn, now: datetime,
                    *, resident_channel: bool) -> Ticket:
        resident_id, (resident_name, resident_phone), location = self._place(ctx, cmd)
        priority = (None if resident_channel else getattr(cmd, "priority", None)) or kind.default_priority
        route = dispatch.route(config.dispatch_rules, config.teams, kind=kind.key,
                               community_id=cmd.location.community_id, building_id=location.get("building_id"))
        assignee = route.assignee_id
        if route.round_robin_team is not None:
            position = self.tickets.next_round_robin_position(ctx, route.round_robin_team.id)
            assignee = dispatch.pick_round_robin(route.round_robin_team, position)
        stamp = to_rfc3339(now)
        return Ticket(
            ticket_id=new_id("tkt"), tenant_id=ctx.tenant_id, number="", kind=kind.key, category=cmd.category,
            priority=priority, status=(Status.ASSIGNED if assignee else Status.NEW).value,
            description=cmd.description, channel=cmd.channel, resident_id=resident_id, resident_name=resident_name,
            resident_phone=resident_phone, location=location, community_id=cmd.location.community_id,
            preferred_visit=cmd.preferred_visit.model_dump(mode="json") if cmd.preferred_visit else None,
            attachments=list(dict.fromkeys(cmd.attachments)), assignee_id=assignee, grab_team=route.grab_team,
            created_by=ctx.actor, created_at=stamp, updated_at=stamp, version=1)

    def _place(self, ctx: TenantContext, cmd: TicketIn) -> tuple[str, tuple[str | None, str | None], dict[str, Any]]:
        """(resident id, (their name, their phone masked), location) — a resident files for their own units or
        communities (name and masked phone from their token), staff for a resident they name (read with the place:
        no extra round trip). Only the masked phone is kept on the ticket."""
        where = cmd.location
        if ctx.principal.kind == "resident":
            contact = (ctx.principal.name, mask_phone(ctx.principal.phone_hint))
            if where.unit_id:
                unit = ctx.principal.unit(where.unit_id)
                if unit is None or unit.community_id != where.community_id:
                    raise invalid_field("location.unit_id", "unknown_unit", "This is not one of your units.")
                return ctx.principal.id, contact, {"community_id": where.community_id, "unit_id": where.unit_id,
                                                   "label": unit.label, "building_id": unit.building_id or None}
            if where.community_id not in {u.community_id for u in ctx.principal.units}:
                raise invalid_field("location.community_id", "unknown_community", "You don't live in this community.")
            return ctx.principal.id, contact, {"community_id": where.community_id, "common_area": where.common_area}
        resident, unit, community_found = self.places.place_for_ticket(
            ctx, resident_id=cmd.resident_id, community_id=where.community_id, unit_id=where.unit_id)  # type: ignore[attr-defined]
        if resident is None:
            raise invalid_field("resident_id", "unknown_resident", "No such resident.")
        contact = (resident.name, mask_phone(resident.phone))
        if where.unit_id:
            if unit is None:
                raise invalid_field("location.unit_id", "unknown_unit", "No such unit in this community.")
            return resident.resident_id, contact, {"community_id": where.community_id, "unit_id": unit.unit_id,
                                                   "label": unit.label, "building_id": unit.building_id}
        if not community_found:
            raise invalid_field("location.community_id", "unknown_community", "No such community.")
        return resident.resident_id, contact, {"community_id": where.community_id, "common_area": where.common_area}

    def _replay(self, ctx: TenantContext, guards: NewTicketGuards, now: datetime) -> TicketOut:
        record = self.tickets.idempotency_record(ctx, guards.idempotency_key_digest or "")
        if record is None:
            raise ConflictError("The first request with this key is still in flight; retry.", code="write_conflict")
        if record.request_digest != guards.request_digest:
            raise ValidationFailedError("This Idempotency-Key was used with a different request.",
                                        code="idempotency_key_reused")
        ticket = self.tickets.get(ctx, record.ticket_id, consistent=True)
        if ticket is None:
            raise NotFoundError()
        return self.presenter.ticket(ctx, ticket, now)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]
