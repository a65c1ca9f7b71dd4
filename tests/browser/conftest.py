"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, installed by `make browser-deps`) against
the console the embedded stack serves at /console/ (built by `make web`). Each test signs in as a person would and
saves a screenshot in .artifacts/screenshots/ to be looked at."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.demo import DEMO_PASSWORD, DEMO_SLUG
from devstack.web import CONSOLE_DIST

CHROMIUM = os.environ.get("LINLI_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
# What a closed network needs (no background requests to Google's hosts) and what root in a container needs.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--lang=zh-CN"]
LAPTOP = {"width": 1366, "height": 768}

pytestmark = pytest.mark.browser


def _require(path: Path, what: str) -> None:
    if not path.exists():
        raise RuntimeError(f"{what} is missing at {path}: run `make test` (it runs `make web browser-deps` first).")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    _require(Path(CHROMIUM), "Chromium")
    _require(CONSOLE_DIST / "index.html", "The built console")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.call_failed = report.failed


@pytest.fixture
def page(browser, stack, request) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=stack.api_url)
    context.set_default_timeout(15000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    if getattr(request.node, "call_failed", False):  # what the screen showed when the test gave up
        shot(tab, f"failed-{request.node.name}"[:120])
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def open_setting(page: Any, name: str) -> None:
    """Open a settings screen from the sidebar as a person does: unfold 设置, let the list finish unfolding (it is
    taller than a 768 px laptop's sidebar, so the last items need the sidebar scrolled), click the item, and wait
    for the address to change. Clicking an item while its list is still animating open is what a test should not
    race."""
    page.click("[data-nav=settings] > .el-sub-menu__title")
    page.wait_for_function("""() => {
        const list = document.querySelector('[data-nav=settings].is-opened > ul')
        return !!list && !list.style.height && getComputedStyle(list).display !== 'none'
    }""")
    item = page.locator(f"[data-nav={name}]")
    item.scroll_into_view_if_needed()
    item.click()
    page.wait_for_url("**/settings/" + re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower())


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def sign_in(page: Any, email: str, password: str = DEMO_PASSWORD, slug: str = DEMO_SLUG) -> None:
    page.goto("/console/login")
    page.fill("input[name=slug]", slug)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("[data-test=login-form] button[type=submit]")
    page.wait_for_url("**/console/queue**")
    page.wait_for_selector("[data-test=queue-table]")
