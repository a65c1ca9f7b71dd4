"""Nobody can lock a staff member out from elsewhere: sign-in failures lock by (account, source), with back-off."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import InvalidCredentialsError, RateLimitedError
from chalicelib.tenants.schemas import LoginIn, SignupIn
from tests.fakes.tenants import TenantServices, tenant_services

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
PASSWORD = "Correct-horse-42"
ATTACKER, ADMIN_DESK = "198.51.100.66", "203.0.113.7"


@pytest.fixture
def services() -> TenantServices:
    services = tenant_services(now=NOW)
    services.auth.signup(SignupIn(company_name="绿城物业", slug="green-garden", admin_email="boss@example.com",
                                  admin_password=PASSWORD), NOW)
    return services


def login(services: TenantServices, password: str = PASSWORD, *, source: str, at: datetime,
          email: str = "boss@example.com"):
    return services.auth.login(LoginIn(tenant_slug="green-garden", email=email, password=password), at, source)


def fail(services: TenantServices, *, source: str, at: datetime, email: str = "boss@example.com") -> int:
    """One wrong password; the Retry-After seconds when locked, else 0."""
    try:
        login(services, "Wrong-password-1", source=source, at=at, email=email)
    except RateLimitedError as locked:
        return int(locked.headers["Retry-After"])
    except InvalidCredentialsError:
        return 0
    raise AssertionError("a wrong password signed in")


@pytest.mark.parametrize("email", ["boss@example.com", "ghost@example.com"])
def test_failed_logins_from_one_source_do_not_lock_out_another_source(services, email):
    flood = [fail(services, source=ATTACKER, at=NOW + timedelta(seconds=n), email=email) for n in range(50)]
    assert flood[:4] == [0, 0, 0, 0] and all(flood[4:])  # the attacker's address is locked…

    at = NOW + timedelta(seconds=51)
    with pytest.raises(RateLimitedError):
        login(services, source=ATTACKER, at=at, email=email)
    if email == "boss@example.com":  # …while the admin signs in from their own desk
        assert login(services, source=ADMIN_DESK, at=at).access_token
        assert fail(services, source=ATTACKER, at=at + timedelta(seconds=1), email=email)  # still locked there
    else:  # an unknown account answers the other source like a fresh one (no lock carried over)
        assert fail(services, source=ADMIN_DESK, at=at, email=email) == 0


def test_lockout_backs_off(services):
    locks, at = [], NOW
    for _ in range(4):
        assert fail(services, source=ATTACKER, at=at) == 0
    for _ in range(6):  # each failure once the previous lock has ended
        locks.append(fail(services, source=ATTACKER, at=at))
        at += timedelta(seconds=locks[-1])
    assert locks == [61, 121, 241, 481, 901, 901]  # 1 min, doubling, 15 min at most

    quiet = at + timedelta(minutes=16)  # a quarter of an hour after the last lock, the count starts over
    assert fail(services, source=ATTACKER, at=quiet) == 0
    assert login(services, source=ATTACKER, at=quiet).access_token


def test_a_successful_login_keeps_two_round_trips_and_other_sources_locks(services):
    for n in range(5):
        fail(services, source=ATTACKER, at=NOW + timedelta(seconds=n))
    commits = services.store.commits
    assert login(services, source=ADMIN_DESK, at=NOW + timedelta(seconds=10)).access_token
    assert services.store.commits == commits + 1
    assert fail(services, source=ATTACKER, at=NOW + timedelta(seconds=11))  # the admin's sign-in lifted nothing
