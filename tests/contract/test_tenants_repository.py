"""``tenants.ports.TenantStore``: the DynamoDB repository and the in-memory fake keep one contract.

Every test runs twice: ``memory`` (``tests.fakes.tenants``, no emulator) and ``dynamodb`` (the embedded
stack's moto). The fake cannot drift from the repository the services really use.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import ConflictError, LinliError, PreconditionFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.core.uow import UnitOfWork, UnitOfWorkFactory
from chalicelib.tenants.domain import LoginAttempts
from chalicelib.tenants.ports import TenantStore
from chalicelib.tenants.records import ApiKey, RefreshToken, Staff, Tenant
from tests.contract.conftest import Backend

NOW = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
STAMP = "2026-11-27T08:30:00.000Z"
CURSOR_KEY = b"contract-cursor-key-0123456789ab"


@dataclass
class Harness:
    repo: TenantStore
    backend: Backend

    @property
    def new_uow(self) -> UnitOfWorkFactory:
        return self.backend.new_uow

    def commit(self, ctx: TenantContext, *stage: Callable[[UnitOfWork], None]) -> None:
        self.backend.commit(ctx, NOW, *stage)


@pytest.fixture
def harness(backend: Backend) -> Harness:
    if backend.store is not None:
        from tests.fakes.tenants import InMemoryTenantRepository

        return Harness(InMemoryTenantRepository(backend.store, backend.cursors), backend)
    from chalicelib.tenants.repository import TenantRepository

    return Harness(TenantRepository(backend.cursors), backend)


def admin_of(tenant_id: str) -> TenantContext:
    return TenantContext(tenant_id, Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))


def a_tenant(**overrides: object) -> Tenant:
    tenant_id = new_id("tnt")
    fields = {"tenant_id": tenant_id, "slug": f"c-{tenant_id[-12:].lower()}", "company_name": "绿城物业",
              "config": {"locale": "zh-CN", "branding": {"display_name": "绿城"}}, "created_at": STAMP,
              "updated_at": STAMP, "version": 1, "admin_count": 1}
    return Tenant(**(fields | overrides))


def a_member(tenant_id: str, role: str = "agent", **overrides: object) -> Staff:
    user_id = new_id("usr")
    fields = {"tenant_id": tenant_id, "user_id": user_id, "email": f"{user_id.lower()}@example.com", "name": "李娜",
              "role": role, "created_at": STAMP, "updated_at": STAMP, "password_hash": "argon2-hash-of-it"}
    return Staff(**(fields | overrides))


def signed_up(harness: Harness) -> tuple[TenantContext, Tenant, Staff]:
    """Given a tenant with its first admin."""
    tenant = a_tenant()
    ctx = admin_of(tenant.tenant_id)
    admin = a_member(tenant.tenant_id, "admin")
    harness.commit(ctx, lambda uow: harness.repo.stage_new_tenant(uow, ctx, tenant, on_slug_taken=ConflictError()),
                   lambda uow: harness.repo.stage_new_staff(uow, ctx, admin, on_email_taken=ConflictError()))
    return ctx, tenant, admin


def add_member(harness: Harness, ctx: TenantContext, member: Staff) -> Staff:
    harness.commit(ctx, lambda uow: harness.repo.stage_new_staff(uow, ctx, member, on_email_taken=ConflictError()))
    return member


def marked(code: str) -> LinliError:
    return ConflictError(code=code)


# --- tenants and slugs ------------------------------------------------------------------------------
def test_a_new_tenant_is_found_by_id_and_slug_and_its_admin_by_email(harness: Harness):
    ctx, tenant, admin = signed_up(harness)
    assert harness.repo.get_tenant(tenant.tenant_id) == tenant
    assert harness.repo.get_tenant(tenant.tenant_id, consistent=True) == tenant
    assert harness.repo.tenant_id_for_slug(tenant.slug) == tenant.tenant_id
    assert harness.repo.find_staff_by_email(tenant.tenant_id, admin.email) == admin
    assert harness.repo.get_staff(ctx, admin.user_id) == admin
    assert harness.repo.get_tenant("tnt_nobody") is None and harness.repo.tenant_id_for_slug("no-such") is None
    assert harness.repo.find_staff_by_email(tenant.tenant_id, "nobody@example.com") is None
    assert harness.repo.get_staff(admin_of("tnt_other"), admin.user_id) is None  # the tenant fences staff


def test_a_taken_slug_raises_its_conflict_and_writes_nothing(harness: Harness):
    _, first, _ = signed_up(harness)
    second = a_tenant(slug=first.slug)
    ctx = admin_of(second.tenant_id)
    with pytest.raises(ConflictError) as raised:
        harness.commit(ctx, lambda uow: harness.repo.stage_new_tenant(uow, ctx, second,
                                                                      on_slug_taken=marked("slug_taken")))
    assert raised.value.code == "slug_taken"
    assert harness.repo.get_tenant(second.tenant_id) is None
    assert harness.repo.tenant_id_for_slug(first.slug) == first.tenant_id


def test_a_tenant_update_writes_profile_and_config_at_the_expected_version_only(harness: Harness):
    ctx, tenant, _ = signed_up(harness)
    changed = replace(tenant, company_name="翠湖物业", config={"locale": "en"}, updated_at="2026-11-28T00:00:00.000Z",
                      version=2)
    harness.commit(ctx, lambda uow: harness.repo.stage_tenant_update(
        uow, ctx, changed, expected_version=1, on_conflict=PreconditionFailedError()))
    assert harness.repo.get_tenant(tenant.tenant_id, consistent=True) == changed
    with pytest.raises(PreconditionFailedError):
        harness.commit(ctx, lambda uow: harness.repo.stage_tenant_update(
            uow, ctx, replace(changed, version=3), expected_version=1, on_conflict=PreconditionFailedError()))
    assert harness.repo.get_tenant(tenant.tenant_id, consistent=True).version == 2


def test_the_admin_count_never_drops_below_one(harness: Harness):
    ctx, tenant, _ = signed_up(harness)
    harness.commit(ctx, lambda uow: harness.repo.stage_admin_added(uow, ctx))
    assert harness.repo.get_tenant(tenant.tenant_id, consistent=True).admin_count == 2
    harness.commit(ctx, lambda uow: harness.repo.stage_admin_removed(uow, ctx, on_conflict=marked("last_admin")))
    with pytest.raises(ConflictError) as raised:
        harness.commit(ctx, lambda uow: harness.repo.stage_admin_removed(uow, ctx, on_conflict=marked("last_admin")))
    assert raised.value.code == "last_admin"
    assert harness.repo.get_tenant(tenant.tenant_id, consistent=True).admin_count == 1


# --- staff ---------------------------------------------------------------------------------------------
def test_an_email_is_claimed_once_per_tenant_and_released_on_delete(harness: Harness):
    ctx, tenant, _ = signed_up(harness)
    member = add_member(harness, ctx, a_member(tenant.tenant_id, phone="13912345678", on_duty=False))
    twin = a_member(tenant.tenant_id, email=member.email)
    with pytest.raises(ConflictError) as raised:
        harness.commit(ctx, lambda uow: harness.repo.stage_new_staff(uow, ctx, twin,
                                                                     on_email_taken=marked("email_taken")))
    assert raised.value.code == "email_taken" and harness.repo.get_staff(ctx, twin.user_id) is None

    with pytest.raises(PreconditionFailedError):
        harness.commit(ctx, lambda uow: harness.repo.stage_staff_delete(
            uow, ctx, member, expected_version=7, on_conflict=PreconditionFailedError()))
    assert harness.repo.get_staff(ctx, member.user_id, consistent=True) == member
    harness.commit(ctx, lambda uow: harness.repo.stage_staff_delete(
        uow, ctx, member, expected_version=1, on_conflict=PreconditionFailedError()))
    assert harness.repo.get_staff(ctx, member.user_id, consistent=True) is None
    assert add_member(harness, ctx, twin) == harness.repo.get_staff(ctx, twin.user_id, consistent=True)


def test_a_staff_update_writes_the_editable_fields_at_the_expected_version_only(harness: Harness):
    ctx, tenant, _ = signed_up(harness)
    member = add_member(harness, ctx, a_member(tenant.tenant_id, phone="13912345678"))
    changed = replace(member, name="李娜娜", role="supervisor", status="disabled", phone=None, on_duty=False,
                      password_hash="another-hash", updated_at="2026-11-28T00:00:00.000Z", version=2)
    harness.commit(ctx, lambda uow: harness.repo.stage_staff_update(
        uow, ctx, changed, expected_version=1, on_conflict=PreconditionFailedError()))
    assert harness.repo.get_staff(ctx, member.user_id, consistent=True) == changed
    with pytest.raises(PreconditionFailedError):
        harness.commit(ctx, lambda uow: harness.repo.stage_staff_update(
            uow, ctx, replace(changed, name="x", version=3), expected_version=1,
            on_conflict=PreconditionFailedError()))
    assert harness.repo.get_staff(ctx, member.user_id, consistent=True).name == "李娜娜"


def test_staff_pages_in_user_id_order_and_active_staff_skips_the_disabled(harness: Harness):
    ctx, tenant, admin = signed_up(harness)
    disabled = add_member(harness, ctx, a_member(tenant.tenant_id, status="disabled"))
    agent = add_member(harness, ctx, a_member(tenant.tenant_id))
    everyone = sorted([admin, disabled, agent], key=lambda s: s.user_id)
    first, cursor = harness.repo.list_staff(ctx, 2, None)
    second, last_cursor = harness.repo.list_staff(ctx, 2, cursor)
    assert first + second == everyone and cursor and last_cursor is None
    assert sorted(harness.repo.active_staff(ctx), key=lambda s: s.user_id) == sorted([admin, agent],
                                                                                       key=lambda s: s.user_id)
    from chalicelib.core.errors import InvalidCursorError

    with pytest.raises(InvalidCursorError):
        harness.repo.list_staff(admin_of("tnt_other"), 2, cursor)  # a cursor is bound to its tenant


def test_the_directory_lists_one_roles_members_filtering_each_page_read(harness: Harness):
    ctx, tenant, admin = signed_up(harness)
    techs = sorted((add_member(harness, ctx, a_member(tenant.tenant_id, "technician")) for _ in range(2)),
                   key=lambda s: s.user_id)
    add_member(harness, ctx, a_member(tenant.tenant_id))
    page, cursor = harness.repo.list_staff(ctx, 25, None, role="technician")
    assert page == techs and cursor is None
    assert harness.repo.list_staff(ctx, 25, None, role="butler") == ([], None)
    # page by page (DynamoDB reads ``limit`` members, then keeps the role's: a short page still goes on)
    pages, cursor = [], None
    while True:
        found, cursor = harness.repo.list_staff(ctx, 1, cursor, role="technician")
        pages.append(found)
        if cursor is None:
            break
    assert [s for found in pages for s in found] == techs
    other, _, _ = signed_up(harness)
    assert harness.repo.list_staff(other, 25, None, role="technician") == ([], None)


def test_the_active_staff_check_passes_only_for_an_active_member(harness: Harness):
    ctx, tenant, admin = signed_up(harness)
    disabled = add_member(harness, ctx, a_member(tenant.tenant_id, "technician", status="disabled"))
    harness.commit(ctx, lambda uow: harness.repo.stage_active_staff_check(uow, ctx, admin.user_id,
                                                                          on_conflict=marked("unknown_staff")))
    for user_id in (disabled.user_id, "usr_nobody"):
        with pytest.raises(ConflictError) as raised:
            harness.commit(ctx, lambda uow, who=user_id: harness.repo.stage_active_staff_check(
                uow, ctx, who, on_conflict=marked("unknown_staff")))
        assert raised.value.code == "unknown_staff"


# --- sign-in ---------------------------------------------------------------------------------------------
def test_login_failures_are_recorded_and_a_sign_in_clears_them(harness: Harness):
    ctx, tenant, admin = signed_up(harness)
    attempts = LoginAttempts(5, NOW, NOW + timedelta(minutes=15))
    harness.repo.record_login_failure(admin, {"src-a": attempts.as_entry(), "src-b": LoginAttempts(1, NOW).as_entry()})
    failed = harness.repo.get_staff(ctx, admin.user_id, consistent=True)
    assert failed.login_attempts("src-a") == attempts and failed.login_attempts("src-b").failures == 1
    assert failed.login_attempts("src-c") == LoginAttempts()
    assert harness.repo.find_staff_by_email(ctx.tenant_id, admin.email).login_throttles == failed.login_throttles

    harness.commit(ctx, lambda uow: harness.repo.stage_sign_in(
        uow, ctx, admin, STAMP, login_throttles={"src-a": attempts.as_entry()}))
    signed_in = harness.repo.get_staff(ctx, admin.user_id, consistent=True)
    assert signed_in == replace(admin, last_login_at=STAMP, login_throttles={"src-a": attempts.as_entry()})
    harness.commit(ctx, lambda uow: harness.repo.stage_sign_in(uow, ctx, admin, STAMP))
    assert harness.repo.get_staff(ctx, admin.user_id, consistent=True) == replace(admin, last_login_at=STAMP)


def test_a_login_failure_for_a_removed_member_writes_nothing(harness: Harness):
    ctx, tenant, admin = signed_up(harness)
    ghost = replace(admin, user_id="usr_gone")
    harness.repo.record_login_failure(ghost, {"src": LoginAttempts(1, NOW).as_entry()})
    assert harness.repo.get_staff(ctx, "usr_gone", consistent=True) is None


def test_unknown_accounts_have_their_own_attempts(harness: Harness):
    tenant_id, digest = new_id("tnt"), "ab" * 32
    assert harness.repo.unknown_login_attempts(tenant_id, digest) == LoginAttempts()
    after = LoginAttempts(2, NOW, None)
    harness.repo.save_unknown_login_attempts(tenant_id, digest, after, expires_at=int(NOW.timestamp()) + 1800)
    assert harness.repo.unknown_login_attempts(tenant_id, digest) == after
    assert harness.repo.unknown_login_attempts(tenant_id, "cd" * 32) == LoginAttempts()


def test_refresh_tokens_are_spent_once_and_revoked_by_family(harness: Harness):
    ctx, tenant, admin = signed_up(harness)

    def token(family: str) -> RefreshToken:
        token_id = new_id("rtk")
        return RefreshToken(tenant_id=tenant.tenant_id, user_id=admin.user_id, token_id=token_id,
                            token_digest=f"digest-{token_id}", family_id=family, created_at=STAMP,
                            expires_at=int(NOW.timestamp()) + 3600)

    first, sibling, other = token("fam_1"), token("fam_1"), token("fam_2")
    harness.commit(ctx, *(lambda uow, t=t: harness.repo.stage_refresh_token(uow, ctx, t) for t in (first, sibling,
                                                                                                   other)))
    assert harness.repo.refresh_token_and_user(tenant.tenant_id, admin.user_id, first.token_id) == (first, admin)
    assert harness.repo.refresh_token_and_user(tenant.tenant_id, admin.user_id, "rtk_none") == (None, admin)

    harness.commit(ctx, lambda uow: harness.repo.stage_refresh_token_used(uow, ctx, first, STAMP,
                                                                          on_conflict=marked("reused")))
    spent, _ = harness.repo.refresh_token_and_user(tenant.tenant_id, admin.user_id, first.token_id)
    assert spent == replace(first, used_at=STAMP)
    with pytest.raises(ConflictError) as raised:
        harness.commit(ctx, lambda uow: harness.repo.stage_refresh_token_used(uow, ctx, first, STAMP,
                                                                              on_conflict=marked("reused")))
    assert raised.value.code == "reused"

    harness.repo.revoke_refresh_tokens(ctx, admin.user_id, family_id="fam_1")
    found = [harness.repo.refresh_token_and_user(tenant.tenant_id, admin.user_id, t.token_id)[0]
             for t in (first, sibling, other)]
    assert found == [None, None, other]
    harness.repo.revoke_refresh_tokens(ctx, admin.user_id)
    assert harness.repo.refresh_token_and_user(tenant.tenant_id, admin.user_id, other.token_id)[0] is None


# --- API keys -------------------------------------------------------------------------------------------
def test_api_keys_resolve_by_digest_list_newest_first_and_stop_when_revoked(harness: Harness):
    ctx, tenant, admin = signed_up(harness)

    def key(key_id: str) -> ApiKey:
        return ApiKey(tenant_id=tenant.tenant_id, key_id=key_id, secret_digest=f"{tenant.tenant_id}-{key_id}",
                      name="物业ERP", scopes=("tenant:read", "tickets:read"), hint="lk_live_abcd…",
                      created_by=admin.user_id, created_at=STAMP)

    older, newer = key("key_01"), key("key_02")
    for each in (older, newer):
        harness.commit(ctx, lambda uow, k=each: harness.repo.stage_new_api_key(uow, ctx, k))
    with pytest.raises(ConflictError):
        harness.commit(ctx, lambda uow: harness.repo.stage_new_api_key(uow, ctx, older))

    assert harness.repo.touch_api_key(older.secret_digest, STAMP) == replace(older, last_used_at=STAMP)
    assert harness.repo.find_api_key(ctx, "key_01") == replace(older, last_used_at=STAMP)
    assert harness.repo.find_api_key(admin_of("tnt_other"), "key_01") is None
    page, cursor = harness.repo.list_api_keys(ctx, 1, None)
    rest, _ = harness.repo.list_api_keys(ctx, 1, cursor)
    assert [k.key_id for k in page + rest] == ["key_02", "key_01"]

    harness.commit(ctx, lambda uow: harness.repo.stage_api_key_revoked(uow, ctx, older, STAMP))
    assert harness.repo.find_api_key(ctx, "key_01").revoked_at == STAMP
    assert harness.repo.touch_api_key(older.secret_digest, STAMP) is None
    assert harness.repo.touch_api_key("no-such-digest", STAMP) is None
    with pytest.raises(ConflictError):
        harness.commit(ctx, lambda uow: harness.repo.stage_api_key_revoked(uow, ctx, older, STAMP))


# --- access revocation ------------------------------------------------------------------------------
def test_revocations_are_stored_with_an_admin_count_change_and_old_ones_forgotten(harness: Harness):
    ctx, tenant, _ = signed_up(harness)
    harness.commit(ctx, lambda uow: harness.repo.stage_admin_added(uow, ctx),  # one item, two updates: merged
                   lambda uow: harness.repo.stage_revocation(uow, ctx, "usr_gone", 1_000, forget=[]))
    stored = harness.repo.get_tenant(tenant.tenant_id, consistent=True)
    assert stored.revoked == {"usr_gone": 1_000} and stored.admin_count == 2
    harness.commit(ctx, lambda uow: harness.repo.stage_revocation(uow, ctx, "res_moved", 2_000, forget=["usr_gone"]))
    assert harness.repo.get_tenant(tenant.tenant_id, consistent=True).revoked == {"res_moved": 2_000}


def test_the_actor_check_holds_only_for_an_active_member_in_the_role_their_token_claims(harness: Harness):
    ctx, tenant, admin = signed_up(harness)
    acting = TenantContext(tenant.tenant_id, Principal("staff", admin.user_id, Role.ADMIN, frozenset(Permission)))
    first = a_member(tenant.tenant_id)
    harness.commit(acting, lambda uow: harness.repo.stage_actor_check(uow, acting, on_conflict=marked("revoked")),
                   lambda uow: harness.repo.stage_new_staff(uow, acting, first, on_email_taken=ConflictError()))
    assert harness.repo.get_staff(ctx, first.user_id) == first
    demoted = replace(admin, role="agent", version=2)
    harness.commit(ctx, lambda uow: harness.repo.stage_staff_update(uow, ctx, demoted, expected_version=1,
                                                                     on_conflict=PreconditionFailedError()))
    second = a_member(tenant.tenant_id)
    with pytest.raises(ConflictError) as raised:
        harness.commit(acting, lambda uow: harness.repo.stage_actor_check(uow, acting, on_conflict=marked("revoked")),
                       lambda uow: harness.repo.stage_new_staff(uow, acting, second, on_email_taken=ConflictError()))
    assert raised.value.code == "revoked" and harness.repo.get_staff(ctx, second.user_id) is None
    nobody = TenantContext(tenant.tenant_id, Principal("staff", "usr_nobody", Role.ADMIN, frozenset(Permission)))
    with pytest.raises(ConflictError):
        harness.commit(nobody, lambda uow: harness.repo.stage_actor_check(uow, nobody, on_conflict=marked("revoked")),
                       lambda uow: harness.repo.stage_new_staff(uow, nobody, second, on_email_taken=ConflictError()))
