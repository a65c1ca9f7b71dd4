"""Demo data for the embedded stack. Idempotent: seeding twice changes nothing."""
from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.core.clock import utcnow
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext

DEMO_SLUG = "demo"
DEMO_PASSWORD = "Linli-demo-2026"
DEMO_STAFF = (
    ("admin@demo.test", "王敏 (管理员)", Role.ADMIN),
    ("agent@demo.test", "李娜 (客服)", Role.AGENT),
    ("tech@demo.test", "张强 (维修工)", Role.TECHNICIAN),
)


def seed_demo() -> str:
    """Create the ``demo`` tenant and its staff if missing; returns the tenant id."""
    from chalicelib.tenants.schemas import SignupIn, StaffIn

    service = bootstrap.tenant_service()
    tenant_id = service.repo.tenant_id_for_slug(DEMO_SLUG)
    now = utcnow()
    if tenant_id is None:
        email, name, _ = DEMO_STAFF[0]
        created = service.signup(SignupIn(company_name="邻里示范物业", slug=DEMO_SLUG, admin_email=email,
                                          admin_password=DEMO_PASSWORD, admin_name=name), now)
        tenant_id = created.tenant.id
    admin = service.repo.find_staff_by_email(tenant_id, DEMO_STAFF[0][0])
    ctx = TenantContext(tenant_id, Principal("staff", admin.user_id, Role.ADMIN, frozenset(Permission)))
    for email, name, role in DEMO_STAFF[1:]:
        if service.repo.find_staff_by_email(tenant_id, email) is None:
            service.create_staff(ctx, StaffIn(email=email, name=name, role=role, password=DEMO_PASSWORD), now)
    return tenant_id
