"""The notifications consumer: outbox events → the tenant's rules → people → channels.

At most one message per (event, person, channel): SMS, WeChat and e-mail are claimed by a
conditional item before sending (released if the provider fails, so the retry can send); the
inbox keys its notification by the event. Nobody is told about what they did themselves, and
residents never hear of internal notes. Quiet hours hold SMS, WeChat and e-mail (the event goes
back on the queue with a delay) but not the silent inbox; emergencies and SLA breaches go
through at once, and the emergency page of the on-duty supervisor ignores their mutes.
A provider failure re-queues the event with a growing delay (10 s, 1 min, 5 min, 15 min).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.observability import logger, metrics
from chalicelib.core.queues import Send, sqs_delay
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.notifications import rules
from chalicelib.notifications.channels import Channel, DeliveryError, Message, PermanentDeliveryError
from chalicelib.notifications.inbox import InboxStore, Preferences
from chalicelib.storage import keys
from chalicelib.storage.table import LinliModel

CLAIM_STALE_SECONDS = 300  # longer than any send can take (the consumer's Lambda timeout is 30 s)
RETRY_DELAYS = (10, 60, 300, 900)
URGENT_EVENTS = frozenset({"sla.breached", "sla.escalated"})
CLOCK_NAMES = {"first_response": "首次响应", "next_reply": "回复", "on_site": "上门", "resolution": "解决"}
Requeue = Send


class SentItem(LinliModel, discriminator="notification_sent"):
    """Claims one (event, person, channel) delivery: a redelivered event sends nothing twice."""

    message_id = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute()
    outcome = UnicodeAttribute(null=True)


@dataclass(frozen=True)
class Person:
    kind: str  # staff | resident
    id: str
    phone: str | None = None
    email: str | None = None
    openid: str | None = None


class NotificationConsumer:
    def __init__(self, tickets: Any, tenants: Any, residents: Any, channels: dict[str, Channel], inbox: InboxStore,
                 requeue: Requeue) -> None:
        self.tickets, self.tenants, self.residents = tickets, tenants, residents
        self.channels, self.inbox, self.requeue = channels, inbox, requeue

    def handle(self, event: dict[str, Any], now: datetime) -> int:
        """Deliver what an event calls for; returns how many messages went out now."""
        from chalicelib.events.catalogue import spec

        found = spec(event.get("type", ""))
        if found is None or not found.notify:
            return 0
        tenant_id, subject = event["tenant_id"], event.get("subject") or {}
        ctx = TenantContext(tenant_id, Principal("system", "notifications"))
        config = self.tenants.config(tenant_id)
        settings: rules.NotificationSettings = config.notifications
        ticket = None
        if subject.get("type") == "ticket":
            ticket = self.tickets.repo.get(ctx, subject["id"])
            if ticket is None:
                return 0
        pairs = rules.plan(settings, event["type"], ticket.kind if ticket else None)
        if not pairs:
            return 0
        emergency = ticket is not None and ticket.kind == "emergency"
        urgent = emergency or event["type"] in URGENT_EVENTS
        release = rules.deliver_at(now, config.timezone, urgent=urgent, quiet=settings.quiet_hours)
        people = self._people(ctx, ticket, {r for r, _ in pairs})
        prefs = self.inbox.preferences(tenant_id, [p.id for ps in people.values() for p in ps])
        values = self._values(config, ticket, event)
        actor_id = (event.get("actor") or {}).get("id")
        internal = (event.get("data") or {}).get("visibility") == "internal"
        sent, held, retry, done = 0, False, False, set()
        for recipient, channel in pairs:
            page = emergency and recipient == "on_duty_supervisors" and event["type"] == "ticket.created"
            for person in people.get(recipient, []):
                if (person.id, channel) in done or person.id == actor_id or (internal and person.kind == "resident"):
                    continue
                if not page and prefs.get(person.id, Preferences()).mutes(event["type"], channel):
                    continue  # (not "done": a page to the same person on this channel still goes)
                done.add((person.id, channel))
                if channel != "inbox" and release > now:
                    held = True
                    continue
                text = rules.render(settings, event["type"], channel, config.locale, values, emergency=page)
                outcome = self._deliver(ctx, config, event, person, channel, text, values, now, urgent=page)
                sent += outcome == "sent"
                retry = retry or outcome == "retry"
        if retry:
            self._retry(event)
        if held:
            self.requeue(event, sqs_delay((release - now).total_seconds() + 1))
        metrics.add_metric(name="NotificationsSent", unit="Count", value=sent)
        return sent

    # --- one message ----------------------------------------------------------------------------
    def _deliver(self, ctx: TenantContext, config: Any, event: dict[str, Any], person: Person, channel: str,
                 text: str, values: dict[str, str], now: datetime, *, urgent: bool) -> str:
        if channel == "inbox":
            title = values.get("number") or event["type"]
            delivered = self.inbox.deliver(ctx.tenant_id, person.id, event, title, text, now, urgent=urgent)
            return "sent" if delivered else "skip"
        address, params = self._address(config, event, person, channel, values, now)
        sender = self.channels.get(channel)
        if not address or sender is None:
            return "skip"
        claim = SentItem(keys.tenant_pk(ctx.tenant_id, "NOTIFY", event["id"]), f"{person.id}#{channel}",
                         sent_at=to_rfc3339(now))
        try:
            claim.save(condition=SentItem.PK.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            if not self._take_over(claim, now):
                return "skip"  # delivered already (a redelivered record), or being delivered right now
        message = Message(channel=channel, tenant_id=ctx.tenant_id, to=address, body=text,  # type: ignore[arg-type]
                          template="emergency_page" if urgent else event["type"], params=params,
                          subject=text[:60])
        try:
            claim.message_id = self.channels[channel].send(message)
            claim.outcome = "sent"
        except PermanentDeliveryError as exc:  # never deliverable: keep the claim, say why, move on
            claim.outcome = f"refused: {exc}"
            claim.save()
            logger.warning("notification refused", extra={"channel": channel, "event_type": event["type"]})
            return "skip"
        except DeliveryError:  # the provider failed: release the claim and try the event again later
            claim.delete()
            return "retry"
        except BaseException:  # anything else: release the claim so the redelivered record can send
            claim.delete()
            raise
        claim.save()
        return "sent"

    @staticmethod
    def _take_over(claim: SentItem, now: datetime) -> bool:
        """A claim with no outcome after CLAIM_STALE_SECONDS belongs to a sender that died mid-send
        (a Lambda timeout): the redelivered record takes it over rather than lose the message."""
        stale = to_rfc3339(now - timedelta(seconds=CLAIM_STALE_SECONDS))
        try:
            claim.update(actions=[SentItem.sent_at.set(to_rfc3339(now))],
                         condition=SentItem.outcome.does_not_exist() & (SentItem.sent_at < stale))
        except UpdateError:
            return False
        return True

    def _retry(self, event: dict[str, Any]) -> None:
        attempt = int(event.get("notify_attempt", 0))
        if attempt >= len(RETRY_DELAYS):
            metrics.add_metric(name="NotificationsGivenUp", unit="Count", value=1)
            logger.error("notification given up", extra={"event_id": event["id"], "event_type": event["type"]})
            return
        self.requeue({**event, "notify_attempt": attempt + 1}, RETRY_DELAYS[attempt])

    @staticmethod
    def _address(config: Any, event: dict[str, Any], person: Person, channel: str, values: dict[str, str],
                 now: datetime) -> tuple[str | None, dict[str, str]]:
        params = {k: v for k, v in values.items() if k in ("number", "kind", "clock", "status") and v}
        if channel == "sms":
            return person.phone, params
        if channel == "email":
            return person.email, params
        if channel == "wechat":
            template_id = config.notifications.wechat_templates.get(event["type"])
            if not (person.openid and template_id and config.wechat_app_id):
                return None, params
            subject = event.get("subject") or {}
            local_time = now.astimezone(ZoneInfo(config.timezone)).strftime("%Y-%m-%d %H:%M")
            return person.openid, {**params, "template_id": template_id, "app_id": config.wechat_app_id,
                                   "ticket_id": subject.get("id", ""), "summary": values.get("status", ""),
                                   "time": local_time}
        return None, params

    # --- who --------------------------------------------------------------------------------------
    def _people(self, ctx: TenantContext, ticket: Any, wanted: set[str]) -> dict[str, list[Person]]:
        people: dict[str, list[Person]] = {}
        if "resident" in wanted and ticket is not None:
            resident = self.residents.repo.get_resident(ctx, ticket.resident_id)
            if resident is not None:
                people["resident"] = [Person("resident", resident.resident_id, phone=resident.phone,
                                             openid=resident.wechat_openid)]
        if "assignee" in wanted and ticket is not None and ticket.assignee_id:
            people["assignee"] = self._staff_by_id(ctx, [ticket.assignee_id])
        if "butler" in wanted and ticket is not None:
            butler = self._butler_of(ctx, ticket)
            people["butler"] = self._staff_by_id(ctx, [butler]) if butler else []
        if wanted & {"supervisors", "on_duty_supervisors", "admins"}:
            staff = self.tenants.repo.active_staff(ctx)
            supervisors = [s for s in staff if s.role == "supervisor"]
            admins = [s for s in staff if s.role == "admin"]
            on_duty = [s for s in supervisors if getattr(s, "on_duty", True) is not False]
            people["supervisors"] = [_staff_person(s) for s in supervisors]
            people["admins"] = [_staff_person(s) for s in admins]
            # An emergency is never left unpaged: nobody on duty → every supervisor → the admins.
            people["on_duty_supervisors"] = [_staff_person(s) for s in (on_duty or supervisors or admins)]
        return people

    def _staff_by_id(self, ctx: TenantContext, user_ids: list[str]) -> list[Person]:
        found = []
        for user_id in user_ids:
            staff = self.tenants.repo.get_staff(ctx, user_id)
            if staff is not None and staff.status == "active":
                found.append(_staff_person(staff))
        return found

    def _butler_of(self, ctx: TenantContext, ticket: Any) -> str | None:
        location = ticket.location or {}
        building_id = location.get("building_id")
        if not building_id and location.get("unit_id"):
            unit = self.residents.repo.get_units(ctx, [(location["community_id"], location["unit_id"])])
            building_id = unit[location["unit_id"]].building_id if location["unit_id"] in unit else None
        if not building_id:
            return None
        building = self.residents.repo.get_building(ctx, location["community_id"], building_id)
        return building.butler_id if building is not None else None

    @staticmethod
    def _values(config: Any, ticket: Any, event: dict[str, Any]) -> dict[str, str]:
        data = event.get("data") or {}
        values = {"brand": config.branding.display_name or "物业", "url": str(data.get("url", "")),
                  "reason": str(data.get("reason", "")), "clock": CLOCK_NAMES.get(data.get("clock", ""), "")}
        if ticket is not None:
            values.update(number=ticket.number, kind=rules.KIND_NAMES.get(ticket.kind, ticket.kind),
                          category=ticket.category or "", status=ticket.status,
                          unit=(ticket.location or {}).get("label") or (ticket.location or {}).get("common_area")
                          or "")
        return values


def _staff_person(staff: Any) -> Person:
    return Person("staff", staff.user_id, phone=staff.phone, email=staff.email)
