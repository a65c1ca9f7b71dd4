"""SLA sweep scaling: items read by one sweep with N open tickets of which 10 are due."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.core.clock import to_rfc3339

SIZES = (1_000, 10_000, 100_000)
DUE = 10


def _seed(table, t0: datetime, start: int, stop: int) -> None:
    with table.batch_writer() as batch:
        for n in range(start, stop):
            due = t0 - timedelta(seconds=30) if n < DUE else t0 + timedelta(minutes=30 + n % 20_000)
            batch.put_item(Item={"PK": f"T#tnt_bench#TKT#tkt_{n}", "SK": "TICKET", "entity": "ticket",
                                 "due_bucket": f"SLA#{due:%Y%m%d%H%M}",
                                 "due_at": f"{to_rfc3339(due)}#tnt_bench#tkt_{n}"})


def run(sizes: tuple[int, ...] = SIZES) -> list[tuple[int, int, int, int, int]]:
    """One embedded stack; the open tickets grow to each size, the same 10 stay due."""
    import boto3

    from chalicelib import bootstrap
    from chalicelib.sla.repository import SweepStateRepository
    from chalicelib.sla.sweep import SlaSweep
    from devstack.stack import LocalStack, free_port

    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-sweep-bench", seed=False)
    stack.start()
    stack.emulator.stop()
    table = boto3.resource("dynamodb", endpoint_url=stack.endpoint).Table(stack.table_name)
    t0 = datetime(2030, 6, 1, 8, 0, tzinfo=timezone.utc)
    rows, seeded = [], 0
    for total in sizes:
        _seed(table, t0, seeded, total)
        seeded = total
        sweep = SlaSweep(bootstrap.ticket_repository(), SweepStateRepository(), lambda body, delay: None)
        report = sweep.run(t0)
        rows.append((total, DUE, report.items_read, report.scheduled, report.buckets))
    stack.stop()
    return rows


def report(rows: list[tuple[int, int, int, int, int]]) -> str:
    lines = [f"{'open tickets':>13} {'due':>5} {'items read':>11} {'checks scheduled':>17} {'buckets':>8}",
             "-" * 60]
    for total, due, read, scheduled, buckets in rows:
        lines.append(f"{total:>13,} {due:>5} {read:>11} {scheduled:>17} {buckets:>8}")
    lines.append("(items read: the Queries' ScannedCount over the minute buckets up to now + 1 min)")
    return "\n".join(lines)
