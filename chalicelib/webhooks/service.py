"""Webhook endpoints: register, change, rotate secrets, read the delivery log, retry and ping."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.changes import field_changes
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, NotFoundError, PreconditionFailedError, ValidationFailedError
from chalicelib.core.ids import new_id, sortable_token
from chalicelib.core.queues import Send
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.webhooks import ssrf
from chalicelib.webhooks.domain import Delivery, Endpoint, attempt_message, new_delivery
from chalicelib.webhooks.ports import ActorCheck, WebhookStore
from chalicelib.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    EventTypeList,
    EventTypeOut,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
    WebhookSecretOut,
)
from chalicelib.webhooks.signing import SecretBox, active_secrets, new_secret

MAX_ENDPOINTS = 20
ROTATION_OVERLAP = timedelta(hours=24)
Enqueue = Send


def endpoint_out(endpoint: Endpoint, now_text: str | None = None) -> WebhookOut:
    secrets = active_secrets(endpoint.secrets, now_text or "")
    rotating = [s["expires_at"] for s in secrets if s.get("expires_at")]
    return WebhookOut(id=endpoint.endpoint_id, url=endpoint.url, description=endpoint.description,
                      event_types=list(endpoint.event_types), enabled=endpoint.enabled,
                      disabled_reason=endpoint.disabled_reason, disabled_at=endpoint.disabled_at,
                      failing_since=endpoint.failing_since, secret_hint=secrets[0]["hint"] if secrets else "",
                      rotating_until=max(rotating) if rotating else None, created_at=endpoint.created_at,
                      updated_at=endpoint.updated_at, version=endpoint.version)


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(id=delivery.delivery_id, webhook_id=delivery.webhook_id, event_type=delivery.event_type,
                       status=delivery.status, attempts=[AttemptOut(**a) for a in delivery.attempts],
                       next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
                       created_at=delivery.created_at, payload=json.loads(delivery.body))


def event_types() -> EventTypeList:
    from chalicelib.events.catalogue import CATALOGUE
    from chalicelib.events.schemas import json_schemas

    schemas = json_schemas()
    return EventTypeList(items=[EventTypeOut(type=t, version=CATALOGUE[t].version, summary=CATALOGUE[t].summary,
                                             schema=schemas[t]) for t in schemas])


def _check_filters(filters: list[str]) -> list[str]:
    from chalicelib.events.catalogue import public_types

    known = set(public_types())
    families = {t.split(".")[0] + ".*" for t in known}
    bad = [f for f in filters if f not in known and f not in families and f != "*"]
    if bad:
        raise ValidationFailedError(details=[{"field": "event_types", "type": "unknown_event_type",
                                              "message": f"Unknown event types: {', '.join(bad)}. "
                                                         "See GET /v1/webhooks/event-types."}])
    return sorted(set(filters))


class WebhookService:
    """Owns a tenant's webhook endpoints (registration, changes, secrets) and their delivery log, retries, pings."""

    def __init__(self, store: WebhookStore, new_uow: UnitOfWorkFactory, box: SecretBox, enqueue: Enqueue, *,
                 check_actor: ActorCheck, https_only: bool, allow_loopback: bool,
                 resolve: ssrf.Resolver = ssrf.system_resolver) -> None:
        self.store, self.new_uow, self.box, self.enqueue = store, new_uow, box, enqueue
        self.check_actor = check_actor
        self.https_only, self.allow_loopback, self.resolve = https_only, allow_loopback, resolve

    # --- endpoints ---------------------------------------------------------------------------------
    def check_url(self, url: str) -> str:
        try:
            ssrf.check_url(url, https_only=self.https_only, allow_loopback=self.allow_loopback, resolve=self.resolve)
        except ssrf.UnsafeUrl as exc:
            raise ValidationFailedError(details=[{"field": "url", "type": "url_not_allowed",
                                                  "message": f"This URL cannot receive webhooks: {exc}."}]) from exc
        return url.strip()

    def create(self, ctx: TenantContext, cmd: WebhookIn, now: datetime) -> WebhookSecretOut:
        url, filters = self.check_url(cmd.url), _check_filters(cmd.event_types)
        endpoint_id, stamp, secret = new_id("whk"), to_rfc3339(now), new_secret()
        endpoint = Endpoint(endpoint_id=endpoint_id, url=url, description=cmd.description, event_types=filters,
                            enabled=cmd.enabled, secrets=[self._sealed(secret, stamp)], created_at=stamp,
                            updated_at=stamp, version=1)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.check_actor(uow, ctx)
        self.store.stage_new_endpoint(uow, ctx, endpoint, most=MAX_ENDPOINTS, on_full=ConflictError(
            f"A tenant can have at most {MAX_ENDPOINTS} webhook endpoints.", code="too_many_endpoints"))
        uow.record("webhook.created", subject=("webhook", endpoint_id), subject_version=1,
                   data={"url": url, "event_types": filters, "enabled": cmd.enabled})
        uow.commit()
        return WebhookSecretOut(**endpoint_out(endpoint, stamp).model_dump(), secret=secret)

    def get(self, ctx: TenantContext, endpoint_id: str, now: datetime) -> WebhookOut:
        return endpoint_out(self._endpoint_or_404(ctx, endpoint_id), to_rfc3339(now))

    def list(self, ctx: TenantContext, limit: int, cursor: str | None, now: datetime
             ) -> tuple[list[WebhookOut], str | None]:
        endpoints, next_cursor = self.store.list_endpoints(ctx, limit, cursor)
        return [endpoint_out(e, to_rfc3339(now)) for e in endpoints], next_cursor

    def update(self, ctx: TenantContext, endpoint_id: str, patch: WebhookPatch, if_match: int | None,
               now: datetime) -> WebhookOut:
        endpoint = self._endpoint_or_404(ctx, endpoint_id, consistent=True)
        if if_match is not None and if_match != endpoint.version:
            raise PreconditionFailedError()
        fields = patch.model_dump(exclude_unset=True, exclude_none=True)
        if "url" in fields:
            fields["url"] = self.check_url(fields["url"])
        if "event_types" in fields:
            fields["event_types"] = _check_filters(fields["event_types"])
        before = {"url": endpoint.url, "description": endpoint.description,
                  "event_types": list(endpoint.event_types), "enabled": endpoint.enabled}
        after = {**before, **fields}
        changes = field_changes(before, after)
        stamp = to_rfc3339(now)
        if not changes:
            return endpoint_out(endpoint, stamp)
        version = endpoint.version
        update: dict[str, Any] = {**after, "updated_at": stamp, "version": version + 1}
        if any(self.box.is_legacy(e["sealed"]) for e in endpoint.secrets):  # the next write re-seals with KMS
            update["secrets"] = self._resealed(endpoint.secrets, stamp)
        if after["enabled"] and not before["enabled"]:  # re-enabled: a fresh start
            update.update(disabled_reason=None, disabled_at=None, failing_since=None)
        elif not after["enabled"] and before["enabled"]:
            update.update(disabled_reason="disabled by the tenant", disabled_at=stamp)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.check_actor(uow, ctx)
        self.store.stage_update_endpoint(uow, ctx, endpoint_id, update, expected_version=version,
                                         on_conflict=PreconditionFailedError())
        uow.record("webhook.updated", subject=("webhook", endpoint_id), subject_version=version + 1,
                   changes=changes)
        uow.commit()
        return endpoint_out(replace(endpoint, **update), stamp)

    def delete(self, ctx: TenantContext, endpoint_id: str, if_match: int | None, now: datetime) -> None:
        endpoint = self._endpoint_or_404(ctx, endpoint_id, consistent=True)
        if if_match is not None and if_match != endpoint.version:
            raise PreconditionFailedError()
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.check_actor(uow, ctx)
        self.store.stage_delete_endpoint(uow, ctx, endpoint_id, expected_version=endpoint.version,
                                         on_conflict=PreconditionFailedError())
        uow.record("webhook.deleted", subject=("webhook", endpoint_id), data={"url": endpoint.url})
        uow.commit()

    def rotate_secret(self, ctx: TenantContext, endpoint_id: str, now: datetime, *,
                      expire_previous: bool = False) -> WebhookSecretOut:
        """A new secret signs from now on. The one it replaces keeps signing beside it for 24 hours — or stops at
        once with ``expire_previous`` (a leaked secret). Older secrets stop now: at most two ever sign. Every kept
        secret is sealed with KMS (secrets sealed the old way, under the JWT keyring, are re-sealed here)."""
        endpoint = self._endpoint_or_404(ctx, endpoint_id, consistent=True)
        stamp, secret = to_rfc3339(now), new_secret()
        overlap_end = to_rfc3339(now + ROTATION_OVERLAP)
        previous = [] if expire_previous else active_secrets(endpoint.secrets, stamp)[:1]
        kept = [{**s, "sealed": sealed, "expires_at": min(s.get("expires_at") or overlap_end, overlap_end)}
                for s in previous if (sealed := self._reseal(s["sealed"]))]  # an unreadable one cannot sign: gone
        version = endpoint.version
        update = {"secrets": [self._sealed(secret, stamp), *kept], "updated_at": stamp, "version": version + 1}
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.check_actor(uow, ctx)
        self.store.stage_update_endpoint(uow, ctx, endpoint_id, update, expected_version=version,
                                         on_conflict=ConflictError(code="write_conflict"))
        uow.record("webhook.secret_rotated", subject=("webhook", endpoint_id), subject_version=version + 1,
                   data={"previous_valid_until": kept[0]["expires_at"] if kept else stamp})
        uow.commit()
        return WebhookSecretOut(**endpoint_out(replace(endpoint, **update), stamp).model_dump(), secret=secret)

    # --- deliveries -------------------------------------------------------------------------------
    def list_deliveries(self, ctx: TenantContext, endpoint_id: str, limit: int, cursor: str | None,
                        status: str | None = None) -> tuple[list[DeliveryOut], str | None]:
        self._endpoint_or_404(ctx, endpoint_id)
        deliveries, next_cursor = self.store.list_deliveries(ctx, endpoint_id, limit, cursor, status)
        return [delivery_out(d) for d in deliveries], next_cursor

    def get_delivery(self, ctx: TenantContext, endpoint_id: str, delivery_id: str) -> DeliveryOut:
        return delivery_out(self._delivery_or_404(ctx, endpoint_id, delivery_id))

    def retry(self, ctx: TenantContext, endpoint_id: str, delivery_id: str, now: datetime) -> DeliveryOut:
        """Send a delivery again — a failed one, or a succeeded one (a replay) — with the same webhook-id."""
        endpoint = self._endpoint_or_404(ctx, endpoint_id)
        if not endpoint.enabled:
            raise ConflictError("The endpoint is disabled; enable it first.", code="endpoint_disabled")
        delivery = self._delivery_or_404(ctx, endpoint_id, delivery_id)
        if delivery.status == "pending":
            raise ConflictError("This delivery is still being attempted.", code="delivery_pending")
        stamp = to_rfc3339(now)
        if not self.store.reopen(ctx, delivery, stamp):
            raise ConflictError("This delivery is already being retried.", code="delivery_pending")
        reopened = replace(delivery, status="pending", next_attempt_at=stamp)
        self.enqueue(attempt_message(reopened, delivery.attempts_made + 1, manual=True), 0)
        return delivery_out(reopened)

    def ping(self, ctx: TenantContext, endpoint_id: str, now: datetime) -> DeliveryOut:
        """Queue a ``webhook.test`` delivery to the endpoint (enabled or not, filters aside)."""
        from chalicelib.events.schemas import webhook_payload

        endpoint = self._endpoint_or_404(ctx, endpoint_id)
        token = sortable_token(int(now.timestamp() * 1000))
        event = {"id": f"evt_{token}", "type": "webhook.test", "tenant_id": ctx.tenant_id,
                 "subject": {"type": "endpoint", "id": endpoint.endpoint_id}, "occurred_at": to_rfc3339(now),
                 "data": {"message": "Linli test ping"}}
        delivery = self.store.create_delivery(ctx, new_delivery(ctx.tenant_id, endpoint.endpoint_id, event,
                                                                webhook_payload(event) or {}, now))
        self.enqueue(attempt_message(delivery, 1, manual=True), 0)
        return delivery_out(delivery)

    # --- helpers ----------------------------------------------------------------------------------
    def _sealed(self, secret: str, stamp: str) -> dict[str, str]:
        return {"sealed": self.box.seal(secret), "hint": secret[:10] + "…", "created_at": stamp}

    def _resealed(self, entries: list[dict[str, Any]], stamp: str) -> list[dict[str, Any]]:
        """The secrets that still sign, sealed with KMS (those sealed under the JWT keyring opened and re-sealed)."""
        return [{**e, "sealed": self._reseal(e["sealed"]) or e["sealed"]} for e in active_secrets(entries, stamp)]

    def _reseal(self, sealed: str) -> str | None:
        try:
            return self.box.reseal(sealed)
        except (KeyError, ValueError):  # sealed under a JWT key that is gone (or damaged): nothing to re-seal
            return None

    def _endpoint_or_404(self, ctx: TenantContext, endpoint_id: str, *, consistent: bool = False) -> Endpoint:
        endpoint = self.store.get_endpoint(ctx, endpoint_id, consistent=consistent)
        if endpoint is None:
            raise NotFoundError()
        return endpoint

    def _delivery_or_404(self, ctx: TenantContext, endpoint_id: str, delivery_id: str) -> Delivery:
        delivery = self.store.get_delivery(ctx, endpoint_id, delivery_id) if delivery_id.startswith(
            "dlv_") else None
        if delivery is None:
            raise NotFoundError()
        return delivery
