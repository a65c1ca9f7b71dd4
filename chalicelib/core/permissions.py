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
    FEES_WRITE = "fees:write"  # property-fee collection/renewal rates (admins, and a billing system's API key)
    WEBHOOKS_MANAGE = "webhooks:manage"
    CANNED_REPLIES_WRITE = "canned_replies:write"


def _may(*names: str) -> frozenset[Permission]:
    return frozenset(Permission(name) for name in names)


_READ_DESK = ("tenant:read", "communities:read", "tickets:read", "tickets:write")
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SUPERVISOR: _may(*_READ_DESK, "staff:read", "residents:read", "residents:write", "tickets:dispatch",
                          "reports:read", "canned_replies:write"),
    Role.AGENT: _may(*_READ_DESK, "staff:read", "residents:read", "residents:write", "tickets:dispatch"),
    Role.TECHNICIAN: _may(*_READ_DESK),
    Role.BUTLER: _may(*_READ_DESK, "residents:read"),
}

# Integrations never administer people, credentials or the desk's own configuration (its canned replies).
API_KEY_SCOPES: frozenset[Permission] = frozenset(Permission) - {
    Permission.STAFF_WRITE, Permission.API_KEYS_MANAGE, Permission.TENANT_WRITE, Permission.WEBHOOKS_MANAGE,
    Permission.CANNED_REPLIES_WRITE,
}


def permissions_for(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]
