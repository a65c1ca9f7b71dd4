"""The tenant as the rest of the app reads it: configuration (cached per container), profile, slug, branding."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pydantic import ValidationError

from chalicelib.core.cache import TTLCache
from chalicelib.core.changes import field_changes
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import NotFoundError, PreconditionFailedError, ValidationFailedError
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.notifications.rules import SAVING
from chalicelib.tenants.access import stage_actor_check
from chalicelib.tenants.domain import SLUG_RE, TenantConfig, merge_patch
from chalicelib.tenants.ports import TenantStore
from chalicelib.tenants.records import Tenant
from chalicelib.tenants.schemas import PublicBrandingOut, TenantOut, TenantPatch
from chalicelib.tenants.views import public_branding_out, tenant_out


class TenantConfigs:
    """Owns the tenant record: the configuration every request reads (cached per container for
    ``cache_seconds``, at most 60 s), the profile and its merge-patch update, slug → tenant, and the
    public branding of the resident page.

    Example
    -------
    ::

        configs = TenantConfigs(repository, UnitOfWork, cache_seconds=60)
        configs.config(tenant_id).timezone          # 'Asia/Shanghai': one GetItem, then cached
        configs.tenant_id_for_slug("green-garden")  # NotFoundError when unknown or inactive
    """

    def __init__(self, store: TenantStore, new_uow: UnitOfWorkFactory, *, cache_seconds: float) -> None:
        self._store = store
        self._new_uow = new_uow
        # a busy container reloads a tenant beside a request in the last quarter of its life, not on the path
        self._tenants: TTLCache[Tenant] = TTLCache(cache_seconds, refresh_ahead_seconds=cache_seconds / 4)
        self._slugs: TTLCache[str] = TTLCache(cache_seconds, refresh_ahead_seconds=cache_seconds / 4)
        self._validated: dict[str, tuple[Tenant, TenantConfig]] = {}  # tenant → (record, its config parsed)

    def config(self, tenant_id: str) -> TenantConfig:
        """The tenant's configuration, cached per container (≤ 60 s), parsed once per record read."""
        tenant = self._tenant_or_404(tenant_id)
        parsed = self._validated.get(tenant_id)
        if parsed is None or parsed[0] is not tenant:
            if len(self._validated) >= 10_000:
                self._validated.clear()
            parsed = (tenant, TenantConfig.model_validate(tenant.config))
            self._validated[tenant_id] = parsed
        return parsed[1]

    def get_tenant(self, ctx: TenantContext) -> TenantOut:
        return tenant_out(self._tenant_or_404(ctx.tenant_id))

    def update_tenant(self, ctx: TenantContext, patch: TenantPatch, if_match: int | None,
                      now: datetime) -> TenantOut:
        """Apply a JSON merge patch to the profile and configuration (``If-Match`` honoured, audited)."""
        tenant = self._store.get_tenant(ctx.tenant_id, consistent=True)
        if tenant is None:
            raise NotFoundError()
        if if_match is not None and if_match != tenant.version:
            raise PreconditionFailedError()
        changes_in = patch.model_dump(mode="json", exclude_unset=True)
        company_name = changes_in.pop("company_name", None) or tenant.company_name
        merged = merge_patch(tenant.config, changes_in)
        try:
            config = TenantConfig.model_validate(merged, context=SAVING).model_dump(mode="json")  # templates checked
        except ValidationError as exc:
            raise ValidationFailedError(details=[{"field": ".".join(str(p) for p in e["loc"]), "type": e["type"],
                                                  "message": e["msg"]} for e in exc.errors(include_url=False)]) from exc
        changes = field_changes({"company_name": tenant.company_name, **tenant.config},
                                 {"company_name": company_name, **config})
        if not changes:
            return tenant_out(tenant)
        updated = replace(tenant, config=config, company_name=company_name, updated_at=to_rfc3339(now),
                          version=tenant.version + 1)
        uow = self._new_uow(ctx.tenant_id, ctx.actor, now)
        stage_actor_check(self._store, uow, ctx)
        self._store.stage_tenant_update(uow, ctx, updated, expected_version=tenant.version,
                                        on_conflict=PreconditionFailedError())
        uow.record("tenant.updated", subject=("tenant", ctx.tenant_id), subject_version=updated.version,
                   changes=changes)
        uow.commit()
        self._tenants.put(ctx.tenant_id, updated)
        return tenant_out(updated)

    def tenant_id_for_slug(self, slug: str) -> str:
        """The active tenant a public slug names (404 ``NotFoundError`` when unknown or inactive)."""
        return self._active_by_slug(slug).tenant_id

    def public_branding(self, slug: str) -> PublicBrandingOut:
        return public_branding_out(self._active_by_slug(slug))

    def cached_plan(self, tenant_id: str) -> str | None:
        """The tenant's plan (``tenants.plans``) if its record is cached in this container, else ``None``: never
        loads, as the request limiter asks on every request and may cost no round trip."""
        tenant = self._tenants.get(tenant_id)
        return tenant.plan if tenant is not None else None

    def resolve_slug(self, slug: str) -> str | None:
        """The tenant id a slug names, or ``None`` (malformed or unknown): sign-in must not tell them apart."""
        value = slug.strip().lower()
        if not SLUG_RE.match(value):
            return None
        return self._slugs.get_or_load(value, lambda: self._store.tenant_id_for_slug(value))

    def revocations(self, tenant_id: str) -> dict[str, int]:
        """Whose tokens were cut off, and when (``tenants.access``): from the cached tenant, no round trip."""
        tenant = self._tenant(tenant_id)
        return tenant.revoked if tenant else {}

    def forget(self, tenant_id: str) -> None:
        """Drop one cached tenant (its next read goes to the store)."""
        self._tenants.invalidate(tenant_id)

    def clear_cache(self) -> None:
        """Forget every cached tenant and slug (tests and benchmarks measure the cold path)."""
        self._tenants.clear()
        self._slugs.clear()
        self._validated.clear()

    def _tenant(self, tenant_id: str) -> Tenant | None:
        return self._tenants.get_or_load(tenant_id, lambda: self._store.get_tenant(tenant_id))

    def _tenant_or_404(self, tenant_id: str) -> Tenant:
        tenant = self._tenant(tenant_id)
        if tenant is None:
            raise NotFoundError()
        return tenant

    def _active_by_slug(self, slug: str) -> Tenant:
        tenant_id = self.resolve_slug(slug)
        tenant = self._tenant(tenant_id) if tenant_id else None
        if tenant is None or tenant.status != "active":
            raise NotFoundError()
        return tenant
