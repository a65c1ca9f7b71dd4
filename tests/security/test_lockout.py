"""Nobody can lock a staff member out from elsewhere: sign-in failures lock by (account, source), with back-off.
Through the web distribution the source is the viewer's address the distribution vouches for, never one a request
claims for itself (the last tests, over HTTP on the local stack)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import InvalidCredentialsError, RateLimitedError
from chalicelib.tenants.schemas import LoginIn, SignupIn
from tests.fakes.tenants import TenantServices, tenant_services
from tests.helpers import ApiClient, Tenant, assert_error

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


# --- over HTTP: the source through the web distribution (chalicelib/core/client_address.py) -------------------
ORIGIN_VERIFY = "o" * 48  # what this test's "distribution" sends; locally the stack knows no value at all


@pytest.fixture
def behind_the_distribution() -> Iterator[dict[str, str]]:
    """The stack's edge as deployed: it knows the origin-verify value the distribution sends (in AWS it reads it from
    the stack's secret); the headers the distribution adds to every request, but the viewer's address."""
    from chalicelib.core.client_address import ClientAddress
    from chalicelib.core.http import api as edge

    previous = edge.client_address
    edge.client_address = ClientAddress(lambda: [ORIGIN_VERIFY])
    try:
        yield {"X-Linli-Origin-Verify": ORIGIN_VERIFY}
    finally:
        edge.client_address = previous


def _sign_in(api: ApiClient, tenant: Tenant, headers: dict[str, str], password: str = "Wrong-password-1"):
    return api.post("/v1/auth/login", headers=headers, json={"tenant_slug": tenant.slug, "email": tenant.admin_email,
                                                             "password": password})


@pytest.mark.e2e
def test_through_the_distribution_two_viewers_are_locked_out_separately(api, tenant, behind_the_distribution):
    attacker = {**behind_the_distribution, "X-Linli-Viewer-Address": ATTACKER}
    desk = {**behind_the_distribution, "X-Linli-Viewer-Address": ADMIN_DESK}
    assert [_sign_in(api, tenant, attacker).status_code for _ in range(5)] == [401, 401, 401, 401, 429]
    assert_error(_sign_in(api, tenant, attacker, PASSWORD), 429, "too_many_attempts")  # the attacker's viewer…

    signed_in = _sign_in(api, tenant, desk, PASSWORD)  # …not the admin's, though both reach the API from one edge
    assert signed_in.status_code == 200 and signed_in.json()["access_token"]
    assert [_sign_in(api, tenant, desk).status_code for _ in range(5)] == [401, 401, 401, 401, 429]  # its own count
    # another IPv6 address of the attacker's /64 is the same viewer
    ipv6 = {**behind_the_distribution, "X-Linli-Viewer-Address": "2001:db8:66:1::1"}
    assert [_sign_in(api, tenant, ipv6).status_code for _ in range(4)] == [401, 401, 401, 401]
    same_block = {**behind_the_distribution, "X-Linli-Viewer-Address": "2001:db8:66:1:ffff::9"}
    assert_error(_sign_in(api, tenant, same_block), 429, "too_many_attempts")


@pytest.mark.e2e
def test_a_viewer_address_claimed_without_the_origin_verify_value_is_ignored(api, tenant, behind_the_distribution):
    """Spoofed viewer headers (ours, CloudFront's, a proxy's), with no origin-verify value or a guessed one: every
    attempt counts against the address the request really came from (the local stack's, 127.0.0.1)."""
    for n in range(5):
        spoofed = {"X-Linli-Viewer-Address": f"198.51.100.{n}", "X-Forwarded-For": f"198.51.100.{n}",
                   "CloudFront-Viewer-Address": f"198.51.100.{n}:443", "True-Client-IP": f"198.51.100.{n}"}
        if n % 2:
            spoofed["X-Linli-Origin-Verify"] = "o" * 47 + "x"
        assert _sign_in(api, tenant, spoofed).status_code == (429 if n == 4 else 401), n
    assert_error(_sign_in(api, tenant, {"X-Linli-Viewer-Address": "192.0.2.10"}, PASSWORD), 429, "too_many_attempts")

    viewer = {**behind_the_distribution, "X-Linli-Viewer-Address": "192.0.2.10"}  # that viewer, vouched for
    assert _sign_in(api, tenant, viewer, PASSWORD).status_code == 200
