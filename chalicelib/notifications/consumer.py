"""The notifications consumer: events from the outbox → messages through the channels, at most once per
(event, recipient, channel), holding non-urgent messages through quiet hours."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.notifications import rules
from chalicelib.notifications.channels import Channel, DeliveryError, Message
from chalicelib.storage import keys
from chalicelib.storage.table import LinliModel

MAX_DELAY = 900
Requeue = Callable[[dict[str, Any], int], None]


class SentItem(LinliModel, discriminator="notification_sent"):
    """Claims one (event, recipient, channel) delivery: a redelivered event sends nothing twice."""

    message_id = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute()


class NotificationConsumer:
    def __init__(self, tickets: Any, tenants: Any, residents: Any, sms: Channel, requeue: Requeue) -> None:
        self.tickets, self.tenants, self.residents, self.sms, self.requeue = tickets, tenants, residents, sms, requeue

    def handle(self, event: dict[str, Any], now: datetime) -> int:
        """Deliver what an event calls for; returns how many messages went out now."""
        planned = rules.plan(event.get("type", ""))
        if not planned or event.get("subject", {}).get("type") != "ticket":
            return 0
        tenant_id, ticket_id = event["tenant_id"], event["subject"]["id"]
        ctx = TenantContext(tenant_id, Principal("system", "notifications"))
        ticket = self.tickets.repo.get(ctx, ticket_id)
        if ticket is None:
            return 0
        config = self.tenants.config(tenant_id)
        release = rules.deliver_at(now, config.timezone, urgent=ticket.kind == "emergency")
        if release > now:
            self.requeue(event, min(MAX_DELAY, int((release - now).total_seconds()) + 1))
            return 0
        sent = 0
        for item in planned:
            phone = self._phone(ctx, ticket, item.recipient)
            if not phone:
                continue
            claim = SentItem(keys.tenant_pk(tenant_id, "NOTIFY", event["id"]), f"{item.recipient}#{item.channel}",
                             sent_at=to_rfc3339(now))
            try:
                claim.save(condition=SentItem.PK.does_not_exist())
            except PutError:
                continue  # delivered already (a redelivered record)
            brand = config.branding.display_name or "物业"
            body = rules.render(item.template, config.locale, brand=brand, number=ticket.number, kind=ticket.kind)
            try:
                claim.message_id = self.sms.send(Message(channel="sms", tenant_id=tenant_id, to=phone, body=body,
                                                         template=item.template, params={"number": ticket.number}))
            except DeliveryError:  # the provider failed: release the claim so the retry can send
                claim.delete()
                raise
            claim.save()
            sent += 1
        return sent

    def _phone(self, ctx: TenantContext, ticket: Any, recipient: str) -> str | None:
        if recipient == "resident":
            resident = self.residents.repo.get_resident(ctx, ticket.resident_id)
            return resident.phone if resident else None
        if recipient == "assignee" and ticket.assignee_id:
            try:
                staff = self.tenants.repo.get_staff(ctx, ticket.assignee_id)
            except DoesNotExist:
                return None
            return staff.phone if staff and staff.status == "active" else None
        return None
