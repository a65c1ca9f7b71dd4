"""Tenant-side items and their queries. PynamoDB lives here and nowhere else in this context."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.storage import keys
from chalicelib.storage.table import GSI1, LinliModel


class TenantItem(LinliModel, discriminator="tenant"):
    tenant_id = UnicodeAttribute()
    slug = UnicodeAttribute()
    company_name = UnicodeAttribute()
    config = JSONAttribute()
    plan = UnicodeAttribute(default="standard")
    isolation = UnicodeAttribute(default="pooled")
    status = UnicodeAttribute(default="active")
    admin_count = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class SlugItem(LinliModel, discriminator="slug"):
    tenant_id = UnicodeAttribute()


class StaffItem(LinliModel, discriminator="staff"):
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_email = GSI1()

    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    phone = UnicodeAttribute(null=True)
    on_duty = BooleanAttribute(null=True)  # None: on duty (pages for emergencies reach on-duty supervisors)
    password_hash = UnicodeAttribute()
    failed_logins = NumberAttribute(default=0)
    first_failed_at = UnicodeAttribute(null=True)
    locked_until = UnicodeAttribute(null=True)
    last_login_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class LoginThrottleItem(LinliModel, discriminator="login_throttle"):
    """Failed-login counter for an e-mail that has no account, so unknown and known look alike."""

    failed_logins = NumberAttribute(default=0)
    first_failed_at = UnicodeAttribute(null=True)
    locked_until = UnicodeAttribute(null=True)


class RefreshTokenItem(LinliModel, discriminator="refresh_token"):
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    token_digest = UnicodeAttribute()
    family_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    used_at = UnicodeAttribute(null=True)


class ApiKeyItem(LinliModel, discriminator="api_key"):
    """Platform-wide lookup by digest (PK) that is also the tenant's listing record (GSI1)."""

    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    by_tenant = GSI1()

    tenant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    scopes = ListAttribute(of=UnicodeAttribute)
    hint = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    last_used_at = UnicodeAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)


def email_claim_pk(tenant_id: str, email: str) -> str:
    return keys.tenant_pk(tenant_id, "EMAIL", email)


def staff_sk(user_id: str) -> str:
    return keys.USER_PREFIX + user_id


def refresh_sk(user_id: str, token_id: str) -> str:
    return keys.sk("RT", user_id, token_id)


def api_keys_gsi_pk(tenant_id: str) -> str:
    return keys.tenant_pk(tenant_id, "APIKEYS")


class TenantRepository:
    """Reads for the tenant context. Writes go through a UnitOfWork built by the service."""

    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    # --- platform lookups (no TenantContext yet: these resolve one) ---------------------------
    def tenant_id_for_slug(self, slug: str) -> str | None:
        try:
            return SlugItem.get(keys.slug_pk(slug), keys.SLUG_SK).tenant_id
        except DoesNotExist:
            return None

    def get_tenant_by_id(self, tenant_id: str, *, consistent: bool = False) -> TenantItem | None:
        try:
            return TenantItem.get(keys.tenant_pk(tenant_id), keys.TENANT_SK, consistent_read=consistent)
        except DoesNotExist:
            return None

    def find_staff_by_email(self, tenant_id: str, email: str) -> StaffItem | None:
        for item in StaffItem.by_email.query(email_claim_pk(tenant_id, email), limit=1):
            return item
        return None

    def login_throttle(self, tenant_id: str, email_digest: str) -> LoginThrottleItem:
        return LoginThrottleItem(keys.tenant_pk(tenant_id, "LOGIN", email_digest), "THROTTLE")

    def refresh_token_and_user(self, tenant_id: str, user_id: str, token_id: str
                               ) -> tuple[RefreshTokenItem | None, StaffItem | None]:
        token, user = None, None
        pk = keys.tenant_pk(tenant_id)
        for item in LinliModel.batch_get([(pk, refresh_sk(user_id, token_id)), (pk, staff_sk(user_id))]):
            if isinstance(item, RefreshTokenItem):
                token = item
            elif isinstance(item, StaffItem):
                user = item
        return token, user

    def refresh_tokens_of(self, tenant_id: str, user_id: str) -> list[RefreshTokenItem]:
        return list(RefreshTokenItem.query(keys.tenant_pk(tenant_id),
                                           RefreshTokenItem.SK.startswith(keys.sk("RT", user_id, ""))))

    def delete_refresh_tokens(self, tokens: list[RefreshTokenItem]) -> None:
        with RefreshTokenItem.batch_write() as batch:
            for token in tokens:
                batch.delete(token)

    def touch_api_key(self, secret_digest: str, now_text: str) -> ApiKeyItem | None:
        """Resolve an API key and stamp its last use in one round trip (UpdateItem, ALL_NEW)."""
        item = ApiKeyItem(keys.api_key_pk(secret_digest), keys.API_KEY_SK)
        try:
            item.update(actions=[ApiKeyItem.last_used_at.set(now_text)],
                        condition=ApiKeyItem.PK.exists() & ApiKeyItem.revoked_at.does_not_exist())
        except UpdateError:
            return None
        return item

    # --- tenant-scoped reads -------------------------------------------------------------------
    def get_staff(self, ctx: TenantContext, user_id: str, *, consistent: bool = False) -> StaffItem | None:
        try:
            item = LinliModel.get(keys.tenant_pk(ctx.tenant_id), staff_sk(user_id), consistent_read=consistent)
        except DoesNotExist:
            return None
        return item if isinstance(item, StaffItem) else None

    def list_staff(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[StaffItem], str | None]:
        results = StaffItem.query(keys.tenant_pk(ctx.tenant_id), StaffItem.SK.startswith(keys.USER_PREFIX),
                                  limit=limit, last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        return self._cursors.page(ctx.tenant_id, results)

    def active_staff(self, ctx: TenantContext) -> list[StaffItem]:
        """Every active staff member of the tenant (all pages): who can be paged or notified."""
        staff, cursor = [], None
        while True:
            page, cursor = self.list_staff(ctx, 100, cursor)
            staff += [s for s in page if s.status == "active"]
            if not cursor:
                return staff

    def find_api_key(self, ctx: TenantContext, key_id: str) -> ApiKeyItem | None:
        for item in ApiKeyItem.by_tenant.query(api_keys_gsi_pk(ctx.tenant_id), ApiKeyItem.GSI1SK == key_id, limit=1):
            return item
        return None

    def list_api_keys(self, ctx: TenantContext, limit: int, cursor: str | None
                      ) -> tuple[list[ApiKeyItem], str | None]:
        results = ApiKeyItem.by_tenant.query(api_keys_gsi_pk(ctx.tenant_id), limit=limit, scan_index_forward=False,
                                             last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        return self._cursors.page(ctx.tenant_id, results)

