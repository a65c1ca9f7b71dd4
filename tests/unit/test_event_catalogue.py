"""The event catalogue covers every type the code records; integrator docs match it; payloads stay thin."""
from __future__ import annotations

import re
from pathlib import Path

from chalicelib.events.catalogue import CATALOGUE, Queue, public_types, queues_for
from chalicelib.events.docs import render
from chalicelib.events.schemas import json_schemas, webhook_payload
from chalicelib.tickets.domain import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]


def recorded_types() -> set[str]:
    found = set(EVENT_TYPES.values()) | {"ticket.status_changed"}
    for path in (ROOT / "chalicelib").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'\.record\(\s*"([a-z_]+\.[a-z_]+)"', text))
        if path.name == "domain.py" and path.parent.name == "sla":
            found |= {f"sla.{kind}" for kind in re.findall(r'_entry\("([a-z]+)"', text)}
    return found


def test_every_recorded_type_is_in_the_catalogue():
    missing = recorded_types() - set(CATALOGUE)
    assert not missing, f"add these to chalicelib/events/catalogue.py: {sorted(missing)}"


def test_the_integrator_docs_are_generated_from_the_catalogue():
    assert (ROOT / "docs" / "events.md").read_text(encoding="utf-8") == render(), \
        "run: python -m chalicelib.events.docs > docs/events.md"


def test_internal_types_never_reach_webhooks_and_public_ones_have_schemas():
    assert set(json_schemas()) == {t for t, s in CATALOGUE.items() if s.public}
    for event_type, spec in CATALOGUE.items():
        assert (Queue.WEBHOOKS in queues_for(event_type)) == (spec.public and event_type != "webhook.test")
    assert "staff.created" not in public_types() and "webhook.disabled" not in public_types()


def test_payloads_are_thin_and_carry_no_resident_text():
    event = {"type": "ticket.created", "occurred_at": "2026-11-27T09:00:00.000Z",
             "subject": {"type": "ticket", "id": "tkt_1", "version": 1}, "actor": {"type": "resident", "id": "res_1"},
             "changes": {}, "data": {"number": "26112700001", "kind": "repair", "category": "水电",
                                     "description": "厨房漏水，电话13512345678", "phone": "13512345678"}}
    payload = webhook_payload(event)
    assert payload["type"] == "ticket.created" and payload["version"] == 1
    assert payload["data"]["ticket_id"] == "tkt_1" and payload["data"]["number"] == "26112700001"
    assert "13512345678" not in str(payload) and "漏水" not in str(payload)
    updated = webhook_payload({"type": "resident.updated", "subject": {"type": "resident", "id": "res_1"},
                               "changes": {"phone": {"before": "13500000000", "after": "13512345678"}}})
    assert updated["data"] == {"resident_id": "res_1", "changed_fields": ["phone"], "actor": None}
