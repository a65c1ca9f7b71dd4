"""Demo data for the embedded stack. Idempotent: seeding twice changes nothing."""
from __future__ import annotations

import csv
import io

from chalicelib import bootstrap
from chalicelib.core.clock import utcnow
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext

DEMO_SLUG = "demo"
DEMO_PASSWORD = "Linli-demo-2026"
DEMO_RESIDENTS_CSV = """小区,楼栋,单元,房号,姓名,手机,身份
翠苑,1栋,1单元,101,陈阿姨,13800000001,业主
翠苑,1栋,2单元,202,刘先生,13800000003,住户
荷塘月色,2栋,1单元,1201,赵女士,13800000002,业主
荷塘月色,5栋,,301,孙老师,13800000004,家属
"""
DEMO_COMMUNITIES = (("翠苑", "杭州市西湖区文三路 88 号"), ("荷塘月色", "杭州市拱墅区莫干山路 66 号"))
DEMO_STAFF = (
    ("admin@demo.test", "王敏 (管理员)", Role.ADMIN),
    ("agent@demo.test", "李娜 (客服)", Role.AGENT),
    ("tech@demo.test", "张强 (维修工)", Role.TECHNICIAN),
)


def demo_residents() -> list[tuple[str, str, str]]:
    """(phone, name, home) of the demo residents, as the CSV lists them.

    Example
    -------
    >>> demo_residents()[0]
    ('13800000001', '陈阿姨', '翠苑1栋1单元101')
    """
    return [(row["手机"], row["姓名"], row["小区"] + row["楼栋"] + row["单元"] + row["房号"])
            for row in csv.DictReader(io.StringIO(DEMO_RESIDENTS_CSV))]


def seed_demo() -> str:
    """Create the ``demo`` tenant and its staff if missing; returns the tenant id."""
    from chalicelib.tenants.schemas import SignupIn, StaffIn

    tenants = bootstrap.tenant_repository()
    tenant_id = tenants.tenant_id_for_slug(DEMO_SLUG)
    now = utcnow()
    if tenant_id is None:
        email, name, _ = DEMO_STAFF[0]
        created = bootstrap.staff_auth().signup(SignupIn(company_name="邻里示范物业", slug=DEMO_SLUG, admin_email=email,
                                                         admin_password=DEMO_PASSWORD, admin_name=name), now)
        tenant_id = created.tenant.id
    admin = tenants.find_staff_by_email(tenant_id, DEMO_STAFF[0][0])
    ctx = TenantContext(tenant_id, Principal("staff", admin.user_id, Role.ADMIN, frozenset(Permission)))
    for email, name, role in DEMO_STAFF[1:]:
        if tenants.find_staff_by_email(tenant_id, email) is None:
            bootstrap.staff_service().create_staff(ctx, StaffIn(email=email, name=name, role=role,
                                                                password=DEMO_PASSWORD), now)
    _seed_places_and_residents(ctx)
    return tenant_id


def _seed_places_and_residents(ctx: TenantContext) -> None:
    from chalicelib.residents.schemas import CommunityIn

    places = bootstrap.place_service()
    existing, _ = places.list_communities(ctx, 100, None)
    names = {c.name for c in existing}
    for name, address in DEMO_COMMUNITIES:
        if name not in names:
            places.create_community(ctx, CommunityIn(name=name, address=address, city="杭州"), utcnow())
    report = bootstrap.resident_service().import_csv(ctx, DEMO_RESIDENTS_CSV.encode(), utcnow())
    if report.errors:
        raise RuntimeError(f"demo residents did not import: {report.errors}")
