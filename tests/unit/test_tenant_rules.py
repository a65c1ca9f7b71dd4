"""Pure tenant rules: slugs, e-mails, passwords, merge patches, login throttling."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import ValidationFailedError
from chalicelib.tenants import domain

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("slug,expected", [("abc", "abc"), (" Green-Garden ", "green-garden"), ("a1-b2", "a1-b2"),
                                           ("x" * 32, "x" * 32)])
def test_valid_slugs_are_normalised(slug, expected):
    assert domain.normalise_slug(slug) == expected


@pytest.mark.parametrize("slug", ["ab", "x" * 33, "1abc", "abc-", "-abc", "a--b", "a_b", "中文物业", "api", "www"])
def test_invalid_or_reserved_slugs_are_refused(slug):
    with pytest.raises(ValidationFailedError) as raised:
        domain.normalise_slug(slug)
    assert raised.value.details[0]["field"] == "slug"


def test_emails_are_normalised_and_checked():
    assert domain.normalise_email(" Wang.Min@Example.COM ") == "wang.min@example.com"
    for bad in ("no-at", "a@b", "a b@example.com", "@example.com", "a@-example.com"):
        with pytest.raises(ValueError):
            domain.normalise_email(bad)


@pytest.mark.parametrize("password", ["short1A", "alllettersnodigits", "1234567890123", "Password123",
                                      "aaaa1111aaaa", "wangmin-2026x"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationFailedError):
        domain.check_password(password, email="wangmin@example.com", company="绿城")


def test_a_good_password_passes():
    assert domain.check_password("Linli-demo-2026", email="admin@demo.test", company="邻里示范物业") is None


@pytest.mark.parametrize(("password", "problem"), [
    ("Linli-d-26", None),                                  # 10 characters: just long enough, passes
    ("Linli-d-6", "must be 10–128 characters long"),       # one short
    ("Linli-" + "d" * 118 + "2026", None),                 # 128 characters: the longest allowed
    ("Linli-" + "d" * 119 + "2026", "must be 10–128 characters long"),  # one too long (129)
    ("Linli-demo-xxxx", "must contain letters and digits"),  # no digit
    ("2026-0000-1111", "must contain letters and digits"),  # no letter
    ("Password1234", "is too common"),                     # a listed password, any case
    ("ab12ab12ab12", None),                                # 4 distinct characters: enough
    ("ab1ab1ab1ab1", "is too common"),                     # 3 distinct characters: not
    ("Admin-2026-x", "must not contain your e-mail name or company name"),  # the e-mail's local part
    ("邻里示范物业-2026a", "must not contain your e-mail name or company name"),  # the company name
])
def test_near_misses_of_a_good_password_name_their_problem(password, problem):
    def check() -> None:
        return domain.check_password(password, email="admin@demo.test", company="邻里示范物业")

    if problem is None:
        assert check() is None
        return
    with pytest.raises(ValidationFailedError) as raised:
        check()
    [detail] = raised.value.details
    assert detail == {"field": "password", "type": "weak_password", "message": f"Password {problem}."}


def test_every_problem_of_a_password_is_named_and_the_field_is_the_callers():
    with pytest.raises(ValidationFailedError) as raised:
        domain.check_password("aaaa", field="admin_password")
    [detail] = raised.value.details
    assert detail["field"] == "admin_password"
    assert detail["message"] == ("Password must be 10–128 characters long; must contain letters and digits; "
                                 "is too common.")


def test_merge_patch_follows_rfc_7386():
    document = {"branding": {"display_name": "A", "primary_color": "#000000"}, "locale": "zh-CN"}
    patched = domain.merge_patch(document, {"branding": {"display_name": None, "logo_url": "https://x"},
                                            "locale": "en"})
    assert patched == {"branding": {"primary_color": "#000000", "logo_url": "https://x"}, "locale": "en"}
    assert document["branding"]["display_name"] == "A"  # input untouched


def test_tenant_config_defaults_ship_the_domain_catalogue():
    config = domain.TenantConfig()
    assert config.timezone == "Asia/Shanghai" and config.locale == "zh-CN"
    assert [k.key for k in config.ticket_kinds] == ["repair", "complaint", "inquiry", "suggestion", "service",
                                                    "emergency"]
    assert next(k for k in config.ticket_kinds if k.key == "emergency").default_priority == "P1"


def test_login_attempts_lock_after_the_maximum_within_the_window():
    attempts = domain.LoginAttempts()
    for n in range(4):
        attempts = attempts.after_failure(NOW + timedelta(minutes=n), max_failures=5, window_seconds=900)
        assert attempts.locked_for(NOW + timedelta(minutes=n)) == 0
    attempts = attempts.after_failure(NOW + timedelta(minutes=4), max_failures=5, window_seconds=900)
    assert attempts.failures == 5
    assert 0 < attempts.locked_for(NOW + timedelta(minutes=5)) <= 900
    assert attempts.locked_for(NOW + timedelta(minutes=20)) == 0


def test_failures_outside_the_window_start_a_new_count():
    attempts = domain.LoginAttempts(4, NOW, None)
    later = attempts.after_failure(NOW + timedelta(minutes=16), max_failures=5, window_seconds=900)
    assert later.failures == 1 and later.locked_until is None


def test_a_time_zone_is_known_exactly_when_the_database_lists_it():
    """Checked one name at a time (a new container does not walk the whole database), with the listing's answer."""
    from zoneinfo import available_timezones

    listed = available_timezones()
    assert all(domain._known_timezone(name) for name in listed)
    for name in ("", "Asia", "asia/shanghai", "Asia/Shanghai ", "Asia//Shanghai", "../etc/passwd", "/etc/localtime",
                 "posixrules", "posix/Asia/Shanghai", "right/UTC", "zone.tab", "tzdata.zi", "x" * 300):
        assert name not in listed and not domain._known_timezone(name), name
