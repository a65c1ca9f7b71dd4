"""``make package``'s mini-program step: configured by three variables or not built at all, never half-configured,
and the AppID written where WeChat DevTools reads it. (``make test`` runs the whole build with a made-up tenant:
``python -m infra.miniprogram .artifacts``.)"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.miniprogram import MiniProgramConfigError, package, set_app_id

GOOD = {"LINLI_MP_APPID": "wx0123456789abcdef", "LINLI_MP_TENANT": "lotus", "LINLI_MP_API": "https://linli.example.com"}


def test_without_configuration_nothing_is_built_and_one_line_says_how(tmp_path: Path):
    said = package(tmp_path, env={})
    assert said.startswith("mini-program: not built") and "LINLI_MP_APPID" in said
    assert not (tmp_path / "mp-weixin").exists()


@pytest.mark.parametrize(("change", "complaint"), [
    ({"LINLI_MP_APPID": "wx123"}, "LINLI_MP_APPID must be wx and 16 hex digits"),
    ({"LINLI_MP_API": "http://linli.example.com"}, "LINLI_MP_API must be an https:// address"),
    ({"LINLI_MP_TENANT": ""}, "LINLI_MP_TENANT is not set"),
    ({"LINLI_MP_TENANT": "Lotus Pond"}, "LINLI_MP_TENANT must be a tenant's slug"),
])
def test_a_partial_or_malformed_configuration_is_refused_before_anything_is_built(tmp_path: Path, change, complaint):
    with pytest.raises(MiniProgramConfigError, match=complaint):
        package(tmp_path, env={**GOOD, **change})
    assert not (tmp_path / "mp-weixin").exists()


def test_the_app_id_goes_into_the_project_config_and_nothing_else_changes(tmp_path: Path):
    config = tmp_path / "project.config.json"
    config.write_text(json.dumps({"appid": "touristappid", "projectname": "邻里", "setting": {"es6": True}}))
    set_app_id(config, "wx0123456789abcdef")
    assert json.loads(config.read_text()) == {"appid": "wx0123456789abcdef", "projectname": "邻里",
                                              "setting": {"es6": True}}
