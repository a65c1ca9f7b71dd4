"""What the reports context needs from storage and from the other contexts (Protocols; bootstrap wires them)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol

from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWork
from chalicelib.reports.facts import Contributions
from chalicelib.reports.fees import FeeRate


class RollupStore(Protocol):
    items_read: int

    def ticket_events(self, tenant_id: str, ticket_id: str) -> list[dict[str, Any]]: ...
    def fact(self, tenant_id: str, ticket_id: str) -> tuple[Contributions, int]: ...
    def apply(self, tenant_id: str, ticket_id: str, contributions: Contributions, delta: Contributions,
              revision: int) -> None: ...
    def rollups(self, tenant_id: str, family: str, start: date, end: date) -> list[tuple[str, dict[str, int]]]: ...
    def totals(self, tenant_id: str) -> dict[str, int]: ...
    def stage_fee_rate(self, uow: UnitOfWork, tenant_id: str, rate: FeeRate) -> None: ...
    def fee_rates(self, tenant_id: str, first_month: str, last_month: str) -> list[FeeRate]: ...


class TicketIds(Protocol):
    """Every ticket id of a tenant, page by page through its buckets (``tickets.repository``'s queue index)."""

    def __call__(self, tenant_id: str) -> Iterable[str]: ...


class TimeZones(Protocol):
    """The tenant's time zone (``tenants.config.TenantConfigs``: ``config(tenant_id).timezone``)."""

    def config(self, tenant_id: str) -> Any: ...


class Places(Protocol):
    """The residents context's communities: that one exists (404 otherwise), their names and unit counts."""

    def get_community(self, ctx: TenantContext, community_id: str) -> Any: ...
    def list_communities(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[Any], str | None]: ...
    def unit_count(self, ctx: TenantContext, community_id: str) -> int: ...


class OpenLoad(Protocol):
    """Each staff member's open tickets now (``tickets.repository``'s counters)."""

    def open_load(self, ctx: TenantContext, user_ids: list[str]) -> dict[str, int]: ...
