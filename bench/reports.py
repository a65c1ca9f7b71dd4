"""The reports dashboard's cost: rollup items read and latency of a 30- and a 90-day ``GET /v1/reports/figures`` (by
week, the whole tenant) with 1,000, 10,000 and 100,000 tickets behind it.

The rollups of N tickets are what the reports consumer would have written for them: N tickets' facts (made up,
spread over 90 days, 3 communities, 5 kinds, 6 staff) turned into contributions by the same code
(``chalicelib.reports.facts.contributions``), summed per rollup key and stored as those items — writing them
through N tickets' events would take hours on the emulator and measures nothing more. The figure that matters is
the read: it grows with days × communities × kinds (and staff), never with the tickets, which the bound in
``ReportStore`` states and the rows show.
"""
from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

SIZES = (1_000, 10_000, 100_000)
DAYS = 90
RUNS = 7
KINDS = ("repair", "complaint", "inquiry", "suggestion", "emergency")


@dataclass
class Row:
    days: int
    tickets: int
    rollup_items: int
    items_read: int
    median_ms: float
    best_ms: float


def made_up_rollups(tickets: int, communities: list[str], staff: list[str], now, zone: ZoneInfo
                    ) -> dict[str, dict[str, int]]:
    from chalicelib.core.clock import to_rfc3339
    from chalicelib.reports import kpis
    from chalicelib.reports.facts import TicketFacts, contributions

    rng = random.Random(tickets)  # noqa: S311 - made-up data
    summed: dict[str, dict[str, int]] = defaultdict(dict)
    for n in range(tickets):
        created = now - timedelta(days=rng.uniform(0.1, DAYS - 1.5))
        at = lambda minutes: to_rfc3339(created + timedelta(minutes=minutes))  # noqa: E731, B023
        resolver = rng.choice(staff)
        facts = TicketFacts(f"tkt_{n}", created_at=to_rfc3339(created), kind=rng.choice(KINDS),
                            community_id=rng.choice(communities), channel=rng.choice(("h5", "phone", "mini_program")),
                            status="closed", assignee_id=resolver, first_response_at=at(rng.uniform(1, 40)),
                            first_responder=rng.choice(staff), resolved_at=at(300), resolver=resolver,
                            resolution_note=True, closed_at=at(400), ended_at=at(400),
                            rating=rng.choice((5, 5, 4, 3)), assignments=[(at(5), resolver)],
                            resolutions=[(at(300), resolver)])
        facts.ratings = [(at(400), facts.rating, resolver)]
        facts.clock_outcomes = {("first_response", 1): ("met", at(10), resolver)}
        for key, counters in contributions(facts, zone).items():
            kpis.add(summed[key], counters)
    return summed


def store(tenant_id: str, rollups: dict[str, dict[str, int]]) -> int:
    from chalicelib.reports.facts import TOTAL_KEY
    from chalicelib.reports.repository import PREFIX, _item_key, rollup_item
    from chalicelib.storage.table import LinliModel, transaction_connection

    client, table = transaction_connection().client, LinliModel.Meta.table_name
    requests = []
    for key, counters in rollups.items():
        if key == TOTAL_KEY:  # the running totals: one number attribute per counter
            pk, sk = _item_key(tenant_id, key)
            item = {"PK": {"S": pk}, "SK": {"S": sk}, "entity": {"S": "report_rollup"},
                    **{PREFIX + name: {"N": str(amount)} for name, amount in counters.items()}}
        else:
            item = rollup_item(tenant_id, key, counters)
        requests.append({"PutRequest": {"Item": item}})
    for start in range(0, len(requests), 25):
        batch = {table: requests[start:start + 25]}
        while batch:
            batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}
    return len(requests)


def run() -> list[Row]:
    from chalicelib.core.clock import utcnow
    from devstack.stack import LocalStack, free_port
    from tests.helpers import ApiClient

    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-reports-bench", seed=False)
    stack.start()
    rows = []
    try:
        api = ApiClient(stack.api_url)
        zone = ZoneInfo("Asia/Shanghai")
        for size in SIZES:
            tenant = api.new_tenant()
            communities = [api.post("/v1/communities", token=tenant.token, json={"name": f"小区{c}"}).json()["id"]
                           for c in range(3)]
            now = utcnow()
            items = store(tenant.id, made_up_rollups(size, communities, [f"usr_{s}" for s in range(6)], now,
                                                            zone))
            last = now.astimezone(zone).date()
            for days in (30, DAYS):
                params = {"from": (last - timedelta(days=days - 1)).isoformat(), "to": last.isoformat(),
                          "granularity": "week"}
                times, read = [], 0
                for _ in range(RUNS):
                    started = time.perf_counter()
                    answer = api.get("/v1/reports/figures", token=tenant.token, params=params)
                    times.append((time.perf_counter() - started) * 1000)
                    if answer.status_code != 200:
                        raise RuntimeError(answer.text)
                    read = answer.json()["items_read"]
                if days == DAYS and answer.json()["total"]["created"] != size:
                    raise RuntimeError(f"{size} tickets made, {answer.json()['total']['created']} reported")
                rows.append(Row(days, size, items, read, statistics.median(times), min(times)))
    finally:
        stack.stop()
    return rows


def report(rows: list[Row]) -> str:
    lines = [f"{'days':>5} {'tickets':>8} {'rollup items':>13} {'items read':>11} {'median':>9} {'best':>8}"]
    lines += [f"{r.days:>5} {r.tickets:>8,} {r.rollup_items:>13,} {r.items_read:>11,} {r.median_ms:>7.0f}ms "
              f"{r.best_ms:>6.0f}ms" for r in rows]
    lines.append(f"\nBy week, whole tenant (3 communities × 5 kinds, tickets spread over {DAYS} days): the items read "
                 f"are bounded by days × 3 × 5 + the running totals ({DAYS * 15 + 1} for {DAYS} days), whatever the "
                 "number of tickets; the time on the emulator grows with the items' size (exact duration histograms).")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
