"""TenantContext: who is calling, for which tenant. Built only from a verified credential."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from chalicelib.core.errors import ForbiddenError
from chalicelib.core.permissions import Permission, Role

PrincipalKind = Literal["staff", "resident", "api_key", "system"]


class UnitClaim(NamedTuple):
    """A unit a resident's token says they live in."""

    community_id: str
    unit_id: str
    label: str = ""
    building_id: str = ""


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: str
    role: Role | None = None
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    units: tuple[UnitClaim, ...] = ()  # a resident's units, from their token
    name: str | None = None  # a resident's name, from their token (what staff see on the tickets they file)
    phone_hint: str | None = None  # a resident's phone, masked (138****5678), from their token: never the number
    acts_for: str | None = None  # an API key's named staff member: what it does counts as their own work

    @property
    def human(self) -> bool:
        """A person at work: a staff member, or an API key acting for a named one (a first response counts only
        when made by one)."""
        return self.kind == "staff" or (self.kind == "api_key" and bool(self.acts_for))

    def unit(self, unit_id: str) -> UnitClaim | None:
        return next((u for u in self.units if u.unit_id == unit_id), None)


@dataclass(frozen=True)
class TenantContext:
    """The tenant boundary every service and repository call takes.

    Example
    -------
    >>> ctx = TenantContext("tnt_1", Principal("staff", "usr_1", Role.ADMIN, frozenset(Permission)))
    >>> ctx.require(Permission.TENANT_WRITE)
    """

    tenant_id: str
    principal: Principal
    request_id: str = "-"

    def require(self, permission: Permission) -> None:
        if permission not in self.principal.permissions:
            raise ForbiddenError()

    @property
    def actor(self) -> dict[str, str | None]:
        role = self.principal.role.value if self.principal.role else None
        actor = {"type": self.principal.kind, "id": self.principal.id, "role": role}
        return {**actor, "acts_for": self.principal.acts_for} if self.principal.acts_for else actor
