"""An administrator's settings as they would use them: the resident page's colour, a webhook and its test ping."""
from __future__ import annotations

import pytest

from devstack.demo import DEMO_SLUG
from tests.browser.conftest import open_setting, shot, sign_in
from tests.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def receiver():
    instance = Receiver().start()
    yield instance
    instance.stop()


def test_the_admin_changes_the_primary_colour_and_residents_get_it(page, api, stack):
    sign_in(page, "admin@demo.test")
    open_setting(page, "branding")
    colour = page.locator("[data-test=primary-color]")
    colour.fill("#00A870")
    page.click("[data-test=save-branding]")
    page.wait_for_selector(".el-message--success")
    shot(page, "settings-branding")

    public = api.get(f"/v1/public/tenants/{DEMO_SLUG}/branding")
    assert public.status_code == 200
    assert public.json()["primary_color"].upper() == "#00A870"


def test_the_admin_adds_a_webhook_and_sees_the_test_ping_in_its_delivery_log(page, api, stack, receiver):
    url = f"{receiver.base_url}/ok"
    sign_in(page, "admin@demo.test")
    open_setting(page, "webhooks")
    page.click("[data-test=webhook-create]")
    page.fill("[data-test=webhook-url]", url)
    page.click("[data-test=webhook-save]")
    page.click("[data-test=secret-close]")
    page.click(f"[data-test=webhook-test][data-url='{url}']")
    row = page.locator("[data-test=delivery-row]", has_text="webhook.test")
    row.wait_for(timeout=30000)
    page.wait_for_function("[...document.querySelectorAll('[data-test=delivery-row]')]"
                           ".some(r => r.dataset.status === 'succeeded')", timeout=30000)
    assert "204" in row.first.inner_text()
    shot(page, "settings-webhook-log")
    assert any(r.path == "/ok" for r in receiver.requests)  # the receiver got it, signed
    assert all("webhook-signature" in {k.lower() for k in r.headers} for r in receiver.requests)
