"""Queue pages at 1,000, 10,000 and 100,000 tickets: round trips and items DynamoDB reads (and bills) for the first
page of 25 of every filter the console offers, counted by a botocore hook on the repository's own Query calls.

The tickets are made up and stored as the repository stores them (``to_item``: every index key included), in
batches — filing 100,000 through the API would take hours on the emulator and measure nothing more. Their mix: a
fifth open, a tenth resolved, most closed, a few cancelled; kinds from repairs (half) to emergencies (1 %); three
communities, six staff; SLA states as the open list has them.

A page reads at most two Queries and ``2 × limit`` items (``TicketRepository._bounded_page``): a filter its index
does not serve returns what those reads found — short, even empty — with a cursor to read on.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SIZES = (1_000, 10_000, 100_000)
LIMIT = 25
KINDS = [("repair", 50), ("inquiry", 20), ("complaint", 15), ("suggestion", 10), ("service", 4), ("emergency", 1)]
BUCKETS = [("new", 10), ("assigned", 10), ("resolved", 10), ("closed", 65), ("cancelled", 5)]
NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


@dataclass
class Row:
    tickets: int
    name: str
    round_trips: int
    items_read: int
    returned: int
    more: bool


def made_up(tenant_id: str, count: int) -> list[Any]:
    from chalicelib.core.clock import to_rfc3339
    from chalicelib.core.ids import new_id
    from chalicelib.tickets.records import Ticket

    rng = random.Random(count)  # noqa: S311 - made-up data
    kinds, kind_weights = zip(*KINDS, strict=True)
    statuses, status_weights = zip(*BUCKETS, strict=True)
    out = []
    for n in range(count):
        created = to_rfc3339(NOW - timedelta(minutes=rng.uniform(1, 90 * 24 * 60)))
        status = rng.choices(statuses, status_weights)[0]
        kind = rng.choices(kinds, kind_weights)[0]
        community = f"cmt_{rng.randrange(3)}"
        assignee = None if status == "new" else f"usr_{rng.randrange(6)}"
        out.append(Ticket(
            ticket_id=new_id("tkt"), tenant_id=tenant_id, number=f"{n:011d}", kind=kind,
            priority="P1" if kind == "emergency" else rng.choice(("P2", "P3", "P3", "P4")), status=status,
            description="压测工单", channel="h5", resident_id=f"res_{rng.randrange(count // 3 + 1)}",
            location={"community_id": community, "unit_id": f"unt_{rng.randrange(300)}"}, community_id=community,
            assignee_id=assignee, created_by={"type": "resident", "id": "res_x", "role": None}, created_at=created,
            updated_at=created, category="水电",
            sla_state=rng.choice(("running", "running", "running", "warning", "breached", "met"))
            if status in ("new", "assigned") else "met"))
    return out


def store(tickets: list[Any]) -> None:
    from chalicelib.tickets.repository import TicketItem, to_item

    with TicketItem.batch_write() as batch:
        for ticket in tickets:
            batch.save(to_item(ticket))


def filters(tickets: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    some_unit = tickets[0].location["unit_id"]
    some_resident = tickets[0].resident_id
    return [
        ("open (no filter)", {}),
        ("open, kind=emergency", {"kind": "emergency"}),
        ("open, kind=complaint", {"kind": "complaint"}),
        ("open, community_id", {"community_id": "cmt_1"}),
        ("open, priority=P1", {"priority": "P1"}),
        ("open, sla_state=breached", {"sla_state": "breached"}),
        ("open, unassigned", {"unassigned": True}),
        ("open, unit_id", {"unit_id": some_unit}),
        ("assignee_id (their open jobs)", {"assignee_id": "usr_1"}),
        ("closed, created in the last day", {"bucket": "closed",
                                             "created_from": (NOW - timedelta(days=1)).isoformat()}),
        ("resident_id (their tickets)", {"bucket": None, "resident_id": some_resident}),
    ]


def run() -> list[Row]:
    from bench.roundtrips import CallCounter, install
    from chalicelib.core.clock import to_rfc3339
    from chalicelib.core.ids import new_id
    from chalicelib.core.tenancy import Principal, TenantContext
    from chalicelib.tickets.records import QueueFilter
    from devstack.stack import LocalStack, free_port

    counter = CallCounter()
    install(counter)
    scanned: list[int] = []

    def after(parsed: Any = None, model: Any = None, **_: Any) -> None:
        if model is not None and model.name == "Query" and isinstance(parsed, dict):
            scanned.append(int(parsed.get("ScannedCount", 0)))

    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(session, *args, **kwargs)
        client.meta.events.register("after-call.dynamodb.Query", after)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-pages-bench", seed=False)
    stack.start()
    stack.emulator.stop()  # the repository alone
    rows: list[Row] = []
    try:
        from chalicelib import bootstrap

        repository = bootstrap.ticket_repository()
        for size in SIZES:
            ctx = TenantContext(new_id("tnt"), Principal("staff", "usr_bench", "admin"))
            tickets = made_up(ctx.tenant_id, size)
            store(tickets)
            for name, fields in filters(tickets):
                if "created_from" in fields:
                    fields = {**fields, "created_from": to_rfc3339(NOW - timedelta(days=1))}
                spec = QueueFilter(**fields)
                scanned.clear()
                page, cursor = counter.measure(lambda spec=spec, ctx=ctx: repository.queue(ctx, spec, LIMIT, None))[0]
                rows.append(Row(size, name, len(scanned), sum(scanned), len(page), cursor is not None))
    finally:
        stack.stop()
        botocore.session.Session.create_client = original  # type: ignore[method-assign]
    return rows


def report(rows: list[Row]) -> str:
    lines = [f"{'first page of ' + str(LIMIT) + ', filter':<36} {'tickets':>8} {'round trips':>12} {'items read':>11} "
             f"{'returned':>9}  more", "-" * 86]
    lines += [f"{r.name:<36} {r.tickets:>8,} {r.round_trips:>12} {r.items_read:>11} {r.returned:>9}  "
              f"{'yes' if r.more else 'no'}" for r in rows]
    lines.append(f"\nEvery page: at most 2 round trips and {2 * LIMIT} items read, at any size; a short page says "
                 "'more' with a cursor to read on.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
