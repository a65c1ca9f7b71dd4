"""The resident page's weight and speed (the uni-app H5 build at /r/<slug>/).

Weight: the JavaScript a phone downloads before it can show home and then the report form, gzipped: the entry
``index.html`` loads, the two pages' chunks and every chunk they import statically (read from the built files: uni
builds each page as its own chunk, loaded when first shown). Budget: ≤ 200 KB for home + report.

Speed: on the local stack in headless Chromium at 390×844, a signed-in resident fills the report form (kind,
category, own unit, description) and taps 提交; timed from the tap to the filed ticket on screen (its detail page,
with its number), and to its card in 我的工单 after the back button.
"""
from __future__ import annotations

import gzip
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from devstack.web import RESIDENT_DIST

BUDGET_KB = 200
PAGES = {"home": "pages-index-index", "report": "pages-report-report"}
RUNS = 5  # under the tenant's daily limit of tickets per resident (10)
PHONE = {"width": 390, "height": 844}
RESIDENT = "13800000001"
_STATIC_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["']\./([\w.-]+\.js)["']""")
_ENTRY = re.compile(r"""<script[^>]+src=["'](?:\./)?(assets/[\w.-]+\.js)["']""")


@dataclass
class Weight:
    what: str
    js_gzip: int
    files: int


@dataclass
class ResidentFigures:
    weights: list[Weight]
    filed_ms: list[float]
    listed_ms: list[float]


def _gzip(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 6))


def _static_closure(assets: Path, names: list[str]) -> set[str]:
    """These chunks and what they import statically (``import … from "./x.js"``); dynamic ``import()`` of other
    pages is not followed (the entry names every page that way)."""
    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        source = (assets / name).read_text(encoding="utf-8")
        stack += [m.group(1) for m in _STATIC_IMPORT.finditer(source) if not m.group(0).lstrip().startswith("import(")]
    return seen


def page_weights(dist: Path = RESIDENT_DIST) -> list[Weight]:
    assets = dist / "assets"
    entry = Path(_ENTRY.search((dist / "index.html").read_text(encoding="utf-8")).group(1)).name
    chunks = {page: next(p.name for p in assets.glob(f"{prefix}.*.js")) for page, prefix in PAGES.items()}
    out = []
    loaded: set[str] = set()
    for what, names in (("entry + home", [entry, chunks["home"]]), ("+ report", [chunks["report"]])):
        closure = _static_closure(assets, names) - loaded
        loaded |= closure
        out.append(Weight(what, sum(_gzip(assets / n) for n in closure), len(closure)))
    out.append(Weight("home + report", sum(w.js_gzip for w in out), len(loaded)))
    return out


def submit_times() -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    from devstack.demo import DEMO_SLUG
    from devstack.stack import LocalStack, free_port
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.helpers import ApiClient

    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-resident-bench")
    stack.start()
    filed: list[float] = []
    listed: list[float] = []
    try:
        api = ApiClient(stack.api_url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN",
                                          timezone_id="Asia/Shanghai", base_url=stack.api_url)
            context.set_default_timeout(30000)
            page = context.new_page()
            page.goto(f"/r/{DEMO_SLUG}/#/pages/login/index")
            page.locator("[data-test=phone] input").fill(RESIDENT)
            page.click("[data-test=get-code]")
            page.locator("[data-test=code] input").fill(_code(api, RESIDENT))
            page.click("[data-test=sign-in]")
            page.wait_for_selector("[data-kind=repair]")
            for n in range(RUNS):
                page.goto(f"/r/{DEMO_SLUG}/#/pages/report/index?kind=repair")
                page.click("[data-test=categories] [data-category=水电]")
                page.locator("[data-test=unit].on").first.wait_for()
                page.locator("[data-test=description] textarea").fill(f"卫生间地漏返水（测速 {n + 1}）")
                started = time.perf_counter()
                page.click("[data-test=submit]")
                page.wait_for_selector("[data-test=detail-number]")
                filed.append((time.perf_counter() - started) * 1000)
                number = re.search(r"\d{6,}", page.inner_text("[data-test=detail-number]")).group(0)
                page.locator("uni-page-head .uni-page-head-btn").first.click()
                page.locator(f"[data-test=my-tickets] [data-test=ticket-card][data-number='{number}']").wait_for()
                listed.append((time.perf_counter() - started) * 1000)
            browser.close()
    finally:
        stack.stop()
    return filed, listed


def _code(api, phone: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in api.get("/v1/dev/messages", params={"to": phone}).json()["items"]:
            if message["channel"] == "sms" and "code" in (message.get("params") or {}):
                return message["params"]["code"]
        time.sleep(0.1)
    raise RuntimeError(f"no sign-in code reached {phone}")


def run() -> ResidentFigures:
    return ResidentFigures(page_weights(), *submit_times())


def report(figures: ResidentFigures) -> str:
    lines = [f"{'pages':<14} {'JS gzip':>9} {'chunks':>7}  budget {BUDGET_KB} KB for home + report"]
    for w in figures.weights:
        verdict = ("ok" if w.js_gzip <= BUDGET_KB * 1024 else "OVER") if w.what == "home + report" else ""
        lines.append(f"{w.what:<14} {w.js_gzip / 1024:>7.1f}KB {w.files:>7}  {verdict}")
    for label, times in (("tap 提交 → the filed ticket on screen", figures.filed_ms),
                         ("tap 提交 → its card in 我的工单 (after the back button)", figures.listed_ms)):
        times = sorted(times)
        lines.append(f"\n{label} (headless Chromium, local stack, {len(times)} runs): median "
                     f"{statistics.median(times):.0f} ms, best {times[0]:.0f} ms, worst {times[-1]:.0f} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
