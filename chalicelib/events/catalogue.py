"""Event types and where the dispatcher sends them.

Every event item carries ``type``; the catalogue says which queues consume it. Types not
listed stay in the audit log only (tenant administration: staff and API-key changes).
The SLA queue carries timer checks scheduled by the sweep, not events: clocks move in the
same transaction as the change that moves them.
"""
from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    NOTIFICATIONS = "notifications"
    WEBHOOKS = "webhooks"
    SLA = "sla"


_ROUTES: dict[str, tuple[Queue, ...]] = {
    "ticket.": (Queue.NOTIFICATIONS, Queue.WEBHOOKS),
    "sla.": (Queue.NOTIFICATIONS, Queue.WEBHOOKS),
    "resident.": (Queue.WEBHOOKS,),
    "tenant.": (Queue.WEBHOOKS,),
}


def queues_for(event_type: str) -> tuple[Queue, ...]:
    """Which queues an event type goes to.

    Example
    -------
    >>> [q.value for q in queues_for("ticket.created")]
    ['notifications', 'webhooks']
    >>> queues_for("staff.created")
    ()
    """
    for prefix, queues in _ROUTES.items():
        if event_type.startswith(prefix):
            return queues
    return ()
