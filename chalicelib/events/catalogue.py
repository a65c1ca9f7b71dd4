"""The event catalogue: every event type Linli records, its version, who may see it and where it goes.

Every event item carries ``type``. *Public* types are delivered to the tenant's webhooks (thin
payloads built by ``chalicelib.events.schemas``) and may drive notification rules; *internal*
types (staff and API-key administration, SLA clock bookkeeping) stay in the audit log and the
ticket timeline. The SLA queue carries timer checks scheduled by the sweep, not events.

A payload schema changes compatibly (fields added) within a version; a breaking change gets a
new version and both are documented in ``docs/events.md`` (kept equal to this table by a test).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Queue(StrEnum):
    NOTIFICATIONS = "notifications"
    WEBHOOKS = "webhooks"
    SLA = "sla"
    IMPORTS = "imports"
    REPORTS = "reports"


@dataclass(frozen=True)
class EventSpec:
    type: str
    summary: str
    payload: str = ""  # model name in chalicelib.events.schemas; "" = internal, never leaves Linli
    version: int = 1
    notify: bool = False  # the notifications consumer looks at it
    queue: Queue | None = None  # a consumer of its own that the event sets going (an import job's first step)

    @property
    def public(self) -> bool:
        return bool(self.payload)


def _specs(*specs: EventSpec) -> dict[str, EventSpec]:
    return {s.type: s for s in specs}


# The payload models (in chalicelib.events.schemas) of the public types.
TICKET, CREATED, COMMENTED, RATED = "TicketEvent", "TicketCreated", "TicketCommented", "TicketRated"
SLA, RESIDENT, TENANT, TEST = "SlaEvent", "ResidentEvent", "TenantEvent", "WebhookTest"
IMPORT = "ImportEvent"
CATALOGUE: dict[str, EventSpec] = _specs(
    EventSpec("ticket.created", "A resident, a staff member or an integration filed a ticket", CREATED, notify=True),
    EventSpec("ticket.acknowledged", "Staff took the ticket on (the first response)", TICKET, notify=True),
    EventSpec("ticket.assigned", "The ticket was dispatched to (or grabbed by) a handler", TICKET, notify=True),
    EventSpec("ticket.status_changed", "Work moved on: started, arrived, waiting on the resident, resumed…", TICKET,
              notify=True),
    EventSpec("ticket.commented", "A public reply or an internal note was added", COMMENTED, notify=True),
    EventSpec("ticket.quoted", "A paid-service quote awaits the resident's approval", TICKET, notify=True),
    EventSpec("ticket.resolved", "The handler marked the work done; the resident may confirm or reopen", TICKET,
              notify=True),
    EventSpec("ticket.closed", "Closed by the resident's confirmation, staff or the auto-close window", TICKET,
              notify=True),
    EventSpec("ticket.reopened", "The resident or staff reopened a resolved ticket", TICKET, notify=True),
    EventSpec("ticket.rated", "The resident rated the service (1–5)", RATED, notify=True),
    EventSpec("ticket.cancelled", "The resident or staff withdrew the ticket", TICKET, notify=True),
    EventSpec("ticket.merged", "The ticket was merged into another (duplicate)", TICKET, notify=True),
    EventSpec("ticket.return_visited", "A follow-up call was recorded", TICKET, notify=True),
    EventSpec("ticket.updated", "Triage changed kind, category, priority or tags", TICKET, notify=True),
    EventSpec("sla.warning", "An SLA clock used its warning share of the target", SLA, notify=True),
    EventSpec("sla.breached", "An SLA deadline passed without its goal reached", SLA, notify=True),
    EventSpec("sla.escalated", "An escalation step of a breached clock paged its role", SLA, notify=True),
    EventSpec("sla.met", "An SLA clock's goal was reached (late or in time)", SLA),
    EventSpec("sla.started", "An SLA clock started"),
    EventSpec("sla.paused", "An SLA clock paused (waiting on the resident, outside business hours rules)"),
    EventSpec("sla.resumed", "An SLA clock resumed"),
    EventSpec("sla.stopped", "An SLA clock stopped (ticket cancelled or merged)"),
    EventSpec("sla.retargeted", "An SLA clock moved to another policy (priority change)"),
    EventSpec("resident.registered", "A resident was added (by staff, the small CSV import or first sign-in; "
                                     "an import job announces its rows with import.completed)", RESIDENT),
    EventSpec("resident.updated", "A resident's details or units changed", RESIDENT),
    EventSpec("resident.deleted", "A resident was removed", RESIDENT),
    EventSpec("resident.wechat_bound", "A resident bound their WeChat account", RESIDENT),
    EventSpec("resident.phone_revealed", "A staff member was shown a ticket's resident's full phone number (the "
                                         "audit record, in the ticket's timeline; never the number)"),
    EventSpec("import.started", "A file of residents was accepted for import (its job reads it next)",
              queue=Queue.IMPORTS),
    EventSpec("import.completed", "An import job applied every row of its file (counts of created, updated, "
                                  "unchanged and failed rows; its residents are not announced one by one)", IMPORT),
    EventSpec("import.failed", "An import job could not read its file at all (nothing was imported)", IMPORT),
    EventSpec("export.started", "A ticket export was asked for (its job builds the file next)", queue=Queue.IMPORTS),
    EventSpec("community.created", "A community was added"),
    EventSpec("community.updated", "A community's details changed"),
    EventSpec("community.deleted", "A community was removed"),
    EventSpec("building.created", "A building was added to a community"),
    EventSpec("unit.created", "A unit was added to a community"),
    EventSpec("fees.recorded", "Property-fee collection or renewal rates were recorded for communities and months"),
    EventSpec("tenant.created", "The tenant signed up"),
    EventSpec("tenant.updated", "The tenant's configuration changed", TENANT),
    EventSpec("staff.created", "A staff member was added"),
    EventSpec("staff.updated", "A staff member's role, status or details changed"),
    EventSpec("staff.deleted", "A staff member was removed"),
    EventSpec("canned_reply.created", "A canned reply (快捷回复) was added to the ticket desk"),
    EventSpec("canned_reply.updated", "A canned reply's title, text, kind, category or order changed"),
    EventSpec("canned_reply.deleted", "A canned reply was removed"),
    EventSpec("api_key.created", "An API key was created"),
    EventSpec("api_key.revoked", "An API key was revoked"),
    EventSpec("webhook.created", "A webhook endpoint was registered"),
    EventSpec("webhook.updated", "A webhook endpoint's URL, filters or state changed"),
    EventSpec("webhook.deleted", "A webhook endpoint was removed"),
    EventSpec("webhook.secret_rotated", "A webhook endpoint's secret was rotated (the old one signs for 24 h)"),
    EventSpec("webhook.test", "A test ping sent from the console or the API (never recorded)", TEST),
    EventSpec("webhook.disabled", "An endpoint was disabled after 5 days of failures or a 410 answer",
              notify=True),
)


def spec(event_type: str) -> EventSpec | None:
    return CATALOGUE.get(event_type)


def public_types() -> list[str]:
    """The types integrators can subscribe to.

    Example
    -------
    >>> "ticket.created" in public_types(), "staff.created" in public_types()
    (True, False)
    """
    return [t for t, s in CATALOGUE.items() if s.public and t != "webhook.test"]


def reported(event_type: str) -> bool:
    """Events that may change a ticket's KPI facts go to the reports queue: the ``ticket.*`` ones but work moving
    on between open states (``ticket.status_changed``: start, arrive, wait, resume — never a first response, a
    handler, an end), and the SLA clocks' outcomes.

    >>> reported("ticket.rated"), reported("sla.breached"), reported("sla.paused"), reported("staff.created")
    (True, True, False, False)
    >>> reported("ticket.status_changed")
    False
    """
    if event_type == "ticket.status_changed":
        return False
    return event_type.startswith("ticket.") or event_type in ("sla.met", "sla.breached")


def queues_for(event_type: str) -> tuple[Queue, ...]:
    """Which queues an event type goes to.

    Example
    -------
    >>> [q.value for q in queues_for("ticket.created")]
    ['notifications', 'reports', 'webhooks']
    >>> [q.value for q in queues_for("resident.registered")]
    ['webhooks']
    >>> queues_for("staff.created")
    ()
    >>> [q.value for q in queues_for("import.started")]
    ['imports']
    """
    found = CATALOGUE.get(event_type)
    if found is None:
        return ()
    queues = (Queue.NOTIFICATIONS,) if found.notify else ()
    queues += (found.queue,) if found.queue else ()
    queues += (Queue.REPORTS,) if reported(event_type) else ()
    return queues + ((Queue.WEBHOOKS,) if found.public and event_type != "webhook.test" else ())
