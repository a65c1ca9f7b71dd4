"""Paging the escalation chain: SMS to the on-call roles of the tenant (supervisor, admin, assignee)."""
from __future__ import annotations

from typing import Any

from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.notifications.channels import Channel, Message

CLOCK_NAMES = {"first_response": "首次响应", "next_reply": "回复", "on_site": "上门", "resolution": "解决"}


class EscalationNotifier:
    def __init__(self, tenants: Any, sms: Channel) -> None:
        self.tenants = tenants
        self.sms = sms

    def __call__(self, tenant_id: str, ticket: Any, entry: dict[str, Any]) -> None:
        ctx = TenantContext(tenant_id, Principal("system", "sla", Role.ADMIN, frozenset(Permission)))
        target = entry.get("notify", "supervisor")
        recipients = [s for s in self.tenants.repo.active_staff(ctx) if s.phone and (
            (target == "assignee" and s.user_id == ticket.assignee_id) or s.role == target)]
        brand = self.tenants.config(tenant_id).branding.display_name or "物业"
        clock = CLOCK_NAMES.get(entry["clock"], entry["clock"])
        for staff in recipients:
            self.sms.send(Message(
                channel="sms", tenant_id=tenant_id, to=staff.phone, template="sla_escalation",
                params={"number": ticket.number, "clock": clock, "step": str(entry.get("step", 1))},
                body=f"【{brand}】工单{ticket.number}（{ticket.kind}）{clock}已超时，请立即处理。"))
