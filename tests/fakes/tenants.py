"""In-memory ``tenants.ports.TenantStore``: the same contract as the DynamoDB repository
(``tests/contract/test_tenants_repository.py`` holds both to it)."""
from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from chalicelib.core.auth import TokenCodec
from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.settings import Settings
from chalicelib.core.tenancy import TenantContext
from chalicelib.tenants.access import TenantAccess
from chalicelib.tenants.api_keys import ApiKeyService
from chalicelib.tenants.auth import StaffAuth
from chalicelib.tenants.config import TenantConfigs
from chalicelib.tenants.domain import ASSIGNABLE_ROLES, LoginAttempts
from chalicelib.tenants.ports import StaffLoad
from chalicelib.tenants.records import ApiKey, CannedReply, RefreshToken, Staff, Tenant
from chalicelib.tenants.sessions import RefreshTokens
from chalicelib.tenants.staff import StaffService
from tests.fakes.storage import InMemoryUnitOfWork, MemoryStore

Row = TypeVar("Row")


class InMemoryTenantRepository:
    """Tenants, staff, credentials and API keys in named collections of a :class:`MemoryStore`."""

    def __init__(self, store: MemoryStore, cursors: CursorCodec | None = None) -> None:
        self.store = store
        self.cursors = cursors or CursorCodec(b"fake-cursor-key-" * 2)
        self.slugs = store.table("tenant_slugs")              # slug → tenant id
        self.tenants = store.table("tenants")                 # tenant id → Tenant
        self.staff = store.table("staff")                     # (tenant, user id) → Staff
        self.emails = store.table("staff_emails")             # (tenant, e-mail) → user id
        self.refresh_tokens = store.table("refresh_tokens")   # (tenant, user id, token id) → RefreshToken
        self.throttles = store.table("login_throttles")       # (tenant, e-mail digest) → (LoginAttempts, expires)
        self.api_keys = store.table("api_keys")               # secret digest → ApiKey
        self.canned = store.table("canned_replies")           # (tenant, reply id) → CannedReply
        self.canned_counts = store.table("canned_reply_counts")  # tenant → how many

    # --- platform and sign-in lookups ------------------------------------------------------------------
    def tenant_id_for_slug(self, slug: str) -> str | None:
        return self.slugs.get(slug)

    def get_tenant(self, tenant_id: str, *, consistent: bool = False) -> Tenant | None:
        return copy.deepcopy(self.tenants.get(tenant_id))

    def find_staff_by_email(self, tenant_id: str, email: str) -> Staff | None:
        return next((s for (tenant, _), s in self.staff.items() if tenant == tenant_id and s.email == email), None)

    def get_refresh_token(self, tenant_id: str, subject_id: str, token_id: str) -> RefreshToken | None:
        return self.refresh_tokens.get((tenant_id, subject_id, token_id))

    def refresh_token_and_user(self, tenant_id: str, user_id: str, token_id: str
                               ) -> tuple[RefreshToken | None, Staff | None]:
        return self.refresh_tokens.get((tenant_id, user_id, token_id)), self.staff.get((tenant_id, user_id))

    def record_login_failure(self, staff: Staff, throttles: dict[str, list[Any]]) -> None:
        key = (staff.tenant_id, staff.user_id)
        stored = self.staff.get(key)
        if stored is not None:
            self.staff[key] = replace(stored, login_throttles=copy.deepcopy(throttles))

    def unknown_login_attempts(self, tenant_id: str, email_digest: str) -> LoginAttempts:
        found = self.throttles.get((tenant_id, email_digest))
        return found[0] if found else LoginAttempts()

    def save_unknown_login_attempts(self, tenant_id: str, email_digest: str, attempts: LoginAttempts, *,
                                    expires_at: int) -> None:
        self.throttles[(tenant_id, email_digest)] = (attempts, expires_at)

    def touch_api_key(self, secret_digest: str, now_text: str) -> ApiKey | None:
        key = self.api_keys.get(secret_digest)
        if key is None or key.revoked_at is not None:
            return None
        self.api_keys[secret_digest] = key = replace(key, last_used_at=now_text)
        return key

    # --- tenant-scoped reads --------------------------------------------------------------------------
    def get_staff(self, ctx: TenantContext, user_id: str, *, consistent: bool = False) -> Staff | None:
        return self.staff.get((ctx.tenant_id, user_id))

    def list_staff(self, ctx: TenantContext, limit: int, cursor: str | None, *,
                   role: str | None = None) -> tuple[list[Staff], str | None]:
        rows = sorted((f"USR#{user_id}", s) for (tenant, user_id), s in self.staff.items() if tenant == ctx.tenant_id)
        page, next_cursor = self._page(ctx, rows, limit, cursor)  # like a Query: read the page, then filter it
        return [s for s in page if role is None or s.role == role], next_cursor

    def active_staff(self, ctx: TenantContext) -> list[Staff]:
        return [s for _, s in sorted(self.staff.items()) if s.tenant_id == ctx.tenant_id and s.status == "active"]

    def api_keys_created_by(self, ctx: TenantContext, user_id: str) -> list[ApiKey]:
        return [k for k in self.api_keys.values()
                if k.tenant_id == ctx.tenant_id and k.created_by == user_id and k.revoked_at is None]

    def find_api_key(self, ctx: TenantContext, key_id: str) -> ApiKey | None:
        return next((k for k in self.api_keys.values() if k.tenant_id == ctx.tenant_id and k.key_id == key_id), None)

    def list_api_keys(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
        rows = sorted(((k.key_id, k) for k in self.api_keys.values() if k.tenant_id == ctx.tenant_id), reverse=True)
        return self._page(ctx, rows, limit, cursor, descending=True)

    def revoke_refresh_tokens(self, ctx: TenantContext, user_id: str, *, family_id: str | None = None) -> None:
        for key, token in list(self.refresh_tokens.items()):
            if key[:2] == (ctx.tenant_id, user_id) and family_id in (None, token.family_id):
                del self.refresh_tokens[key]

    # --- staged writes ---------------------------------------------------------------------------------
    def stage_new_tenant(self, uow: InMemoryUnitOfWork, ctx: TenantContext, tenant: Tenant, *,
                         on_slug_taken: LinliError) -> None:
        uow.stage(lambda: self.slugs.__setitem__(tenant.slug, ctx.tenant_id),
                  check=lambda: tenant.slug not in self.slugs, on_conflict=on_slug_taken)
        uow.stage(lambda: self.tenants.__setitem__(ctx.tenant_id, copy.deepcopy(tenant)),
                  check=lambda: ctx.tenant_id not in self.tenants)

    def stage_tenant_update(self, uow: InMemoryUnitOfWork, ctx: TenantContext, tenant: Tenant, *,
                            expected_version: int, on_conflict: LinliError) -> None:
        def apply() -> None:
            self.tenants[ctx.tenant_id] = replace(self.tenants[ctx.tenant_id], config=copy.deepcopy(tenant.config),
                                                  company_name=tenant.company_name, updated_at=tenant.updated_at,
                                                  version=tenant.version)

        uow.stage(apply, check=lambda: self._tenant_version(ctx) == expected_version, on_conflict=on_conflict)

    def stage_revocation(self, uow: InMemoryUnitOfWork, ctx: TenantContext, subject_id: str, revoked_ms: int, *,
                         forget: list[str]) -> None:
        def apply() -> None:
            tenant = self.tenants.get(ctx.tenant_id)
            if tenant is None:  # service tests of other contexts often run without a tenant record
                return
            revoked = {s: cut for s, cut in tenant.revoked.items() if s not in forget} | {subject_id: revoked_ms}
            self.tenants[ctx.tenant_id] = replace(tenant, revoked=revoked)

        uow.stage(apply, kind="update")

    def stage_actor_check(self, uow: InMemoryUnitOfWork, ctx: TenantContext, *, on_conflict: LinliError) -> None:
        def still_acting() -> bool:
            staff = self.staff.get((ctx.tenant_id, ctx.principal.id))
            role = ctx.principal.role.value if ctx.principal.role else None
            return staff is not None and staff.status == "active" and staff.role == role

        uow.check(still_acting, on_conflict=on_conflict)

    def stage_admin_added(self, uow: InMemoryUnitOfWork, ctx: TenantContext) -> None:
        uow.stage(lambda: self._add_admins(ctx, 1))

    def stage_admin_removed(self, uow: InMemoryUnitOfWork, ctx: TenantContext, *, on_conflict: LinliError) -> None:
        uow.stage(lambda: self._add_admins(ctx, -1), on_conflict=on_conflict,
                  check=lambda: ctx.tenant_id in self.tenants and self.tenants[ctx.tenant_id].admin_count > 1)

    def stage_new_staff(self, uow: InMemoryUnitOfWork, ctx: TenantContext, staff: Staff, *,
                        on_email_taken: LinliError) -> None:
        email_key, staff_key = (ctx.tenant_id, staff.email), (ctx.tenant_id, staff.user_id)
        uow.stage(lambda: self.emails.__setitem__(email_key, staff.user_id),
                  check=lambda: email_key not in self.emails, on_conflict=on_email_taken)
        uow.stage(lambda: self.staff.__setitem__(staff_key, staff), check=lambda: staff_key not in self.staff)

    def stage_staff_update(self, uow: InMemoryUnitOfWork, ctx: TenantContext, staff: Staff, *,
                           expected_version: int, on_conflict: LinliError) -> None:
        key = (ctx.tenant_id, staff.user_id)

        def apply() -> None:
            self.staff[key] = replace(self.staff[key], name=staff.name, role=staff.role, status=staff.status,
                                      updated_at=staff.updated_at, version=staff.version, on_duty=staff.on_duty,
                                      phone=staff.phone or None, password_hash=staff.password_hash)

        uow.stage(apply, check=lambda: self._staff_version(key) == expected_version, on_conflict=on_conflict)

    def stage_staff_delete(self, uow: InMemoryUnitOfWork, ctx: TenantContext, staff: Staff, *,
                           expected_version: int, on_conflict: LinliError) -> None:
        key = (ctx.tenant_id, staff.user_id)
        uow.stage(lambda: self.staff.pop(key, None), check=lambda: self._staff_version(key) == expected_version,
                  on_conflict=on_conflict)
        uow.stage(lambda: self.emails.pop((ctx.tenant_id, staff.email), None))

    def stage_sign_in(self, uow: InMemoryUnitOfWork, ctx: TenantContext, staff: Staff, signed_in_at: str, *,
                      login_throttles: dict[str, list[Any]] | None = None) -> None:
        key = (ctx.tenant_id, staff.user_id)
        uow.stage(lambda: self._replace_staff(key, login_throttles=copy.deepcopy(login_throttles) or None,
                                              last_login_at=signed_in_at))

    def stage_refresh_token(self, uow: InMemoryUnitOfWork, ctx: TenantContext, token: RefreshToken) -> None:
        uow.stage(lambda: self.refresh_tokens.__setitem__((ctx.tenant_id, token.user_id, token.token_id), token))

    def stage_refresh_token_used(self, uow: InMemoryUnitOfWork, ctx: TenantContext, token: RefreshToken,
                                 used_at: str, *, on_conflict: LinliError) -> None:
        key = (ctx.tenant_id, token.user_id, token.token_id)

        def apply() -> None:
            if key in self.refresh_tokens:
                self.refresh_tokens[key] = replace(self.refresh_tokens[key], used_at=used_at)

        uow.stage(apply, check=lambda: key not in self.refresh_tokens or self.refresh_tokens[key].used_at is None,
                  on_conflict=on_conflict)

    def stage_new_api_key(self, uow: InMemoryUnitOfWork, ctx: TenantContext, key: ApiKey) -> None:
        uow.stage(lambda: self.api_keys.__setitem__(key.secret_digest, key),
                  check=lambda: key.secret_digest not in self.api_keys)

    def stage_api_key_revoked(self, uow: InMemoryUnitOfWork, ctx: TenantContext, key: ApiKey, revoked_at: str) -> None:
        def apply() -> None:
            self.api_keys[key.secret_digest] = replace(self.api_keys[key.secret_digest], revoked_at=revoked_at)

        uow.stage(apply, check=lambda: key.secret_digest in self.api_keys
                  and self.api_keys[key.secret_digest].revoked_at is None)

    def stage_active_staff_check(self, uow: InMemoryUnitOfWork, ctx: TenantContext, user_id: str, *,
                                 on_conflict: LinliError) -> None:
        def can_take_work() -> bool:
            staff = self.staff.get((ctx.tenant_id, user_id))
            return staff is not None and staff.status == "active" and staff.role in ASSIGNABLE_ROLES

        uow.check(can_take_work, on_conflict=on_conflict)

    # --- canned replies -----------------------------------------------------------------------------------
    def canned_replies(self, ctx: TenantContext) -> list[CannedReply]:
        return [r for (tenant, _), r in sorted(self.canned.items()) if tenant == ctx.tenant_id]

    def get_canned_reply(self, ctx: TenantContext, reply_id: str, *,
                         consistent: bool = False) -> CannedReply | None:
        return self.canned.get((ctx.tenant_id, reply_id))

    def stage_new_canned_reply(self, uow: InMemoryUnitOfWork, ctx: TenantContext, reply: CannedReply, *, most: int,
                               on_full: LinliError) -> None:
        tenant = ctx.tenant_id
        uow.stage(lambda: self.canned_counts.__setitem__(tenant, self.canned_counts.get(tenant, 0) + 1),
                  kind="update", check=lambda: self.canned_counts.get(tenant, 0) < most, on_conflict=on_full)
        uow.stage(lambda: self.canned.__setitem__((tenant, reply.reply_id), reply),
                  check=lambda: (tenant, reply.reply_id) not in self.canned)

    def stage_canned_reply_update(self, uow: InMemoryUnitOfWork, ctx: TenantContext, reply: CannedReply, *,
                                  expected_version: int, on_conflict: LinliError) -> None:
        key = (ctx.tenant_id, reply.reply_id)
        uow.stage(lambda: self.canned.__setitem__(key, replace(self.canned[key], **{
            name: getattr(reply, name) for name in ("title", "body", "kind", "category", "sort_order", "updated_at",
                                                    "version")})), kind="update",
                  check=lambda: key in self.canned and self.canned[key].version == expected_version,
                  on_conflict=on_conflict)

    def stage_canned_reply_delete(self, uow: InMemoryUnitOfWork, ctx: TenantContext, reply: CannedReply, *,
                                  on_conflict: LinliError) -> None:
        key, tenant = (ctx.tenant_id, reply.reply_id), ctx.tenant_id
        uow.stage(lambda: self.canned.pop(key, None), kind="delete",
                  check=lambda: key in self.canned and self.canned[key].version == reply.version,
                  on_conflict=on_conflict)
        uow.stage(lambda: self.canned_counts.__setitem__(tenant, self.canned_counts.get(tenant, 0) - 1),
                  kind="update")

    # --- helpers ------------------------------------------------------------------------------------------
    def _page(self, ctx: TenantContext, rows: Iterable[tuple[str, Row]], limit: int, cursor: str | None, *,
              descending: bool = False) -> tuple[list[Row], str | None]:
        """What a DynamoDB Query with ``Limit`` gives: a cursor whenever ``limit`` rows were read."""
        after = (self.cursors.decode(ctx.tenant_id, cursor) or {}).get("after", {}).get("S")  # a key's shape
        if after is not None:
            rows = [(k, r) for k, r in rows if (k < after if descending else k > after)]
        read = list(rows)[:limit]
        next_cursor = self.cursors.encode(ctx.tenant_id, {"after": {"S": read[-1][0]}}) if len(read) == limit else None
        return [r for _, r in read], next_cursor

    def _tenant_version(self, ctx: TenantContext) -> int | None:
        tenant = self.tenants.get(ctx.tenant_id)
        return tenant.version if tenant else None

    def _staff_version(self, key: tuple[str, str]) -> int | None:
        staff = self.staff.get(key)
        return staff.version if staff else None

    def _add_admins(self, ctx: TenantContext, delta: int) -> None:
        tenant = self.tenants.get(ctx.tenant_id)
        if tenant is not None:
            self.tenants[ctx.tenant_id] = replace(tenant, admin_count=tenant.admin_count + delta)

    def _replace_staff(self, key: tuple[str, str], **changes: object) -> None:
        if key in self.staff:
            self.staff[key] = replace(self.staff[key], **changes)


class PlainPasswords:
    """``tenants.passwords.Passwords`` without argon2's deliberate slowness (service tests stay in milliseconds)."""

    def hash(self, password: str) -> str:
        return f"plain${password}"

    def verify(self, password_hash: str | None, password: str) -> bool:
        return password_hash == f"plain${password}"


@dataclass
class TenantServices:
    """The tenant context's services wired on one in-memory store, as bootstrap wires them on DynamoDB."""

    store: MemoryStore
    repo: InMemoryTenantRepository
    configs: TenantConfigs
    api_keys: ApiKeyService
    auth: StaffAuth
    staff: StaffService
    codec: TokenCodec
    clock: list[datetime] = field(default_factory=list)


def tenant_services(store: MemoryStore | None = None, *, settings: Settings | None = None,
                    now: datetime | None = None, load: StaffLoad | None = None) -> TenantServices:
    """Build every tenant service on fakes; ``clock[0]`` is "now" for the API-key stamps and token checks; ``load``
    answers the staff directory's open loads (the tickets' counters, e.g. ``InMemoryTicketRepository``)."""
    store = store or MemoryStore()
    settings = settings or Settings()
    repo = InMemoryTenantRepository(store)
    clock = [now or datetime(2026, 11, 27, 8, 0, tzinfo=UTC)]
    codec = TokenCodec({"test": "k" * 48}, "test", settings.access_token_ttl_seconds, clock=lambda: clock[0])
    configs = TenantConfigs(repo, store.unit_of_work, cache_seconds=settings.config_cache_seconds)
    api_keys = ApiKeyService(repo, store.unit_of_work, cache_seconds=settings.api_key_cache_seconds,
                             clock=lambda: clock[0])
    access = TenantAccess(repo, configs, longest_token_seconds=max(settings.access_token_ttl_seconds,
                                                                   settings.resident_token_ttl_seconds))
    sessions = RefreshTokens(repo, store.unit_of_work, ttl_seconds=settings.refresh_token_ttl_seconds)
    auth = StaffAuth(repo, configs, api_keys, codec, store.unit_of_work, settings, PlainPasswords(), access, sessions)
    staff = StaffService(repo, store.unit_of_work, PlainPasswords(), access, api_keys, load)
    return TenantServices(store, repo, configs, api_keys, auth, staff, codec, clock)


def access_and_sessions(store: MemoryStore, settings: Settings | None = None) -> tuple[TenantAccess, RefreshTokens]:
    """The tenants context's access control and refresh tokens on ``store``, for other contexts' service tests."""
    settings = settings or Settings()
    repo = InMemoryTenantRepository(store)
    configs = TenantConfigs(repo, store.unit_of_work, cache_seconds=settings.config_cache_seconds)
    access = TenantAccess(repo, configs, longest_token_seconds=max(settings.access_token_ttl_seconds,
                                                                   settings.resident_token_ttl_seconds))
    return access, RefreshTokens(repo, store.unit_of_work, ttl_seconds=settings.refresh_token_ttl_seconds)
