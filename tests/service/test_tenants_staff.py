"""Staff use cases on in-memory fakes: the directory, the last-admin rule, audit events, sign-outs."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import (
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
    UnauthenticatedError,
    ValidationFailedError,
)
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.tenants.domain import DispatchRule, Team, TeamMember, TenantConfig
from chalicelib.tenants.records import RefreshToken
from chalicelib.tenants.schemas import SignupIn, StaffIn, StaffPatch
from tests.fakes.tenants import TenantServices, tenant_services

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
PASSWORD = "Correct-horse-42"


@pytest.fixture
def services() -> TenantServices:
    return tenant_services(now=NOW)


@pytest.fixture
def admin(services: TenantServices) -> TenantContext:
    """Given a signed-up tenant, acting as its first admin."""
    created = services.auth.signup(SignupIn(company_name="绿城物业", slug="green-garden",
                                            admin_email="boss@example.com", admin_password=PASSWORD), NOW)
    services.store.events.clear()
    return TenantContext(created.tenant.id, Principal("staff", created.user.id, Role.ADMIN, frozenset(Permission)))


def add(services: TenantServices, admin: TenantContext, role: Role = Role.AGENT, email: str = "li@example.com",
        **extra: object):
    return services.staff.create_staff(admin, StaffIn(email=email, name="李娜", role=role, password=PASSWORD,
                                                      **extra), NOW)


def admin_count(services: TenantServices, ctx: TenantContext) -> int:
    return services.repo.get_tenant(ctx.tenant_id).admin_count


def give_refresh_token(services: TenantServices, ctx: TenantContext, user_id: str) -> None:
    services.repo.refresh_tokens[(ctx.tenant_id, user_id, "rtk_1")] = RefreshToken(
        tenant_id=ctx.tenant_id, user_id=user_id, token_id="rtk_1", token_digest="d", family_id="rtk_1",
        created_at="2026-11-27T08:00:00.000Z", expires_at=2_000_000_000)


def tokens_of(services: TenantServices, user_id: str) -> list[RefreshToken]:
    return [t for t in services.repo.refresh_tokens.values() if t.user_id == user_id]


def test_a_new_member_is_stored_audited_and_listed(services, admin):
    agent = add(services, admin, phone="13912345678", on_duty=False)

    assert (agent.email, agent.role, agent.status, agent.version, agent.on_duty) == ("li@example.com", Role.AGENT,
                                                                                     "active", 1, False)
    stored = services.repo.get_staff(admin, agent.id)
    assert stored.on_duty is False and stored.phone == "13912345678" and stored.password_hash == f"plain${PASSWORD}"
    [event] = services.store.events
    assert (event.type, event.subject_id, event.data, event.actor["id"]) == ("staff.created", agent.id,
                                                                             {"role": "agent"}, admin.principal.id)
    assert admin_count(services, admin) == 1
    page, _ = services.staff.list_staff(admin, 10, None)
    assert sorted(m.id for m in page) == sorted([admin.principal.id, agent.id])
    assert services.staff.get_staff(admin, agent.id) == agent


def test_an_on_duty_member_is_stored_without_a_flag(services, admin):
    agent = add(services, admin)
    assert agent.on_duty is True and services.repo.get_staff(admin, agent.id).on_duty is None


def test_a_new_admin_counts_and_a_taken_email_is_refused(services, admin):
    add(services, admin, Role.ADMIN, email="second@example.com")
    assert admin_count(services, admin) == 2
    with pytest.raises(ConflictError) as raised:
        add(services, admin, email="second@example.com")
    assert raised.value.code == "email_taken" and len(services.store.events) == 1
    with pytest.raises(ValidationFailedError):
        services.staff.create_staff(admin, StaffIn(email="x@example.com", name="X", role=Role.AGENT,
                                                   password="password1234"), NOW)


def test_an_update_changes_fields_audits_without_pii_and_signs_the_member_out(services, admin):
    agent = add(services, admin, phone="13912345678")
    give_refresh_token(services, admin, agent.id)
    services.store.events.clear()

    updated = services.staff.update_staff(admin, agent.id, StaffPatch(role=Role.SUPERVISOR, phone="13800000000",
                                                                      password="Another-pass-77"), 1, NOW)

    assert (updated.role, updated.phone, updated.version) == (Role.SUPERVISOR, "13800000000", 2)
    assert services.repo.get_staff(admin, agent.id).password_hash == "plain$Another-pass-77"
    [event] = services.store.events
    assert event.type == "staff.updated" and event.subject_version == 2
    assert event.changes == {"role": {"before": "agent", "after": "supervisor"},
                             "phone": {"before": "[redacted]", "after": "[redacted]"},
                             "password": {"before": "[redacted]", "after": "[redacted]"}}
    assert tokens_of(services, agent.id) == [] and len(tokens_of(services, admin.principal.id)) == 1


def test_an_update_that_changes_nothing_writes_nothing(services, admin):
    agent = add(services, admin)
    give_refresh_token(services, admin, agent.id)
    commits = services.store.commits
    assert services.staff.update_staff(admin, agent.id, StaffPatch(name="李娜"), None, NOW) == agent
    assert services.store.commits == commits and len(tokens_of(services, agent.id)) == 1


def test_a_name_change_keeps_the_member_signed_in(services, admin):
    agent = add(services, admin)
    give_refresh_token(services, admin, agent.id)
    assert services.staff.update_staff(admin, agent.id, StaffPatch(name="李娜娜"), None, NOW).name == "李娜娜"
    assert len(tokens_of(services, agent.id)) == 1


def test_a_stale_if_match_is_refused(services, admin):
    agent = add(services, admin)
    with pytest.raises(PreconditionFailedError):
        services.staff.update_staff(admin, agent.id, StaffPatch(name="x"), 7, NOW)
    with pytest.raises(PreconditionFailedError):
        services.staff.delete_staff(admin, agent.id, 7, NOW)
    assert services.staff.get_staff(admin, agent.id).version == 1


@pytest.mark.parametrize("patch", [StaffPatch(role=Role.AGENT), StaffPatch(status="disabled")])
def test_the_last_admin_cannot_be_demoted_or_disabled(services, admin, patch):
    with pytest.raises(ConflictError) as raised:
        services.staff.update_staff(admin, admin.principal.id, patch, None, NOW)
    assert raised.value.code == "last_admin"
    assert services.staff.me(admin, TenantConfig()).role == Role.ADMIN and admin_count(services, admin) == 1


def test_with_a_second_admin_one_can_step_down_but_not_the_last(services, admin):
    second = add(services, admin, Role.ADMIN, email="second@example.com")
    services.staff.update_staff(admin, admin.principal.id, StaffPatch(role=Role.AGENT), None, NOW)
    assert admin_count(services, admin) == 1
    remaining = TenantContext(admin.tenant_id, Principal("staff", second.id, Role.ADMIN, frozenset(Permission)))
    with pytest.raises(ConflictError) as raised:
        services.staff.delete_staff(remaining, second.id, None, NOW)
    assert raised.value.code == "last_admin" and services.staff.get_staff(admin, second.id)


def test_a_demoted_admin_acting_on_their_old_token_is_refused_at_once(services, admin):
    second = add(services, admin, Role.ADMIN, email="second@example.com")
    services.staff.update_staff(admin, admin.principal.id, StaffPatch(role=Role.AGENT), None, NOW)
    with pytest.raises(UnauthenticatedError) as raised:
        services.staff.delete_staff(admin, second.id, None, NOW)  # the token still says admin
    assert raised.value.code == "access_revoked" and services.staff.get_staff(admin, second.id)
    with pytest.raises(UnauthenticatedError):
        add(services, admin, Role.ADMIN, email="ghost@example.com")


def test_a_deleted_member_is_gone_audited_signed_out_and_their_email_free(services, admin):
    agent = add(services, admin)
    give_refresh_token(services, admin, agent.id)

    services.staff.delete_staff(admin, agent.id, 1, NOW)

    with pytest.raises(NotFoundError):
        services.staff.get_staff(admin, agent.id)
    assert services.store.events[-1].type == "staff.deleted" and services.store.events[-1].data == {"role": "agent"}
    assert tokens_of(services, agent.id) == []
    assert add(services, admin).email == "li@example.com"


def test_me_is_the_signed_in_member_and_not_found_for_others(services, admin):
    assert services.staff.me(admin, TenantConfig()).id == admin.principal.id
    with pytest.raises(NotFoundError):
        services.staff.me(TenantContext(admin.tenant_id, Principal("api_key", "key_1")), TenantConfig())
    with pytest.raises(NotFoundError):
        services.staff.get_staff(TenantContext("tnt_other", admin.principal), admin.principal.id)


def test_me_lists_the_members_teams_and_which_of_them_take_tickets_as_a_grab_pool(services, admin):
    me = admin.principal.id
    config = TenantConfig(
        teams=[Team(id="plumbers", name="水电班", members=[TeamMember(user_id=me)]),
               Team(id="greens", name="绿化班", members=[TeamMember(user_id="usr_someone_else")]),
               Team(id="night", name="夜班", members=[TeamMember(user_id=me, on_duty=False)])],
        dispatch_rules=[DispatchRule(team_id="plumbers", mode="grab"),
                        DispatchRule(team_id="night", mode="round_robin")])

    teams = services.staff.me(admin, config).teams

    assert [(t.id, t.name, t.grab_pool) for t in teams] == [("plumbers", "水电班", True), ("night", "夜班", False)]
