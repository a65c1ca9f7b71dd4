"""Staff use cases: who is signed in, the directory, adding, changing and removing members."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.core.cache import TTLCache
from chalicelib.core.changes import field_changes
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, NotFoundError, PreconditionFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import Role, permissions_for
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWork, UnitOfWorkFactory
from chalicelib.tenants.access import TenantAccess, access_revoked
from chalicelib.tenants.api_keys import ApiKeyService
from chalicelib.tenants.domain import TenantConfig, check_password
from chalicelib.tenants.passwords import Passwords
from chalicelib.tenants.ports import StaffLoad, TenantStore
from chalicelib.tenants.records import Staff, new_staff
from chalicelib.tenants.schemas import MyTeamOut, StaffIn, StaffMeOut, StaffOut, StaffPatch
from chalicelib.tenants.views import staff_out

PII_FIELDS = ("phone", "password")  # audited as changed, never with their values


def stage_new_member(store: TenantStore, uow: UnitOfWork, ctx: TenantContext, staff: Staff) -> None:
    """Stage a new member (their e-mail claimed within the tenant) and record ``staff.created``.

    Example
    -------
    ::

        uow = new_uow(ctx.tenant_id, ctx.actor, now)
        stage_new_member(store, uow, ctx, staff)
        uow.commit()  # ConflictError(code="email_taken") when the e-mail belongs to another member
    """
    store.stage_new_staff(uow, ctx, staff, on_email_taken=ConflictError(
        "A staff member with this e-mail already exists.", code="email_taken"))
    uow.record("staff.created", subject=("staff", staff.user_id), subject_version=1, data={"role": staff.role})


def is_active_admin(role: str | None, status: str) -> bool:
    """Whether a member counts towards the tenant's active admins.

    Example
    -------
    >>> is_active_admin("admin", "active"), is_active_admin("admin", "disabled")
    (True, False)
    """
    return role == Role.ADMIN.value and status == "active"


class StaffService:
    """Owns the tenant's staff: who is signed in (``me``), the directory, and adding, changing and
    removing members — keeping at least one active admin, re-checking the acting admin inside each change,
    and ending a member's access at once when their role, status or password changes or they are removed
    (access tokens cut off, refresh tokens deleted, and — unless the tenant keeps them — the API keys they
    created revoked when they are disabled or removed).
    """

    def __init__(self, store: TenantStore, new_uow: UnitOfWorkFactory, passwords: Passwords,
                 access: TenantAccess, api_keys: ApiKeyService, load: StaffLoad | None = None, *,
                 name_cache_seconds: float = 60) -> None:
        self._store = store
        self._new_uow = new_uow
        self._passwords = passwords
        self._access = access
        self._api_keys = api_keys
        self._load = load
        self._names: TTLCache[str] = TTLCache(name_cache_seconds)

    def me(self, ctx: TenantContext, config: TenantConfig) -> StaffMeOut:
        """The caller with their role's permissions and their teams (``config``: the tenant's configuration, where
        teams and dispatch rules live), each saying whether tickets reach it as a grab pool."""
        if ctx.principal.kind != "staff":
            raise NotFoundError()
        member = self.get_staff(ctx, ctx.principal.id)
        pools = {rule.team_id for rule in config.dispatch_rules if rule.mode == "grab"}
        teams = [MyTeamOut(id=team.id, name=team.name, grab_pool=team.id in pools) for team in config.teams
                 if any(m.user_id == member.id for m in team.members)]
        return StaffMeOut(**member.model_dump(), tenant_id=ctx.tenant_id,
                          permissions=sorted(permissions_for(member.role)), teams=teams)

    def get_staff(self, ctx: TenantContext, user_id: str) -> StaffOut:
        return staff_out(self._staff_or_404(ctx, user_id), ctx)

    def list_staff(self, ctx: TenantContext, limit: int, cursor: str | None, *, role: Role | None = None,
                   with_load: bool = False) -> tuple[list[StaffOut], str | None]:
        """A page of the directory (one Query), optionally one role's members; ``with_load`` adds each member's
        open tickets from their counters (one BatchGetItem more): the assign picker's list."""
        members, next_cursor = self._store.list_staff(ctx, limit, cursor, role=role.value if role else None)
        shown = [staff_out(m, ctx) for m in members]
        if with_load and self._load is not None and shown:
            load = self._load.open_load(ctx, [m.id for m in shown])
            shown = [m.model_copy(update={"open_tickets": load.get(m.id, 0)}) for m in shown]
        return shown, next_cursor

    def display_name(self, ctx: TenantContext, user_id: str) -> str | None:
        """A member's name as colleagues and residents read it (canned replies' ``{staff_name}``), cached per
        container like the tenant's configuration (≤ 60 s; a rename here shows at once in this container)."""
        return self._names.get_or_load((ctx.tenant_id, user_id), lambda: getattr(
            self._store.get_staff(ctx, user_id), "name", None))

    def create_staff(self, ctx: TenantContext, cmd: StaffIn, now: datetime) -> StaffOut:
        check_password(cmd.password, email=cmd.email)
        staff = new_staff(ctx.tenant_id, new_id("usr"), email=cmd.email, name=cmd.name, role=cmd.role,
                          password_hash=self._passwords.hash(cmd.password), phone=cmd.phone,
                          on_duty=None if cmd.on_duty else False, stamp=to_rfc3339(now))
        uow = self._new_uow(ctx.tenant_id, ctx.actor, now)
        self._access.stage_actor_check(uow, ctx)
        stage_new_member(self._store, uow, ctx, staff)
        if cmd.role == Role.ADMIN:
            self._store.stage_admin_added(uow, ctx)
        uow.commit()
        return staff_out(staff, ctx)

    def update_staff(self, ctx: TenantContext, user_id: str, patch: StaffPatch, if_match: int | None,
                     now: datetime) -> StaffOut:
        staff = self._staff_or_404(ctx, user_id, consistent=True)
        if if_match is not None and if_match != staff.version:
            raise PreconditionFailedError()
        fields = patch.model_dump(exclude_unset=True, exclude_none=True)
        before = {"name": staff.name, "role": staff.role, "status": staff.status, "phone": staff.phone,
                  "on_duty": staff.on_duty is not False}
        after = {**before, **{k: (v.value if isinstance(v, Role) else v) for k, v in fields.items()
                              if k != "password"}}
        changes = field_changes(before, after)
        password = fields.get("password")
        if password is not None:
            check_password(password, email=staff.email)
            changes["password"] = {"before": None, "after": None}
        if not changes:
            return staff_out(staff, ctx)
        for pii in PII_FIELDS:
            if pii in changes:
                changes[pii] = {"before": "[redacted]", "after": "[redacted]"}
        updated = replace(staff, name=after["name"], role=after["role"], status=after["status"], phone=after["phone"],
                          on_duty=after["on_duty"], updated_at=to_rfc3339(now), version=staff.version + 1,
                          password_hash=self._passwords.hash(password) if password is not None else staff.password_hash)
        uow = self._new_uow(ctx.tenant_id, ctx.actor, now)
        self._check_actor(uow, ctx, staff)
        self._store.stage_staff_update(uow, ctx, updated, expected_version=staff.version,
                                       on_conflict=PreconditionFailedError())
        self._stage_admin_count(uow, ctx, was_admin=is_active_admin(staff.role, staff.status),
                                is_admin=is_active_admin(updated.role, updated.status))
        signed_out = updated.status != "active" or password is not None or updated.role != staff.role
        if signed_out:
            self._access.stage_revoke(uow, ctx, user_id, now)
        keys = self._stage_keys_revoked(uow, ctx, user_id, now) if updated.status != "active" else []
        uow.record("staff.updated", subject=("staff", user_id), subject_version=updated.version, changes=changes)
        uow.commit()
        self._names.invalidate((ctx.tenant_id, user_id))
        self._api_keys.forget(keys)
        if signed_out:
            self._access.committed(ctx.tenant_id)
            self._store.revoke_refresh_tokens(ctx, user_id)
        return staff_out(updated, ctx)

    def delete_staff(self, ctx: TenantContext, user_id: str, if_match: int | None, now: datetime) -> None:
        staff = self._staff_or_404(ctx, user_id, consistent=True)
        if if_match is not None and if_match != staff.version:
            raise PreconditionFailedError()
        uow = self._new_uow(ctx.tenant_id, ctx.actor, now)
        self._check_actor(uow, ctx, staff)
        self._store.stage_staff_delete(uow, ctx, staff, expected_version=staff.version,
                                       on_conflict=PreconditionFailedError())
        self._stage_admin_count(uow, ctx, was_admin=is_active_admin(staff.role, staff.status), is_admin=False)
        self._access.stage_revoke(uow, ctx, user_id, now)
        keys = self._stage_keys_revoked(uow, ctx, user_id, now)
        uow.record("staff.deleted", subject=("staff", user_id), subject_version=staff.version,
                   data={"role": staff.role})
        uow.commit()
        self._names.invalidate((ctx.tenant_id, user_id))
        self._api_keys.forget(keys)
        self._access.committed(ctx.tenant_id)
        self._store.revoke_refresh_tokens(ctx, user_id)

    def _check_actor(self, uow: UnitOfWork, ctx: TenantContext, target: Staff) -> None:
        """Re-check the acting member inside the change. Changing oneself, the member was just read (consistent)
        and the change is conditional on that version, so the check is made here instead (one item, one
        operation per transaction)."""
        if ctx.principal.kind == "staff" and ctx.principal.id == target.user_id:
            role = ctx.principal.role.value if ctx.principal.role else None
            if target.status != "active" or target.role != role:
                raise access_revoked()
            return
        self._access.stage_actor_check(uow, ctx)

    def _stage_keys_revoked(self, uow: UnitOfWork, ctx: TenantContext, user_id: str, now: datetime) -> list[str]:
        """Revoke the API keys a disabled or removed member created, unless the tenant keeps them."""
        if self._access.api_keys_outlive_creator(ctx.tenant_id):
            return []
        return self._api_keys.stage_revoked_with_creator(uow, ctx, user_id, now)

    def _staff_or_404(self, ctx: TenantContext, user_id: str, *, consistent: bool = False) -> Staff:
        staff = self._store.get_staff(ctx, user_id, consistent=consistent)
        if staff is None:
            raise NotFoundError()
        return staff

    def _stage_admin_count(self, uow: UnitOfWork, ctx: TenantContext, *, was_admin: bool, is_admin: bool) -> None:
        if was_admin and not is_admin:
            self._store.stage_admin_removed(uow, ctx, on_conflict=ConflictError(
                "A tenant must keep at least one active admin.", code="last_admin"))
        elif is_admin and not was_admin:
            self._store.stage_admin_added(uow, ctx)
