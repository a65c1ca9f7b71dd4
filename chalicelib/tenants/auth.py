"""Staff credentials: signup, sign-in with lock-out, rotating refresh tokens, sign-out, and bearer → TenantContext."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core.auth import API_KEY_PREFIX, TokenCodec, digest
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, InvalidCredentialsError, RateLimitedError, UnauthenticatedError
from chalicelib.core.ids import new_id
from chalicelib.core.observability import logger
from chalicelib.core.permissions import Role, permissions_for
from chalicelib.core.settings import Settings
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.core.uow import UnitOfWork, UnitOfWorkFactory
from chalicelib.tenants.access import TenantAccess
from chalicelib.tenants.api_keys import ApiKeyService
from chalicelib.tenants.config import TenantConfigs
from chalicelib.tenants.domain import (
    Branding,
    LoginAttempts,
    TenantConfig,
    check_password,
    normalise_email,
    normalise_slug,
    throttles_after,
)
from chalicelib.tenants.passwords import Passwords
from chalicelib.tenants.ports import TenantStore
from chalicelib.tenants.records import Staff, Tenant, new_staff
from chalicelib.tenants.schemas import LoginIn, SignupIn, SignupOut, TokensOut
from chalicelib.tenants.sessions import PresentedRefresh, RefreshTokens, invalid_refresh
from chalicelib.tenants.staff import stage_new_member
from chalicelib.tenants.views import staff_out, tenant_out

LOGIN_BACKOFF_BASE_SECONDS = 60  # the first lock; each further failure doubles it, up to login_lock_seconds


def login_source_key(source_ip: str) -> str:
    """The key of a sign-in source: a short digest of the address (raw addresses are not stored).

    Example
    -------
    >>> login_source_key("203.0.113.7") == login_source_key("203.0.113.7") != login_source_key("-")
    True
    """
    return digest(f"login-source:{source_ip}")[:16]


def staff_context(tenant_id: str, user_id: str, role: str | None) -> TenantContext:
    """The context of a staff member whose credential was just verified (no permissions without a known role).

    Example
    -------
    >>> staff_context("tnt_1", "usr_1", "agent").actor
    {'type': 'staff', 'id': 'usr_1', 'role': 'agent'}
    """
    if role not in Role._value2member_map_:
        return TenantContext(tenant_id, Principal("staff", user_id))
    known = Role(role)
    return TenantContext(tenant_id, Principal("staff", user_id, known, permissions_for(known)))


class StaffAuth:
    """Owns staff credentials: signup (a tenant with its first admin), sign-in with lock-out (unknown
    accounts throttled alike), rotating refresh tokens with reuse detection, sign-out, and turning a
    bearer credential — staff or resident JWT, or an API key — into the request's TenantContext.
    """

    def __init__(self, store: TenantStore, configs: TenantConfigs, api_keys: ApiKeyService, codec: TokenCodec,
                 new_uow: UnitOfWorkFactory, settings: Settings, passwords: Passwords, access: TenantAccess,
                 sessions: RefreshTokens) -> None:
        self._store = store
        self._access = access
        self._sessions = sessions
        self._passwords = passwords
        self._configs = configs
        self._api_keys = api_keys
        self._codec = codec
        self._new_uow = new_uow
        self._settings = settings

    def signup(self, cmd: SignupIn, now: datetime) -> SignupOut:
        """Create the tenant, its slug claim and its first admin, signed in: one transaction."""
        slug = normalise_slug(cmd.slug)
        check_password(cmd.admin_password, email=cmd.admin_email, company=cmd.company_name, field="admin_password")
        tenant_id, stamp = new_id("tnt"), to_rfc3339(now)
        config = TenantConfig(branding=Branding(display_name=cmd.company_name))
        tenant = Tenant(tenant_id=tenant_id, slug=slug, company_name=cmd.company_name,
                        config=config.model_dump(mode="json"), admin_count=1, created_at=stamp, updated_at=stamp)
        admin = new_staff(tenant_id, new_id("usr"), email=cmd.admin_email,
                          name=cmd.admin_name or cmd.admin_email.split("@")[0], role=Role.ADMIN,
                          password_hash=self._passwords.hash(cmd.admin_password), phone=None, on_duty=None, stamp=stamp)
        ctx = TenantContext(tenant_id, Principal("system", "signup"))
        uow = self._new_uow(tenant_id, ctx.actor, now)
        self._store.stage_new_tenant(uow, ctx, tenant, on_slug_taken=ConflictError(
            "This slug is already taken.", code="slug_taken"))
        stage_new_member(self._store, uow, ctx, admin)
        tokens = self._issue_tokens(uow, ctx, admin, now)
        uow.record("tenant.created", subject=("tenant", tenant_id), subject_version=1,
                   data={"slug": slug, "company_name": cmd.company_name})
        uow.commit()
        return SignupOut(tenant=tenant_out(tenant), user=staff_out(admin), access_token=tokens.access_token,
                         refresh_token=tokens.refresh_token, expires_in=tokens.expires_in)

    def login(self, cmd: LoginIn, now: datetime, source_ip: str = "-") -> TokensOut:
        """Sign in by slug, e-mail and password; wrong password, unknown e-mail and unknown slug look alike.

        Failures lock by (account, source) with back-off: a flood from one address cannot keep the member
        out from another. A successful sign-in costs two round trips (the lookup and the commit)."""
        source = login_source_key(source_ip)
        tenant_id = self._configs.resolve_slug(cmd.tenant_slug)
        try:
            email = normalise_email(cmd.email)
        except ValueError:
            email = cmd.email.strip().lower()
        user = self._store.find_staff_by_email(tenant_id, email) if tenant_id else None
        logger.info("login attempt", extra={"email": email, "known_account": user is not None})
        if user is None:
            self._passwords.verify(None, cmd.password)
            self._fail_unknown(tenant_id or "-", email, source, now)
            raise InvalidCredentialsError()
        attempts = user.login_attempts(source)
        self._raise_if_locked(attempts, now)
        if not self._passwords.verify(user.password_hash, cmd.password) or user.status != "active":
            after = self._after_failure(attempts, now)
            self._store.record_login_failure(user, throttles_after(
                user.login_throttles, source, after, now, max_seconds=self._settings.login_lock_seconds))
            self._raise_if_locked(after, now)
            raise InvalidCredentialsError()
        ctx = staff_context(user.tenant_id, user.user_id, user.role)
        uow = self._new_uow(user.tenant_id, ctx.actor, now)
        self._store.stage_sign_in(uow, ctx, user, to_rfc3339(now), login_throttles=throttles_after(
            user.login_throttles, source, None, now, max_seconds=self._settings.login_lock_seconds))
        tokens = self._issue_tokens(uow, ctx, user, now)
        uow.commit()
        return tokens

    def refresh(self, refresh_token: str, now: datetime) -> TokensOut:
        """Rotate: the presented token is spent and a new one of the same family issued. A spent token
        presented again revokes its whole family (it was stolen, or the legitimate holder's copy was)."""
        presented = PresentedRefresh.parse(refresh_token)
        token, user = self._store.refresh_token_and_user(presented.tenant_id, presented.subject_id,
                                                         presented.token_id)
        ctx = staff_context(presented.tenant_id, presented.subject_id, user.role if user else None)
        uow = self._new_uow(presented.tenant_id, ctx.actor, now)
        spent = self._sessions.stage_spend(uow, ctx, presented, token, now)
        if user is None or user.status != "active":
            raise invalid_refresh()
        tokens = self._issue_tokens(uow, ctx, user, now, family_id=spent.family_id)
        uow.commit()
        return tokens

    def logout(self, refresh_token: str) -> None:
        """Revoke the presented token's family (silently nothing when the token is not valid)."""
        self._sessions.end(refresh_token)

    def authenticate(self, token: str, request_id: str) -> TenantContext:
        """Turn a bearer credential into a TenantContext: the only source of the tenant id."""
        if token.startswith(API_KEY_PREFIX):
            return self._api_keys.authenticate(token, request_id)
        claims = self._codec.verify(token)
        if claims.kind not in ("resident", "staff"):
            raise UnauthenticatedError()
        self._access.check_token(claims.tenant_id, claims.subject, claims.issued_ms)
        if claims.kind == "resident":
            return TenantContext(claims.tenant_id, Principal("resident", claims.subject, units=claims.units,
                                                             name=claims.name, phone_hint=claims.phone_hint),
                                 request_id)
        if claims.role not in Role._value2member_map_:
            raise UnauthenticatedError()
        role = Role(claims.role)
        return TenantContext(claims.tenant_id, Principal("staff", claims.subject, role, permissions_for(role)),
                             request_id)

    def _issue_tokens(self, uow: UnitOfWork, ctx: TenantContext, user: Staff, now: datetime,
                      family_id: str | None = None) -> TokensOut:
        refresh = self._sessions.stage_issue(uow, ctx, user.user_id, now, family_id=family_id)
        access = self._codec.issue(tenant_id=user.tenant_id, subject=user.user_id, kind="staff", role=user.role,
                                   now=now)
        return TokensOut(access_token=access, refresh_token=refresh, expires_in=self._codec.ttl_seconds)

    @staticmethod
    def _raise_if_locked(attempts: LoginAttempts, now: datetime) -> None:
        seconds = attempts.locked_for(now)
        if seconds:
            raise RateLimitedError("Too many failed sign-ins; try again later.", code="too_many_attempts",
                                   retry_after=seconds)

    def _after_failure(self, attempts: LoginAttempts, now: datetime) -> LoginAttempts:
        return attempts.after_failure_backing_off(now, max_failures=self._settings.login_max_failures,
                                                  base_seconds=LOGIN_BACKOFF_BASE_SECONDS,
                                                  max_seconds=self._settings.login_lock_seconds)

    def _fail_unknown(self, tenant_id: str, email: str, source: str, now: datetime) -> None:
        """Unknown accounts are throttled like known ones — by (e-mail digest, source), with the same
        back-off — so a lock-out reveals nothing."""
        email_digest = digest(f"{email}|{source}")
        attempts = self._store.unknown_login_attempts(tenant_id, email_digest)
        self._raise_if_locked(attempts, now)
        after = self._after_failure(attempts, now)
        expires_at = int((now + timedelta(seconds=2 * self._settings.login_lock_seconds)).timestamp())
        self._store.save_unknown_login_attempts(tenant_id, email_digest, after, expires_at=expires_at)
        self._raise_if_locked(after, now)
