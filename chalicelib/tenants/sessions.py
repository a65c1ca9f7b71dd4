"""Rotating refresh tokens, for staff and residents alike.

A refresh token is ``rt_<tenant>.<subject>.<token id>.<secret>``; only the secret's SHA-256 digest is
stored. Presenting one spends it and issues the next of the same family; presenting a spent one revokes
the whole family (it was stolen, or the legitimate holder's copy was).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.core.auth import constant_time_equal, digest, new_secret
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import UnauthenticatedError
from chalicelib.core.ids import new_id
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.core.uow import UnitOfWork, UnitOfWorkFactory
from chalicelib.tenants.ports import TenantStore
from chalicelib.tenants.records import RefreshToken

REFRESH_PREFIX = "rt_"


def invalid_refresh() -> UnauthenticatedError:
    return UnauthenticatedError("The refresh token is not valid.", code="invalid_refresh_token")


def reused_refresh() -> UnauthenticatedError:
    return UnauthenticatedError("The refresh token was already used; sign in again.", code="refresh_token_reused")


@dataclass(frozen=True)
class PresentedRefresh:
    """A refresh token as presented, split into the ids it names and its secret."""

    tenant_id: str
    subject_id: str
    token_id: str
    secret: str

    @classmethod
    def parse(cls, token: str) -> PresentedRefresh:
        """Example
        -------
        >>> PresentedRefresh.parse("rt_tnt_1.res_1.rtk_1.s3cret").subject_id
        'res_1'
        """
        parts = token.removeprefix(REFRESH_PREFIX).split(".") if token.startswith(REFRESH_PREFIX) else []
        if len(parts) != 4 or not all(parts):
            raise invalid_refresh()
        return cls(*parts)

    def matches(self, stored: RefreshToken | None) -> bool:
        return stored is not None and constant_time_equal(stored.token_digest, digest(self.secret))


class RefreshTokens:
    """Owns refresh tokens: issuing one with a sign-in, spending one for the next (reuse revokes the family),
    ending a family (sign-out) or all of a subject's (their access ended)."""

    def __init__(self, store: TenantStore, new_uow: UnitOfWorkFactory, *, ttl_seconds: int) -> None:
        self._store = store
        self._new_uow = new_uow
        self.ttl_seconds = ttl_seconds

    def stage_issue(self, uow: UnitOfWork, ctx: TenantContext, subject_id: str, now: datetime,
                    family_id: str | None = None) -> str:
        """Stage a new token for ``subject_id`` (a new family unless ``family_id``); returns it, valid once
        ``uow`` commits."""
        token_id, secret = new_id("rtk"), new_secret()
        expires = now + timedelta(seconds=self.ttl_seconds)
        self._store.stage_refresh_token(uow, ctx, RefreshToken(
            tenant_id=ctx.tenant_id, user_id=subject_id, token_id=token_id, token_digest=digest(secret),
            family_id=family_id or token_id, created_at=to_rfc3339(now), expires_at=int(expires.timestamp())))
        return f"{REFRESH_PREFIX}{ctx.tenant_id}.{subject_id}.{token_id}.{secret}"

    def stage_spend(self, uow: UnitOfWork, ctx: TenantContext, presented: PresentedRefresh,
                    stored: RefreshToken | None, now: datetime) -> RefreshToken:
        """Check a presented token against what is stored and stage it spent (a spent one revokes its family)."""
        if stored is None or not presented.matches(stored):
            raise invalid_refresh()
        if stored.used_at is not None:
            self._store.revoke_refresh_tokens(ctx, presented.subject_id, family_id=stored.family_id)
            raise reused_refresh()
        if (stored.expires_at or 0) <= now.timestamp():
            raise invalid_refresh()
        self._store.stage_refresh_token_used(uow, ctx, stored, to_rfc3339(now), on_conflict=reused_refresh())
        return stored

    def rotate(self, refresh_token: str, now: datetime, *, tenant_id: str,
               holder: Callable[[str], TenantContext | None]) -> tuple[TenantContext, str]:
        """Spend ``refresh_token`` (which must be ``tenant_id``'s) for the next of its family. ``holder`` gives
        the subject's context, or ``None`` when they may no longer sign in. Three round trips."""
        presented = PresentedRefresh.parse(refresh_token)
        if presented.tenant_id != tenant_id:
            raise invalid_refresh()
        stored = self._store.get_refresh_token(tenant_id, presented.subject_id, presented.token_id)
        ctx = holder(presented.subject_id)
        if ctx is None:
            raise invalid_refresh()
        uow = self._new_uow(tenant_id, ctx.actor, now)
        spent = self.stage_spend(uow, ctx, presented, stored, now)
        token = self.stage_issue(uow, ctx, presented.subject_id, now, family_id=spent.family_id)
        uow.commit()
        return ctx, token

    def end(self, refresh_token: str, *, tenant_id: str | None = None) -> None:
        """Sign-out: revoke the presented token's family (silently nothing when it is not valid)."""
        presented = PresentedRefresh.parse(refresh_token)
        if tenant_id is not None and presented.tenant_id != tenant_id:
            return
        stored = self._store.get_refresh_token(presented.tenant_id, presented.subject_id, presented.token_id)
        if presented.matches(stored):
            holder = TenantContext(presented.tenant_id, Principal("system", "sign-out"))
            self._store.revoke_refresh_tokens(holder, presented.subject_id, family_id=stored.family_id)  # type: ignore[union-attr]

    def end_all(self, ctx: TenantContext, subject_id: str) -> None:
        """Delete every refresh token of ``subject_id`` (their access was ended)."""
        self._store.revoke_refresh_tokens(ctx, subject_id)
