"""Fail closed (issue 11): the stage is explicit and known; the dev-only routes and loopback webhooks exist only in
``local`` on loopback; a deployed stage refuses to start with a local provider."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import bootstrap
from chalicelib.core.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
KEYS = json.dumps({"k1": "x" * 40})


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter imports app.py (what a cold start does) and prints the dev paths it serves and documents."""
    script = ("import json, app\n"
              "from chalicelib.core.http import api\n"
              "from chalicelib.core.openapi import build_document\n"
              "paths = set(app.app.routes) | set(build_document(api)['paths'])\n"
              "print(json.dumps(sorted(p for p in paths if p.startswith('/v1/dev/'))))\n")
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "LINLI_JWT_KEYS": KEYS,
            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true", "AWS_REGION": "us-east-1"}
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**base, **env}, capture_output=True,
                          text=True, timeout=120)


def test_unset_stage_refuses_to_start():
    for env in ({}, {"LINLI_STAGE": ""}, {"LINLI_STAGE": "  "}):
        with pytest.raises(SettingsError, match="LINLI_STAGE is not set"):
            Settings.from_env(env)
    started = _start({})
    assert started.returncode != 0
    last = started.stderr.strip().splitlines()[-1]
    assert last == "chalicelib.core.settings.SettingsError: LINLI_STAGE is not set; set it to one of local, dev, prod"
    with pytest.raises(SettingsError, match="LINLI_STAGE must be one of"):
        Settings.from_env({"LINLI_STAGE": "staging"})


def test_test_stage_is_not_local():
    with pytest.raises(SettingsError, match="got 'test'"):
        Settings.from_env({"LINLI_STAGE": "test"})
    assert [stage for stage in ("local", "dev", "prod") if Settings.from_env({"LINLI_STAGE": stage}).is_local] \
        == ["local"]


@pytest.mark.parametrize("env", [{"LINLI_STAGE": "prod"}, {"LINLI_STAGE": "dev"}, {"LINLI_STAGE": "local"}])
def test_dev_messages_route_absent_in_deployed_stages(env):
    """Deployed stages, and the local stage when it does not listen on loopback only, serve and document no
    /v1/dev/ path (so every OTP code is never one public GET away)."""
    started = _start(env)
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout) == []


def test_dev_messages_route_exists_on_local_loopback():
    started = _start({"LINLI_STAGE": "local", "LINLI_LISTEN": "loopback"})
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout) == ["/v1/dev/messages"]


def test_deployed_stage_refuses_local_providers(monkeypatch):
    for stage in ("dev", "prod"):
        settings = Settings.from_env({"LINLI_STAGE": stage})
        monkeypatch.setattr(bootstrap, "get_settings", lambda settings=settings: settings)
        for factory, secret in ((bootstrap.sms_channel, "LINLI_SMS_SECRET_NAME"),
                                (bootstrap.wechat_auth, "LINLI_WECHAT_SECRET_NAME"),
                                (bootstrap.keyring, "LINLI_JWT_SECRET_NAME")):
            with pytest.raises(SettingsError, match=secret):
                factory.__wrapped__()  # the factory itself, not the process's cached instance
        assert bootstrap.wechat_channel.__wrapped__() is None  # no WeChat configured: no channel, never the recorder
        assert bootstrap.email_channel.__wrapped__() is None
    local = Settings.from_env({"LINLI_STAGE": "local"})
    monkeypatch.setattr(bootstrap, "get_settings", lambda: local)
    assert type(bootstrap.sms_channel.__wrapped__()).__name__ == "LocalOutbox"


def test_loopback_webhooks_only_local():
    allowed = {"LINLI_STAGE": "local", "LINLI_LISTEN": "loopback", "LINLI_WEBHOOK_ALLOW_LOOPBACK": "true"}
    assert Settings.from_env(allowed).webhook_allow_loopback
    for env in ({"LINLI_STAGE": "prod", "LINLI_WEBHOOK_ALLOW_LOOPBACK": "true"},
                {"LINLI_STAGE": "dev", "LINLI_WEBHOOK_ALLOW_LOOPBACK": "true", "LINLI_LISTEN": "loopback"},
                {"LINLI_STAGE": "local", "LINLI_WEBHOOK_ALLOW_LOOPBACK": "true"},   # local but reachable from outside
                {"LINLI_STAGE": "prod", "LINLI_LISTEN": "loopback"},
                {"LINLI_STAGE": "local", "LINLI_LISTEN": "everywhere"}):
        with pytest.raises(SettingsError):
            Settings.from_env(env)
