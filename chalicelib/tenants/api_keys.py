"""API keys of integrations: created (secret shown once), listed, revoked, and resolved per request."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from chalicelib.core.auth import API_KEY_PREFIX, digest, new_secret
from chalicelib.core.cache import TTLCache
from chalicelib.core.clock import to_rfc3339, utcnow
from chalicelib.core.errors import NotFoundError, UnauthenticatedError, ValidationFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import API_KEY_SCOPES, Permission
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.core.uow import UnitOfWork, UnitOfWorkFactory
from chalicelib.tenants.access import stage_actor_check
from chalicelib.tenants.ports import TenantStore
from chalicelib.tenants.records import ApiKey
from chalicelib.tenants.schemas import ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut
from chalicelib.tenants.views import api_key_out


class ApiKeyService:
    """Owns integrations' API keys: creation (the secret shown once, only its SHA-256 digest kept),
    listing, revocation, and resolving a presented key to its TenantContext — cached per container for
    ``cache_seconds`` (a revocation is effective everywhere within that time, at once in this container).
    """

    def __init__(self, store: TenantStore, new_uow: UnitOfWorkFactory, *, cache_seconds: float,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._new_uow = new_uow
        self._clock = clock
        self._contexts: TTLCache[TenantContext] = TTLCache(cache_seconds)

    def create_api_key(self, ctx: TenantContext, cmd: ApiKeyIn, now: datetime) -> ApiKeyCreatedOut:
        not_allowed = sorted(s.value for s in cmd.scopes if s not in API_KEY_SCOPES)
        if not_allowed:
            raise ValidationFailedError(details=[{"field": "scopes", "type": "scope_not_allowed",
                                                  "message": f"API keys cannot hold: {', '.join(not_allowed)}"}])
        if cmd.acts_for:
            member = self._store.get_staff(ctx, cmd.acts_for, consistent=True)
            if member is None or member.status != "active":
                raise ValidationFailedError(details=[{"field": "acts_for", "type": "unknown_staff",
                                                      "message": "No active staff member with this id."}])
        secret = new_secret(API_KEY_PREFIX)
        key = ApiKey(tenant_id=ctx.tenant_id, key_id=new_id("key"), secret_digest=digest(secret), name=cmd.name,
                     scopes=tuple(sorted({s.value for s in cmd.scopes})),
                     hint=secret[: len(API_KEY_PREFIX) + 4] + "…", created_by=ctx.principal.id,
                     created_at=to_rfc3339(now), acts_for=cmd.acts_for)
        uow = self._new_uow(ctx.tenant_id, ctx.actor, now)
        stage_actor_check(self._store, uow, ctx)
        self._store.stage_new_api_key(uow, ctx, key)
        uow.record("api_key.created", subject=("api_key", key.key_id),
                   data={"name": key.name, "scopes": list(key.scopes),
                         **({"acts_for": key.acts_for} if key.acts_for else {})})
        uow.commit()
        return ApiKeyCreatedOut(**api_key_out(key).model_dump(), key=secret)

    def list_api_keys(self, ctx: TenantContext, limit: int, cursor: str | None
                      ) -> tuple[list[ApiKeyOut], str | None]:
        found, next_cursor = self._store.list_api_keys(ctx, limit, cursor)
        return [api_key_out(k) for k in found], next_cursor

    def revoke_api_key(self, ctx: TenantContext, key_id: str, now: datetime) -> ApiKeyOut:
        key = self._store.find_api_key(ctx, key_id)
        if key is None:
            raise NotFoundError()
        if key.revoked_at is None:
            uow = self._new_uow(ctx.tenant_id, ctx.actor, now)
            stage_actor_check(self._store, uow, ctx)
            self._store.stage_api_key_revoked(uow, ctx, key, to_rfc3339(now))
            uow.record("api_key.revoked", subject=("api_key", key_id))
            uow.commit()
            key = replace(key, revoked_at=to_rfc3339(now))
        self._contexts.invalidate(key.secret_digest)
        return api_key_out(key)

    def stage_revoked_with_creator(self, uow: UnitOfWork, ctx: TenantContext, user_id: str, now: datetime
                                   ) -> list[str]:
        """Stage the revocation of the live keys ``user_id`` created (their creator leaves); returns their
        digests, for :meth:`forget` once committed."""
        keys = self._store.api_keys_created_by(ctx, user_id)
        for key in keys:
            self._store.stage_api_key_revoked(uow, ctx, key, to_rfc3339(now))
            uow.record("api_key.revoked", subject=("api_key", key.key_id), data={"reason": "creator_removed"})
        return [key.secret_digest for key in keys]

    def forget(self, secret_digests: list[str]) -> None:
        """Drop revoked keys from this container's cache (other containers: within ``cache_seconds``)."""
        for secret_digest in secret_digests:
            self._contexts.invalidate(secret_digest)

    def authenticate(self, secret: str, request_id: str) -> TenantContext:
        """The TenantContext of a presented key (its scopes as permissions); its last use is stamped."""
        secret_digest = digest(secret)
        cached = self._contexts.get(secret_digest)
        if cached is None:
            key = self._store.touch_api_key(secret_digest, to_rfc3339(self._clock()))
            if key is None:
                raise UnauthenticatedError()
            permissions = frozenset(Permission(s) for s in key.scopes if s in Permission._value2member_map_)
            cached = TenantContext(key.tenant_id, Principal("api_key", key.key_id, None, permissions,
                                                            acts_for=key.acts_for), "-")
            self._contexts.put(secret_digest, cached)
        return TenantContext(cached.tenant_id, cached.principal, request_id)
