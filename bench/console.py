"""The staff console's weight and speed: the JavaScript the sign-in and queue routes load (gzipped, from the
build's manifest: the entry, the route's chunk and everything they import statically), and the time from
navigating to /console/queue to 50 rows on screen in headless Chromium against the local stack (signed in,
tenant config and names loaded as a person's browser would). Budget: ≤ 300 KB of gzipped JavaScript per route."""
from __future__ import annotations

import gzip
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from devstack.web import CONSOLE_DIST

BUDGET_KB = 300
ROUTES = {"sign-in": "src/views/LoginView.vue", "queue": "src/views/QueueView.vue"}
LAYOUT = "src/layouts/ConsoleLayout.vue"
TICKETS = 50
RUNS = 5


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
        chunks = _closure(manifest, [entry, source] + ([LAYOUT] if route != "sign-in" else []))
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


def queue_render_times() -> list[float]:
    from playwright.sync_api import sync_playwright

    from devstack.demo import DEMO_PASSWORD, DEMO_SLUG
    from devstack.stack import LocalStack, free_port
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LAPTOP
    from tests.helpers import ApiClient

    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-console-bench")
    stack.start()
    times: list[float] = []
    try:
        api = ApiClient(stack.api_url)
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
        stored = json.dumps({"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]})
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for _ in range(RUNS):
                context = browser.new_context(viewport=LAPTOP, base_url=stack.api_url)
                context.add_init_script(f"localStorage.setItem('linli.console.tokens', {json.dumps(stored)})")
                page = context.new_page()
                started = time.perf_counter()
                page.goto("/console/queue?bucket=open")
                rows = "document.querySelectorAll('[data-test=queue-table] .el-table__row').length"
                page.wait_for_function(f"{rows} >= {TICKETS}", timeout=30000)
                times.append((time.perf_counter() - started) * 1000)
                context.close()
            browser.close()
    finally:
        stack.stop()
    return times


def run() -> ConsoleFigures:
    return ConsoleFigures(route_weights(), queue_render_times())


def report(figures: ConsoleFigures) -> str:
    lines = [f"{'route':<10} {'JS gzip':>9} {'CSS gzip':>9} {'chunks':>7}  budget {BUDGET_KB} KB JS"]
    for w in figures.weights:
        verdict = "ok" if w.js_gzip <= BUDGET_KB * 1024 else "OVER"
        lines.append(f"{w.route:<10} {w.js_gzip / 1024:>7.1f}KB {w.css_gzip / 1024:>7.1f}KB {w.files:>7}  {verdict}")
    times = sorted(figures.render_ms)
    lines.append(f"\nNavigation → queue with {TICKETS} rows rendered (headless Chromium, local stack, "
                 f"{len(times)} runs): median {statistics.median(times):.0f} ms, best {times[0]:.0f} ms, "
                 f"worst {times[-1]:.0f} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
