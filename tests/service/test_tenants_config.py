"""Tenant configuration on in-memory fakes: the per-container cache, merge patches, slugs, public branding."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import NotFoundError, PreconditionFailedError, ValidationFailedError
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.tenants.schemas import SignupIn, TenantPatch
from tests.fakes.tenants import TenantServices, tenant_services

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.fixture
def services() -> TenantServices:
    return tenant_services(now=NOW)


@pytest.fixture
def admin(services: TenantServices) -> TenantContext:
    created = services.auth.signup(SignupIn(company_name="翠湖物业", slug="cui-hu", admin_email="boss@example.com",
                                            admin_password="Correct-horse-42"), NOW)
    services.store.events.clear()
    return TenantContext(created.tenant.id, Principal("staff", created.user.id, Role.ADMIN, frozenset(Permission)))


@pytest.fixture
def reads(services: TenantServices, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tenant ids the config service read from the store (after signup)."""
    seen: list[str] = []
    read = services.repo.get_tenant

    def counting(tenant_id: str, *, consistent: bool = False):  # noqa: ANN202
        seen.append(tenant_id)
        return read(tenant_id, consistent=consistent)

    monkeypatch.setattr(services.repo, "get_tenant", counting)
    return seen


def test_config_is_read_once_per_container_until_the_cache_is_cleared(services, admin, reads):
    assert services.configs.config(admin.tenant_id).branding.display_name == "翠湖物业"
    assert services.configs.get_tenant(admin).company_name == "翠湖物业"
    assert reads == [admin.tenant_id]
    services.configs.clear_cache()
    assert services.configs.config(admin.tenant_id).timezone == "Asia/Shanghai"
    assert reads == [admin.tenant_id, admin.tenant_id]
    with pytest.raises(NotFoundError):
        services.configs.config("tnt_nobody")


def test_a_patch_merges_bumps_the_version_audits_and_refreshes_the_cache(services, admin, reads):
    services.configs.config(admin.tenant_id)

    patched = services.configs.update_tenant(admin, TenantPatch.model_validate(
        {"company_name": "翠湖服务", "locale": "en", "branding": {"primary_color": "#0A7D4F"}}), 1, NOW)

    assert (patched.company_name, patched.locale, patched.version) == ("翠湖服务", "en", 2)
    assert patched.branding.display_name == "翠湖物业" and patched.branding.primary_color == "#0A7D4F"
    assert services.repo.tenants[admin.tenant_id].version == 2
    [event] = services.store.events
    assert (event.type, event.subject_type, event.subject_version) == ("tenant.updated", "tenant", 2)
    assert event.changes["company_name"] == {"before": "翠湖物业", "after": "翠湖服务"}
    assert event.changes["locale"] == {"before": "zh-CN", "after": "en"}
    assert event.changes["branding"]["after"]["primary_color"] == "#0A7D4F"
    assert services.configs.config(admin.tenant_id).locale == "en"  # from the cache, refreshed by the write
    assert reads == [admin.tenant_id, admin.tenant_id]  # the cold read, then the write's consistent read


def test_a_stale_if_match_or_a_concurrent_write_is_refused(services, admin):
    with pytest.raises(PreconditionFailedError):
        services.configs.update_tenant(admin, TenantPatch(locale="en"), 7, NOW)
    stored = services.repo.tenants[admin.tenant_id]
    services.repo.tenants[admin.tenant_id] = replace(stored, version=5)  # another writer got there first
    with pytest.raises(PreconditionFailedError):
        services.configs.update_tenant(admin, TenantPatch(locale="en"), 1, NOW)
    assert services.store.events == []


def test_invalid_config_is_refused_with_details_and_changes_nothing(services, admin):
    with pytest.raises(ValidationFailedError) as raised:
        services.configs.update_tenant(admin, TenantPatch.model_validate({"community_calendars": {"cmt_1": "x"}}),
                                       None, NOW)
    [detail] = raised.value.details
    assert detail["type"] == "value_error" and "No calendar x" in detail["message"]
    assert services.repo.tenants[admin.tenant_id].version == 1 and services.store.events == []


def test_a_patch_that_changes_nothing_writes_nothing(services, admin):
    commits = services.store.commits
    unchanged = services.configs.update_tenant(admin, TenantPatch(locale="zh-CN"), None, NOW)
    assert unchanged.version == 1 and services.store.commits == commits and services.store.events == []


def test_slugs_resolve_to_active_tenants_only(services, admin):
    assert services.configs.tenant_id_for_slug(" Cui-Hu ") == admin.tenant_id
    for unknown in ("no-such-co", "BAD SLUG!"):
        with pytest.raises(NotFoundError):
            services.configs.tenant_id_for_slug(unknown)
    services.repo.tenants[admin.tenant_id] = replace(services.repo.tenants[admin.tenant_id], status="suspended")
    services.configs.clear_cache()
    with pytest.raises(NotFoundError):
        services.configs.tenant_id_for_slug("cui-hu")
    with pytest.raises(NotFoundError):
        services.configs.public_branding("cui-hu")


def test_public_branding_shows_the_brand_and_resident_visible_kinds(services, admin):
    kinds = [k.model_dump() for k in services.configs.config(admin.tenant_id).ticket_kinds]
    kinds[0]["resident_visible"] = False
    services.configs.update_tenant(admin, TenantPatch.model_validate({
        "ticket_kinds": kinds, "branding": {"display_name": "翠湖管家", "contact_phone": "400-820-8820"}}), None, NOW)

    branding = services.configs.public_branding("cui-hu")

    assert (branding.slug, branding.name, branding.contact_phone) == ("cui-hu", "翠湖管家", "400-820-8820")
    assert [k.key for k in branding.ticket_kinds] == [k["key"] for k in kinds[1:]]
