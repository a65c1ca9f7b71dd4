"""The staff console's weight and speed: the JavaScript the sign-in, queue and reports routes load (gzipped, from
the build's manifest: the entry, the route's chunk and everything they import statically), the time from
navigating to /console/queue to 50 rows on screen, and the time from navigating to /console/reports to its tiles
and first chart drawn over a month of ~10,000 tickets — headless Chromium against the local stack, signed in,
tenant config and names loaded as a person's browser would. Budget: ≤ 300 KB of gzipped JavaScript for the
sign-in and queue routes (the reports route carries ECharts, loaded by that route alone).

The reports tenant's rollups are made the way ``bench.reports`` makes them (``made_up_rollups``: the reports
consumer's contributions of made-up tickets, stored directly): 30,000 tickets spread over its 90 days, so the
dashboard's default 30 days hold about 10,000."""
from __future__ import annotations

import gzip
import json
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from devstack.web import CONSOLE_DIST

BUDGET_KB = 300
ROUTES = {"sign-in": "src/views/LoginView.vue", "queue": "src/views/QueueView.vue",
          "reports": "src/views/ReportsView.vue"}
BUDGETED = ("sign-in", "queue")
LAYOUT = "src/layouts/ConsoleLayout.vue"
CHARTS = "src/components/reports/EChart.vue"  # ECharts: the reports route asks for it as it starts
TICKETS = 50
RUNS = 5
REPORT_TICKETS = 30_000  # over bench.reports.DAYS (90) days: ~10,000 in the dashboard's default 30


@dataclass
class RouteWeight:
    route: str
    js_gzip: int
    css_gzip: int
    files: int


@dataclass
class ConsoleFigures:
    weights: list[RouteWeight]
    render_ms: list[float]
    reports_ms: list[float]  # navigation → the tiles and the first chart drawn
    reports_all_ms: list[float]  # navigation → the staff table and the ranking too
    reports_reload_ms: list[float]  # 刷新 pressed → the figures asked for again and drawn
    reports_tickets: int  # what the dashboard's 工单总数 tile showed for its default 30 days


def _closure(manifest: dict, keys: list[str]) -> set[str]:
    """The chunks these manifest entries load before they run: themselves and their static imports."""
    seen: set[str] = set()
    stack = list(keys)
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        stack += manifest[key].get("imports", [])
    return seen


def route_weights(dist: Path = CONSOLE_DIST) -> list[RouteWeight]:
    manifest = json.loads((dist / ".vite" / "manifest.json").read_text())
    entry = next(key for key, chunk in manifest.items() if chunk.get("isEntry"))
    out = []
    for route, source in ROUTES.items():
        chunks = _closure(manifest, [entry, source] + ([LAYOUT] if route != "sign-in" else [])
                          + ([CHARTS] if route == "reports" else []))
        js = {manifest[c]["file"] for c in chunks}
        css = {f for c in chunks for f in manifest[c].get("css", [])}
        size = lambda files: sum(len(gzip.compress((dist / f).read_bytes(), 6)) for f in files)  # noqa: E731
        out.append(RouteWeight(route, size(js), size(css), len(js)))
    return out


def _call(api, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    response = api.request(method, path, token=token, json=body)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")
    return response.json() if response.content else {}


def _stored_tokens(tokens: dict) -> str:
    return json.dumps({"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]})


def _navigate_times(browser, base_url: str, tokens: str, path: str, ready: str, *, then: str | None = None,
                    reload: tuple[str, str] | None = None) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds from navigating to ``path`` (signed in through localStorage, as a returning person is) until
    the page's ``ready`` expression holds, ``RUNS`` times in fresh contexts (nothing cached); then until ``then``
    holds too; then, ``reload`` = (button, done): from clicking the button until ``done`` holds again."""
    from tests.browser.conftest import LAPTOP

    first: list[float] = []
    full: list[float] = []
    again: list[float] = []
    for _ in range(RUNS):
        context = browser.new_context(viewport=LAPTOP, base_url=base_url)
        context.add_init_script(f"localStorage.setItem('linli.console.tokens', {json.dumps(tokens)})")
        page = context.new_page()
        started = time.perf_counter()
        page.goto(path)
        page.wait_for_function(ready, timeout=30000)
        first.append((time.perf_counter() - started) * 1000)
        if then:
            page.wait_for_function(then, timeout=30000)
            full.append((time.perf_counter() - started) * 1000)
        if reload:
            button, done = reload
            started = time.perf_counter()
            page.click(button)
            page.wait_for_function(f"!({done})", timeout=30000, polling=5)
            page.wait_for_function(done, timeout=30000)
            again.append((time.perf_counter() - started) * 1000)
        context.close()
    return first, full, again


def _queue_times(api, browser, base_url: str) -> list[float]:
    from devstack.demo import DEMO_PASSWORD, DEMO_SLUG

    tokens = _call(api, "POST", "/v1/auth/login", body={"tenant_slug": DEMO_SLUG, "email": "agent@demo.test",
                                                          "password": DEMO_PASSWORD})
    staff = tokens["access_token"]
    residents = _call(api, "GET", "/v1/residents?limit=10", token=staff)["items"]
    for n in range(TICKETS):
        resident = residents[n % len(residents)]
        unit = resident["units"][0]
        _call(api, "POST", "/v1/tickets", token=staff, body={
            "resident_id": resident["id"], "kind": "repair", "description": f"压测工单 {n + 1}",
            "location": {"community_id": unit["community_id"], "unit_id": unit["unit_id"]}})
    rows = "document.querySelectorAll('[data-test=queue-table] .el-table__row').length"
    return _navigate_times(browser, base_url, _stored_tokens(tokens), "/console/queue?bucket=open",
                           f"{rows} >= {TICKETS}")[0]


def _reports_times(api, browser, base_url: str) -> tuple[list[float], list[float], list[float], int]:
    """A new tenant (its admin signed in) whose rollups hold the made-up tickets; the dashboard's default range."""
    from zoneinfo import ZoneInfo

    from bench.reports import made_up_rollups, store
    from chalicelib.core.clock import utcnow

    tenant = api.new_tenant()
    communities = [_call(api, "POST", "/v1/communities", token=tenant.token, body={"name": f"小区{c}"})["id"]
                   for c in range(3)]
    zone = ZoneInfo(_call(api, "GET", "/v1/tenant", token=tenant.token).get("timezone") or "Asia/Shanghai")
    store(tenant.id, made_up_rollups(REPORT_TICKETS, communities, [f"usr_{s}" for s in range(6)], utcnow(), zone))
    tokens = _stored_tokens({"access_token": tenant.token, "refresh_token": tenant.refresh_token})
    created = "document.querySelector('[data-test=tile-created] [data-test=tile-value]')"
    drawn = ("document.querySelector('[data-test=reports][data-figures=ready]') && "
             f"{created} && /^\\d+$/.test({created}.textContent.trim()) && "
             "document.querySelector('[data-test=chart-firstResponse] canvas')")
    tables = "document.querySelector('[data-test=reports][data-state=ready] [data-test=ranking-table]')"
    times = _navigate_times(browser, base_url, tokens, "/console/reports", drawn, then=tables,
                            reload=("[data-test=reports-refresh]", drawn))
    last = utcnow().astimezone(zone).date()
    figures = _call(api, "GET", f"/v1/reports/figures?from={(last - timedelta(days=29)).isoformat()}"
                                f"&to={last.isoformat()}", token=tenant.token)
    return *times, figures["total"]["created"]


def render_times() -> tuple[list[float], list[float], list[float], list[float], int]:
    """One local stack and one browser for both pages: the queue's times, the dashboard's, its tickets shown."""
    from playwright.sync_api import sync_playwright

    from devstack.stack import LocalStack, free_port
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.helpers import ApiClient

    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-console-bench")
    stack.start()
    try:
        api = ApiClient(stack.api_url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                queue = _queue_times(api, browser, stack.api_url)
                reports = _reports_times(api, browser, stack.api_url)
            finally:
                browser.close()
    finally:
        stack.stop()
    return queue, *reports


def run() -> ConsoleFigures:
    return ConsoleFigures(route_weights(), *render_times())


def report(figures: ConsoleFigures) -> str:
    lines = [f"{'route':<10} {'JS gzip':>9} {'CSS gzip':>9} {'chunks':>7}  budget {BUDGET_KB} KB JS "
             f"({', '.join(BUDGETED)})"]
    for w in figures.weights:
        verdict = ("ok" if w.js_gzip <= BUDGET_KB * 1024 else "OVER") if w.route in BUDGETED else "(ECharts; no budget)"
        lines.append(f"{w.route:<10} {w.js_gzip / 1024:>7.1f}KB {w.css_gzip / 1024:>7.1f}KB {w.files:>7}  {verdict}")

    def spread(ms: list[float]) -> str:
        ordered = sorted(ms)
        return (f"median {statistics.median(ordered):.0f} ms, best {ordered[0]:.0f} ms, worst {ordered[-1]:.0f} ms "
                f"({len(ordered)} runs)")

    lines.append(f"\nNavigation → queue with {TICKETS} rows rendered (headless Chromium, local stack): "
                 f"{spread(figures.render_ms)}")
    lines.append(f"Reports, 30 days holding {figures.reports_tickets:,} tickets (rollups of {REPORT_TICKETS:,} made-up "
                 f"tickets over 90 days):")
    lines.append(f"  navigation → tiles and charts drawn:        {spread(figures.reports_ms)}")
    lines.append(f"  navigation → staff table and ranking too:   {spread(figures.reports_all_ms)}")
    lines.append(f"  刷新 → the month's figures asked and drawn:  {spread(figures.reports_reload_ms)}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
