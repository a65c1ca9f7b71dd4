"""The notifications consumer: outbox events → the tenant's rules → people → channels.

At most one message per (event, person, channel): SMS, WeChat and e-mail are claimed before
sending (released if the provider fails, so the retry can send); the inbox keys its notification
by the event. An event's inbox notes and claims are one write when none is there yet (its first delivery), else
one write each; a queue batch keeps its messages' outcomes in one write once handled (``flush``).
Nobody is told about what they did themselves, and residents never hear of internal
notes. Quiet hours hold SMS, WeChat and e-mail (the event is held once, until the window ends: see
``holds``) but not the silent inbox; emergencies and SLA breaches and escalations go through at once, and pages
— the emergency page of the on-duty supervisor, the escalation page of the role an SLA step names
— ignore their recipients' mutes. A provider failure re-queues the event with a growing delay
(10 s, 1 min, 5 min, 15 min).
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, NamedTuple

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import LinliError
from chalicelib.core.observability import logger, metrics
from chalicelib.core.queues import Send
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.core.uow import UnitOfWork
from chalicelib.notifications import rules
from chalicelib.notifications.audience import Audience, BatchReads, address, template_values
from chalicelib.notifications.channels import Channel, DeliveryError, Message, PermanentDeliveryError
from chalicelib.notifications.domain import Claim, InboxNotification, Person, Preferences, notification_for
from chalicelib.notifications.holds import Hold, HoldStore
from chalicelib.notifications.inbox import InboxService
from chalicelib.notifications.ports import ClaimStore, PreferenceReader, TenantConfigs, TenantSettings, Tickets

CLAIM_STALE_SECONDS = 300  # longer than any send can take (the consumer's Lambda timeout is 30 s)
RETRY_DELAYS = (10, 60, 300, 900)
URGENT_EVENTS = frozenset({"sla.breached", "sla.escalated"})
PAGE_TEMPLATES = {"ticket.created": "emergency_page", "sla.escalated": "sla_escalation"}
"""The provider template a page goes out with (the SMS provider approves templates by these names)."""
Requeue = Send


class _Planned(NamedTuple):
    """One message an event calls for: to whom, on which channel, its text, and the page template if a page."""

    person: Person
    channel: str
    text: str
    page: str | None


class Result(Enum):
    """What became of one message."""

    SENT = "sent"
    SKIPPED = "skipped"  # delivered already, unreachable on this channel, or refused for good
    RETRY = "retry"  # the provider failed: the event comes back later


def page_template(event_type: str, recipient: str, *, emergency: bool) -> str | None:
    """The template of a page (which ignores mutes), or None when this message is not one.

    Example
    -------
    >>> page_template("ticket.created", "on_duty_supervisors", emergency=True)
    'emergency_page'
    >>> page_template("sla.escalated", "escalation", emergency=False)
    'sla_escalation'
    >>> page_template("ticket.created", "butler", emergency=True) is None
    True
    """
    if event_type == "ticket.created" and emergency and recipient == "on_duty_supervisors":
        return PAGE_TEMPLATES[event_type]
    if event_type == "sla.escalated" and recipient == "escalation":
        return PAGE_TEMPLATES[event_type]
    return None


class NotificationConsumer:
    """Owns the delivery of notifications: which rules an event triggers, to whom, on which channel, once."""

    def __init__(self, tickets: Tickets, configs: TenantConfigs, audience: Audience, channels: dict[str, Channel],
                 inbox: InboxService, claims: ClaimStore, requeue: Requeue, holds: HoldStore,
                 fallback_kinds: Sequence[rules.KindNames] = ()) -> None:
        self.tickets, self.configs, self.audience = tickets, configs, audience
        self.channels, self.inbox, self.claims, self.requeue = channels, inbox, claims, requeue
        self.holds = holds
        self.fallback_kinds = fallback_kinds
        self.preferences: PreferenceReader = inbox  # whose mutes are read (a batch's reads, in for_batch)
        self._outcomes: list[tuple[TenantContext, Claim]] | None = None  # a batch's, kept until flush()

    def for_batch(self, events: Sequence[dict[str, Any]] = ()) -> NotificationConsumer:
        """This consumer for one queue batch: each ticket, person, unit, building and person's preferences the
        batch's events need is read once (``BatchReads``), however many of its events name them; and the tickets
        of ``events`` (the batch's), their residents and those people's preferences are read ahead, one read of
        each kind per tenant rather than one per event."""
        reads = BatchReads(self.tickets, self.audience.staff, self.audience.residents, self.inbox)
        batch = copy.copy(self)
        batch.tickets, batch.audience, batch.preferences = reads, Audience(reads, reads), reads
        batch._outcomes = []
        batch._read_ahead(reads, events)
        return batch

    def flush(self) -> None:
        """Keep the outcomes of the batch's messages (``for_batch``), in one write: called once the batch is handled,
        whether or not every record succeeded. Until then a message's claim stands for it — nobody sends it again
        — but shows no outcome."""
        if self._outcomes:
            self.claims.record_outcomes(self._outcomes)
            self._outcomes = []

    def _read_ahead(self, reads: BatchReads, events: Sequence[dict[str, Any]]) -> None:
        """What ``handle`` will read for ``events``, read now in bulk: the tickets of the events a rule follows,
        then the residents and assignees those rules name (residents' records, and both's preferences). Reads only
        what handling the events one by one would (an event no rule follows reads nothing)."""
        from chalicelib.events.catalogue import spec

        by_tenant: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            found, subject = spec(event.get("type", "")), event.get("subject") or {}
            if found is not None and found.notify and subject.get("type") == "ticket" and event.get("tenant_id"):
                by_tenant.setdefault(event["tenant_id"], []).append(event)
        for tenant_id, mine in by_tenant.items():
            try:
                settings: rules.NotificationSettings = self.configs.config(tenant_id).notifications
            except LinliError:  # (a tenant gone: handle says so for each of its events)
                continue
            ctx = TenantContext(tenant_id, Principal("system", "notifications"))
            followed = [e for e in mine if rules.followed(settings, e["type"])]
            tickets = reads.get_many(ctx, [e["subject"]["id"] for e in followed])
            residents, people = [], []
            for event in followed:
                ticket = tickets.get(event["subject"]["id"])
                wanted = {r for r, _ in rules.plan(settings, event["type"], ticket.kind)} if ticket else set()
                if "resident" in wanted and ticket and ticket.resident_id:
                    residents.append(ticket.resident_id)
                if "assignee" in wanted and ticket and ticket.assignee_id:
                    people.append(ticket.assignee_id)
            if residents:
                reads.get_residents(ctx, residents)
            if residents or people:
                reads.preferences(ctx, residents + people)

    def handle(self, event: dict[str, Any], now: datetime) -> int:
        """Deliver what an event calls for; returns how many messages went out now."""
        from chalicelib.events.catalogue import spec

        found = spec(event.get("type", ""))
        if found is None or not found.notify:
            return 0
        tenant_id, subject = event["tenant_id"], event.get("subject") or {}
        ctx = TenantContext(tenant_id, Principal("system", "notifications"))
        config = self.configs.config(tenant_id)
        settings: rules.NotificationSettings = config.notifications
        if not rules.followed(settings, event["type"]):
            return 0  # known before the ticket is read: its kind matters only to the rules about this event
        ticket = None
        if subject.get("type") == "ticket":
            ticket = self.tickets.get(ctx, subject["id"])
            if ticket is None:
                return 0
        pairs = rules.plan(settings, event["type"], ticket.kind if ticket else None)
        if not pairs:
            return 0
        emergency = ticket is not None and ticket.kind == "emergency"
        urgent = emergency or event["type"] in URGENT_EVENTS
        release = rules.deliver_at(now, config.timezone, urgent=urgent, quiet=settings.quiet_hours)
        people = self.audience.people(ctx, ticket, event, {r for r, _ in pairs})
        prefs = self.preferences.preferences(ctx, [p.id for ps in people.values() for p in ps])
        values = template_values(config, ticket, event, self.fallback_kinds)
        actor_id = (event.get("actor") or {}).get("id")
        internal = (event.get("data") or {}).get("visibility") == "internal"
        held, done, messages = False, set(), []
        for recipient, channel in pairs:
            page = page_template(event["type"], recipient, emergency=emergency)
            for person in people.get(recipient, []):
                if (person.id, channel) in done or person.id == actor_id or (internal and person.kind == "resident"):
                    continue
                if page is None and prefs.get(person.id, Preferences()).mutes(event["type"], channel):
                    continue  # (not "done": a page to the same person on this channel still goes)
                done.add((person.id, channel))
                if channel != "inbox" and release > now:
                    held = True
                    continue
                text = rules.render(settings, event["type"], channel, config.locale, values,
                                    emergency=page == PAGE_TEMPLATES["ticket.created"])
                messages.append(_Planned(person, channel, text, page))
        results = self._deliver(ctx, config, event, messages, values, now)
        sent = sum(result is Result.SENT for result in results)
        if Result.RETRY in results:
            self._retry(event)
        if held:  # once, until the window ends; the hold sweep puts the event back then
            self.holds.hold(Hold(tenant_id, event["id"], to_rfc3339(release), event))
        metrics.add_metric(name="NotificationsSent", unit="Count", value=sent)
        return sent

    # --- an event's messages ---------------------------------------------------------------------
    def _deliver(self, ctx: TenantContext, config: TenantSettings, event: dict[str, Any], messages: list[_Planned],
                 values: dict[str, str], now: datetime) -> list[Result]:
        """What became of each message: the inbox notes filed and the other channels' claims taken in one write
        (an event's first delivery: the common case), then each claimed message sent and its outcome kept. Where
        that write meets anything there already (a redelivered event, a claim left by a sender that died), one
        write per message instead: a note filed already is skipped, a claim held is skipped unless stale."""
        notes: list[tuple[str, InboxNotification]] = []
        outgoing: list[tuple[Claim, Channel, Message]] = []
        results: list[Result] = []
        for person, channel, text, page in messages:
            if channel == "inbox":
                title = values.get("number") or event["type"]
                notes.append((person.id, notification_for(event, title, text, to_rfc3339(now),
                                                          urgent=page is not None)))
                continue
            to, params = address(config, event, person, channel, values, now)
            sender = self.channels.get(channel)
            if not to or sender is None:
                results.append(Result.SKIPPED)
                continue
            outgoing.append((Claim(event["id"], person.id, channel, sent_at=to_rfc3339(now)), sender, Message(
                channel=channel, tenant_id=ctx.tenant_id, to=to, body=text,  # type: ignore[arg-type]
                template=page or event["type"], params=params, subject=text[:60])))
        def stage_claims(uow: UnitOfWork, conflict: LinliError) -> None:
            for claim, _, _ in outgoing:
                self.claims.stage_claim(uow, ctx, claim, on_conflict=conflict)

        if self.inbox.file_all(ctx, notes, now, with_writes=stage_claims):
            results += [Result.SENT] * len(notes)
            claimed = outgoing
        else:
            results += [Result.SENT if self.inbox.file(ctx, person_id, note, now) else Result.SKIPPED
                        for person_id, note in notes]
            claimed = [o for o in outgoing if self.claims.claim(ctx, o[0]) or self._take_over(ctx, o[0], now)]
            results += [Result.SKIPPED] * (len(outgoing) - len(claimed))  # delivered, or being delivered now
        for n, (claim, sender, message) in enumerate(claimed):
            try:
                results.append(self._send(ctx, claim, sender, message, event["type"]))
            except BaseException:  # the claims not yet tried are released too: the redelivered record sends them
                for later, _, _ in claimed[n + 1:]:
                    self.claims.release(ctx, later)
                raise
        return results

    def _send(self, ctx: TenantContext, claim: Claim, sender: Channel, message: Message, event_type: str) -> Result:
        """Send one claimed message and keep its outcome; a failed send gives its claim back."""
        try:
            message_id = sender.send(message)
        except PermanentDeliveryError as exc:  # never deliverable: keep the claim, say why, move on
            self._keep(ctx, replace(claim, outcome=f"refused: {exc}"))
            logger.warning("notification refused", extra={"channel": claim.channel, "event_type": event_type})
            return Result.SKIPPED
        except DeliveryError:  # the provider failed: release the claim and try the event again later
            self.claims.release(ctx, claim)
            return Result.RETRY
        except BaseException:  # anything else: release the claim so the redelivered record can send
            self.claims.release(ctx, claim)
            raise
        self._keep(ctx, replace(claim, message_id=message_id, outcome="sent"))
        return Result.SENT

    def _keep(self, ctx: TenantContext, claim: Claim) -> None:
        if self._outcomes is None:
            self.claims.record_outcome(ctx, claim)
        else:  # one batch: with the others, when it is done
            self._outcomes.append((ctx, claim))

    def _take_over(self, ctx: TenantContext, claim: Claim, now: datetime) -> bool:
        """A claim with no outcome after CLAIM_STALE_SECONDS belongs to a sender that died mid-send
        (a Lambda timeout): the redelivered record takes it over rather than lose the message."""
        stale = to_rfc3339(now - timedelta(seconds=CLAIM_STALE_SECONDS))
        return self.claims.take_over(ctx, claim, stale_before=stale)

    def _retry(self, event: dict[str, Any]) -> None:
        attempt = int(event.get("notify_attempt", 0))
        if attempt >= len(RETRY_DELAYS):
            metrics.add_metric(name="NotificationsGivenUp", unit="Count", value=1)
            logger.error("notification given up", extra={"event_id": event["id"], "event_type": event["type"]})
            return
        self.requeue({**event, "notify_attempt": attempt + 1}, RETRY_DELAYS[attempt])

