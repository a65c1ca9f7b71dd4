"""Tenant-side items, keys and conditions. PynamoDB lives here and nowhere else in this context.

:class:`TenantRepository` maps items to the records of ``tenants.records``, answers queries and
stages writes on the DynamoDB unit of work; services never see a key, a condition or an index.

Over ~350 lines because it is every item type of the context (tenants, staff, refresh tokens, login throttles,
API keys, canned replies) in one place: splitting it per item type would split the key shapes that must stay consistent.
"""
from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.storage import keys
from chalicelib.storage.table import GSI1, CounterItem, LinliModel, UniqueItem
from chalicelib.storage.unit_of_work import UnitOfWork
from chalicelib.tenants.domain import ASSIGNABLE_ROLES, LoginAttempts
from chalicelib.tenants.records import ApiKey, CannedReply, RefreshToken, Staff, Tenant


class TenantItem(LinliModel, discriminator="tenant"):
    tenant_id = UnicodeAttribute()
    slug = UnicodeAttribute()
    company_name = UnicodeAttribute()
    config = JSONAttribute()
    plan = UnicodeAttribute(default="standard")
    isolation = UnicodeAttribute(default="pooled")
    status = UnicodeAttribute(default="active")
    admin_count = NumberAttribute(default=0)
    revoked = MapAttribute(default=dict)  # subject id → ms: tokens issued up to then are refused (tenants.access)
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
    login_throttles = JSONAttribute(null=True)  # source key → [failures, first_failed_at, locked_until]
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
    acts_for = UnicodeAttribute(null=True)
    last_used_at = UnicodeAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)


class CannedReplyItem(LinliModel, discriminator="canned_reply"):
    """One canned reply, in its tenant's ``CRP`` partition (one Query reads them all); ``COUNT`` there counts them."""

    tenant_id = UnicodeAttribute()
    reply_id = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    kind = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    sort_order = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


CANNED_REPLY_COUNT_SK = "COUNT"


def canned_replies_pk(tenant_id: str) -> str:
    return keys.tenant_pk(tenant_id, "CRP")


def canned_reply_sk(reply_id: str) -> str:
    return keys.sk("CRP", reply_id)


def email_claim_pk(tenant_id: str, email: str) -> str:
    return keys.tenant_pk(tenant_id, "EMAIL", email)


def staff_sk(user_id: str) -> str:
    return keys.USER_PREFIX + user_id


def refresh_sk(user_id: str, token_id: str) -> str:
    return keys.sk("RT", user_id, token_id)


def api_keys_gsi_pk(tenant_id: str) -> str:
    return keys.tenant_pk(tenant_id, "APIKEYS")


def _record_fields(record_type: type, item: LinliModel, **extra: Any) -> dict[str, Any]:
    names = {f.name for f in fields(record_type)} - set(extra)
    return {name: getattr(item, name) for name in names} | extra


def _tenant(item: TenantItem) -> Tenant:
    revoked = {subject: int(cut) for subject, cut in (item.revoked.as_dict() if item.revoked else {}).items()}
    return Tenant(**_record_fields(Tenant, item, revoked=revoked))


def _staff(item: StaffItem) -> Staff:
    return Staff(**_record_fields(Staff, item))


def _staff_item(staff: Staff) -> StaffItem:
    return StaffItem(keys.tenant_pk(staff.tenant_id), staff_sk(staff.user_id),
                     GSI1PK=email_claim_pk(staff.tenant_id, staff.email), GSI1SK=staff_sk(staff.user_id),
                     **asdict(staff))


def _refresh_token(item: RefreshTokenItem) -> RefreshToken:
    return RefreshToken(**_record_fields(RefreshToken, item, token_id=item.SK.rsplit("#", 1)[-1]))


def _api_key(item: ApiKeyItem) -> ApiKey:
    return ApiKey(**_record_fields(ApiKey, item, secret_digest=item.PK.removeprefix(keys.api_key_pk("")),
                                   scopes=tuple(item.scopes)))


def _canned_reply(item: CannedReplyItem) -> CannedReply:
    return CannedReply(**_record_fields(CannedReply, item, sort_order=int(item.sort_order or 0),
                                        version=int(item.version)))


def _stamp(moment: datetime | None) -> str | None:
    return to_rfc3339(moment) if moment else None


class TenantRepository:
    """Tenants, staff, credentials (refresh tokens, login throttles) and API keys in the single table."""

    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    # --- platform and sign-in lookups (no TenantContext yet: these resolve one) --------------------
    def tenant_id_for_slug(self, slug: str) -> str | None:
        try:
            return SlugItem.get(keys.slug_pk(slug), keys.SLUG_SK).tenant_id
        except DoesNotExist:
            return None

    def get_tenant(self, tenant_id: str, *, consistent: bool = False) -> Tenant | None:
        try:
            return _tenant(TenantItem.get(keys.tenant_pk(tenant_id), keys.TENANT_SK, consistent_read=consistent))
        except DoesNotExist:
            return None

    def find_staff_by_email(self, tenant_id: str, email: str) -> Staff | None:
        for item in StaffItem.by_email.query(email_claim_pk(tenant_id, email), limit=1):
            return _staff(item)
        return None

    def refresh_token_and_user(self, tenant_id: str, user_id: str, token_id: str
                               ) -> tuple[RefreshToken | None, Staff | None]:
        """The refresh token and its user in one BatchGetItem (either may be missing)."""
        token, user = None, None
        pk = keys.tenant_pk(tenant_id)
        for item in LinliModel.batch_get([(pk, refresh_sk(user_id, token_id)), (pk, staff_sk(user_id))]):
            if isinstance(item, RefreshTokenItem):
                token = _refresh_token(item)
            elif isinstance(item, StaffItem):
                user = _staff(item)
        return token, user

    def get_refresh_token(self, tenant_id: str, subject_id: str, token_id: str) -> RefreshToken | None:
        try:
            return _refresh_token(RefreshTokenItem.get(keys.tenant_pk(tenant_id), refresh_sk(subject_id, token_id)))
        except DoesNotExist:
            return None

    def record_login_failure(self, staff: Staff, throttles: dict[str, list[Any]]) -> None:
        """Store a known account's per-source failed-login states (one UpdateItem, outside any unit of work;
        nothing when the member is gone)."""
        try:
            StaffItem(keys.tenant_pk(staff.tenant_id), staff_sk(staff.user_id)).update(
                actions=[StaffItem.login_throttles.set(throttles)], condition=StaffItem.PK.exists())
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def unknown_login_attempts(self, tenant_id: str, email_digest: str) -> LoginAttempts:
        """Failed sign-ins for an e-mail without an account (fresh when there were none)."""
        try:
            item = LoginThrottleItem.get(keys.tenant_pk(tenant_id, "LOGIN", email_digest), "THROTTLE")
        except DoesNotExist:
            return LoginAttempts()
        return LoginAttempts.from_stamps(item.failed_logins, item.first_failed_at, item.locked_until)

    def save_unknown_login_attempts(self, tenant_id: str, email_digest: str, attempts: LoginAttempts, *,
                                    expires_at: int) -> None:
        LoginThrottleItem(keys.tenant_pk(tenant_id, "LOGIN", email_digest), "THROTTLE",
                          failed_logins=attempts.failures, first_failed_at=_stamp(attempts.first_failed_at),
                          locked_until=_stamp(attempts.locked_until), expires_at=expires_at).save()

    def touch_api_key(self, secret_digest: str, now_text: str) -> ApiKey | None:
        """Resolve an API key and stamp its last use in one round trip (UpdateItem, ALL_NEW)."""
        item = ApiKeyItem(keys.api_key_pk(secret_digest), keys.API_KEY_SK)
        try:
            item.update(actions=[ApiKeyItem.last_used_at.set(now_text)],
                        condition=ApiKeyItem.PK.exists() & ApiKeyItem.revoked_at.does_not_exist())
        except UpdateError:
            return None
        return _api_key(item)

    # --- tenant-scoped reads -------------------------------------------------------------------
    def get_staff(self, ctx: TenantContext, user_id: str, *, consistent: bool = False) -> Staff | None:
        try:
            item = LinliModel.get(keys.tenant_pk(ctx.tenant_id), staff_sk(user_id), consistent_read=consistent)
        except DoesNotExist:
            return None
        return _staff(item) if isinstance(item, StaffItem) else None

    def list_staff(self, ctx: TenantContext, limit: int, cursor: str | None, *,
                   role: str | None = None) -> tuple[list[Staff], str | None]:
        """A page of the directory in user-id order; ``role`` filters it (DynamoDB reads ``limit``, then filters)."""
        results = StaffItem.query(keys.tenant_pk(ctx.tenant_id), StaffItem.SK.startswith(keys.USER_PREFIX),
                                  filter_condition=StaffItem.role == role if role else None,
                                  limit=limit, last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        items, next_cursor = self._cursors.page(ctx.tenant_id, results)
        return [_staff(i) for i in items], next_cursor

    def active_staff(self, ctx: TenantContext) -> list[Staff]:
        """Every active staff member of the tenant (all pages): who can be paged or notified."""
        staff, cursor = [], None
        while True:
            page, cursor = self.list_staff(ctx, 100, cursor)
            staff += [s for s in page if s.status == "active"]
            if not cursor:
                return staff

    def api_keys_created_by(self, ctx: TenantContext, user_id: str) -> list[ApiKey]:
        """The live API keys a member created (all pages of the tenant's keys: a tenant has a handful)."""
        found = ApiKeyItem.by_tenant.query(api_keys_gsi_pk(ctx.tenant_id), filter_condition=(
            ApiKeyItem.created_by == user_id) & ApiKeyItem.revoked_at.does_not_exist())
        return [_api_key(item) for item in found]

    def find_api_key(self, ctx: TenantContext, key_id: str) -> ApiKey | None:
        for item in ApiKeyItem.by_tenant.query(api_keys_gsi_pk(ctx.tenant_id), ApiKeyItem.GSI1SK == key_id, limit=1):
            return _api_key(item)
        return None

    def list_api_keys(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
        results = ApiKeyItem.by_tenant.query(api_keys_gsi_pk(ctx.tenant_id), limit=limit, scan_index_forward=False,
                                             last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        items, next_cursor = self._cursors.page(ctx.tenant_id, results)
        return [_api_key(i) for i in items], next_cursor

    def revoke_refresh_tokens(self, ctx: TenantContext, user_id: str, *, family_id: str | None = None) -> None:
        """Delete a member's refresh tokens (one family, or all): a Query and a BatchWriteItem, no unit of work."""
        tokens = RefreshTokenItem.query(keys.tenant_pk(ctx.tenant_id),
                                        RefreshTokenItem.SK.startswith(keys.sk("RT", user_id, "")))
        doomed = [t for t in tokens if family_id is None or t.family_id == family_id]
        with RefreshTokenItem.batch_write() as batch:
            for token in doomed:
                batch.delete(token)

    # --- staged writes (committed by the service's unit of work) -----------------------------------
    def stage_new_tenant(self, uow: UnitOfWork, ctx: TenantContext, tenant: Tenant, *,
                         on_slug_taken: LinliError) -> None:
        """Claim the slug platform-wide and create the tenant item."""
        uow.put(SlugItem(keys.slug_pk(tenant.slug), keys.SLUG_SK, tenant_id=ctx.tenant_id),
                condition=SlugItem.PK.does_not_exist(), on_conflict=on_slug_taken)
        uow.put(TenantItem(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK, **asdict(tenant)),
                condition=TenantItem.PK.does_not_exist())

    def stage_tenant_update(self, uow: UnitOfWork, ctx: TenantContext, tenant: Tenant, *, expected_version: int,
                            on_conflict: LinliError) -> None:
        """Write the profile and configuration of ``tenant`` if the stored version is still ``expected_version``."""
        uow.update(TenantItem(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK),
                   [TenantItem.config.set(tenant.config), TenantItem.company_name.set(tenant.company_name),
                    TenantItem.updated_at.set(tenant.updated_at), TenantItem.version.set(tenant.version)],
                   condition=TenantItem.version == expected_version, on_conflict=on_conflict)

    def stage_revocation(self, uow: UnitOfWork, ctx: TenantContext, subject_id: str, revoked_ms: int, *,
                         forget: list[str]) -> None:
        """Cut off ``subject_id``'s tokens issued up to ``revoked_ms``; drop the ``forget`` entries."""
        uow.update(TenantItem(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK),
                   [TenantItem.revoked[subject_id].set(revoked_ms), *(TenantItem.revoked[s].remove() for s in forget)])

    def stage_actor_check(self, uow: UnitOfWork, ctx: TenantContext, *, on_conflict: LinliError) -> None:
        """Commit only if the acting member is still active with the role their token claims (a ConditionCheck)."""
        role = ctx.principal.role.value if ctx.principal.role else ""
        uow.check(StaffItem, keys.tenant_pk(ctx.tenant_id), staff_sk(ctx.principal.id),
                  (StaffItem.status == "active") & (StaffItem.role == role), on_conflict=on_conflict)

    def stage_admin_added(self, uow: UnitOfWork, ctx: TenantContext) -> None:
        uow.update(TenantItem(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK), [TenantItem.admin_count.add(1)])

    def stage_admin_removed(self, uow: UnitOfWork, ctx: TenantContext, *, on_conflict: LinliError) -> None:
        """One active admin fewer, only if another remains."""
        uow.update(TenantItem(keys.tenant_pk(ctx.tenant_id), keys.TENANT_SK), [TenantItem.admin_count.add(-1)],
                   condition=TenantItem.admin_count > 1, on_conflict=on_conflict)

    def stage_new_staff(self, uow: UnitOfWork, ctx: TenantContext, staff: Staff, *,
                        on_email_taken: LinliError) -> None:
        """Claim the e-mail within the tenant and create the member."""
        item = _staff_item(staff)
        uow.put(UniqueItem(item.GSI1PK, keys.UNIQUE_SK, owner_id=staff.user_id),
                condition=UniqueItem.PK.does_not_exist(), on_conflict=on_email_taken)
        uow.put(item, condition=StaffItem.PK.does_not_exist())

    def stage_staff_update(self, uow: UnitOfWork, ctx: TenantContext, staff: Staff, *, expected_version: int,
                           on_conflict: LinliError) -> None:
        """Write the editable fields of ``staff`` if the stored version is still ``expected_version``."""
        actions = [StaffItem.name.set(staff.name), StaffItem.role.set(staff.role), StaffItem.status.set(staff.status),
                   StaffItem.updated_at.set(staff.updated_at), StaffItem.version.set(staff.version),
                   StaffItem.on_duty.set(staff.on_duty) if staff.on_duty is not None else StaffItem.on_duty.remove(),
                   StaffItem.phone.set(staff.phone) if staff.phone else StaffItem.phone.remove(),
                   StaffItem.password_hash.set(staff.password_hash)]
        uow.update(StaffItem(keys.tenant_pk(ctx.tenant_id), staff_sk(staff.user_id)), actions,
                   condition=StaffItem.version == expected_version, on_conflict=on_conflict)

    def stage_staff_delete(self, uow: UnitOfWork, ctx: TenantContext, staff: Staff, *, expected_version: int,
                           on_conflict: LinliError) -> None:
        """Remove the member (if still at ``expected_version``) and release their e-mail."""
        uow.delete(StaffItem(keys.tenant_pk(ctx.tenant_id), staff_sk(staff.user_id)),
                   condition=StaffItem.version == expected_version, on_conflict=on_conflict)
        uow.delete(UniqueItem(email_claim_pk(ctx.tenant_id, staff.email), keys.UNIQUE_SK))

    def stage_sign_in(self, uow: UnitOfWork, ctx: TenantContext, staff: Staff, signed_in_at: str, *,
                      login_throttles: dict[str, list[Any]] | None = None) -> None:
        """A successful sign-in: the time stamped, the failure states replaced (those of other sources kept)."""
        uow.update(StaffItem(keys.tenant_pk(ctx.tenant_id), staff_sk(staff.user_id)),
                   [StaffItem.login_throttles.set(login_throttles) if login_throttles
                    else StaffItem.login_throttles.remove(), StaffItem.last_login_at.set(signed_in_at)])

    def stage_refresh_token(self, uow: UnitOfWork, ctx: TenantContext, token: RefreshToken) -> None:
        uow.put(RefreshTokenItem(keys.tenant_pk(ctx.tenant_id), refresh_sk(token.user_id, token.token_id),
                                 tenant_id=token.tenant_id, user_id=token.user_id, token_digest=token.token_digest,
                                 family_id=token.family_id, created_at=token.created_at, used_at=token.used_at,
                                 expires_at=token.expires_at))

    def stage_refresh_token_used(self, uow: UnitOfWork, ctx: TenantContext, token: RefreshToken, used_at: str, *,
                                 on_conflict: LinliError) -> None:
        """Mark the token used, only if nobody used it first."""
        uow.update(RefreshTokenItem(keys.tenant_pk(ctx.tenant_id), refresh_sk(token.user_id, token.token_id)),
                   [RefreshTokenItem.used_at.set(used_at)], condition=RefreshTokenItem.used_at.does_not_exist(),
                   on_conflict=on_conflict)

    def stage_new_api_key(self, uow: UnitOfWork, ctx: TenantContext, key: ApiKey) -> None:
        attributes = {name: value for name, value in asdict(key).items() if name != "secret_digest"}
        uow.put(ApiKeyItem(keys.api_key_pk(key.secret_digest), keys.API_KEY_SK, GSI1PK=api_keys_gsi_pk(ctx.tenant_id),
                           GSI1SK=key.key_id, **(attributes | {"scopes": list(key.scopes)})),
                condition=ApiKeyItem.PK.does_not_exist())

    def stage_api_key_revoked(self, uow: UnitOfWork, ctx: TenantContext, key: ApiKey, revoked_at: str) -> None:
        uow.update(ApiKeyItem(keys.api_key_pk(key.secret_digest), keys.API_KEY_SK),
                   [ApiKeyItem.revoked_at.set(revoked_at)], condition=ApiKeyItem.revoked_at.does_not_exist())

    def stage_active_staff_check(self, uow: UnitOfWork, ctx: TenantContext, user_id: str, *,
                                 on_conflict: LinliError) -> None:
        """Commit only if ``user_id`` is an active staff member who can take work (a ConditionCheck)."""
        uow.check(StaffItem, keys.tenant_pk(ctx.tenant_id), staff_sk(user_id),
                  (StaffItem.status == "active") & StaffItem.role.is_in(*ASSIGNABLE_ROLES), on_conflict=on_conflict)

    # --- canned replies (tenants.ports.CannedReplyStore) --------------------------------------------
    def canned_replies(self, ctx: TenantContext) -> list[CannedReply]:
        """All of the tenant's canned replies: one Query (at most 200 of ≤ 1,000 characters fit one page)."""
        return [_canned_reply(item) for item in CannedReplyItem.query(
            canned_replies_pk(ctx.tenant_id), CannedReplyItem.SK.startswith(canned_reply_sk("")))]

    def get_canned_reply(self, ctx: TenantContext, reply_id: str, *,
                         consistent: bool = False) -> CannedReply | None:
        try:
            return _canned_reply(CannedReplyItem.get(canned_replies_pk(ctx.tenant_id), canned_reply_sk(reply_id),
                                                     consistent_read=consistent))
        except DoesNotExist:
            return None

    def stage_new_canned_reply(self, uow: UnitOfWork, ctx: TenantContext, reply: CannedReply, *, most: int,
                               on_full: LinliError) -> None:
        """The reply, counted: refused with ``on_full`` when the tenant has ``most`` already."""
        pk = canned_replies_pk(ctx.tenant_id)
        uow.update(CounterItem(pk, CANNED_REPLY_COUNT_SK), [CounterItem.count.add(1)],
                   condition=CounterItem.count.does_not_exist() | (CounterItem.count < most), on_conflict=on_full)
        uow.put(CannedReplyItem(pk, canned_reply_sk(reply.reply_id), **asdict(reply)),
                condition=CannedReplyItem.PK.does_not_exist())

    def stage_canned_reply_update(self, uow: UnitOfWork, ctx: TenantContext, reply: CannedReply, *,
                                  expected_version: int, on_conflict: LinliError) -> None:
        """Write ``reply``'s editable fields if the stored one is still at ``expected_version``."""
        item = CannedReplyItem
        actions = [item.title.set(reply.title), item.body.set(reply.body), item.sort_order.set(reply.sort_order),
                   item.kind.set(reply.kind) if reply.kind else item.kind.remove(),
                   item.category.set(reply.category) if reply.category else item.category.remove(),
                   item.updated_at.set(reply.updated_at), item.version.set(reply.version)]
        uow.update(CannedReplyItem(canned_replies_pk(ctx.tenant_id), canned_reply_sk(reply.reply_id)), actions,
                   condition=CannedReplyItem.version == expected_version, on_conflict=on_conflict)

    def stage_canned_reply_delete(self, uow: UnitOfWork, ctx: TenantContext, reply: CannedReply, *,
                                  on_conflict: LinliError) -> None:
        """Remove the reply if still at the version read, and count it out."""
        pk = canned_replies_pk(ctx.tenant_id)
        uow.delete(CannedReplyItem(pk, canned_reply_sk(reply.reply_id)),
                   condition=CannedReplyItem.version == reply.version, on_conflict=on_conflict)
        uow.update(CounterItem(pk, CANNED_REPLY_COUNT_SK), [CounterItem.count.add(-1)])

