"""What the webhooks services need of their storage: implemented on DynamoDB by
``chalicelib.webhooks.repository`` and in memory by ``tests/fakes/webhooks.py``."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.core.errors import LinliError
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWork
from chalicelib.webhooks.domain import Delivery, Endpoint

ActorCheck = Callable[[UnitOfWork, TenantContext], None]
"""Stage, on a unit of work, the re-check that the acting member may still do this (the tenants context's
``TenantAccess.stage_actor_check``): endpoint changes fail at once for a demoted or removed admin."""


class WebhookStore(Protocol):
    """Endpoints (changed under their version) and deliveries (attempts claimed with a lease)."""

    def get_endpoint(self, ctx: TenantContext, endpoint_id: str, *, consistent: bool = False
                     ) -> Endpoint | None: ...

    def endpoints(self, ctx: TenantContext) -> list[Endpoint]: ...

    def list_endpoints(self, ctx: TenantContext, limit: int, cursor: str | None
                       ) -> tuple[list[Endpoint], str | None]: ...

    def stage_new_endpoint(self, uow: UnitOfWork, ctx: TenantContext, endpoint: Endpoint, *,
                           most: int | None = None, on_full: LinliError | None = None) -> None:
        """The endpoint, counted in the same transaction; with ``most``, refused with ``on_full`` when the tenant
        has that many already."""


    def stage_update_endpoint(self, uow: UnitOfWork, ctx: TenantContext, endpoint_id: str, changes: dict[str, Any],
                              *, expected_version: int, on_conflict: LinliError) -> None: ...

    def stage_delete_endpoint(self, uow: UnitOfWork, ctx: TenantContext, endpoint_id: str, *, expected_version: int,
                              on_conflict: LinliError) -> None:
        """Remove the endpoint if still at ``expected_version``, and count it out."""


    def stage_disable(self, uow: UnitOfWork, ctx: TenantContext, endpoint_id: str, reason: str, stamp: str, *,
                      on_conflict: LinliError) -> None: ...

    def mark_failing(self, ctx: TenantContext, endpoint_id: str, since: str) -> bool: ...

    def clear_failing(self, ctx: TenantContext, endpoint_id: str) -> bool: ...

    def get_delivery(self, ctx: TenantContext, endpoint_id: str, delivery_id: str, *, consistent: bool = True
                     ) -> Delivery | None: ...

    def list_deliveries(self, ctx: TenantContext, endpoint_id: str, limit: int, cursor: str | None,
                        status: str | None = None) -> tuple[list[Delivery], str | None]: ...

    def create_delivery(self, ctx: TenantContext, delivery: Delivery) -> Delivery:
        """Store a delivery once; a second create gets the one stored."""
        ...

    def create_claimed(self, ctx: TenantContext, delivery: Delivery) -> bool:
        """Store a new delivery with its first attempt taken (``lease_until`` set); False when it exists."""
        ...

    def delivery_and_endpoint(self, ctx: TenantContext, endpoint_id: str, delivery_id: str
                              ) -> tuple[Delivery | None, Endpoint | None]:
        """Both, as they are now (one strongly consistent read)."""
        ...

    def reopen(self, ctx: TenantContext, delivery: Delivery, next_attempt_at: str) -> bool: ...

    def claim_attempt(self, ctx: TenantContext, delivery: Delivery, attempt: int, lease_until: str, now: str
                      ) -> bool: ...

    def finish_attempt(self, ctx: TenantContext, delivery: Delivery, attempt: int, record: dict[str, Any],
                       status: str, next_attempt_at: str | None, *, lease: str | None = None) -> bool: ...
