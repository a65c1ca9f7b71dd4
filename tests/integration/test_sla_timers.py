"""SLA timers against moto: the sweep reads only what is due, marks are recorded exactly once."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import boto3

from chalicelib import bootstrap
from chalicelib.core.clock import to_rfc3339
from chalicelib.sla.sweep import SlaSweep, handle_check
from chalicelib.tickets.domain import Action
from chalicelib.tickets.schemas import ActionIn, StaffTicketIn
from tests.integration.test_ticket_state_machine import world  # noqa: F401 - the fixture


class Bookmark:
    """The sweep's state as in production: it last ran a minute before the moment under test. (The shared
    table's bookmark belongs to the local stack's own sweep, which runs on today's clock.)"""

    def __init__(self, at: datetime) -> None:
        self.minute = at - timedelta(minutes=1)

    def last_minute(self) -> datetime:
        return self.minute

    def save_last_minute(self, minute: datetime) -> None:
        self.minute = minute


def _future_start() -> datetime:
    """A moment no other test uses, so the buckets read are this test's alone."""
    return datetime(2031, 1, 1, tzinfo=timezone.utc) + timedelta(days=uuid.uuid4().int % 3000)


def _open_tickets(world, t0: datetime, count: int) -> list[str]:  # noqa: F811
    intake = bootstrap.ticket_intake()
    body = StaffTicketIn(kind="suggestion", description="SLA", resident_id=world["resident_id"],
                         location={"community_id": world["community"].id, "unit_id": world["unit"].id})
    return [intake.create(world["actors"][0], body.model_copy(update={"category": f"c{n}"}), None, t0).id
            for n in range(count)]


def _not_yet_due(stack, t0: datetime, count: int) -> None:
    """Open tickets whose next deadline is hours to weeks away (index entries only)."""
    table = boto3.resource("dynamodb", endpoint_url=stack.endpoint).Table(stack.table_name)
    with table.batch_writer() as batch:
        for n in range(count):
            due = t0 + timedelta(hours=1, minutes=n * 37)
            batch.put_item(Item={"PK": f"T#tnt_bulk#TKT#tkt_{n}", "SK": "TICKET", "entity": "ticket",
                                 "due_bucket": f"SLA#{due:%Y%m%d%H%M}",
                                 "due_at": f"{to_rfc3339(due)}#tnt_bulk#tkt_{n}"})


def _never_early(body, delay):
    raise AssertionError(f"a check was re-queued although it was due: {body} +{delay} s")


def test_sweep_reads_only_what_is_due_and_breaches_exactly_those(world, stack):  # noqa: F811
    t0 = _future_start()
    due = _open_tickets(world, t0, 10)
    _not_yet_due(stack, t0, 990)
    sent: list[tuple[dict, int]] = []
    at = t0 + timedelta(minutes=15, seconds=5)
    sweep = SlaSweep(bootstrap.ticket_repository(), Bookmark(at), lambda body, delay: sent.append((body, delay)))
    report = sweep.run(at)
    assert report.items_read == 10 and report.scheduled == 10
    assert sorted(body["ticket_id"] for body, _ in sent) == sorted(due)
    schedules, queries = bootstrap.ticket_schedules(), bootstrap.ticket_queries()
    for body, _ in sent:
        handle_check(body, schedules.sla_check, at, _never_early)
    admin = world["actors"][0]
    for ticket_id in due:
        events = [e.type for e in queries.timeline(admin, ticket_id)]
        assert events.count("sla.breached") == 1 and events.count("sla.warning") == 1
        assert queries.get(admin, ticket_id, at).sla_state == "breached"


def test_concurrent_sweeps_and_redelivered_checks_record_one_breach(world, stack):  # noqa: F811
    t0 = _future_start()
    [late, answered] = _open_tickets(world, t0, 2)
    schedules, queries = bootstrap.ticket_schedules(), bootstrap.ticket_queries()
    bootstrap.ticket_transitions().act(world["actors"][0], answered, Action.ACKNOWLEDGE, ActionIn(), None,
                                       t0 + timedelta(minutes=5))
    at = t0 + timedelta(minutes=16)
    sent: list[dict] = []
    sweeps = [SlaSweep(bootstrap.ticket_repository(), Bookmark(at), lambda body, delay: sent.append(body))
              for _ in range(3)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda s: s.run(at), sweeps))
    assert len(sent) >= 3  # every sweep saw the due ticket: the checks are duplicates
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda body: handle_check(body, schedules.sla_check, at, _never_early), sent + sent))
    admin = world["actors"][0]
    late_events = [e for e in queries.timeline(admin, late) if e.type.startswith("sla.")]
    assert [e.type for e in late_events].count("sla.breached") == 1
    assert [e.data["step"] for e in late_events if e.type == "sla.escalated"] == [1]
    answered_events = [e.type for e in queries.timeline(admin, answered)]
    assert "sla.breached" not in answered_events and "sla.met" in answered_events
    assert queries.get(admin, answered, at).sla[0]["state"] == "met"
