"""Local stage only: what the notification channels "sent" (registered by app.py in local stages)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from chalicelib.core.http import Call, ModelRefs, api
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:
    from chalicelib.notifications.dev_schemas import DevMessagesOut

schemas = ModelRefs("chalicelib.notifications.dev_schemas")


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


@api.route(bp, "GET", "/v1/dev/messages", auth="public", query=schemas.DevMessagesQuery,
           response=schemas.DevMessagesOut, tags=("dev",),
           summary="Every SMS/WeChat/e-mail the local channels recorded, newest first (local only)")
def dev_messages(call: Call) -> DevMessagesOut:
    from chalicelib.notifications.dev_schemas import DevMessagesOut

    tenant_id = None
    if call.query.tenant_slug:
        tenant_id = tenants().tenant_id_for_slug(call.query.tenant_slug)
    return DevMessagesOut(items=outbox().messages(tenant_id=tenant_id, to=call.query.to))
