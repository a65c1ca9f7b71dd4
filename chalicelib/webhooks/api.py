"""Webhook routes: endpoints, secrets, the delivery log, retries and test pings."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.clock import utcnow
from chalicelib.core.http import LIST_QUERY, Call, ModelRefs, api
from chalicelib.core.permissions import Permission
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # models and services load on first use, keeping cold starts small
    from chalicelib.webhooks.schemas import (
        DeliveryOut,
        DeliveryPage,
        EventTypeList,
        WebhookOut,
        WebhookPage,
        WebhookSecretOut,
    )
    from chalicelib.webhooks.service import WebhookService

bp = api.blueprint(__name__)
schemas = ModelRefs("chalicelib.webhooks.schemas")
TAGS = ("webhooks",)
MANAGE = Permission.WEBHOOKS_MANAGE
webhooks: Provided[WebhookService] = Provided("webhooks")


@api.route(bp, "GET", "/v1/webhooks/event-types", permission=Permission.TENANT_READ,
           response=schemas.EventTypeList, tags=TAGS,
           summary="The public event catalogue: types, versions and the JSON Schema of each payload's data")
def list_event_types(call: Call) -> EventTypeList:
    from chalicelib.webhooks.service import event_types

    return event_types()


@api.route(bp, "POST", "/v1/webhooks", permission=MANAGE, body=schemas.WebhookIn, response=schemas.WebhookSecretOut,
           status=201, tags=TAGS, summary="Register an endpoint; its whsec_ signing secret is shown once")
def create_webhook(call: Call) -> WebhookSecretOut:
    return webhooks().create(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/webhooks", permission=MANAGE, query=LIST_QUERY, response=schemas.WebhookPage, tags=TAGS,
           summary="List endpoints")
def list_webhooks(call: Call) -> WebhookPage:
    from chalicelib.webhooks.schemas import WebhookPage

    items, cursor = webhooks().list(call.tenant, call.query.limit, call.query.cursor, utcnow())
    return WebhookPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/webhooks/{webhook_id}", permission=MANAGE, response=schemas.WebhookOut, tags=TAGS,
           summary="One endpoint (its secret is never shown again)")
def get_webhook(call: Call) -> WebhookOut:
    return webhooks().get(call.tenant, call.path["webhook_id"], utcnow())


@api.route(bp, "PATCH", "/v1/webhooks/{webhook_id}", permission=MANAGE, body=schemas.WebhookPatch,
           response=schemas.WebhookOut, tags=TAGS,
           summary="Change an endpoint's URL, description, event filter or enable/disable it (If-Match)")
def patch_webhook(call: Call) -> WebhookOut:
    return webhooks().update(call.tenant, call.path["webhook_id"], call.body, call.if_match, utcnow())


@api.route(bp, "DELETE", "/v1/webhooks/{webhook_id}", permission=MANAGE, status=204, tags=TAGS,
           summary="Remove an endpoint")
def delete_webhook(call: Call) -> None:
    webhooks().delete(call.tenant, call.path["webhook_id"], call.if_match, utcnow())


@api.route(bp, "POST", "/v1/webhooks/{webhook_id}/rotate-secret", permission=MANAGE, query=schemas.RotateQuery,
           response=schemas.WebhookSecretOut, tags=TAGS,
           summary="New signing secret (shown once); the replaced one keeps signing beside it for 24 h, or stops "
                   "at once with ?expire_previous=true. Older secrets stop now: at most two ever sign")
def rotate_webhook_secret(call: Call) -> WebhookSecretOut:
    return webhooks().rotate_secret(call.tenant, call.path["webhook_id"], utcnow(),
                                    expire_previous=call.query.expire_previous)


@api.route(bp, "POST", "/v1/webhooks/{webhook_id}/test", permission=MANAGE, response=schemas.DeliveryOut, status=202,
           tags=TAGS, summary="Send a webhook.test ping; follow it in the delivery log")
def ping_webhook(call: Call) -> DeliveryOut:
    return webhooks().ping(call.tenant, call.path["webhook_id"], utcnow())


@api.route(bp, "GET", "/v1/webhooks/{webhook_id}/deliveries", permission=MANAGE, query=schemas.DeliveryQuery,
           response=schemas.DeliveryPage, tags=TAGS,
           summary="The delivery log, newest first: attempts, status codes, latency, first 1 KB of each answer")
def list_deliveries(call: Call) -> DeliveryPage:
    from chalicelib.webhooks.schemas import DeliveryPage

    items, cursor = webhooks().list_deliveries(call.tenant, call.path["webhook_id"], call.query.limit,
                                              call.query.cursor, call.query.status)
    return DeliveryPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", permission=MANAGE,
           response=schemas.DeliveryOut, tags=TAGS, summary="One delivery with its attempts")
def get_delivery(call: Call) -> DeliveryOut:
    return webhooks().get_delivery(call.tenant, call.path["webhook_id"], call.path["delivery_id"])


@api.route(bp, "POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", permission=MANAGE,
           response=schemas.DeliveryOut, status=202, tags=TAGS,
           summary="Retry a failed delivery or replay a delivered one — same webhook-id and payload")
def retry_delivery(call: Call) -> DeliveryOut:
    return webhooks().retry(call.tenant, call.path["webhook_id"], call.path["delivery_id"], utcnow())
