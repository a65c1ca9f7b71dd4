"""Canned replies (快捷回复) on in-memory fakes: the tenant's snippets — checked, counted, audited — and the reply box
of one ticket, which offers the replies of its kind and category with their placeholders filled for it.

Given a signed-up company (an admin, a supervisor) with the default catalogue; the ticket desk of ``test_tickets``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from pydantic import ValidationError

from chalicelib.core.errors import (
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
    UnauthenticatedError,
    ValidationFailedError,
)
from chalicelib.core.permissions import Permission, Role, permissions_for
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.tenants.canned_replies import MAX_CANNED_REPLIES, CannedReplyService
from chalicelib.tenants.domain import Branding, TenantConfig
from chalicelib.tenants.schemas import CannedReplyIn, CannedReplyPatch, SignupIn, StaffIn, StaffPatch
from chalicelib.tickets.domain import Action
from chalicelib.tickets.replies import TicketReplies
from chalicelib.tickets.schemas import ActionIn, StaffTicketIn
from tests.fakes.storage import MemoryStore
from tests.fakes.tenants import TenantServices, access_and_sessions, tenant_services
from tests.service.test_tickets import AGENT, LEAK, NOW, RESIDENT, TECH, Desk, new_desk

PASSWORD = "Correct-horse-42"
RECEIVED = "您好，已收到您的报修，维修师傅将在30分钟内联系您。"


@dataclass
class Company:
    services: TenantServices
    replies: CannedReplyService
    admin: TenantContext
    supervisor: TenantContext
    added: int = 0

    def add(self, title: str, body: str, ctx: TenantContext | None = None, **scope: object):
        """Add a reply, a second after the one before."""
        self.added += 1
        return self.replies.create(ctx or self.admin, CannedReplyIn(title=title, body=body, **scope),
                                   NOW + timedelta(seconds=self.added))

    def titles(self, **filters: str) -> list[str]:
        return [r.title for r in self.replies.list_replies(self.admin, **filters)]

    def events(self) -> list[tuple[str, str]]:
        return [(e.type, e.subject_id) for e in self.services.store.events if e.type.startswith("canned_reply.")]


@pytest.fixture
def company() -> Company:
    store = MemoryStore()
    services = tenant_services(store, now=NOW)
    created = services.auth.signup(SignupIn(company_name="绿城物业", slug="green-garden",
                                            admin_email="boss@example.com", admin_password=PASSWORD), NOW)
    admin = TenantContext(created.tenant.id, Principal("staff", created.user.id, Role.ADMIN, frozenset(Permission)))
    lead = services.staff.create_staff(admin, StaffIn(email="lead@example.com", name="周主管", role=Role.SUPERVISOR,
                                                      password=PASSWORD), NOW)
    supervisor = TenantContext(admin.tenant_id, Principal("staff", lead.id, Role.SUPERVISOR,
                                                          permissions_for(Role.SUPERVISOR)))
    access, _ = access_and_sessions(store)
    replies = CannedReplyService(services.repo, services.configs, store.unit_of_work, access, cache_seconds=60)
    return Company(services, replies, admin, supervisor)


def test_a_reply_is_stored_audited_and_listed(company):
    reply = company.add("已受理", RECEIVED, kind="repair", sort_order=10)

    assert reply.id.startswith("crp_") and (reply.version, reply.kind, reply.category) == (1, "repair", None)
    assert company.replies.list_replies(company.admin) == [reply]
    assert company.events() == [("canned_reply.created", reply.id)]
    [event] = [e for e in company.services.store.events if e.type == "canned_reply.created"]
    assert event.data["title"] == "已受理" and event.actor["id"] == company.admin.principal.id


def test_supervisors_manage_them_too_but_never_after_losing_the_role(company):
    company.add("稍等", "{resident_name}您好，请稍等，马上为您查询。", ctx=company.supervisor)
    company.services.staff.update_staff(company.admin, company.supervisor.principal.id,
                                        StaffPatch(role=Role.AGENT), None, NOW)
    with pytest.raises(UnauthenticatedError):  # the token still says supervisor; the store no longer does
        company.add("再等", "请再等等。", ctx=company.supervisor)
    assert company.titles() == ["稍等"]


@pytest.mark.parametrize("body,named", [
    ("{resident}您好", "unknown variable {resident}"),
    ("{resident_name:>999999}您好", "{resident_name:>999999}: format specs are not allowed; write {resident_name}"),
    ("{staff_name!r}", "{staff_name!r}: conversions are not allowed"),
    ("{ticket_number.__class__}", "attribute and index access are not allowed"),
    ("{0}{}", "positional fields are not allowed"),
    ("请带上{身份证}", "unknown variable {身份证}"),
    ("单独的 { 括号", "a '{' without its '}'"),
])
def test_a_body_may_use_only_the_known_placeholders_plainly(body, named):
    with pytest.raises(ValidationError) as refused:
        CannedReplyIn(title="x", body=body)
    [error] = refused.value.errors()
    assert error["loc"] == ("body",) and error["type"] == "invalid_placeholder" and named in error["msg"]
    with pytest.raises(ValidationError):
        CannedReplyPatch(body=body)
    assert CannedReplyIn(title="x", body="{{原样}} {resident_name}{ticket_number}{staff_name}{community_name}"
                                          "{service_phone}{kind_name}").body.startswith("{{原样}}")


def test_its_kind_and_category_must_be_the_catalogues(company):
    for scope, field, type_ in (({"kind": "plumbing"}, "kind", "unknown_kind"),
                                ({"kind": "repair", "category": "噪音"}, "category", "unknown_category"),
                                ({"category": "不存在"}, "category", "unknown_category")):
        with pytest.raises(ValidationFailedError) as refused:
            company.add("x", "y", **scope)
        assert (refused.value.details[0]["field"], refused.value.details[0]["type"]) == (field, type_)
    company.add("噪音", "已通知保安上门劝导。", category="噪音")             # a category alone: some kind has it
    company.add("建议", "感谢您的建议！", kind="suggestion", category="绿化")  # a kind listing none takes any
    assert company.titles() == ["建议", "噪音"]  # the more specific first


def test_a_company_keeps_at_most_200(company):
    company.services.repo.canned_counts[company.admin.tenant_id] = MAX_CANNED_REPLIES - 1
    last = company.add("最后一条", "好的。")
    with pytest.raises(ConflictError) as full:
        company.add("多一条", "好的。")
    assert full.value.code == "too_many_canned_replies" and company.titles() == ["最后一条"]
    company.replies.delete(company.admin, last.id, None, NOW)
    company.add("又一条", "好的。")


def test_a_change_needs_the_version_read_and_null_makes_a_reply_general(company):
    reply = company.add("已受理", RECEIVED, kind="repair", category="水电")
    with pytest.raises(PreconditionFailedError):
        company.replies.update(company.admin, reply.id, CannedReplyPatch(title="新"), 7, NOW)
    changed = company.replies.update(company.admin, reply.id, CannedReplyPatch(title="受理", category=None), 1, NOW)
    assert (changed.title, changed.kind, changed.category, changed.version) == ("受理", "repair", None, 2)
    general = company.replies.update(company.admin, reply.id, CannedReplyPatch(kind=None), None, NOW)
    assert (general.kind, general.version) == (None, 3)
    unchanged = company.replies.update(company.admin, reply.id, CannedReplyPatch(title="受理"), None, NOW)
    assert unchanged == general
    with pytest.raises(ValidationFailedError):
        company.replies.update(company.admin, reply.id, CannedReplyPatch(category="不存在"), None, NOW)
    [updated, _] = [e for e in company.services.store.events if e.type == "canned_reply.updated"]
    assert updated.changes == {"category": {"before": "水电", "after": None},
                               "title": {"before": "已受理", "after": "受理"}}


def test_removing_one_needs_the_version_read_and_another_companys_is_not_found(company):
    reply = company.add("已受理", RECEIVED)
    with pytest.raises(PreconditionFailedError):
        company.replies.delete(company.admin, reply.id, 2, NOW)
    elsewhere = TenantContext("tnt_other", company.admin.principal)
    with pytest.raises(NotFoundError):
        company.replies.delete(elsewhere, reply.id, None, NOW)
    with pytest.raises(NotFoundError):
        company.replies.update(elsewhere, reply.id, CannedReplyPatch(title="改"), None, NOW)
    assert company.replies.list_replies(elsewhere) == [] and company.replies.for_desk(elsewhere) == []
    company.replies.delete(company.admin, reply.id, 1, NOW)
    assert company.titles() == [] and company.events()[-1] == ("canned_reply.deleted", reply.id)
    with pytest.raises(NotFoundError):
        company.replies.delete(company.admin, reply.id, None, NOW)


def test_a_listing_keeps_the_kinds_or_categorys_replies_and_the_general_ones_in_desk_order(company):
    company.add("通用", "{resident_name}您好。", sort_order=5)
    company.add("水电", "水电师傅马上联系您。", kind="repair", category="水电", sort_order=5)
    company.add("报修", RECEIVED, kind="repair", sort_order=5)
    company.add("置顶", "紧急情况请拨打{service_phone}。")
    company.add("投诉", "已记录您的投诉。", kind="complaint")
    company.add("噪音", "已通知保安。", category="噪音")

    # sort_order, then the more specific (kind and category, one of them, neither), then the older
    assert company.titles() == ["投诉", "噪音", "置顶", "水电", "报修", "通用"]
    assert company.titles(kind="repair") == ["噪音", "置顶", "水电", "报修", "通用"]
    assert company.titles(kind="repair", category="水电") == ["置顶", "水电", "报修", "通用"]
    assert company.titles(category="噪音") == ["投诉", "噪音", "置顶", "报修", "通用"]


def test_the_desk_reads_them_once_per_container_until_one_changes(company):
    reads = []
    real = company.services.repo.canned_replies
    company.services.repo.canned_replies = lambda ctx: reads.append(ctx.tenant_id) or real(ctx)
    company.add("已受理", RECEIVED)
    assert [r.title for r in company.replies.for_desk(company.admin)] == ["已受理"]
    assert [r.title for r in company.replies.for_desk(company.admin)] == ["已受理"] and len(reads) == 1
    company.add("再见", "祝您生活愉快！")
    assert len(company.replies.for_desk(company.admin)) == 2 and len(reads) == 2


# --- the reply box of one ticket ------------------------------------------------------------------------
class Names:
    """``ports.StaffNames`` and ``ports.PlaceNames``: counts the reads it answers."""

    def __init__(self) -> None:
        self.place_reads: list[tuple[str | None, str | None]] = []

    def display_name(self, ctx: TenantContext, user_id: str) -> str | None:
        return {"usr_agent": "李娜", "usr_tech": "张师傅"}.get(user_id)

    def place_names(self, ctx, *, resident_id, community_id):  # noqa: ANN001, ANN201
        self.place_reads.append((resident_id, community_id))
        return ("陈阿姨" if resident_id == "res_chen" else None), ("翠苑" if community_id == "com_1" else None)


@dataclass
class Box:
    desk: Desk
    company: Company
    names: Names
    replies: TicketReplies

    def offered(self, ctx: TenantContext, ticket_id: str) -> list[tuple[str, str, list[str]]]:
        return [(s.title, s.text, s.unfilled) for s in self.replies.suggestions(ctx, ticket_id)]


@pytest.fixture
def box(company) -> Box:
    desk, names = new_desk(), Names()
    desk.configs.current = TenantConfig(branding=Branding(contact_phone="400-820-8820"))

    class DeskReplies:
        """The company's replies, answered for the desk's tenant (the two sets of fakes name their tenants apart)."""

        def for_desk(self, ctx: TenantContext) -> list:
            return company.replies.for_desk(company.admin) if ctx.tenant_id == AGENT.tenant_id else []

    replies = TicketReplies(desk.queries.access, desk.configs, DeskReplies(), names, names)
    return Box(desk, company, names, replies)


def test_a_ticket_is_offered_its_kinds_and_categorys_replies_filled_in(box):
    company = box.company
    company.add("已受理", RECEIVED, kind="repair")
    company.add("水电", "{resident_name}您好，{staff_name}已为您派单（工单{ticket_number}），"
                      "{community_name}水电师傅马上到。", kind="repair", category="水电")
    company.add("问候", "{resident_name}您好，这里是{kind_name}服务，电话{service_phone}。")
    company.add("门窗", "门窗师傅马上到。", kind="repair", category="门窗")
    company.add("投诉", "已记录您的投诉。", kind="complaint")
    ticket = box.desk.intake.create(RESIDENT, LEAK, None, NOW)  # filed by the resident: no name on the ticket

    assert box.offered(AGENT, ticket.id) == [
        ("水电", f"陈阿姨您好，李娜已为您派单（工单{ticket.number}），翠苑水电师傅马上到。", []),
        ("已受理", RECEIVED, []),
        ("问候", "陈阿姨您好，这里是报修服务，电话400-820-8820。", [])]
    assert box.names.place_reads == [("res_chen", "com_1")]  # both names in one read


def test_only_the_names_the_offered_replies_use_are_read(box):
    company = box.company
    company.add("已受理", RECEIVED)
    resident_filed = box.desk.intake.create(RESIDENT, LEAK, None, NOW)
    assert box.offered(AGENT, resident_filed.id) == [("已受理", RECEIVED, [])] and box.names.place_reads == []

    company.add("问候", "{resident_name}您好！")
    staff_filed = box.desk.intake.create(AGENT, StaffTicketIn(**{**LEAK.model_dump(), "category": "门窗"},
                                                               resident_id="res_chen"), None, NOW)
    assert box.offered(AGENT, staff_filed.id)[-1] == ("问候", "陈阿姨您好！", [])
    assert box.names.place_reads == []  # staff filed it with the resident's name on it


def test_what_nothing_is_known_for_is_left_empty_and_said(box):
    box.desk.configs.current = TenantConfig()  # no service phone set
    box.company.add("致电", "如有疑问请致电{service_phone}，{staff_name}为您服务。")
    ticket = box.desk.intake.create(RESIDENT, LEAK, None, NOW)
    box.desk.transitions.act(AGENT, ticket.id, Action.ASSIGN, ActionIn(assignee_id="usr_tech"), None, NOW)
    assert box.offered(TECH, ticket.id) == [("致电", "如有疑问请致电，张师傅为您服务。", ["service_phone"])]
    assert box.offered(TenantContext(AGENT.tenant_id, Principal("api_key", "key_erp")), ticket.id) == [
        ("致电", "如有疑问请致电，为您服务。", ["service_phone", "staff_name"])]  # an integration has no name


def test_another_tenants_or_an_unseen_ticket_is_not_found(box):
    box.company.add("已受理", RECEIVED)
    ticket = box.desk.intake.create(RESIDENT, LEAK, None, NOW)
    with pytest.raises(NotFoundError):
        box.replies.suggestions(TECH, ticket.id)  # not the technician's job
    with pytest.raises(NotFoundError):
        box.replies.suggestions(TenantContext("tnt_other", AGENT.principal), ticket.id)
