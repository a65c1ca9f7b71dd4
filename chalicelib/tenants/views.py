"""Records as the routes show them: tenant, staff member and API key responses."""
from __future__ import annotations

from chalicelib.core.permissions import Role
from chalicelib.core.privacy import mask_phone
from chalicelib.core.tenancy import TenantContext
from chalicelib.tenants.domain import TenantConfig
from chalicelib.tenants.records import ApiKey, Staff, Tenant
from chalicelib.tenants.schemas import ApiKeyOut, PublicBrandingOut, StaffOut, TenantOut


def tenant_out(tenant: Tenant) -> TenantOut:
    """The tenant's profile and its configuration as in effect (default SLA policies and rules shown)."""
    config = TenantConfig.model_validate(tenant.config)
    return TenantOut(id=tenant.tenant_id, slug=tenant.slug, company_name=tenant.company_name, plan=tenant.plan,
                     isolation=tenant.isolation, branding=config.branding, timezone=config.timezone,
                     locale=config.locale, ticket_kinds=config.ticket_kinds, ticket_settings=config.ticket_settings,
                     teams=config.teams, dispatch_rules=config.dispatch_rules, wechat_app_id=config.wechat_app_id,
                     sla_policies=config.policies(), calendars=config.calendars,
                     community_calendars=config.community_calendars,
                     notifications=config.notifications.model_copy(
                         update={"rules": config.notifications.effective_rules()}),
                     api_keys_outlive_creator=config.api_keys_outlive_creator, created_at=tenant.created_at,
                     updated_at=tenant.updated_at, version=tenant.version)


def public_branding_out(tenant: Tenant) -> PublicBrandingOut:
    """What the white-labelled resident page shows: no configuration beyond branding and visible kinds."""
    config = TenantConfig.model_validate(tenant.config)
    branding = config.branding
    name = branding.display_name or tenant.company_name
    return PublicBrandingOut(slug=tenant.slug, name=name, logo_url=branding.logo_url,
                             primary_color=branding.primary_color, contact_phone=branding.contact_phone,
                             notice=branding.notice, page_title=branding.page_title or name, locale=config.locale,
                             ticket_kinds=[k for k in config.ticket_kinds if k.resident_visible])


def sees_staff_phone(viewer: TenantContext, staff: Staff) -> bool:
    """Staff phones are shown whole to admins and to the member themselves; everyone else (agents,
    supervisors, technicians, butlers, API keys) sees them masked."""
    principal = viewer.principal
    return principal.kind == "staff" and (principal.role == Role.ADMIN or principal.id == staff.user_id)


def staff_out(staff: Staff, viewer: TenantContext | None = None) -> StaffOut:
    """The member as ``viewer`` may see them (``None``: the member themselves, e.g. at signup)."""
    phone = staff.phone if viewer is None or sees_staff_phone(viewer, staff) else mask_phone(staff.phone)
    return StaffOut(id=staff.user_id, email=staff.email, name=staff.name, role=Role(staff.role), status=staff.status,
                    phone=phone, on_duty=staff.on_duty is not False, last_login_at=staff.last_login_at,
                    created_at=staff.created_at, updated_at=staff.updated_at, version=staff.version)


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(id=key.key_id, name=key.name, scopes=list(key.scopes), hint=key.hint,
                     created_at=key.created_at, created_by=key.created_by, last_used_at=key.last_used_at,
                     revoked_at=key.revoked_at, acts_for=key.acts_for)
