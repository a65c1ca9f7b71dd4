"""Staff credentials: signup, sign-in with lock-out, rotating refresh tokens, sign-out, and bearer → TenantContext."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core.auth import API_KEY_PREFIX, TokenCodec, constant_time_equal, digest, new_secret
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, InvalidCredentialsError, RateLimitedError, UnauthenticatedError
from chalicelib.core.ids import new_id
from chalicelib.core.observability import logger
from chalicelib.core.permissions import Role, permissions_for
from chalicelib.core.settings import Settings
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.core.uow import UnitOfWork, UnitOfWorkFactory
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
from chalicelib.tenants.records import RefreshToken, Staff, Tenant, new_staff
from chalicelib.tenants.schemas import LoginIn, SignupIn, SignupOut, TokensOut
from chalicelib.tenants.staff import stage_new_member
from chalicelib.tenants.views import staff_out, tenant_out

REFRESH_PREFIX = "rt_"
LOGIN_BACKOFF_BASE_SECONDS = 60  # the first lock; each further failure doubles it, up to login_lock_seconds


def login_source_key(source_ip: str) -> str:
    """The key of a sign-in source: a short digest of the address (raw addresses are not stored).

    Example
    -------
    >>> login_source_key("203.0.113.7") == login_source_key("203.0.113.7") != login_source_key("-")
    True
    """
    return digest(f"login-source:{source_ip}")[:16]


def _invalid_refresh() -> UnauthenticatedError:
    return UnauthenticatedError("The refresh token is not valid.", code="invalid_refresh_token")


def _reused_refresh() -> UnauthenticatedError:
    return UnauthenticatedError("The refresh token was already used; sign in again.", code="refresh_token_reused")


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
                 new_uow: UnitOfWorkFactory, settings: Settings, passwords: Passwords) -> None:
        self._store = store
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
        tenant_id, user_id, token_id, secret = self._parse_refresh(refresh_token)
        token, user = self._store.refresh_token_and_user(tenant_id, user_id, token_id)
        if token is None or not constant_time_equal(token.token_digest, digest(secret)):
            raise _invalid_refresh()
        if token.used_at is not None:
            holder = staff_context(tenant_id, user_id, user.role if user else None)
            self._store.revoke_refresh_tokens(holder, user_id, family_id=token.family_id)
            raise _reused_refresh()
        if (token.expires_at or 0) <= now.timestamp() or user is None or user.status != "active":
            raise _invalid_refresh()
        ctx = staff_context(tenant_id, user_id, user.role)
        uow = self._new_uow(tenant_id, ctx.actor, now)
        self._store.stage_refresh_token_used(uow, ctx, token, to_rfc3339(now), on_conflict=_reused_refresh())
        tokens = self._issue_tokens(uow, ctx, user, now, family_id=token.family_id)
        uow.commit()
        return tokens

    def logout(self, refresh_token: str) -> None:
        """Revoke the presented token's family (silently nothing when the token is not valid)."""
        tenant_id, user_id, token_id, secret = self._parse_refresh(refresh_token)
        token, user = self._store.refresh_token_and_user(tenant_id, user_id, token_id)
        if token is not None and constant_time_equal(token.token_digest, digest(secret)):
            holder = staff_context(tenant_id, user_id, user.role if user else None)
            self._store.revoke_refresh_tokens(holder, user_id, family_id=token.family_id)

    def authenticate(self, token: str, request_id: str) -> TenantContext:
        """Turn a bearer credential into a TenantContext: the only source of the tenant id."""
        if token.startswith(API_KEY_PREFIX):
            return self._api_keys.authenticate(token, request_id)
        claims = self._codec.verify(token)
        if claims.kind == "resident":
            return TenantContext(claims.tenant_id, Principal("resident", claims.subject, units=claims.units),
                                 request_id)
        if claims.kind != "staff" or claims.role not in Role._value2member_map_:
            raise UnauthenticatedError()
        role = Role(claims.role)
        return TenantContext(claims.tenant_id, Principal("staff", claims.subject, role, permissions_for(role)),
                             request_id)

    def _issue_tokens(self, uow: UnitOfWork, ctx: TenantContext, user: Staff, now: datetime,
                      family_id: str | None = None) -> TokensOut:
        token_id, secret = new_id("rtk"), new_secret()
        expires = now + timedelta(seconds=self._settings.refresh_token_ttl_seconds)
        self._store.stage_refresh_token(uow, ctx, RefreshToken(
            tenant_id=user.tenant_id, user_id=user.user_id, token_id=token_id, token_digest=digest(secret),
            family_id=family_id or token_id, created_at=to_rfc3339(now), expires_at=int(expires.timestamp())))
        access = self._codec.issue(tenant_id=user.tenant_id, subject=user.user_id, kind="staff", role=user.role,
                                   now=now)
        refresh = f"{REFRESH_PREFIX}{user.tenant_id}.{user.user_id}.{token_id}.{secret}"
        return TokensOut(access_token=access, refresh_token=refresh, expires_in=self._codec.ttl_seconds)

    @staticmethod
    def _parse_refresh(token: str) -> tuple[str, str, str, str]:
        parts = token.removeprefix(REFRESH_PREFIX).split(".") if token.startswith(REFRESH_PREFIX) else []
        if len(parts) != 4 or not all(parts):
            raise _invalid_refresh()
        tenant_id, user_id, token_id, secret = parts
        return tenant_id, user_id, token_id, secret

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
