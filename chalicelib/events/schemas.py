"""Payload schemas of the public event types: what an integrator's webhook receives.

Payloads are thin — ids and the fields that changed — so a receiver that needs more reads it
through the API with its API key; nothing a resident typed (descriptions, comments, names,
phone numbers) leaves in a webhook. The envelope follows the Standard Webhooks shape::

    {"type": "ticket.acknowledged", "version": 1, "timestamp": "2026-11-27T09:00:00.000Z",
     "data": {"ticket_id": "tkt_…", "version": 2, "status": "acknowledged", …}}
"""
from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from chalicelib.core.schema import Schema
from chalicelib.events.catalogue import spec

# Ticket fields an integrator sees change (their new values); everything else is named only.
TICKET_FIELDS = frozenset({"status", "priority", "kind", "category", "assignee_id", "team", "tags", "community_id",
                           "unit_id", "merged_into", "resolved_at", "closed_at", "acknowledged_at", "due_at",
                           "reopen_count"})


class _Data(Schema):
    model_config = ConfigDict(defer_build=True, extra="ignore")


class ActorRef(_Data):
    type: str
    id: str | None = None
    role: str | None = None


class TicketEvent(_Data):
    ticket_id: str
    version: int | None = None
    status: str | None = None
    action: str | None = None
    changes: dict[str, Any] = {}
    changed_fields: list[str] = []
    actor: ActorRef | None = None


class TicketCreated(TicketEvent):
    number: str
    kind: str
    category: str | None = None
    priority: str | None = None
    channel: str | None = None
    community_id: str | None = None
    unit_id: str | None = None


class TicketCommented(TicketEvent):
    comment_id: str
    visibility: str
    first_response: bool = False


class TicketRated(TicketEvent):
    score: int


class SlaEvent(_Data):
    ticket_id: str
    clock: str
    cycle: int | None = None
    target_seconds: int | None = None
    elapsed_seconds: int | None = None
    due_at: str | None = None
    step: int | None = None
    notify: str | None = None
    late: bool | None = None


class ResidentEvent(_Data):
    resident_id: str
    changed_fields: list[str] = []
    actor: ActorRef | None = None


class TenantEvent(_Data):
    tenant_id: str
    changed_fields: list[str] = []
    actor: ActorRef | None = None


class ImportEvent(_Data):
    import_id: str
    kind: str
    status: str
    total_rows: int | None = None
    created: int | None = None
    updated: int | None = None
    unchanged: int | None = None
    failed: int | None = None
    code: str | None = None  # why the file could not be read (import.failed)
    actor: ActorRef | None = None


class WebhookTest(_Data):
    endpoint_id: str
    message: str = "Linli test ping"


class Envelope(Schema):
    type: str
    version: int
    timestamp: str
    data: dict[str, Any]


def webhook_payload(event: dict[str, Any]) -> dict[str, Any] | None:
    """The thin payload of an event message, or None for internal types.

    Example
    -------
    >>> webhook_payload({"type": "ticket.rated", "occurred_at": "2026-11-27T09:00:00.000Z",
    ...     "subject": {"type": "ticket", "id": "tkt_1", "version": 7}, "actor": {"type": "resident", "id": "res_1"},
    ...     "changes": {"rating": {"before": None, "after": {"score": 5, "comment": "很好"}}},
    ...     "data": {"score": 5, "status": "closed", "action": "rate", "visibility": "public"}})["data"]
    {'ticket_id': 'tkt_1', 'version': 7, 'status': 'closed', 'action': 'rate', 'changes': {}, \
'changed_fields': ['rating'], 'actor': {'type': 'resident', 'id': 'res_1', 'role': None}, 'score': 5}
    >>> webhook_payload({"type": "staff.created", "subject": {"type": "staff", "id": "usr_1"}}) is None
    True
    """
    found = spec(event.get("type", ""))
    if found is None or not found.public:
        return None
    model = globals()[found.payload]
    subject = event.get("subject") or {}
    changes = event.get("changes") or {}
    raw: dict[str, Any] = {**(event.get("data") or {}), "actor": event.get("actor") or None,
                           "changed_fields": sorted(changes)}
    if subject.get("type"):
        raw[f"{subject['type']}_id"] = subject.get("id")
    if subject.get("type") == "ticket":
        raw["version"] = subject.get("version")
        raw["changes"] = {k: v.get("after") for k, v in changes.items()
                          if k in TICKET_FIELDS and isinstance(v, dict)}
    data = model.model_validate(raw).model_dump(mode="json")
    return Envelope(type=event["type"], version=found.version, timestamp=event.get("occurred_at", ""),
                    data=data).model_dump(mode="json")


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every public type's ``data`` (served to integrators, checked against the docs)."""
    from chalicelib.events.catalogue import CATALOGUE

    return {t: globals()[s.payload].model_json_schema() for t, s in CATALOGUE.items() if s.public}
