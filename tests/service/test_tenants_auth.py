"""Signup, sign-in with lock-out, refresh rotation, sign-out and bearer → TenantContext, on in-memory fakes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import (
    ConflictError,
    InvalidCredentialsError,
    RateLimitedError,
    UnauthenticatedError,
    ValidationFailedError,
)
from chalicelib.core.permissions import Permission, Role, permissions_for
from chalicelib.core.tenancy import UnitClaim
from chalicelib.tenants.auth import login_source_key
from chalicelib.tenants.schemas import ApiKeyIn, LoginIn, SignupIn, StaffPatch
from tests.fakes.tenants import TenantServices, tenant_services

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # the fakes' token codec checks expiry against this clock
PASSWORD = "Correct-horse-42"


@pytest.fixture
def services() -> TenantServices:
    return tenant_services(now=NOW)


def sign_up(services: TenantServices, slug: str = "green-garden"):
    return services.auth.signup(SignupIn(company_name="绿城物业", slug=slug, admin_email="boss@example.com",
                                         admin_password=PASSWORD), NOW)


def login(services: TenantServices, password: str = PASSWORD, *, email: str = "boss@example.com",
          slug: str = "green-garden", at: datetime = NOW):
    return services.auth.login(LoginIn(tenant_slug=slug, email=email, password=password), at)


# --- signup ----------------------------------------------------------------------------------------------
def test_signup_creates_the_tenant_its_admin_and_tokens_in_one_commit(services):
    created = sign_up(services)

    assert created.tenant.slug == "green-garden" and created.tenant.branding.display_name == "绿城物业"
    assert created.user.role == Role.ADMIN and created.user.name == "boss" and created.user.version == 1
    tenant = services.repo.get_tenant(created.tenant.id)
    assert tenant.admin_count == 1 and tenant.version == 1 and tenant.status == "active"
    assert services.repo.tenant_id_for_slug("green-garden") == created.tenant.id
    admin = services.repo.find_staff_by_email(created.tenant.id, "boss@example.com")
    assert admin.user_id == created.user.id and admin.password_hash == f"plain${PASSWORD}"
    assert services.store.commits == 1
    assert [(e.type, e.subject_type, e.subject_version) for e in services.store.events] == [
        ("staff.created", "staff", 1), ("tenant.created", "tenant", 1)]
    assert all(e.actor == {"type": "system", "id": "signup", "role": None} for e in services.store.events)
    assert services.store.events[1].data == {"slug": "green-garden", "company_name": "绿城物业"}

    ctx = services.auth.authenticate(created.access_token, "req-1")
    assert (ctx.tenant_id, ctx.principal.id, ctx.principal.role) == (created.tenant.id, created.user.id, Role.ADMIN)
    assert created.refresh_token.startswith(f"rt_{created.tenant.id}.{created.user.id}.")


def test_a_taken_slug_is_a_conflict_and_writes_nothing(services):
    sign_up(services)
    with pytest.raises(ConflictError) as raised:
        sign_up(services, slug="Green-Garden")
    assert raised.value.code == "slug_taken"
    assert len(services.repo.tenants) == 1 and services.store.commits == 1 and len(services.store.events) == 2


def test_a_weak_admin_password_is_refused_before_anything_is_written(services):
    with pytest.raises(ValidationFailedError) as raised:
        services.auth.signup(SignupIn(company_name="绿城物业", slug="green-garden", admin_email="boss@example.com",
                                      admin_password="short1"), NOW)
    assert raised.value.details[0]["field"] == "admin_password"
    assert services.store.commits == 0 and services.repo.tenant_id_for_slug("green-garden") is None


# --- sign-in -------------------------------------------------------------------------------------------
def test_login_issues_tokens_and_clears_failures(services):
    created = sign_up(services)
    with pytest.raises(InvalidCredentialsError):
        login(services, "Wrong-password-1", at=NOW - timedelta(minutes=1))
    assert services.repo.find_staff_by_email(created.tenant.id, "boss@example.com").login_attempts(
        login_source_key("-")).failures == 1

    tokens = login(services, email="BOSS@example.com")

    assert tokens.expires_in == 900 and tokens.token_type == "Bearer"
    admin = services.repo.find_staff_by_email(created.tenant.id, "boss@example.com")
    assert admin.login_throttles is None
    assert admin.last_login_at == to_rfc3339(NOW)
    assert services.auth.authenticate(tokens.access_token, "req-2").principal.id == created.user.id


def test_five_failures_lock_the_account_even_for_the_right_password(services):
    sign_up(services)
    for minute in range(4):
        with pytest.raises(InvalidCredentialsError):
            login(services, "Wrong-password-1", at=NOW + timedelta(minutes=minute))
    with pytest.raises(RateLimitedError) as locked:
        login(services, "Wrong-password-1", at=NOW + timedelta(minutes=4))
    assert locked.value.code == "too_many_attempts"
    with pytest.raises(RateLimitedError) as still:
        login(services, at=NOW + timedelta(minutes=4, seconds=30))
    assert 0 < int(still.value.headers["Retry-After"]) <= 60
    assert login(services, at=NOW + timedelta(minutes=20)).access_token  # the lock ends


def test_unknown_accounts_and_unknown_tenants_fail_and_lock_alike(services):
    sign_up(services)
    for attempt in range(4):
        with pytest.raises(InvalidCredentialsError):
            login(services, email="ghost@example.com", at=NOW + timedelta(minutes=attempt))
    with pytest.raises(RateLimitedError):
        login(services, email="ghost@example.com", at=NOW + timedelta(minutes=4))
    with pytest.raises(InvalidCredentialsError):
        login(services, slug="no-such-co")
    with pytest.raises(InvalidCredentialsError):
        login(services, slug="BAD SLUG!")
    assert len(services.repo.throttles) == 2  # ghost@ in the tenant, boss@ under the unknown tenant "-"
    assert services.store.commits == 1  # failures never commit a unit of work


def test_a_disabled_member_cannot_sign_in(services):
    created = sign_up(services)
    admin = services.auth.authenticate(created.access_token, "req")
    from chalicelib.tenants.schemas import StaffIn

    agent = services.staff.create_staff(admin, StaffIn(email="li@example.com", name="李娜", role=Role.AGENT,
                                                       password=PASSWORD), NOW)
    services.staff.update_staff(admin, agent.id, StaffPatch(status="disabled"), None, NOW)
    with pytest.raises(InvalidCredentialsError):
        login(services, email="li@example.com")


# --- refresh and sign-out -----------------------------------------------------------------------------
def test_refresh_rotates_and_a_reused_token_revokes_its_family(services):
    created = sign_up(services)
    later = NOW + timedelta(minutes=10)

    rotated = services.auth.refresh(created.refresh_token, later)

    assert rotated.refresh_token != created.refresh_token
    spent = [t for t in services.repo.refresh_tokens.values() if t.used_at]
    assert [t.used_at for t in spent] == [to_rfc3339(later)]
    assert {t.family_id for t in services.repo.refresh_tokens.values()} == {spent[0].token_id}
    with pytest.raises(UnauthenticatedError) as reused:
        services.auth.refresh(created.refresh_token, later)
    assert reused.value.code == "refresh_token_reused"
    assert services.repo.refresh_tokens == {}
    with pytest.raises(UnauthenticatedError) as revoked:
        services.auth.refresh(rotated.refresh_token, later)
    assert revoked.value.code == "invalid_refresh_token"


@pytest.mark.parametrize("token", ["", "rt_", "rt_a.b.c", "nonsense", "rt_tnt.usr.rtk.wrong-secret"])
def test_malformed_or_unknown_refresh_tokens_are_refused(services, token):
    sign_up(services)
    with pytest.raises(UnauthenticatedError) as raised:
        services.auth.refresh(token, NOW)
    assert raised.value.code == "invalid_refresh_token"


def test_an_expired_refresh_token_is_refused(services):
    created = sign_up(services)
    with pytest.raises(UnauthenticatedError) as raised:
        services.auth.refresh(created.refresh_token, NOW + timedelta(days=31))
    assert raised.value.code == "invalid_refresh_token"


def test_logout_revokes_the_family_and_ignores_what_is_not_valid(services):
    created = sign_up(services)
    services.auth.logout("rt_x.y.z.not-the-secret")
    assert len(services.repo.refresh_tokens) == 1
    services.auth.logout(created.refresh_token)
    assert services.repo.refresh_tokens == {}


# --- bearer credentials -------------------------------------------------------------------------------
def test_a_resident_token_becomes_a_resident_context(services):
    token = services.codec.issue(tenant_id="tnt_1", subject="res_1", kind="resident", role=None, now=NOW,
                                 units=[("cmt_1", "unt_1", "1-101")])
    ctx = services.auth.authenticate(token, "req-9")
    assert (ctx.tenant_id, ctx.principal.kind, ctx.principal.id, ctx.request_id) == ("tnt_1", "resident", "res_1",
                                                                                      "req-9")
    assert ctx.principal.units == (UnitClaim("cmt_1", "unt_1", "1-101"),) and ctx.principal.permissions == frozenset()


def test_a_staff_token_carries_its_roles_permissions(services):
    token = services.codec.issue(tenant_id="tnt_1", subject="usr_1", kind="staff", role="supervisor", now=NOW)
    assert services.auth.authenticate(token, "r").principal.permissions == permissions_for(Role.SUPERVISOR)


@pytest.mark.parametrize(("kind", "role"), [("staff", "owner"), ("staff", None), ("robot", "admin")])
def test_tokens_of_unknown_kinds_or_roles_are_refused(services, kind, role):
    token = services.codec.issue(tenant_id="tnt_1", subject="usr_1", kind=kind, role=role, now=NOW)
    with pytest.raises(UnauthenticatedError):
        services.auth.authenticate(token, "r")


def test_an_api_key_bearer_becomes_the_keys_context(services):
    created = sign_up(services)
    admin = services.auth.authenticate(created.access_token, "r")
    key = services.api_keys.create_api_key(admin, ApiKeyIn(name="ERP", scopes=[Permission.TENANT_READ]), NOW)
    ctx = services.auth.authenticate(key.key, "req-k")
    assert (ctx.tenant_id, ctx.principal.kind, ctx.principal.id) == (created.tenant.id, "api_key", key.id)
    assert ctx.principal.permissions == frozenset({Permission.TENANT_READ}) and ctx.request_id == "req-k"
    with pytest.raises(UnauthenticatedError):
        services.auth.authenticate("lk_live_" + "x" * 43, "r")
