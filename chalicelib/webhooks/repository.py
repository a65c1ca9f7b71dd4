"""Webhook endpoints and their delivery log in the single table.

Endpoints live in the tenant's partition (``T#<tenant>`` / ``WHK#<id>``: the fan-out reads them
all with one Query). Each endpoint's deliveries live in their own partition
(``T#<tenant>#WHK#<id>`` / ``DLV#<event token>``): the delivery of one event to one endpoint has
one key, so a redelivered event creates nothing twice, and the log reads newest first.
"""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.storage import keys
from chalicelib.storage.table import LinliModel

ENDPOINT_PREFIX = "WHK#"
DELIVERY_PREFIX = "DLV#"
DELIVERY_LOG_DAYS = 30


class EndpointItem(LinliModel, discriminator="webhook_endpoint"):
    endpoint_id = UnicodeAttribute()
    url = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    event_types = ListAttribute(of=UnicodeAttribute, default=list)
    enabled = BooleanAttribute(default=True)
    disabled_reason = UnicodeAttribute(null=True)
    disabled_at = UnicodeAttribute(null=True)
    failing_since = UnicodeAttribute(null=True)
    secrets = JSONAttribute(default=list)  # [{"sealed", "hint", "created_at", "expires_at"?}]
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class DeliveryItem(LinliModel, discriminator="webhook_delivery"):
    delivery_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    endpoint_id = UnicodeAttribute()
    webhook_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    body = UnicodeAttribute()  # the exact JSON sent on every attempt and replay
    status = UnicodeAttribute(default="pending")
    attempts = JSONAttribute(default=list)
    attempts_made = NumberAttribute(default=0)
    lease_until = UnicodeAttribute(null=True)
    next_attempt_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


def endpoint_key(tenant_id: str, endpoint_id: str) -> tuple[str, str]:
    return keys.tenant_pk(tenant_id), ENDPOINT_PREFIX + endpoint_id


def delivery_key(tenant_id: str, endpoint_id: str, delivery_id: str) -> tuple[str, str]:
    """``dlv_<token>`` ↔ ``DLV#<token>``: the token is the event's, so the log sorts by time."""
    return keys.tenant_pk(tenant_id, "WHK", endpoint_id), DELIVERY_PREFIX + delivery_id.removeprefix("dlv_")


class WebhookRepository:
    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    def get_endpoint(self, tenant_id: str, endpoint_id: str, *, consistent: bool = False) -> EndpointItem | None:
        try:
            item = LinliModel.get(*endpoint_key(tenant_id, endpoint_id), consistent_read=consistent)
        except DoesNotExist:
            return None
        return item if isinstance(item, EndpointItem) else None

    def endpoints(self, tenant_id: str) -> list[EndpointItem]:
        """Every endpoint of a tenant (at most 20): one Query."""
        return list(EndpointItem.query(keys.tenant_pk(tenant_id), EndpointItem.SK.startswith(ENDPOINT_PREFIX)))

    def list_endpoints(self, ctx: TenantContext, limit: int, cursor: str | None
                       ) -> tuple[list[EndpointItem], str | None]:
        results = EndpointItem.query(keys.tenant_pk(ctx.tenant_id), EndpointItem.SK.startswith(ENDPOINT_PREFIX),
                                     limit=limit, last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        return self._cursors.page(ctx.tenant_id, results)

    def get_delivery(self, tenant_id: str, endpoint_id: str, delivery_id: str, *, consistent: bool = True
                     ) -> DeliveryItem | None:
        try:
            item = LinliModel.get(*delivery_key(tenant_id, endpoint_id, delivery_id), consistent_read=consistent)
        except DoesNotExist:
            return None
        return item if isinstance(item, DeliveryItem) else None

    def list_deliveries(self, ctx: TenantContext, endpoint_id: str, limit: int, cursor: str | None,
                        status: str | None = None) -> tuple[list[DeliveryItem], str | None]:
        pk, _ = delivery_key(ctx.tenant_id, endpoint_id, "dlv_")
        condition: Any = DeliveryItem.status == status if status else None
        results = DeliveryItem.query(pk, DeliveryItem.SK.startswith(DELIVERY_PREFIX), filter_condition=condition,
                                     limit=limit, scan_index_forward=False,
                                     last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        return self._cursors.page(ctx.tenant_id, results)
