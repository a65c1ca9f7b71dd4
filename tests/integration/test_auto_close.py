"""Auto-close: resolved tickets the resident did not confirm close after the tenant's window (fixed clocks)."""
from __future__ import annotations

from datetime import timedelta

from chalicelib import bootstrap
from chalicelib.core.clock import utcnow
from chalicelib.tickets.domain import Action
from chalicelib.tickets.schemas import ActionIn, StaffTicketIn
from tests.integration.test_ticket_state_machine import world  # noqa: F401 - the fixture


def test_resolved_tickets_close_after_the_window_and_only_then(world):  # noqa: F811
    intake, transitions = bootstrap.ticket_intake(), bootstrap.ticket_transitions()
    queries, schedules = bootstrap.ticket_queries(), bootstrap.ticket_schedules()
    admin = world["actors"][0]
    body = StaffTicketIn(kind="inquiry", description="自动关闭", resident_id=world["resident_id"],
                         location={"community_id": world["community"].id, "unit_id": world["unit"].id})
    resolved_at = utcnow()
    waiting = intake.create(admin, body, None, resolved_at)
    confirmed = intake.create(admin, body.model_copy(update={"category": "其他"}), None, resolved_at)
    for ticket in (waiting, confirmed):
        transitions.act(admin, ticket.id, Action.RESOLVE, ActionIn(note="已答复"), None, resolved_at)
    transitions.act(world["resident"], confirmed.id, Action.CONFIRM, ActionIn(), None, resolved_at)

    schedules.auto_close_due(resolved_at + timedelta(days=2, hours=23))  # (other tests' tickets share the table)
    assert queries.get(admin, waiting.id, utcnow()).status == "resolved"
    assert schedules.auto_close_due(resolved_at + timedelta(days=3, minutes=1)) >= 1
    closed = queries.get(admin, waiting.id, utcnow())
    assert closed.status == "closed" and closed.closed_at
    events = queries.timeline(admin, waiting.id)
    assert events[-1].type == "ticket.closed" and events[-1].data["how"] == "auto"
    assert events[-1].actor == {"type": "system", "id": "auto-close", "role": None}
    schedules.auto_close_due(resolved_at + timedelta(days=3, minutes=2))
    assert [e.type for e in queries.timeline(admin, waiting.id)].count("ticket.closed") == 1  # exactly once
    assert [e.type for e in queries.timeline(admin, confirmed.id)].count("ticket.closed") == 1
