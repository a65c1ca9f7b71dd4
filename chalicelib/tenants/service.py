"""Tenant use cases: signup, login and tokens, configuration and branding, staff, API keys."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from chalicelib.core.auth import (
    API_KEY_PREFIX,
    TokenCodec,
    constant_time_equal,
    digest,
    hash_password,
    new_secret,
    verify_password,
)
from chalicelib.core.cache import TTLCache
from chalicelib.core.clock import from_rfc3339, to_rfc3339, utcnow
from chalicelib.core.errors import (
    ConflictError,
    InvalidCredentialsError,
    NotFoundError,
    PreconditionFailedError,
    RateLimitedError,
    UnauthenticatedError,
    ValidationFailedError,
)
from chalicelib.core.ids import new_id
from chalicelib.core.observability import logger
from chalicelib.core.permissions import API_KEY_SCOPES, Permission, Role, permissions_for
from chalicelib.core.settings import Settings
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.storage import keys
from chalicelib.storage.table import UniqueItem
from chalicelib.storage.unit_of_work import UnitOfWork, diff
from chalicelib.tenants import domain
from chalicelib.tenants.repository import (
    ApiKeyItem,
    RefreshTokenItem,
    SlugItem,
    StaffItem,
    TenantItem,
    TenantRepository,
    api_keys_gsi_pk,
    email_claim_pk,
    refresh_sk,
    staff_sk,
)
from chalicelib.tenants.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    PublicBrandingOut,
    SignupIn,
    SignupOut,
    StaffIn,
    StaffOut,
    StaffPatch,
    TenantOut,
    TenantPatch,
    TokensOut,
)

REFRESH_PREFIX = "rt_"
SYSTEM_ACTOR = {"type": "system", "id": "signup", "role": None}
_PII_FIELDS = ("phone", "password")


def tenant_out(item: TenantItem) -> TenantOut:
    config = domain.TenantConfig.model_validate(item.config)
    return TenantOut(id=item.tenant_id, slug=item.slug, company_name=item.company_name, plan=item.plan,
                     isolation=item.isolation, branding=config.branding, timezone=config.timezone,
                     locale=config.locale, ticket_kinds=config.ticket_kinds, ticket_settings=config.ticket_settings,
                     teams=config.teams, dispatch_rules=config.dispatch_rules, wechat_app_id=config.wechat_app_id,
                     sla_policies=config.policies(), calendars=config.calendars,
                     community_calendars=config.community_calendars,
                     notifications=config.notifications.model_copy(
                         update={"rules": config.notifications.effective_rules()}),
                     created_at=item.created_at,
                     updated_at=item.updated_at, version=item.version)


def staff_out(item: StaffItem) -> StaffOut:
    return StaffOut(id=item.user_id, email=item.email, name=item.name, role=Role(item.role), status=item.status,
                    phone=item.phone, on_duty=item.on_duty is not False, last_login_at=item.last_login_at,
                    created_at=item.created_at,
                    updated_at=item.updated_at, version=item.version)


def api_key_out(item: ApiKeyItem) -> ApiKeyOut:
    return ApiKeyOut(id=item.key_id, name=item.name, scopes=list(item.scopes), hint=item.hint,
                     created_at=item.created_at, created_by=item.created_by, last_used_at=item.last_used_at,
                     revoked_at=item.revoked_at)


def _attempts(failures: int, first: str | None, locked: str | None) -> domain.LoginAttempts:
    return domain.LoginAttempts(failures or 0, from_rfc3339(first) if first else None,
                                from_rfc3339(locked) if locked else None)


class TenantService:
    def __init__(self, repo: TenantRepository, codec: TokenCodec, settings: Settings) -> None:
        self.repo = repo
        self.codec = codec
        self.settings = settings
        self._tenants: TTLCache[TenantItem] = TTLCache(settings.config_cache_seconds)
        self._slugs: TTLCache[str] = TTLCache(settings.config_cache_seconds)
        self._api_keys: TTLCache[TenantContext] = TTLCache(settings.api_key_cache_seconds)

    # --- signup and tokens ------------------------------------------------------------------------
    def signup(self, cmd: SignupIn, now: datetime) -> SignupOut:
        slug = domain.normalise_slug(cmd.slug)
        domain.check_password(cmd.admin_password, email=cmd.admin_email, company=cmd.company_name,
                              field="admin_password")
        tenant_id, user_id, stamp = new_id("tnt"), new_id("usr"), to_rfc3339(now)
        config = domain.TenantConfig(branding=domain.Branding(display_name=cmd.company_name))
        tenant = TenantItem(keys.tenant_pk(tenant_id), keys.TENANT_SK, tenant_id=tenant_id, slug=slug,
                            company_name=cmd.company_name, config=config.model_dump(mode="json"), admin_count=1,
                            created_at=stamp, updated_at=stamp, version=1)
        admin = self._new_staff(tenant_id, user_id, cmd.admin_email, cmd.admin_name or cmd.admin_email.split("@")[0],
                                Role.ADMIN, cmd.admin_password, None, stamp)
        uow = UnitOfWork(tenant_id, {**SYSTEM_ACTOR}, now)
        uow.put(SlugItem(keys.slug_pk(slug), keys.SLUG_SK, tenant_id=tenant_id),
                condition=SlugItem.PK.does_not_exist(),
                on_conflict=ConflictError("This slug is already taken.", code="slug_taken"))
        uow.put(tenant, condition=TenantItem.PK.does_not_exist())
        self._add_staff_writes(uow, admin)
        tokens = self._issue_tokens(uow, admin, now)
        uow.record("tenant.created", pk=tenant.PK, subject=("tenant", tenant_id), subject_version=1,
                   data={"slug": slug, "company_name": cmd.company_name})
        uow.commit()
        return SignupOut(tenant=tenant_out(tenant), user=staff_out(admin), access_token=tokens.access_token,
                         refresh_token=tokens.refresh_token, expires_in=tokens.expires_in)

    def login(self, cmd: LoginIn, now: datetime) -> TokensOut:
        tenant_id = self._tenant_id_for_slug(cmd.tenant_slug)
        try:
            email = domain.normalise_email(cmd.email)
        except ValueError:
            email = cmd.email.strip().lower()
        user = self.repo.find_staff_by_email(tenant_id, email) if tenant_id else None
        logger.info("login attempt", extra={"email": email, "known_account": user is not None})
        if user is None:
            verify_password(None, cmd.password)
            self._fail_unknown(tenant_id, email, now)
            raise InvalidCredentialsError()
        attempts = _attempts(user.failed_logins, user.first_failed_at, user.locked_until)
        self._raise_if_locked(attempts, now)
        if not verify_password(user.password_hash, cmd.password) or user.status != "active":
            after = attempts.after_failure(now, max_failures=self.settings.login_max_failures,
                                           window_seconds=self.settings.login_lock_seconds)
            user.update(actions=[
                StaffItem.failed_logins.set(after.failures),
                StaffItem.first_failed_at.set(to_rfc3339(after.first_failed_at)),
                StaffItem.locked_until.set(to_rfc3339(after.locked_until)) if after.locked_until
                else StaffItem.locked_until.remove(),
            ])
            self._raise_if_locked(after, now)
            raise InvalidCredentialsError()
        uow = UnitOfWork(tenant_id, {"type": "staff", "id": user.user_id, "role": user.role}, now)
        uow.update(user, [StaffItem.failed_logins.set(0), StaffItem.first_failed_at.remove(),
                          StaffItem.locked_until.remove(), StaffItem.last_login_at.set(to_rfc3339(now))])
        tokens = self._issue_tokens(uow, user, now)
        uow.commit()
        return tokens

    def refresh(self, refresh_token: str, now: datetime) -> TokensOut:
        tenant_id, user_id, token_id, secret = self._parse_refresh(refresh_token)
        token, user = self.repo.refresh_token_and_user(tenant_id, user_id, token_id)
        if token is None or not constant_time_equal(token.token_digest, digest(secret)):
            raise UnauthenticatedError("The refresh token is not valid.", code="invalid_refresh_token")
        if token.used_at is not None:
            self._revoke_family(tenant_id, user_id, token.family_id)
            raise UnauthenticatedError("The refresh token was already used; sign in again.",
                                       code="refresh_token_reused")
        if (token.expires_at or 0) <= now.timestamp() or user is None or user.status != "active":
            raise UnauthenticatedError("The refresh token is not valid.", code="invalid_refresh_token")
        uow = UnitOfWork(tenant_id, {"type": "staff", "id": user_id, "role": user.role}, now)
        uow.update(token, [RefreshTokenItem.used_at.set(to_rfc3339(now))],
                   condition=RefreshTokenItem.used_at.does_not_exist(),
                   on_conflict=UnauthenticatedError("The refresh token was already used; sign in again.",
                                                    code="refresh_token_reused"))
        tokens = self._issue_tokens(uow, user, now, family_id=token.family_id)
        uow.commit()
        return tokens

    def logout(self, refresh_token: str) -> None:
        tenant_id, user_id, token_id, secret = self._parse_refresh(refresh_token)
        token, _ = self.repo.refresh_token_and_user(tenant_id, user_id, token_id)
        if token is not None and constant_time_equal(token.token_digest, digest(secret)):
            self._revoke_family(tenant_id, user_id, token.family_id)

    def authenticate(self, token: str, request_id: str) -> TenantContext:
        """Turn a bearer credential into a TenantContext: the only source of the tenant id."""
        if token.startswith(API_KEY_PREFIX):
            return self._authenticate_api_key(token, request_id)
        claims = self.codec.verify(token)
        if claims.kind == "resident":
            return TenantContext(claims.tenant_id, Principal("resident", claims.subject, units=claims.units),
                                 request_id)
        if claims.kind != "staff" or claims.role not in Role._value2member_map_:
            raise UnauthenticatedError()
        role = Role(claims.role)
        return TenantContext(claims.tenant_id, Principal("staff", claims.subject, role, permissions_for(role)),
                             request_id)

    # --- configuration --------------------------------------------------------------------------
    def get_tenant(self, ctx: TenantContext) -> TenantOut:
        item = self._tenant(ctx.tenant_id)
        if item is None:
            raise NotFoundError()
        return tenant_out(item)

    def update_tenant(self, ctx: TenantContext, patch: TenantPatch, if_match: int | None,
                      now: datetime) -> TenantOut:
        item = self.repo.get_tenant_by_id(ctx.tenant_id, consistent=True)
        if item is None:
            raise NotFoundError()
        if if_match is not None and if_match != item.version:
            raise PreconditionFailedError()
        changes_in = patch.model_dump(mode="json", exclude_unset=True)
        company_name = changes_in.pop("company_name", None) or item.company_name
        merged = domain.merge_patch(item.config, changes_in)
        try:
            config = domain.TenantConfig.model_validate(merged).model_dump(mode="json")
        except ValidationError as exc:
            raise ValidationFailedError(details=[{"field": ".".join(str(p) for p in e["loc"]), "type": e["type"],
                                                  "message": e["msg"]} for e in exc.errors(include_url=False)]) from exc
        before = {"company_name": item.company_name, **item.config}
        after = {"company_name": company_name, **config}
        changes = diff(before, after)
        if not changes:
            return tenant_out(item)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        version = item.version
        uow.update(item, [TenantItem.config.set(config), TenantItem.company_name.set(company_name),
                          TenantItem.updated_at.set(to_rfc3339(now)), TenantItem.version.set(version + 1)],
                   condition=TenantItem.version == version, on_conflict=PreconditionFailedError())
        uow.record("tenant.updated", pk=item.PK, subject=("tenant", ctx.tenant_id), subject_version=version + 1,
                   changes=changes)
        uow.commit()
        item.config, item.company_name = config, company_name
        item.updated_at, item.version = to_rfc3339(now), version + 1
        self._tenants.put(ctx.tenant_id, item)
        return tenant_out(item)

    def config(self, tenant_id: str) -> domain.TenantConfig:
        """The tenant's configuration, cached per container (≤ 60 s)."""
        item = self._tenant(tenant_id)
        if item is None:
            raise NotFoundError()
        return domain.TenantConfig.model_validate(item.config)

    def tenant_id_for_slug(self, slug: str) -> str:
        tenant_id = self._tenant_id_for_slug(slug)
        item = self._tenant(tenant_id) if tenant_id else None
        if item is None or item.status != "active":
            raise NotFoundError()
        return item.tenant_id

    def public_branding(self, slug: str) -> PublicBrandingOut:
        tenant_id = self._tenant_id_for_slug(slug)
        item = self._tenant(tenant_id) if tenant_id else None
        if item is None or item.status != "active":
            raise NotFoundError()
        config = domain.TenantConfig.model_validate(item.config)
        return PublicBrandingOut(slug=item.slug, name=config.branding.display_name or item.company_name,
                                 logo_url=config.branding.logo_url, primary_color=config.branding.primary_color,
                                 contact_phone=config.branding.contact_phone, locale=config.locale,
                                 ticket_kinds=[k for k in config.ticket_kinds if k.resident_visible])

    # --- staff --------------------------------------------------------------------------------------
    def me(self, ctx: TenantContext) -> StaffOut:
        if ctx.principal.kind != "staff":
            raise NotFoundError()
        return self.get_staff(ctx, ctx.principal.id)

    def get_staff(self, ctx: TenantContext, user_id: str) -> StaffOut:
        return staff_out(self._staff_or_404(ctx, user_id))

    def list_staff(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[StaffOut], str | None]:
        items, next_cursor = self.repo.list_staff(ctx, limit, cursor)
        return [staff_out(i) for i in items], next_cursor

    def create_staff(self, ctx: TenantContext, cmd: StaffIn, now: datetime) -> StaffOut:
        domain.check_password(cmd.password, email=cmd.email)
        staff = self._new_staff(ctx.tenant_id, new_id("usr"), cmd.email, cmd.name, cmd.role, cmd.password,
                                cmd.phone, to_rfc3339(now))
        staff.on_duty = None if cmd.on_duty else False
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        self._add_staff_writes(uow, staff)
        if cmd.role == Role.ADMIN:
            uow.update(TenantItem(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK), [TenantItem.admin_count.add(1)])
        uow.commit()
        return staff_out(staff)

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
        changes = diff(before, after)
        if "password" in fields:
            domain.check_password(fields["password"], email=staff.email)
            changes["password"] = {"before": None, "after": None}
        if not changes:
            return staff_out(staff)
        for pii in _PII_FIELDS:
            if pii in changes:
                changes[pii] = {"before": "[redacted]", "after": "[redacted]"}
        version, stamp = staff.version, to_rfc3339(now)
        actions = [StaffItem.name.set(after["name"]), StaffItem.role.set(after["role"]),
                   StaffItem.status.set(after["status"]), StaffItem.updated_at.set(stamp),
                   StaffItem.version.set(version + 1), StaffItem.on_duty.set(after["on_duty"])]
        actions.append(StaffItem.phone.set(after["phone"]) if after["phone"] else StaffItem.phone.remove())
        if "password" in fields:
            actions.append(StaffItem.password_hash.set(hash_password(fields["password"])))
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.update(staff, actions, condition=StaffItem.version == version, on_conflict=PreconditionFailedError())
        self._adjust_admin_count(uow, ctx, was=before, now_=after)
        uow.record("staff.updated", pk=keys.tenant_pk(ctx.tenant_id), subject=("staff", user_id),
                   subject_version=version + 1, changes=changes)
        uow.commit()
        staff.name, staff.role, staff.status = after["name"], after["role"], after["status"]
        staff.phone, staff.on_duty = after["phone"], after["on_duty"]
        staff.updated_at, staff.version = stamp, version + 1
        if after["status"] != "active" or "password" in fields or after["role"] != before["role"]:
            self._revoke_all(ctx.tenant_id, user_id)
        return staff_out(staff)

    def delete_staff(self, ctx: TenantContext, user_id: str, if_match: int | None, now: datetime) -> None:
        staff = self._staff_or_404(ctx, user_id, consistent=True)
        if if_match is not None and if_match != staff.version:
            raise PreconditionFailedError()
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.delete(staff, condition=StaffItem.version == staff.version, on_conflict=PreconditionFailedError())
        uow.delete(UniqueItem(email_claim_pk(ctx.tenant_id, staff.email), keys.UNIQUE_SK))
        was = {"role": staff.role, "status": staff.status}
        self._adjust_admin_count(uow, ctx, was=was, now_={"role": None, "status": "deleted"})
        uow.record("staff.deleted", pk=keys.tenant_pk(ctx.tenant_id), subject=("staff", user_id),
                   subject_version=staff.version, data={"role": staff.role})
        uow.commit()
        self._revoke_all(ctx.tenant_id, user_id)

    # --- API keys -----------------------------------------------------------------------------------
    def create_api_key(self, ctx: TenantContext, cmd: ApiKeyIn, now: datetime) -> ApiKeyCreatedOut:
        not_allowed = sorted(s.value for s in cmd.scopes if s not in API_KEY_SCOPES)
        if not_allowed:
            raise ValidationFailedError(details=[{"field": "scopes", "type": "scope_not_allowed",
                                                  "message": f"API keys cannot hold: {', '.join(not_allowed)}"}])
        secret, key_id, stamp = new_secret(API_KEY_PREFIX), new_id("key"), to_rfc3339(now)
        scopes = sorted({s.value for s in cmd.scopes})
        item = ApiKeyItem(keys.api_key_pk(digest(secret)), keys.API_KEY_SK, GSI1PK=api_keys_gsi_pk(ctx.tenant_id),
                          GSI1SK=key_id, tenant_id=ctx.tenant_id, key_id=key_id, name=cmd.name, scopes=scopes,
                          hint=secret[: len(API_KEY_PREFIX) + 4] + "…", created_by=ctx.principal.id,
                          created_at=stamp)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.put(item, condition=ApiKeyItem.PK.does_not_exist())
        uow.record("api_key.created", pk=keys.tenant_pk(ctx.tenant_id), subject=("api_key", key_id),
                   data={"name": cmd.name, "scopes": scopes})
        uow.commit()
        return ApiKeyCreatedOut(**api_key_out(item).model_dump(), key=secret)

    def list_api_keys(self, ctx: TenantContext, limit: int, cursor: str | None
                      ) -> tuple[list[ApiKeyOut], str | None]:
        items, next_cursor = self.repo.list_api_keys(ctx, limit, cursor)
        return [api_key_out(i) for i in items], next_cursor

    def revoke_api_key(self, ctx: TenantContext, key_id: str, now: datetime) -> ApiKeyOut:
        item = self.repo.find_api_key(ctx, key_id)
        if item is None:
            raise NotFoundError()
        if item.revoked_at is None:
            uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
            uow.update(item, [ApiKeyItem.revoked_at.set(to_rfc3339(now))],
                       condition=ApiKeyItem.revoked_at.does_not_exist())
            uow.record("api_key.revoked", pk=keys.tenant_pk(ctx.tenant_id), subject=("api_key", key_id))
            uow.commit()
            item.revoked_at = to_rfc3339(now)
        self._api_keys.invalidate(item.PK)
        return api_key_out(item)

    # --- helpers --------------------------------------------------------------------------------------
    def _tenant(self, tenant_id: str) -> TenantItem | None:
        return self._tenants.get_or_load(tenant_id, lambda: self.repo.get_tenant_by_id(tenant_id))

    def _tenant_id_for_slug(self, slug: str) -> str | None:
        value = slug.strip().lower()
        if not domain.SLUG_RE.match(value):
            return None
        return self._slugs.get_or_load(value, lambda: self.repo.tenant_id_for_slug(value))

    def _staff_or_404(self, ctx: TenantContext, user_id: str, *, consistent: bool = False) -> StaffItem:
        staff = self.repo.get_staff(ctx, user_id, consistent=consistent)
        if staff is None:
            raise NotFoundError()
        return staff

    @staticmethod
    def _new_staff(tenant_id: str, user_id: str, email: str, name: str, role: Role, password: str,
                   phone: str | None, stamp: str) -> StaffItem:
        return StaffItem(keys.tenant_pk(tenant_id), staff_sk(user_id), GSI1PK=email_claim_pk(tenant_id, email),
                         GSI1SK=staff_sk(user_id), tenant_id=tenant_id, user_id=user_id, email=email, name=name,
                         role=role.value, status="active", phone=phone, password_hash=hash_password(password),
                         created_at=stamp, updated_at=stamp, version=1)

    @staticmethod
    def _add_staff_writes(uow: UnitOfWork, staff: StaffItem) -> None:
        uow.put(UniqueItem(staff.GSI1PK, keys.UNIQUE_SK, owner_id=staff.user_id),
                condition=UniqueItem.PK.does_not_exist(),
                on_conflict=ConflictError("A staff member with this e-mail already exists.", code="email_taken"))
        uow.put(staff, condition=StaffItem.PK.does_not_exist())
        uow.record("staff.created", pk=keys.tenant_pk(staff.tenant_id), subject=("staff", staff.user_id),
                   subject_version=1, data={"role": staff.role})

    @staticmethod
    def _adjust_admin_count(uow: UnitOfWork, ctx: TenantContext, *, was: dict[str, Any], now_: dict[str, Any]) -> None:
        was_admin = was["role"] == Role.ADMIN.value and was["status"] == "active"
        is_admin = now_["role"] == Role.ADMIN.value and now_["status"] == "active"
        tenant = TenantItem(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK)
        if was_admin and not is_admin:
            uow.update(tenant, [TenantItem.admin_count.add(-1)], condition=TenantItem.admin_count > 1,
                       on_conflict=ConflictError("A tenant must keep at least one active admin.", code="last_admin"))
        elif is_admin and not was_admin:
            uow.update(tenant, [TenantItem.admin_count.add(1)])

    def _issue_tokens(self, uow: UnitOfWork, user: StaffItem, now: datetime, family_id: str | None = None
                      ) -> TokensOut:
        token_id, secret = new_id("rtk"), new_secret()
        expires = now + timedelta(seconds=self.settings.refresh_token_ttl_seconds)
        uow.put(RefreshTokenItem(keys.tenant_pk(user.tenant_id), refresh_sk(user.user_id, token_id),
                                 tenant_id=user.tenant_id, user_id=user.user_id, token_digest=digest(secret),
                                 family_id=family_id or token_id, created_at=to_rfc3339(now),
                                 expires_at=int(expires.timestamp())))
        access = self.codec.issue(tenant_id=user.tenant_id, subject=user.user_id, kind="staff", role=user.role,
                                  now=now)
        refresh = f"{REFRESH_PREFIX}{user.tenant_id}.{user.user_id}.{token_id}.{secret}"
        return TokensOut(access_token=access, refresh_token=refresh, expires_in=self.codec.ttl_seconds)

    @staticmethod
    def _parse_refresh(token: str) -> tuple[str, str, str, str]:
        parts = token.removeprefix(REFRESH_PREFIX).split(".") if token.startswith(REFRESH_PREFIX) else []
        if len(parts) != 4 or not all(parts):
            raise UnauthenticatedError("The refresh token is not valid.", code="invalid_refresh_token")
        return parts[0], parts[1], parts[2], parts[3]

    def _revoke_family(self, tenant_id: str, user_id: str, family_id: str) -> None:
        tokens = [t for t in self.repo.refresh_tokens_of(tenant_id, user_id) if t.family_id == family_id]
        self.repo.delete_refresh_tokens(tokens)

    def _revoke_all(self, tenant_id: str, user_id: str) -> None:
        self.repo.delete_refresh_tokens(self.repo.refresh_tokens_of(tenant_id, user_id))

    def _raise_if_locked(self, attempts: domain.LoginAttempts, now: datetime) -> None:
        seconds = attempts.locked_for(now)
        if seconds:
            raise RateLimitedError("Too many failed sign-ins; try again later.", code="too_many_attempts",
                                   retry_after=seconds)

    def _fail_unknown(self, tenant_id: str | None, email: str, now: datetime) -> None:
        """Unknown accounts are throttled like known ones, so a lock-out reveals nothing."""
        if tenant_id is None:
            tenant_id = "-"
        throttle = self.repo.login_throttle(tenant_id, digest(email))
        try:
            throttle.refresh()
        except throttle.DoesNotExist:
            pass
        attempts = _attempts(throttle.failed_logins, throttle.first_failed_at, throttle.locked_until)
        self._raise_if_locked(attempts, now)
        after = attempts.after_failure(now, max_failures=self.settings.login_max_failures,
                                       window_seconds=self.settings.login_lock_seconds)
        throttle.failed_logins = after.failures
        throttle.first_failed_at = to_rfc3339(after.first_failed_at)
        throttle.locked_until = to_rfc3339(after.locked_until) if after.locked_until else None
        throttle.expires_at = int((now + timedelta(seconds=2 * self.settings.login_lock_seconds)).timestamp())
        throttle.save()
        self._raise_if_locked(after, now)

    def _authenticate_api_key(self, token: str, request_id: str) -> TenantContext:
        pk = keys.api_key_pk(digest(token))
        cached = self._api_keys.get(pk)
        if cached is None:
            item = self.repo.touch_api_key(digest(token), to_rfc3339(utcnow()))
            if item is None:
                raise UnauthenticatedError()
            perms = frozenset(Permission(s) for s in item.scopes if s in Permission._value2member_map_)
            cached = TenantContext(item.tenant_id, Principal("api_key", item.key_id, None, perms), "-")
            self._api_keys.put(pk, cached)
        return TenantContext(cached.tenant_id, cached.principal, request_id)
