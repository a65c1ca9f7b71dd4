"""Fair share: tenant B's queue page alone and while tenant A (trial plan) floods the API with 30 clients.

The embedded stack over loopback HTTP with one container's worth of limits (the deployed ones). B's queue page
(the staff route agents poll all day) is timed at its agents' pace in alternating windows, alone and under A's
flood of the same route, so a change in the machine's other load falls on both alike (``bench.flood``). B's queue
is empty, as in ``tests/security/test_fair_share.py``: on the emulator a full page of 25 tickets takes moto ~0.4 s
to read (the emulator's cost, not the app's: DynamoDB answers such a Query in milliseconds), which would hide what
the flood costs B and take the run past a minute. Budget: B's p95
under the flood within 2× its p95 alone; A refused beyond its plan with 429s, B never.
"""
from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any

from bench import flood

BUDGET = 2.0
SAMPLES = 160  # per phase (the test takes 96): a p95 among the 8 slowest, and the whole run well under a minute
WINDOWS = 4


@dataclass
class FairShareFigures:
    run: flood.FairShareRun
    trial_per_second: float
    trial_burst: int


def _call(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    connection = http.client.HTTPConnection(flood.HOST, port, timeout=30)
    try:
        connection.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                           headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {raw.decode()[:200]}")
    return json.loads(raw) if raw else {}


def _signup(port: int, slug: str) -> tuple[str, str]:
    """A new tenant: its id and its admin's access token."""
    created = _call(port, "POST", "/v1/signup", {"company_name": f"{slug} 物业", "slug": slug,
                                                 "admin_email": f"admin@{slug}.test",
                                                 "admin_password": "Bench-pass-2026"})
    return created["tenant"]["id"], created["access_token"]


def run() -> FairShareFigures:
    from chalicelib.tenants.plans import PLANS
    from devstack.stack import LocalStack, free_port

    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-fairshare-bench", seed=False)
    stack.start()
    try:
        stack.emulator.stop()  # the API alone: no pollers sharing the interpreter with it
        port = stack.http_port
        (flooding_id, flooding), (_, steady) = _signup(port, "flood-a"), _signup(port, "steady-b")
        flood.set_plan(flooding_id, "trial")
        with flood.one_container():
            _call(port, "GET", "/v1/tenant", token=flooding)  # this container now knows A's plan
            result = flood.alternate(port, {"Authorization": f"Bearer {flooding}"},
                                     {"Authorization": f"Bearer {steady}"}, samples=SAMPLES, windows=WINDOWS)
    finally:
        stack.stop()
    trial = PLANS["trial"].tenant
    return FairShareFigures(result, trial.per_second, trial.burst)


def report(figures: FairShareFigures) -> str:
    run = figures.run
    alone_p50, alone_p95 = flood.p50(run.alone), flood.p95(run.alone)
    flooded_p50, flooded_p95 = flood.p50(run.flooded), flood.p95(run.flooded)
    ratio = flooded_p95 / alone_p95
    sent, refused, admitted = sum(run.flood_statuses.values()), run.flood_statuses[429], run.flood_statuses[200]
    allowed = figures.trial_burst + figures.trial_per_second * run.seconds
    steady_refused = sum(n for status, n in run.steady_statuses.items() if status != 200)
    lines = [
        f"B (standard plan): GET {flood.QUEUE_PAGE}, one agent at most {1 / flood.PACE_SECONDS:.0f} requests/s",
        f"A (trial plan: {figures.trial_per_second:g}/s, burst {figures.trial_burst}): {flood.FLOOD_THREADS} clients "
        f"at {1 / flood.FLOOD_INTERVAL:g} request/s each on the same route, in {WINDOWS} windows between B's alone",
        f"{'':<22} {'p50':>8} {'p95':>8} {'samples':>8}",
        "-" * 50,
        f"{'B alone':<22} {alone_p50 * 1000:>5.1f} ms {alone_p95 * 1000:>5.1f} ms {len(run.alone):>8}",
        f"{'B under A flood':<22} {flooded_p50 * 1000:>5.1f} ms {flooded_p95 * 1000:>5.1f} ms {len(run.flooded):>8}",
        f"p95 ratio under flood / alone: {ratio:.2f}× (budget ≤ {BUDGET:g}×): "
        f"{'within' if ratio <= BUDGET else 'OVER'}",
        f"A sent {sent} requests in {run.seconds:.0f} s: {refused} answered 429, {admitted} admitted "
        f"(its plan allows ≤ {allowed:.0f}); B refused {steady_refused} of {sum(run.steady_statuses.values())}",
    ]
    return "\n".join(lines)
