"""Roles and what they may do: the one role → permission table."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    TECHNICIAN = "technician"
    BUTLER = "butler"


class Permission(StrEnum):
    TENANT_READ = "tenant:read"
    TENANT_WRITE = "tenant:write"
    STAFF_READ = "staff:read"
    STAFF_WRITE = "staff:write"
    API_KEYS_MANAGE = "api_keys:manage"
    COMMUNITIES_READ = "communities:read"
    COMMUNITIES_WRITE = "communities:write"
    RESIDENTS_READ = "residents:read"
    RESIDENTS_WRITE = "residents:write"
    TICKETS_READ = "tickets:read"
    TICKETS_WRITE = "tickets:write"
    TICKETS_DISPATCH = "tickets:dispatch"
    REPORTS_READ = "reports:read"
    WEBHOOKS_MANAGE = "webhooks:manage"


_P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SUPERVISOR: frozenset({
        _P.TENANT_READ, _P.STAFF_READ, _P.COMMUNITIES_READ, _P.RESIDENTS_READ, _P.RESIDENTS_WRITE,
        _P.TICKETS_READ, _P.TICKETS_WRITE, _P.TICKETS_DISPATCH, _P.REPORTS_READ,
    }),
    Role.AGENT: frozenset({
        _P.TENANT_READ, _P.STAFF_READ, _P.COMMUNITIES_READ, _P.RESIDENTS_READ, _P.RESIDENTS_WRITE,
        _P.TICKETS_READ, _P.TICKETS_WRITE, _P.TICKETS_DISPATCH,
    }),
    Role.TECHNICIAN: frozenset({_P.TENANT_READ, _P.COMMUNITIES_READ, _P.TICKETS_READ, _P.TICKETS_WRITE}),
    Role.BUTLER: frozenset({
        _P.TENANT_READ, _P.COMMUNITIES_READ, _P.RESIDENTS_READ, _P.TICKETS_READ, _P.TICKETS_WRITE,
    }),
}

# Integrations never administer people or credentials.
API_KEY_SCOPES: frozenset[Permission] = frozenset(Permission) - {
    _P.STAFF_WRITE, _P.API_KEYS_MANAGE, _P.TENANT_WRITE, _P.WEBHOOKS_MANAGE,
}


def permissions_for(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]
