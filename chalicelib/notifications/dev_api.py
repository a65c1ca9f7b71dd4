"""Local stage only: what the notification channels "sent" (registered by app.py in local stages)."""
from __future__ import annotations

from typing import Protocol

from pydantic import ConfigDict, Field

from chalicelib.core.http import Call, api
from chalicelib.core.schema import Schema
from chalicelib.core.wiring import Provided


class SlugLookup(Protocol):
    def tenant_id_for_slug(self, slug: str) -> str:
        """The active tenant with this slug (NotFoundError otherwise)."""
        ...


class RecordedMessages(Protocol):
    def messages(self, tenant_id: str | None = None, to: str | None = None) -> list[dict[str, object]]:
        """What the local channels recorded, newest first."""
        ...


bp = api.blueprint(__name__)
tenants: Provided[SlugLookup] = Provided("tenant_configs")
outbox: Provided[RecordedMessages] = Provided("local_outbox")


class DevMessagesQuery(Schema):
    model_config = ConfigDict(extra="ignore")
    to: str | None = Field(None, max_length=64)
    tenant_slug: str | None = Field(None, max_length=64)


class DevMessage(Schema):
    id: str
    channel: str
    tenant_id: str
    to: str
    body: str
    template: str
    params: dict[str, str]
    sent_at: str


class DevMessagesOut(Schema):
    items: list[DevMessage]


@api.route(bp, "GET", "/v1/dev/messages", auth="public", query=DevMessagesQuery, response=DevMessagesOut,
           tags=("dev",), summary="Every SMS/WeChat/e-mail the local channels recorded, newest first (local only)")
def dev_messages(call: Call) -> DevMessagesOut:
    tenant_id = None
    if call.query.tenant_slug:
        tenant_id = tenants().tenant_id_for_slug(call.query.tenant_slug)
    return DevMessagesOut(items=outbox().messages(tenant_id=tenant_id, to=call.query.to))
