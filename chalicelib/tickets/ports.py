"""What the ticket use cases need from storage and from other contexts, as Protocols.

The DynamoDB implementation of :class:`TicketStore` is ``tickets.repository.TicketRepository``; the
in-memory one is ``tests.fakes.tickets.InMemoryTicketRepository``. The collaborators from other
contexts are satisfied by the tenants and residents repositories and services (wired in bootstrap).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from chalicelib.core.errors import LinliError
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWork
from chalicelib.tenants.domain import TenantConfig
from chalicelib.tenants.records import CannedReply
from chalicelib.tickets.records import Attachment, Comment, IdempotencyRecord, NewTicketGuards, QueueFilter, Ticket

Page = tuple[list[Ticket], str | None]


class DueEntry(Protocol):
    tenant_id: str
    ticket_id: str
    due_at: str


class TicketStore(Protocol):
    """Tickets, their conversation and attachments, the queues and the due indexes."""

    def get(self, ctx: TenantContext, ticket_id: str, *, consistent: bool = False) -> Ticket | None: ...
    def ticket_id_for_number(self, ctx: TenantContext, number: str) -> str | None: ...
    def idempotency_record(self, ctx: TenantContext, key_digest: str) -> IdempotencyRecord | None: ...
    def duplicate_of(self, ctx: TenantContext, duplicate_key: str) -> str | None: ...
    def queue(self, ctx: TenantContext, spec: QueueFilter, limit: int, cursor: str | None) -> Page: ...
    def at_risk(self, ctx: TenantContext, limit: int, cursor: str | None) -> Page: ...
    def open_load(self, ctx: TenantContext, user_ids: list[str]) -> dict[str, int]: ...
    def timeline(self, ctx: TenantContext, ticket_id: str) -> list[dict[str, Any]]: ...
    def comments(self, ctx: TenantContext, ticket_id: str) -> list[Comment]: ...
    def next_round_robin_position(self, ctx: TenantContext, team_id: str) -> int: ...
    def reserve_numbers(self, tenant_id: str, day: str, count: int) -> int: ...
    def save_attachment(self, ctx: TenantContext, attachment: Attachment) -> None: ...
    def auto_close_due(self, due_bucket: str, until: str) -> list[tuple[str, str]]: ...
    def stage_new(self, uow: UnitOfWork, ctx: TenantContext, ticket: Ticket, guards: NewTicketGuards) -> None: ...
    def stage_update(self, uow: UnitOfWork, ctx: TenantContext, before: Ticket, after: Ticket, *,
                     on_conflict: LinliError) -> None: ...
    def stage_comment(self, uow: UnitOfWork, ctx: TenantContext, comment: Comment) -> None: ...
    def stage_attachments_check(self, uow: UnitOfWork, ctx: TenantContext, attachment_ids: list[str], *,
                                owner_id: str | None, field: str, message: str) -> None: ...
    def stage_ticket_exists_check(self, uow: UnitOfWork, ctx: TenantContext, ticket_id: str, *,
                                  on_conflict: LinliError) -> None: ...
    def stage_sla_mark(self, uow: UnitOfWork, ctx: TenantContext, ticket_id: str, mark: str, now: datetime) -> None: ...


class TenantConfigs(Protocol):
    def config(self, tenant_id: str) -> TenantConfig: ...


class StaffChecks(Protocol):
    def stage_active_staff_check(self, uow: UnitOfWork, ctx: TenantContext, user_id: str, *,
                                 on_conflict: LinliError) -> None: ...


class ResidentRef(Protocol):
    resident_id: str
    name: str
    phone: str


class UnitRef(Protocol):
    unit_id: str
    label: str
    building_id: str


class PlaceDirectory(Protocol):
    def place_for_ticket(self, ctx: TenantContext, *, resident_id: str, community_id: str, unit_id: str | None
                         ) -> tuple[ResidentRef | None, UnitRef | None, bool]: ...
    def stage_resident_link_check(self, uow: UnitOfWork, ctx: TenantContext, *, resident_id: str,
                                  community_id: str, unit_id: str | None, on_conflict: LinliError) -> None:
        """Commit only if the resident still lives in ``unit_id`` (or, without one, in ``community_id``)."""
        ...


class ResidentPhones(Protocol):
    """The residents' store as the ticket desk reaches a resident: their full phone (``ResidentRef.phone``) and the
    count of full numbers shown to each staff member, staged with the reveal's audit event."""

    def get_resident(self, ctx: TenantContext, resident_id: str, *, consistent: bool = False) -> ResidentRef | None: ...
    def stage_phone_reveal_count(self, uow: UnitOfWork, ctx: TenantContext, staff_id: str, window: str, *, cap: int,
                                 expires_at: int, on_conflict: LinliError) -> None: ...


class AttachmentSigner(Protocol):
    """Photos in object storage: where one lives, a presigned upload (type and size enforced), a short-lived link."""

    def key_for(self, tenant_id: str, attachment_id: str) -> str: ...
    def presign_upload(self, tenant_id: str, attachment_id: str, content_type: str, size: int) -> dict[str, Any]: ...
    def presign_download(self, tenant_id: str, attachment_id: str) -> str: ...


class CannedReplies(Protocol):
    """The tenant's canned replies as the desk reads them (the tenants context's service: cached per container)."""

    def for_desk(self, ctx: TenantContext) -> list[CannedReply]: ...


class StaffNames(Protocol):
    def display_name(self, ctx: TenantContext, user_id: str) -> str | None: ...


class PlaceNames(Protocol):
    def place_names(self, ctx: TenantContext, *, resident_id: str | None,
                    community_id: str | None) -> tuple[str | None, str | None]:
        """The resident's and the community's names, each only when asked for, in one read."""
        ...

