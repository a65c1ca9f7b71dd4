"""What the notifications services need of others: small Protocols, satisfied by the composition root.

Other contexts (tickets, tenants, residents) are read only through the lookups below, each
answering in records that have the named attributes; this context's own storage (the inbox and
the delivery claims) is reached through :class:`InboxStore` and :class:`ClaimStore`, implemented
on DynamoDB by ``chalicelib.notifications.repository`` and in memory by ``tests/fakes``.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from chalicelib.core.errors import LinliError
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWork
from chalicelib.notifications.domain import Claim, InboxNotification, InboxPage, Preferences
from chalicelib.notifications.rules import KindNames, NotificationSettings


# --- other contexts ---------------------------------------------------------------------------------
class Ticket(Protocol):
    ticket_id: str
    number: str
    kind: str
    category: str | None
    status: str
    location: dict[str, Any] | None  # community_id, unit_id, label, common_area, building_id
    resident_id: str | None
    assignee_id: str | None


class Tickets(Protocol):
    def get(self, ctx: TenantContext, ticket_id: str) -> Ticket | None: ...

    def get_many(self, ctx: TenantContext, ticket_ids: list[str]) -> dict[str, Ticket]:
        """Those of ``ticket_ids`` that exist, by id, in one read (a batch's tickets)."""
        ...


class Branding(Protocol):
    @property
    def display_name(self) -> str | None: ...


class TenantSettings(Protocol):
    """What notifications read of a tenant's configuration (``tenants.domain.TenantConfig`` has it all)."""

    @property
    def notifications(self) -> NotificationSettings: ...
    @property
    def timezone(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def branding(self) -> Branding: ...
    @property
    def ticket_kinds(self) -> Sequence[KindNames]: ...
    @property
    def wechat_app_id(self) -> str | None: ...


class TenantConfigs(Protocol):
    def config(self, tenant_id: str) -> TenantSettings: ...


class Staff(Protocol):
    user_id: str
    email: str
    name: str
    role: str
    status: str
    phone: str | None
    on_duty: bool


class StaffDirectory(Protocol):
    def active_staff(self, ctx: TenantContext) -> list[Staff]: ...

    def get_staff(self, ctx: TenantContext, user_id: str) -> Staff | None: ...


class Resident(Protocol):
    resident_id: str
    phone: str | None
    wechat_openid: str | None
    name: str


class Unit(Protocol):
    building_id: str | None


class Building(Protocol):
    butler_id: str | None


class Residents(Protocol):
    def get_resident(self, ctx: TenantContext, resident_id: str) -> Resident | None: ...

    def get_residents(self, ctx: TenantContext, resident_ids: list[str]) -> dict[str, Resident]:
        """Those of ``resident_ids`` that exist, by id, in one read (a batch's residents)."""
        ...

    def get_units(self, ctx: TenantContext, refs: list[tuple[str, str]]) -> dict[str, Unit]: ...

    def get_building(self, ctx: TenantContext, community_id: str, building_id: str) -> Building | None: ...


# --- this context's storage -------------------------------------------------------------------------
class InboxStore(Protocol):
    """Inbox entries, the unread counter and preferences of each person."""

    def stage_file(self, uow: UnitOfWork, ctx: TenantContext, person_id: str, notification: InboxNotification, *,
                   on_conflict: LinliError) -> None:
        """Add the entry (``on_conflict`` when it is there already) and count it unread."""
        ...

    def page(self, ctx: TenantContext, person_id: str, limit: int, cursor: str | None, unread_only: bool
             ) -> InboxPage: ...

    def unread_count(self, ctx: TenantContext, person_id: str) -> int: ...

    def get(self, ctx: TenantContext, person_id: str, notification_id: str) -> InboxNotification | None: ...

    def unread(self, ctx: TenantContext, person_id: str) -> list[InboxNotification]: ...

    def stage_mark_read(self, uow: UnitOfWork, ctx: TenantContext, person_id: str,
                        notifications: list[InboxNotification], now: datetime, *, on_conflict: LinliError) -> None:
        """Mark them read (``on_conflict`` when one was read meanwhile) and count them off."""
        ...

    def preferences(self, ctx: TenantContext, person_ids: list[str]) -> dict[str, Preferences]: ...

    def stage_preferences(self, uow: UnitOfWork, ctx: TenantContext, person_id: str, preferences: Preferences,
                          now: datetime) -> None: ...


class PreferenceReader(Protocol):
    """Whose mutes a message must respect (the inbox service, or one batch's reads of it)."""

    def preferences(self, ctx: TenantContext, person_ids: list[str]) -> dict[str, Preferences]: ...


class ClaimStore(Protocol):
    """Claims on (event, person, channel) messages."""

    def claim(self, ctx: TenantContext, claim: Claim) -> bool:
        """Take the claim; False when someone holds it already."""
        ...

    def stage_claim(self, uow: UnitOfWork, ctx: TenantContext, claim: Claim, *, on_conflict: LinliError) -> None:
        """Take the claim with the unit of work's other writes (``on_conflict`` when someone holds it)."""
        ...

    def take_over(self, ctx: TenantContext, claim: Claim, *, stale_before: str) -> bool:
        """Take a claim left without outcome since before ``stale_before``; False otherwise."""
        ...

    def record_outcome(self, ctx: TenantContext, claim: Claim) -> None: ...

    def record_outcomes(self, outcomes: Sequence[tuple[TenantContext, Claim]]) -> None:
        """Several outcomes (of one queue batch, any tenants') in as few writes as the store allows."""
        ...

    def release(self, ctx: TenantContext, claim: Claim) -> None: ...
