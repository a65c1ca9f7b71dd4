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
# (title, body, kind, category, sort order): the desk's canned replies (快捷回复)
DEMO_CANNED_REPLIES = (
    ("问候", "{resident_name}您好，我是{community_name}物业客服{staff_name}，很高兴为您服务。", None, None, 10),
    ("报修已受理", "您好，已收到您的报修，维修师傅将在30分钟内联系您。", "repair", None, 20),
    ("水电师傅上门", "{resident_name}您好，您的报修（工单号{ticket_number}）已派给水电师傅，请保持电话畅通。",
     "repair", "水电", 20),
    ("投诉已记录", "{resident_name}您好，您反映的问题已记录（工单号{ticket_number}），我们会在24小时内给您答复。",
     "complaint", None, 20),
    ("结束语", "感谢您的耐心，祝您生活愉快！如还有问题，可随时在此留言。", None, None, 90),
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
    fresh = tenant_id is None
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
    _seed_canned_replies(ctx)
    if fresh:  # once, with the tenant: the queue has something in it on the first visit
        _seed_tickets(ctx)
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
    bootstrap.resident_repository().backfill_search_index(ctx.tenant_id, utcnow())  # residents seeded before it


def upgrade_data() -> int:
    """Bring data kept from earlier runs (``.linli/``) up to the item shapes this code reads: today, residents
    written before the staff's search (phone keys in clear, no search entries) get their search entries and phone
    digests, and tenants whose webhook endpoints were registered before they were counted get their count.
    Idempotent and cheap once done; returns how many items changed. Development tooling: it scans for
    the tenants, which deployed code never does (there the backfill runs per tenant, see the residents repository).
    """
    from chalicelib.tenants.repository import TenantItem

    repository, webhooks, now = bootstrap.resident_repository(), bootstrap.webhook_repository(), utcnow()
    return sum(repository.backfill_search_index(item.tenant_id, now) + webhooks.backfill_endpoint_count(item.tenant_id)
               for item in TenantItem.scan())


def _seed_canned_replies(ctx: TenantContext) -> None:
    from chalicelib.tenants.schemas import CannedReplyIn

    replies = bootstrap.canned_reply_service()
    existing = {r.title for r in replies.list_replies(ctx)}
    for title, body, kind, category, sort_order in DEMO_CANNED_REPLIES:
        if title not in existing:
            replies.create(ctx, CannedReplyIn(title=title, body=body, kind=kind, category=category,
                                              sort_order=sort_order), utcnow())



# (resident phone, kind, category, description, channel, acknowledged?) — none is a repair, so the README's
# walk-through still finds its own repair at the top of the repair queue, and none is an emergency, which pages.
DEMO_TICKETS = (
    ("13800000003", "complaint", "噪音", "楼上每晚十一点后还在装修，电钻声很大，影响休息。", "h5", False),
    ("13800000002", "inquiry", "物业费", "请问今年的物业费可以线上缴纳吗？有没有发票？", "phone", True),
    ("13800000004", "service", None, "想预约周六上午开锁换锁芯，需要多少钱？", "mini_program", False),
    ("13800000001", "suggestion", None, "建议在 1 栋门口加装一个快递柜。", "h5", False),
)


def _seed_tickets(ctx: TenantContext) -> None:
    from chalicelib.tickets.domain import Action
    from chalicelib.tickets.schemas import ActionIn, StaffTicketIn

    people, _ = bootstrap.resident_repository().list_residents(ctx, 100, None)
    residents = {person.phone: person for person in people}
    for phone, kind, category, description, channel, acknowledge in DEMO_TICKETS:
        resident = residents[phone]
        unit = resident.units[0]
        ticket = bootstrap.ticket_intake().create(ctx, StaffTicketIn(
            resident_id=resident.resident_id, kind=kind, category=category, description=description, channel=channel,
            location={"community_id": unit["community_id"], "unit_id": unit["unit_id"]}), None, utcnow())
        if acknowledge:
            bootstrap.ticket_transitions().act(ctx, ticket.id, Action.ACKNOWLEDGE, ActionIn(), None, utcnow())
