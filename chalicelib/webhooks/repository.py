"""Webhook endpoints and their delivery log in the single table.

Endpoints live in the tenant's partition (``T#<tenant>`` / ``WHK#<id>``: the fan-out reads them
all with one Query), counted beside them (``COUNT#WHK``) in the transaction that adds or removes one, so the
limit on how many a tenant has holds under concurrent registrations without reading them all first.
Each endpoint's deliveries live in their own partition
(``T#<tenant>#WHK#<id>`` / ``DLV#<event token>``): the delivery of one event to one endpoint has
one key, so a redelivered event creates nothing twice, and the log reads newest first.

Every condition of the webhooks lives here: an endpoint changes under its version, an attempt is
claimed with a lease and finished only under it, health moves only from the state it was read in.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.storage import keys
from chalicelib.storage.table import CounterItem, LinliModel, save_new
from chalicelib.storage.unit_of_work import UnitOfWork
from chalicelib.webhooks.domain import Delivery, Endpoint

ENDPOINT_PREFIX = "WHK#"
DELIVERY_PREFIX = "DLV#"
ENDPOINT_COUNT_SK = "COUNT#WHK"


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


ENDPOINT_FIELDS = ("url", "description", "event_types", "enabled", "disabled_reason", "disabled_at",
                   "failing_since", "secrets", "updated_at", "version")


def endpoint_key(tenant_id: str, endpoint_id: str) -> tuple[str, str]:
    """Example
    -------
    >>> endpoint_key("tnt_1", "whk_2")
    ('T#tnt_1', 'WHK#whk_2')
    """
    return keys.tenant_pk(tenant_id), ENDPOINT_PREFIX + endpoint_id


def delivery_key(tenant_id: str, endpoint_id: str, delivery_id: str) -> tuple[str, str]:
    """``dlv_<token>`` ↔ ``DLV#<token>``: the token is the event's, so the log sorts by time.

    Example
    -------
    >>> delivery_key("tnt_1", "whk_2", "dlv_01")
    ('T#tnt_1#WHK#whk_2', 'DLV#01')
    """
    return keys.tenant_pk(tenant_id, "WHK", endpoint_id), DELIVERY_PREFIX + delivery_id.removeprefix("dlv_")


def _endpoint(item: EndpointItem) -> Endpoint:
    return Endpoint(endpoint_id=item.endpoint_id, url=item.url, created_at=item.created_at,
                    updated_at=item.updated_at, description=item.description or "",
                    event_types=list(item.event_types or []), enabled=bool(item.enabled),
                    disabled_reason=item.disabled_reason, disabled_at=item.disabled_at,
                    failing_since=item.failing_since, secrets=list(item.secrets or []), version=int(item.version))


def _delivery(item: DeliveryItem) -> Delivery:
    return Delivery(delivery_id=item.delivery_id, tenant_id=item.tenant_id, endpoint_id=item.endpoint_id,
                    webhook_id=item.webhook_id, event_type=item.event_type, body=item.body,
                    created_at=item.created_at, status=item.status, attempts=list(item.attempts or []),
                    attempts_made=int(item.attempts_made), lease_until=item.lease_until,
                    next_attempt_at=item.next_attempt_at, expires_at=item.expires_at)


def _endpoint_ref(ctx: TenantContext, endpoint_id: str) -> EndpointItem:
    return EndpointItem(*endpoint_key(ctx.tenant_id, endpoint_id))


def _endpoint_counter(tenant_id: str, **attributes: Any) -> CounterItem:
    return CounterItem(keys.tenant_pk(tenant_id), ENDPOINT_COUNT_SK, **attributes)


def _delivery_ref(ctx: TenantContext, delivery: Delivery) -> DeliveryItem:
    return DeliveryItem(*delivery_key(ctx.tenant_id, delivery.endpoint_id, delivery.delivery_id))


class WebhookRepository:
    """Endpoints and deliveries on DynamoDB (:class:`~chalicelib.webhooks.ports.WebhookStore`)."""

    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    # --- endpoints --------------------------------------------------------------------------------
    def get_endpoint(self, ctx: TenantContext, endpoint_id: str, *, consistent: bool = False) -> Endpoint | None:
        try:
            item = LinliModel.get(*endpoint_key(ctx.tenant_id, endpoint_id), consistent_read=consistent)
        except DoesNotExist:
            return None
        return _endpoint(item) if isinstance(item, EndpointItem) else None

    def endpoints(self, ctx: TenantContext) -> list[Endpoint]:
        """Every endpoint of a tenant (at most 20): one Query."""
        return [_endpoint(item) for item in EndpointItem.query(keys.tenant_pk(ctx.tenant_id),
                                                               EndpointItem.SK.startswith(ENDPOINT_PREFIX))]

    def list_endpoints(self, ctx: TenantContext, limit: int, cursor: str | None
                       ) -> tuple[list[Endpoint], str | None]:
        results = EndpointItem.query(keys.tenant_pk(ctx.tenant_id), EndpointItem.SK.startswith(ENDPOINT_PREFIX),
                                     limit=limit, last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        items, next_cursor = self._cursors.page(ctx.tenant_id, results)
        return [_endpoint(item) for item in items], next_cursor

    def stage_new_endpoint(self, uow: UnitOfWork, ctx: TenantContext, endpoint: Endpoint, *,
                           most: int | None = None, on_full: LinliError | None = None) -> None:
        """The endpoint, counted in the same transaction; with ``most``, refused with ``on_full`` when the tenant
        has that many already."""
        fields = {name: getattr(endpoint, name) for name in ("endpoint_id", "created_at", *ENDPOINT_FIELDS)}
        uow.put(EndpointItem(*endpoint_key(ctx.tenant_id, endpoint.endpoint_id), **fields),
                condition=EndpointItem.PK.does_not_exist())
        room = None if most is None else CounterItem.count.does_not_exist() | (CounterItem.count < most)
        uow.update(_endpoint_counter(ctx.tenant_id), [CounterItem.count.add(1), CounterItem.entity.set(CounterItem)],
                   condition=room, on_conflict=on_full)

    def stage_update_endpoint(self, uow: UnitOfWork, ctx: TenantContext, endpoint_id: str, changes: dict[str, Any],
                              *, expected_version: int, on_conflict: LinliError) -> None:
        """Set the changed fields (``None`` removes one) if the endpoint is still at ``expected_version``."""
        actions = []
        for name, value in changes.items():
            if name not in ENDPOINT_FIELDS:
                raise ValueError(f"not an endpoint field: {name}")
            attribute = getattr(EndpointItem, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        uow.update(_endpoint_ref(ctx, endpoint_id), actions, condition=EndpointItem.version == expected_version,
                   on_conflict=on_conflict)

    def stage_delete_endpoint(self, uow: UnitOfWork, ctx: TenantContext, endpoint_id: str, *, expected_version: int,
                              on_conflict: LinliError) -> None:
        """Remove the endpoint if still at ``expected_version``, and count it out."""
        uow.delete(_endpoint_ref(ctx, endpoint_id), condition=EndpointItem.version == expected_version,
                   on_conflict=on_conflict)
        uow.update(_endpoint_counter(ctx.tenant_id), [CounterItem.count.add(-1)])

    def tenants_with_endpoints(self, tenant_ids: Iterable[str]) -> set[str]:
        """Which of these tenants have an endpoint now: their endpoint counters, strongly consistent, in one
        BatchGetItem (PynamoDB splits it by 100 keys; the outbox relay asks once per stream batch). A tenant without
        a counter has none: the counter is written with every endpoint, and the backfill above counts those
        registered before it."""
        of_pk = {keys.tenant_pk(t): t for t in tenant_ids}
        counters = CounterItem.batch_get([(pk, ENDPOINT_COUNT_SK) for pk in of_pk], consistent_read=True) \
            if of_pk else []
        return {of_pk[item.PK] for item in counters if int(item.count or 0) > 0}

    def backfill_endpoint_count(self, tenant_id: str) -> bool:
        """Count the endpoints of a tenant registered before they were counted; True when it did.

        Maintenance, not a request: one Query and one conditional put, and nothing when the tenant's counter exists
        or it has no endpoint. Run it once per tenant when deploying the counter (the local stack does it for the
        data it finds on start)."""
        held = len(self.endpoints(TenantContext(tenant_id, Principal("system", "webhooks-backfill"))))
        if not held:
            return False
        return save_new(_endpoint_counter(tenant_id, count=held))

    def stage_disable(self, uow: UnitOfWork, ctx: TenantContext, endpoint_id: str, reason: str, stamp: str, *,
                      on_conflict: LinliError) -> None:
        """Disable an enabled endpoint (``on_conflict`` when it is disabled already); its version moves on."""
        uow.update(_endpoint_ref(ctx, endpoint_id),
                   [EndpointItem.enabled.set(False), EndpointItem.disabled_reason.set(reason),
                    EndpointItem.disabled_at.set(stamp), EndpointItem.version.add(1),
                    EndpointItem.updated_at.set(stamp)],
                   condition=EndpointItem.enabled == True, on_conflict=on_conflict)  # noqa: E712 - a condition

    def mark_failing(self, ctx: TenantContext, endpoint_id: str, since: str) -> bool:
        """Note the first failure of a healthy endpoint; False when another attempt noted one first."""
        return self._health(ctx, endpoint_id, EndpointItem.failing_since.set(since),
                            EndpointItem.failing_since.does_not_exist())

    def clear_failing(self, ctx: TenantContext, endpoint_id: str) -> bool:
        """A success: the endpoint is healthy again; False when another attempt cleared it first."""
        return self._health(ctx, endpoint_id, EndpointItem.failing_since.remove(),
                            EndpointItem.failing_since.exists())

    @staticmethod
    def _health(ctx: TenantContext, endpoint_id: str, action: Action, condition: Condition) -> bool:
        try:
            _endpoint_ref(ctx, endpoint_id).update(actions=[action], condition=condition)
        except UpdateError:
            return False
        return True

    # --- deliveries -------------------------------------------------------------------------------
    def get_delivery(self, ctx: TenantContext, endpoint_id: str, delivery_id: str, *, consistent: bool = True
                     ) -> Delivery | None:
        try:
            item = LinliModel.get(*delivery_key(ctx.tenant_id, endpoint_id, delivery_id), consistent_read=consistent)
        except DoesNotExist:
            return None
        return _delivery(item) if isinstance(item, DeliveryItem) else None

    def delivery_and_endpoint(self, ctx: TenantContext, endpoint_id: str, delivery_id: str
                              ) -> tuple[Delivery | None, Endpoint | None]:
        """The delivery and its endpoint in one consistent BatchGetItem."""
        wanted = [delivery_key(ctx.tenant_id, endpoint_id, delivery_id), endpoint_key(ctx.tenant_id, endpoint_id)]
        delivery = endpoint = None
        for item in LinliModel.batch_get(wanted, consistent_read=True):
            if isinstance(item, DeliveryItem):
                delivery = _delivery(item)
            elif isinstance(item, EndpointItem):
                endpoint = _endpoint(item)
        return delivery, endpoint

    def list_deliveries(self, ctx: TenantContext, endpoint_id: str, limit: int, cursor: str | None,
                        status: str | None = None) -> tuple[list[Delivery], str | None]:
        pk, _ = delivery_key(ctx.tenant_id, endpoint_id, "dlv_")
        condition: Any = DeliveryItem.status == status if status else None
        results = DeliveryItem.query(pk, DeliveryItem.SK.startswith(DELIVERY_PREFIX), filter_condition=condition,
                                     limit=limit, scan_index_forward=False,
                                     last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        items, next_cursor = self._cursors.page(ctx.tenant_id, results)
        return [_delivery(item) for item in items], next_cursor

    def create_delivery(self, ctx: TenantContext, delivery: Delivery) -> Delivery:
        """Store a delivery once; a redelivered event finds (and gets) the one already there."""
        item = DeliveryItem(*delivery_key(ctx.tenant_id, delivery.endpoint_id, delivery.delivery_id),
                            **{name: getattr(delivery, name) for name in Delivery.__dataclass_fields__})
        if save_new(item):
            return delivery
        return _delivery(DeliveryItem.get(item.PK, item.SK, consistent_read=True))

    def create_claimed(self, ctx: TenantContext, delivery: Delivery) -> bool:
        """Store a new delivery with its first attempt taken (``lease_until`` set); False when it exists."""
        item = DeliveryItem(*delivery_key(ctx.tenant_id, delivery.endpoint_id, delivery.delivery_id),
                            **{name: getattr(delivery, name) for name in Delivery.__dataclass_fields__})
        return save_new(item)

    def reopen(self, ctx: TenantContext, delivery: Delivery, next_attempt_at: str) -> bool:
        """A finished delivery goes back to pending for one more attempt; False when someone reopened it first."""
        try:
            _delivery_ref(ctx, delivery).update(
                actions=[DeliveryItem.status.set("pending"), DeliveryItem.next_attempt_at.set(next_attempt_at)],
                condition=(DeliveryItem.status == delivery.status)
                & (DeliveryItem.attempts_made == delivery.attempts_made))
        except UpdateError:
            return False
        return True

    def claim_attempt(self, ctx: TenantContext, delivery: Delivery, attempt: int, lease_until: str, now: str
                      ) -> bool:
        """Take attempt n of a pending delivery until ``lease_until``; False while someone else holds it."""
        try:
            _delivery_ref(ctx, delivery).update(
                actions=[DeliveryItem.lease_until.set(lease_until)],
                condition=(DeliveryItem.status == "pending") & (DeliveryItem.attempts_made == attempt - 1)
                & (DeliveryItem.lease_until.does_not_exist() | (DeliveryItem.lease_until < now)))
        except UpdateError:
            return False
        return True

    def finish_attempt(self, ctx: TenantContext, delivery: Delivery, attempt: int, record: dict[str, Any],
                       status: str, next_attempt_at: str | None, *, lease: str | None = None) -> bool:
        """Record attempt n's outcome — only while it is still ours (our lease, nothing recorded since)."""
        actions = [DeliveryItem.attempts.set([*delivery.attempts, record]), DeliveryItem.attempts_made.set(attempt),
                   DeliveryItem.status.set(status), DeliveryItem.lease_until.remove(),
                   DeliveryItem.next_attempt_at.set(next_attempt_at) if next_attempt_at
                   else DeliveryItem.next_attempt_at.remove()]
        condition = DeliveryItem.attempts_made == attempt - 1
        if lease is not None:
            condition &= DeliveryItem.lease_until == lease
        try:
            _delivery_ref(ctx, delivery).update(actions=actions, condition=condition)
        except UpdateError:
            return False
        return True
