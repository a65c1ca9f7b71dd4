"""API keys on in-memory fakes: shown once, stored as a digest, scoped, cached per container, revocable."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.auth import digest
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import NotFoundError, UnauthenticatedError, ValidationFailedError
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.tenants.records import new_staff
from chalicelib.tenants.schemas import ApiKeyIn
from tests.fakes.tenants import TenantServices, tenant_services

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))


@pytest.fixture
def services() -> TenantServices:
    built = tenant_services(now=NOW)
    built.repo.staff[("tnt_1", "usr_admin")] = new_staff(  # the acting admin exists: admin changes re-check them
        "tnt_1", "usr_admin", email="boss@example.com", name="老板", role=Role.ADMIN, password_hash="-", phone=None,
        on_duty=None, stamp=to_rfc3339(NOW))
    return built


@pytest.fixture
def touches(services: TenantServices, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The digests the service resolved against the store."""
    seen: list[str] = []
    touch = services.repo.touch_api_key

    def counting(secret_digest: str, now_text: str):  # noqa: ANN202
        seen.append(secret_digest)
        return touch(secret_digest, now_text)

    monkeypatch.setattr(services.repo, "touch_api_key", counting)
    return seen


def create(services: TenantServices, *scopes: Permission, name: str = "物业ERP"):
    return services.api_keys.create_api_key(ADMIN, ApiKeyIn(name=name, scopes=list(scopes)), NOW)


def test_a_key_is_shown_once_and_only_its_digest_is_kept(services):
    created = create(services, Permission.TICKETS_READ, Permission.TENANT_READ, Permission.TENANT_READ)

    assert created.key.startswith("lk_live_") and created.hint == created.key[:12] + "…"
    assert created.scopes == ["tenant:read", "tickets:read"] and created.created_by == "usr_admin"
    [stored] = services.repo.api_keys.values()
    assert stored.secret_digest == digest(created.key) and created.key not in repr(stored)
    [event] = services.store.events
    assert (event.type, event.subject_type, event.subject_id) == ("api_key.created", "api_key", created.id)
    assert event.data == {"name": "物业ERP", "scopes": ["tenant:read", "tickets:read"]}
    listed, cursor = services.api_keys.list_api_keys(ADMIN, 10, None)
    assert [k.id for k in listed] == [created.id] and cursor is None and not hasattr(listed[0], "key")


def test_administrative_scopes_are_refused(services):
    with pytest.raises(ValidationFailedError) as raised:
        create(services, Permission.STAFF_WRITE, Permission.TENANT_READ, Permission.API_KEYS_MANAGE)
    assert raised.value.details == [{"field": "scopes", "type": "scope_not_allowed",
                                     "message": "API keys cannot hold: api_keys:manage, staff:write"}]
    assert services.repo.api_keys == {} and services.store.events == []


def test_a_key_resolves_to_its_context_once_per_container_and_its_use_is_stamped(services, touches):
    created = create(services, Permission.TENANT_READ)

    first = services.api_keys.authenticate(created.key, "req-1")
    services.clock[0] = NOW + timedelta(minutes=5)
    second = services.api_keys.authenticate(created.key, "req-2")

    assert (first.tenant_id, first.principal.kind, first.principal.id) == ("tnt_1", "api_key", created.id)
    assert first.principal.permissions == frozenset({Permission.TENANT_READ})
    assert (first.request_id, second.request_id, second.principal) == ("req-1", "req-2", first.principal)
    assert touches == [digest(created.key)]
    assert services.api_keys.list_api_keys(ADMIN, 10, None)[0][0].last_used_at == to_rfc3339(NOW)


def test_a_revoked_key_stops_at_once_in_this_container(services, touches):
    created = create(services, Permission.TENANT_READ)
    services.api_keys.authenticate(created.key, "req")

    revoked = services.api_keys.revoke_api_key(ADMIN, created.id, NOW)

    assert revoked.revoked_at == to_rfc3339(NOW) and services.store.events[-1].type == "api_key.revoked"
    with pytest.raises(UnauthenticatedError):
        services.api_keys.authenticate(created.key, "req")
    assert touches == [digest(created.key)] * 2
    again = services.api_keys.revoke_api_key(ADMIN, created.id, NOW + timedelta(hours=1))
    assert again.revoked_at == to_rfc3339(NOW) and len(services.store.events) == 2  # revoking twice is a no-op


def test_keys_of_other_tenants_are_not_found(services):
    created = create(services, Permission.TENANT_READ)
    other = TenantContext("tnt_2", ADMIN.principal)
    with pytest.raises(NotFoundError):
        services.api_keys.revoke_api_key(other, created.id, NOW)
    assert services.api_keys.list_api_keys(other, 10, None) == ([], None)
