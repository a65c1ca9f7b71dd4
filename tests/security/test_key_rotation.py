"""Secrets outlive keys: rotating the JWT keyring and removing the old key (README's rotation steps) leaves webhook
secrets readable — they are sealed under the KMS key, not the keyring — and a cursor minted under the old key is a
clear 400, not a 500 (issue 11's row "Removing an old JWT key makes every webhook secret unreadable")."""
from __future__ import annotations

import json
import os
import secrets

import pytest
from standardwebhooks import Webhook

from tests.e2e.test_webhooks import receiver  # noqa: F401 - the fixture
from tests.helpers import PASSWORD, ApiClient, assert_error

pytestmark = pytest.mark.e2e


@pytest.fixture
def rotate_keys(stack):
    """Replace the keyring with a single new key (the old one removed), as an operator would; restored after."""
    from chalicelib import bootstrap

    saved = {name: os.environ.get(name) for name in ("LINLI_JWT_KEYS", "LINLI_JWT_ACTIVE_KID")}

    def rotate() -> None:
        os.environ["LINLI_JWT_KEYS"] = json.dumps({"rotated-2": secrets.token_urlsafe(48)})
        os.environ["LINLI_JWT_ACTIVE_KID"] = "rotated-2"
        bootstrap.reset()

    yield rotate
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    bootstrap.reset()


def test_removing_the_old_jwt_key_keeps_webhooks_signing_and_old_cursors_get_a_clear_400(
        api: ApiClient, tenant, receiver, rotate_keys):  # noqa: F811
    hook = api.post("/v1/webhooks", token=tenant.token, json={"url": receiver.base_url + "/ok", "event_types": []})
    assert hook.status_code == 201, hook.text
    for name in ("翠苑", "锦园"):
        assert api.post("/v1/communities", token=tenant.token, json={"name": name}).status_code == 201
    first_page = api.get("/v1/communities", token=tenant.token, params={"limit": 1}).json()
    old_cursor = first_page["next_cursor"]
    assert old_cursor

    rotate_keys()

    assert_error(api.get("/v1/communities", token=tenant.token), 401)  # tokens signed by the removed key end
    login = api.post("/v1/auth/login", json={"tenant_slug": tenant.slug, "email": tenant.admin_email,
                                             "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    assert_error(api.get("/v1/communities", token=token, params={"limit": 1, "cursor": old_cursor}), 400,
                 "invalid_cursor")
    fresh = api.get("/v1/communities", token=token, params={"limit": 1}).json()
    assert api.get("/v1/communities", token=token, params={"limit": 1, "cursor": fresh["next_cursor"]}).ok

    pinged = api.post(f"/v1/webhooks/{hook.json()['id']}/test", token=token)
    assert pinged.status_code == 202, pinged.text
    [delivered] = receiver.wait_count(lambda r: r.path == "/ok", 1)
    assert Webhook(hook.json()["secret"]).verify(delivered.body, delivered.headers)["type"] == "webhook.test"
