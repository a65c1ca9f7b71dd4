"""The notifications consumer against moto: one record delivered twice → one message; quiet hours hold."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib import bootstrap
from chalicelib.notifications.channels import LocalOutbox
from chalicelib.notifications.consumer import NotificationConsumer
from chalicelib.tickets.domain import Action
from chalicelib.tickets.schemas import ActionIn, StaffTicketIn
from tests.integration.test_ticket_state_machine import world  # noqa: F401 - the fixture

NOON_SHANGHAI = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
MIDNIGHT_SHANGHAI = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)


def _ticket(world, kind="inquiry"):  # noqa: F811
    tickets = bootstrap.ticket_service()
    body = StaffTicketIn(kind=kind, description="通知", resident_id=world["resident_id"],
                         location={"community_id": world["community"].id, "unit_id": world["unit"].id})
    ticket = tickets.create(world["actors"][0], body, None, NOON_SHANGHAI)
    tickets.act(world["actors"][0], ticket.id, Action.ACKNOWLEDGE, ActionIn(), None, NOON_SHANGHAI)
    return ticket


def _consumer(outbox, held):
    return NotificationConsumer(bootstrap.ticket_service(), bootstrap.tenant_service(),
                                bootstrap.resident_service(), outbox, lambda body, delay: held.append(delay))


def _event(world, ticket, event_id):  # noqa: F811
    return {"id": event_id, "type": "ticket.acknowledged", "tenant_id": world["actors"][0].tenant_id,
            "subject": {"type": "ticket", "id": ticket.id}}


def test_a_record_delivered_twice_sends_one_message(world):  # noqa: F811
    outbox, held = LocalOutbox(), []
    consumer = _consumer(outbox, held)
    ticket = _ticket(world)
    event = _event(world, ticket, f"evt_twice_{ticket.id}")
    assert consumer.handle(event, NOON_SHANGHAI) == 1
    assert consumer.handle(event, NOON_SHANGHAI) == 0
    messages = outbox.messages()
    assert len(messages) == 1 and messages[0]["to"] == "13512345678" and "已受理" in messages[0]["body"]


def test_quiet_hours_hold_everything_but_emergencies(world):  # noqa: F811
    outbox, held = LocalOutbox(), []
    consumer = _consumer(outbox, held)
    routine = _ticket(world)
    assert consumer.handle(_event(world, routine, f"evt_quiet_{routine.id}"), MIDNIGHT_SHANGHAI) == 0
    assert outbox.messages() == [] and held == [900]  # back on the queue, delayed toward 08:00
    emergency = _ticket(world, kind="emergency")
    assert consumer.handle(_event(world, emergency, f"evt_urgent_{emergency.id}"), MIDNIGHT_SHANGHAI) == 1
