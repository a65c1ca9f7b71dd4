"""The tenant context as services see it: plain records, no storage. The repository maps them to items.

Field names are the stored attribute names, so other contexts reading a staff member (``user_id``,
``role``, ``status``, ``phone``, ``on_duty`` …) read the same thing they read before.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.permissions import Role
from chalicelib.tenants.domain import LoginAttempts


@dataclass(frozen=True)
class Tenant:
    """A property company: its profile and its configuration document (see ``domain.TenantConfig``)."""

    tenant_id: str
    slug: str
    company_name: str
    config: dict[str, Any]
    created_at: str
    updated_at: str
    version: int = 1
    plan: str = "standard"
    isolation: str = "pooled"
    status: str = "active"
    admin_count: int = 0
    revoked: dict[str, int] = field(default_factory=dict)  # subject id → when their tokens were cut off (ms)


@dataclass(frozen=True)
class Staff:
    """A staff member. ``on_duty`` is ``None`` (never set: on duty), ``True`` or ``False``."""

    tenant_id: str
    user_id: str
    email: str
    name: str
    role: str
    created_at: str
    updated_at: str
    version: int = 1
    status: str = "active"
    phone: str | None = None
    on_duty: bool | None = None
    password_hash: str = field(default="", repr=False)
    last_login_at: str | None = None
    # failed sign-ins per source (a digest of the address): key → [failures, first_failed_at, locked_until]
    login_throttles: dict[str, list[Any]] | None = field(default=None, repr=False)

    def login_attempts(self, source_key: str) -> LoginAttempts:
        """The member's failed-login state from one source (for the lock-out rule)."""
        return LoginAttempts.from_entry((self.login_throttles or {}).get(source_key))


@dataclass(frozen=True)
class RefreshToken:
    """One rotating refresh token; tokens rotated from one sign-in share a ``family_id``."""

    tenant_id: str
    user_id: str
    token_id: str
    token_digest: str = field(repr=False)
    family_id: str
    created_at: str
    expires_at: int | None = None
    used_at: str | None = None


@dataclass(frozen=True)
class ApiKey:
    """An integration's API key: found by the digest of its secret, listed by the tenant."""

    tenant_id: str
    key_id: str
    secret_digest: str = field(repr=False)
    name: str
    scopes: tuple[str, ...]
    hint: str
    created_by: str
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None
    acts_for: str | None = None  # the staff member the key's work counts for (first responses), if any


@dataclass(frozen=True)
class CannedReply:
    """A reply snippet the tenant keeps for the ticket desk (快捷回复): general, or for a kind and/or category; its
    body may use the placeholders of ``reply_templates.PLACEHOLDERS``."""

    tenant_id: str
    reply_id: str
    title: str
    body: str
    created_at: str
    updated_at: str
    kind: str | None = None
    category: str | None = None
    sort_order: int = 0
    version: int = 1


def new_staff(tenant_id: str, user_id: str, *, email: str, name: str, role: Role, password_hash: str,
              phone: str | None, on_duty: bool | None, stamp: str) -> Staff:
    """A staff member as created: active, version 1, never signed in.

    Example
    -------
    >>> staff = new_staff("tnt_1", "usr_1", email="li@x.cn", name="李", role=Role.AGENT, password_hash="h",
    ...                   phone=None, on_duty=None, stamp="2026-11-27T08:00:00.000Z")
    >>> (staff.role, staff.status, staff.version, staff.login_throttles)
    ('agent', 'active', 1, None)
    """
    return Staff(tenant_id=tenant_id, user_id=user_id, email=email, name=name, role=role.value, status="active",
                 phone=phone, on_duty=on_duty, password_hash=password_hash, created_at=stamp, updated_at=stamp,
                 version=1)
