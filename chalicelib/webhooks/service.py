"""Webhook endpoints: register, change, rotate secrets, read the delivery log, retry and ping."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, NotFoundError, PreconditionFailedError, ValidationFailedError
from chalicelib.core.ids import new_id, sortable_token
from chalicelib.core.queues import Send
from chalicelib.core.tenancy import TenantContext
from chalicelib.storage.unit_of_work import UnitOfWork, diff
from chalicelib.webhooks import ssrf
from chalicelib.webhooks.repository import (
    DELIVERY_LOG_DAYS,
    DeliveryItem,
    EndpointItem,
    WebhookRepository,
    delivery_key,
    endpoint_key,
)
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


def attempt_message(item: DeliveryItem, attempt: int, not_before: str | None = None, *,
                    manual: bool = False) -> dict[str, Any]:
    return {"kind": "webhook.attempt", "tenant_id": item.tenant_id, "endpoint_id": item.endpoint_id,
            "delivery_id": item.delivery_id, "attempt": attempt, "not_before": not_before, "manual": manual}


def endpoint_out(item: EndpointItem, now_text: str | None = None) -> WebhookOut:
    secrets = active_secrets(item.secrets or [], now_text or "")
    rotating = [s["expires_at"] for s in secrets if s.get("expires_at")]
    return WebhookOut(id=item.endpoint_id, url=item.url, description=item.description or "",
                      event_types=list(item.event_types or []), enabled=bool(item.enabled),
                      disabled_reason=item.disabled_reason, disabled_at=item.disabled_at,
                      failing_since=item.failing_since, secret_hint=secrets[0]["hint"] if secrets else "",
                      rotating_until=max(rotating) if rotating else None, created_at=item.created_at,
                      updated_at=item.updated_at, version=int(item.version))


def delivery_out(item: DeliveryItem) -> DeliveryOut:
    return DeliveryOut(id=item.delivery_id, webhook_id=item.webhook_id, event_type=item.event_type,
                       status=item.status, attempts=[AttemptOut(**a) for a in item.attempts or []],
                       next_attempt_at=item.next_attempt_at if item.status == "pending" else None,
                       created_at=item.created_at, payload=json.loads(item.body))


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
    def __init__(self, repo: WebhookRepository, box: SecretBox, enqueue: Enqueue, *, https_only: bool,
                 allow_loopback: bool, resolve: ssrf.Resolver = ssrf.system_resolver) -> None:
        self.repo, self.box, self.enqueue = repo, box, enqueue
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
        if len(self.repo.endpoints(ctx.tenant_id)) >= MAX_ENDPOINTS:
            raise ConflictError(f"A tenant can have at most {MAX_ENDPOINTS} webhook endpoints.",
                                code="too_many_endpoints")
        endpoint_id, stamp, secret = new_id("whk"), to_rfc3339(now), new_secret()
        item = EndpointItem(*endpoint_key(ctx.tenant_id, endpoint_id), endpoint_id=endpoint_id, url=url,
                            description=cmd.description, event_types=filters, enabled=cmd.enabled,
                            secrets=[self._sealed(secret, stamp)], created_at=stamp, updated_at=stamp, version=1)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.put(item, condition=EndpointItem.PK.does_not_exist())
        uow.record("webhook.created", pk=item.PK, subject=("webhook", endpoint_id), subject_version=1,
                   data={"url": url, "event_types": filters, "enabled": cmd.enabled})
        uow.commit()
        return WebhookSecretOut(**endpoint_out(item, stamp).model_dump(), secret=secret)

    def get(self, ctx: TenantContext, endpoint_id: str, now: datetime) -> WebhookOut:
        return endpoint_out(self._endpoint_or_404(ctx, endpoint_id), to_rfc3339(now))

    def list(self, ctx: TenantContext, limit: int, cursor: str | None, now: datetime
             ) -> tuple[list[WebhookOut], str | None]:
        items, next_cursor = self.repo.list_endpoints(ctx, limit, cursor)
        return [endpoint_out(i, to_rfc3339(now)) for i in items], next_cursor

    def update(self, ctx: TenantContext, endpoint_id: str, patch: WebhookPatch, if_match: int | None,
               now: datetime) -> WebhookOut:
        item = self._endpoint_or_404(ctx, endpoint_id, consistent=True)
        if if_match is not None and if_match != item.version:
            raise PreconditionFailedError()
        fields = patch.model_dump(exclude_unset=True, exclude_none=True)
        if "url" in fields:
            fields["url"] = self.check_url(fields["url"])
        if "event_types" in fields:
            fields["event_types"] = _check_filters(fields["event_types"])
        before = {"url": item.url, "description": item.description, "event_types": list(item.event_types or []),
                  "enabled": bool(item.enabled)}
        after = {**before, **fields}
        changes = diff(before, after)
        stamp = to_rfc3339(now)
        if not changes:
            return endpoint_out(item, stamp)
        version = int(item.version)
        actions = [EndpointItem.url.set(after["url"]), EndpointItem.description.set(after["description"]),
                   EndpointItem.event_types.set(after["event_types"]), EndpointItem.enabled.set(after["enabled"]),
                   EndpointItem.updated_at.set(stamp), EndpointItem.version.set(version + 1)]
        if after["enabled"] and not before["enabled"]:  # re-enabled: a fresh start
            actions += [EndpointItem.disabled_reason.remove(), EndpointItem.disabled_at.remove(),
                        EndpointItem.failing_since.remove()]
            item.disabled_reason = item.disabled_at = item.failing_since = None
        elif not after["enabled"] and before["enabled"]:
            actions += [EndpointItem.disabled_reason.set("disabled by the tenant"),
                        EndpointItem.disabled_at.set(stamp)]
            item.disabled_reason, item.disabled_at = "disabled by the tenant", stamp
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.update(item, actions, condition=EndpointItem.version == version, on_conflict=PreconditionFailedError())
        uow.record("webhook.updated", pk=item.PK, subject=("webhook", endpoint_id), subject_version=version + 1,
                   changes=changes)
        uow.commit()
        item.url, item.description, item.event_types = after["url"], after["description"], after["event_types"]
        item.enabled, item.updated_at, item.version = after["enabled"], stamp, version + 1
        return endpoint_out(item, stamp)

    def delete(self, ctx: TenantContext, endpoint_id: str, if_match: int | None, now: datetime) -> None:
        item = self._endpoint_or_404(ctx, endpoint_id, consistent=True)
        if if_match is not None and if_match != item.version:
            raise PreconditionFailedError()
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.delete(item, condition=EndpointItem.version == item.version, on_conflict=PreconditionFailedError())
        uow.record("webhook.deleted", pk=item.PK, subject=("webhook", endpoint_id), data={"url": item.url})
        uow.commit()

    def rotate_secret(self, ctx: TenantContext, endpoint_id: str, now: datetime) -> WebhookSecretOut:
        """A new secret signs from now on; the previous one keeps signing too for 24 hours."""
        item = self._endpoint_or_404(ctx, endpoint_id, consistent=True)
        stamp, secret = to_rfc3339(now), new_secret()
        overlap_end = to_rfc3339(now + ROTATION_OVERLAP)
        kept = [{**s, "expires_at": s.get("expires_at") or overlap_end}
                for s in active_secrets(item.secrets or [], stamp)]
        secrets = [self._sealed(secret, stamp), *kept]
        version = int(item.version)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.update(item, [EndpointItem.secrets.set(secrets), EndpointItem.updated_at.set(stamp),
                          EndpointItem.version.set(version + 1)],
                   condition=EndpointItem.version == version, on_conflict=ConflictError(code="write_conflict"))
        uow.record("webhook.secret_rotated", pk=item.PK, subject=("webhook", endpoint_id),
                   subject_version=version + 1, data={"previous_valid_until": overlap_end})
        uow.commit()
        item.secrets, item.updated_at, item.version = secrets, stamp, version + 1
        return WebhookSecretOut(**endpoint_out(item, stamp).model_dump(), secret=secret)

    # --- deliveries -------------------------------------------------------------------------------
    def list_deliveries(self, ctx: TenantContext, endpoint_id: str, limit: int, cursor: str | None,
                        status: str | None = None) -> tuple[list[DeliveryOut], str | None]:
        self._endpoint_or_404(ctx, endpoint_id)
        items, next_cursor = self.repo.list_deliveries(ctx, endpoint_id, limit, cursor, status)
        return [delivery_out(i) for i in items], next_cursor

    def get_delivery(self, ctx: TenantContext, endpoint_id: str, delivery_id: str) -> DeliveryOut:
        return delivery_out(self._delivery_or_404(ctx, endpoint_id, delivery_id))

    def retry(self, ctx: TenantContext, endpoint_id: str, delivery_id: str, now: datetime) -> DeliveryOut:
        """Send a delivery again — a failed one, or a succeeded one (a replay) — with the same webhook-id."""
        endpoint = self._endpoint_or_404(ctx, endpoint_id)
        if not endpoint.enabled:
            raise ConflictError("The endpoint is disabled; enable it first.", code="endpoint_disabled")
        item = self._delivery_or_404(ctx, endpoint_id, delivery_id)
        if item.status == "pending":
            raise ConflictError("This delivery is still being attempted.", code="delivery_pending")
        attempt = int(item.attempts_made) + 1
        try:
            item.update(actions=[DeliveryItem.status.set("pending"), DeliveryItem.next_attempt_at.set(to_rfc3339(now))],
                        condition=(DeliveryItem.status == item.status) & (DeliveryItem.attempts_made == attempt - 1))
        except UpdateError as exc:
            raise ConflictError("This delivery is already being retried.", code="delivery_pending") from exc
        self.enqueue(attempt_message(item, attempt, manual=True), 0)
        return delivery_out(item)

    def ping(self, ctx: TenantContext, endpoint_id: str, now: datetime) -> DeliveryOut:
        """Queue a ``webhook.test`` delivery to the endpoint (enabled or not, filters aside)."""
        from chalicelib.events.schemas import webhook_payload

        endpoint = self._endpoint_or_404(ctx, endpoint_id)
        token = sortable_token(int(now.timestamp() * 1000))
        event = {"id": f"evt_{token}", "type": "webhook.test", "tenant_id": ctx.tenant_id,
                 "subject": {"type": "endpoint", "id": endpoint.endpoint_id}, "occurred_at": to_rfc3339(now),
                 "data": {"message": "Linli test ping"}}
        item = new_delivery(ctx.tenant_id, endpoint.endpoint_id, event, webhook_payload(event) or {}, now)
        item.save(condition=DeliveryItem.PK.does_not_exist())
        self.enqueue(attempt_message(item, 1, manual=True), 0)
        return delivery_out(item)

    # --- helpers ----------------------------------------------------------------------------------
    def _sealed(self, secret: str, stamp: str) -> dict[str, str]:
        return {"sealed": self.box.seal(secret), "hint": secret[:10] + "…", "created_at": stamp}

    def _endpoint_or_404(self, ctx: TenantContext, endpoint_id: str, *, consistent: bool = False) -> EndpointItem:
        item = self.repo.get_endpoint(ctx.tenant_id, endpoint_id, consistent=consistent)
        if item is None:
            raise NotFoundError()
        return item

    def _delivery_or_404(self, ctx: TenantContext, endpoint_id: str, delivery_id: str) -> DeliveryItem:
        item = self.repo.get_delivery(ctx.tenant_id, endpoint_id, delivery_id) if delivery_id.startswith(
            "dlv_") else None
        if item is None:
            raise NotFoundError()
        return item


def new_delivery(tenant_id: str, endpoint_id: str, event: dict[str, Any], payload: dict[str, Any],
                 now: datetime) -> DeliveryItem:
    delivery_id = "dlv_" + event["id"].removeprefix("evt_")
    return DeliveryItem(*delivery_key(tenant_id, endpoint_id, delivery_id), delivery_id=delivery_id,
                        tenant_id=tenant_id, endpoint_id=endpoint_id, webhook_id=event["id"],
                        event_type=event["type"], body=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                        status="pending", attempts=[], attempts_made=0, next_attempt_at=to_rfc3339(now),
                        created_at=to_rfc3339(now),
                        expires_at=int((now + timedelta(days=DELIVERY_LOG_DAYS)).timestamp()))


def create_delivery(item: DeliveryItem) -> DeliveryItem:
    """Store a delivery once; a redelivered event finds the one already there."""
    try:
        item.save(condition=DeliveryItem.PK.does_not_exist())
        return item
    except PutError:
        return DeliveryItem.get(item.PK, item.SK, consistent_read=True)

