"""The template rule (``notifications.templates``): plain ``{placeholder}`` substitution, refused shapes, the cap."""
from __future__ import annotations

import pytest

from chalicelib.notifications import rules, templates
from chalicelib.notifications.templates import TemplateError

KNOWN = frozenset({"brand", "number", "unit"})


@pytest.mark.parametrize("text", ["工单{number}已受理", "【{brand}】{number}（{unit}）", "no fields at all",
                                  "{{literal}} braces {{ and }}", "{{{number}}}", "{number}{number}"])
def test_plain_fields_and_escaped_braces_pass(text):
    assert templates.check(text, KNOWN) == text


@pytest.mark.parametrize("text,says", [
    ("{number:>999999999}", "{number:>999999999}: format specs are not allowed; write {number}"),
    ("{number:,}", "format specs are not allowed; write {number}"),
    ("{number!r}", "{number!r}: conversions are not allowed; write {number}"),
    ("{number!s:>9}", "conversions are not allowed"),
    ("{number.__class__}", "attribute and index access are not allowed; write {number}"),
    ("{number[0]}", "attribute and index access are not allowed; write {number}"),
    ("{}", "{}: positional fields are not allowed; name a variable: brand, number, unit"),
    ("{0}", "positional fields are not allowed"),
    ("{password}", "unknown variable {password}; use: brand, number, unit"),
    ("{Number}", "unknown variable {Number}"),
    ("{password:>9}", "format specs are not allowed; write a plain {name} with one of: brand, number, unit"),
    ("工单{number", "a '{' without its '}' at character 3; write '{{' for a brace"),
    ("工单}", "a '}' without its '{' at character 3; write '}}' for a brace"),
    ("{{number}", "a '}' without its '{' at character 9"),
])
def test_anything_but_a_plain_known_field_is_refused_with_what_to_write(text, says):
    with pytest.raises(TemplateError) as raised:
        templates.check(text, KNOWN)
    assert says in str(raised.value)


def test_rendering_is_one_substitution_not_str_format():
    values = {"number": "{unit}", "unit": "1栋101"}
    assert templates.render("{number}/{unit}/{{unit}}/{missing}", values, 100) == "{unit}/1栋101/{unit}/"
    # whatever a stored text holds besides plain fields stays literal: no format spec is ever applied
    assert templates.render("{number:>999999999}|{number!r}|{number.upper}", {"number": "7"}, 100) == \
        "{number:>999999999}|{number!r}|{number.upper}"


@pytest.mark.parametrize("limit", [1, 2, 10, 500])
def test_rendered_text_never_exceeds_the_cap_and_shows_it_was_cut(limit):
    long_value = "栋" * 100_000
    text = templates.render("【{brand}】" + "{unit}" * 80, {"brand": "绿城", "unit": long_value}, limit)
    assert len(text) == limit and text.endswith("…")


def test_a_text_within_the_cap_is_whole():
    assert templates.render("{number}", {"number": "x" * 500}, 500) == "x" * 500
    assert templates.render("{number}", {"number": "x" * 501}, 500) == "x" * 499 + "…"


def test_each_channel_has_a_cap():
    assert {channel: templates.limit_for(channel) for channel in ("sms", "wechat", "inbox", "email")} == {
        "sms": 500, "wechat": 500, "inbox": 1000, "email": 2000}


def test_saving_checks_templates_and_loading_a_stored_one_does_not_fail():
    bad = {"templates": {"ticket.resolved": {"inbox": {"zh-CN": "{number:>999999999}"}}}}
    with pytest.raises(ValueError) as raised:
        rules.NotificationSettings.model_validate(bad, context=rules.SAVING)
    assert "templates.ticket.resolved.inbox.zh-CN: {number:>999999999}: format specs are not allowed" in str(
        raised.value)

    stored = rules.NotificationSettings.model_validate(bad)  # saved before the rule: loads, renders literally
    text = rules.render(stored, "ticket.resolved", "inbox", "zh-CN", {"number": "26112700001"})
    assert text == "{number:>999999999}"


def test_every_default_template_passes_the_rule():
    for text in [*rules.DEFAULT_TEMPLATES.values(), *rules.EMERGENCY_TEMPLATES.values()]:
        assert templates.check(text, rules.VARIABLES) == text
