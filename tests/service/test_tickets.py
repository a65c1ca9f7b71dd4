"""Ticket use cases on in-memory fakes: intake, actions, comments, SLA marks, auto-close. No emulator, milliseconds.

Given a tenant with the default catalogue and SLA policies, a resident in unit 101, an agent and a technician.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import (
    ConflictError,
    ForbiddenError,
    LinliError,
    NotFoundError,
    PreconditionFailedError,
    RateLimitedError,
    ValidationFailedError,
)
from chalicelib.core.permissions import Permission, Role, permissions_for
from chalicelib.core.tenancy import Principal, TenantContext, UnitClaim
from chalicelib.tenants.domain import TenantConfig
from chalicelib.tickets.access import TicketAccess
from chalicelib.tickets.domain import Action
from chalicelib.tickets.intake import TicketIntake
from chalicelib.tickets.presentation import TicketPresenter
from chalicelib.tickets.queries import TicketQueries
from chalicelib.tickets.scheduled import TicketSchedules
from chalicelib.tickets.schemas import ActionIn, StaffTicketIn, TicketIn, TicketOut, TicketQuery
from chalicelib.tickets.transitions import TicketTransitions
from tests.fakes.storage import InMemoryUnitOfWork, MemoryStore
from tests.fakes.tickets import InMemoryTicketRepository, RecordingAttachments

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TENANT = "tnt_svc"


@dataclass
class Resident:
    resident_id: str
    name: str
    phone: str = "13800000001"


@dataclass
class Unit:
    unit_id: str
    label: str
    building_id: str


class Configs:
    """``ports.TenantConfigs``: one tenant's configuration."""

    def __init__(self, config: TenantConfig) -> None:
        self.current = config

    def config(self, tenant_id: str) -> TenantConfig:
        return self.current


class Staff:
    """``ports.StaffChecks``: who is active staff."""

    def __init__(self, active: set[str]) -> None:
        self.active = active

    def stage_active_staff_check(self, uow: InMemoryUnitOfWork, ctx: TenantContext, user_id: str, *,
                                 on_conflict: LinliError) -> None:
        uow.check(lambda: user_id in self.active, on_conflict=on_conflict)


class Places:
    """``ports.PlaceDirectory``: one resident in one unit of one community."""

    def place_for_ticket(self, ctx: TenantContext, *, resident_id: str, community_id: str, unit_id: str | None):
        resident = Resident("res_chen", "陈阿姨") if resident_id == "res_chen" else None
        unit = Unit("unt_101", "1栋1单元101", "bld_1") if unit_id == "unt_101" and community_id == "com_1" else None
        return resident, unit, community_id == "com_1"

    def stage_resident_link_check(self, uow, ctx, *, resident_id, community_id, unit_id, on_conflict):  # noqa: ANN001
        uow.check(lambda: resident_id == "res_chen" and community_id == "com_1" and unit_id in (None, "unt_101"),
                  on_conflict=on_conflict)


def staff(user_id: str, role: Role) -> TenantContext:
    return TenantContext(TENANT, Principal("staff", user_id, role, permissions_for(role)))


RESIDENT = TenantContext(TENANT, Principal("resident", "res_chen", units=(
    UnitClaim("com_1", "unt_101", "1栋1单元101", "bld_1"),)))
AGENT, TECH = staff("usr_agent", Role.AGENT), staff("usr_tech", Role.TECHNICIAN)
ADMIN = TenantContext(TENANT, Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
LEAK = TicketIn(kind="repair", category="水电", description="厨房水管漏水",
                location={"community_id": "com_1", "unit_id": "unt_101"})


@dataclass
class Desk:
    store: MemoryStore
    tickets: InMemoryTicketRepository
    configs: Configs
    intake: TicketIntake
    transitions: TicketTransitions
    queries: TicketQueries
    schedules: TicketSchedules

    def types(self, ticket_id: str) -> list[str]:
        return [e.type for e in self.store.events_of(ticket_id)]


@pytest.fixture
def desk() -> Desk:
    return new_desk()


def new_desk() -> Desk:
    """The ticket services on fresh fakes (other service tests build on the same desk)."""
    store = MemoryStore()
    tickets = InMemoryTicketRepository(store)
    configs = Configs(TenantConfig())
    access = TicketAccess(tickets, configs)
    presenter = TicketPresenter(configs, RecordingAttachments())
    transitions = TicketTransitions(tickets, configs, Staff({"usr_agent", "usr_tech"}), access, presenter,
                                    store.unit_of_work)
    return Desk(store, tickets, configs,
                TicketIntake(tickets, configs, Places(), RecordingAttachments(), presenter, store.unit_of_work),
                transitions, TicketQueries(tickets, access, presenter),
                TicketSchedules(tickets, transitions, store.unit_of_work))


def test_a_resident_files_a_repair_with_its_clocks_in_one_commit(desk):
    ticket = desk.intake.create(RESIDENT, LEAK, "leak-1", NOW)

    assert ticket.status == "new" and ticket.priority == "P3" and len(ticket.number) == 11
    assert ticket.location == {"community_id": "com_1", "unit_id": "unt_101", "label": "1栋1单元101",
                               "building_id": "bld_1"}
    assert {c["clock"]: c["due_at"] for c in ticket.sla} == {"first_response": "2026-11-27T02:15:00.000Z",
                                                             "resolution": "2026-11-28T02:00:00.000Z"}
    assert desk.types(ticket.id) == ["ticket.created", "sla.started", "sla.started"]
    assert desk.store.commits == 1
    stored = desk.tickets.get(RESIDENT, ticket.id)
    assert stored.number == ticket.number and stored.sla_state == "running"
    assert desk.tickets.ticket_id_for_number(AGENT, ticket.number) == ticket.id


def test_an_idempotent_replay_answers_the_first_ticket_and_a_reused_key_is_refused(desk):
    first = desk.intake.create(RESIDENT, LEAK, "leak-1", NOW)
    again = desk.intake.create(RESIDENT, LEAK, "leak-1", NOW + timedelta(seconds=3))
    assert again.id == first.id and desk.store.commits == 1

    with pytest.raises(ValidationFailedError) as refused:
        desk.intake.create(RESIDENT, LEAK.model_copy(update={"description": "另一件事"}), "leak-1", NOW)
    assert refused.value.code == "idempotency_key_reused"


def test_the_same_problem_twice_in_a_day_is_flagged_as_a_possible_duplicate(desk):
    first = desk.intake.create(RESIDENT, LEAK, None, NOW)
    second = desk.intake.create(AGENT, StaffTicketIn(**LEAK.model_dump(), resident_id="res_chen"), None,
                                NOW + timedelta(hours=1))
    assert second.possible_duplicate_of == first.id
    assert desk.store.events_of(second.id)[0].data["possible_duplicate_of"] == first.id


def test_the_daily_limit_stops_a_resident_and_files_nothing(desk):
    desk.configs.current = TenantConfig(ticket_settings={"resident_daily_limit": 1})
    desk.intake.create(RESIDENT, LEAK, None, NOW)
    with pytest.raises(RateLimitedError) as limited:
        desk.intake.create(RESIDENT, LEAK.model_copy(update={"category": "门窗"}), None, NOW)
    assert limited.value.code == "daily_ticket_limit"
    assert len(desk.tickets.tickets) == 1 and desk.store.commits == 1


def test_a_photo_that_was_never_uploaded_refuses_the_whole_ticket(desk):
    with pytest.raises(ValidationFailedError) as refused:
        desk.intake.create(RESIDENT, LEAK.model_copy(update={"attachments": ["att_nope"]}), None, NOW)
    assert refused.value.details[0]["field"] == "attachments.0"
    assert desk.tickets.tickets == {} and desk.store.events == []


def test_an_uploaded_photo_is_kept_and_shown_with_a_short_lived_link(desk):
    upload = desk.intake.presign_attachment(RESIDENT, _photo(), NOW)
    ticket = desk.intake.create(RESIDENT, LEAK.model_copy(update={"attachments": [upload.id]}), None, NOW)
    assert [a.id for a in ticket.attachments] == [upload.id]
    assert ticket.attachments[0].url.endswith(f"/t/{TENANT}/att/{upload.id}")


def test_staff_file_for_an_unknown_resident_or_unit_get_422(desk):
    body = LEAK.model_dump()
    with pytest.raises(ValidationFailedError) as unknown:
        desk.intake.create(AGENT, StaffTicketIn(**body, resident_id="res_nobody"), None, NOW)
    assert unknown.value.details[0]["type"] == "unknown_resident"
    body["location"] = {"community_id": "com_1", "unit_id": "unt_999"}
    with pytest.raises(ValidationFailedError) as no_unit:
        desk.intake.create(AGENT, StaffTicketIn(**body, resident_id="res_chen"), None, NOW)
    assert no_unit.value.details[0]["type"] == "unknown_unit"


def test_acknowledging_meets_the_first_response_clock_and_records_why(desk):
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    acked = desk.transitions.act(AGENT, ticket.id, Action.ACKNOWLEDGE, ActionIn(), None, NOW + timedelta(minutes=5))

    assert acked.status == "acknowledged" and acked.version == 2
    first = next(c for c in acked.sla if c["clock"] == "first_response")
    assert first["state"] == "met" and first["met_at"] == "2026-11-27T02:05:00.000Z"
    event = desk.store.events_of(ticket.id)[-2]
    assert event.type == "ticket.acknowledged" and event.changes["status"] == {"before": "new",
                                                                              "after": "acknowledged"}
    met = desk.store.events_of(ticket.id)[-1]
    assert met.type == "sla.met" and met.data["reason"] == "acknowledge by staff" and met.data["late"] is False


def test_assigning_to_someone_who_is_not_active_staff_changes_nothing(desk):
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    with pytest.raises(ValidationFailedError) as refused:
        desk.transitions.act(AGENT, ticket.id, Action.ASSIGN, ActionIn(assignee_id="usr_gone"), None, NOW)
    assert refused.value.details[0]["type"] == "unknown_staff"
    assert desk.tickets.get(AGENT, ticket.id).version == 1 and len(desk.store.events_of(ticket.id)) == 3


def test_a_stale_if_match_is_412_and_an_illegal_action_409_with_what_is_allowed(desk):
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    with pytest.raises(PreconditionFailedError):
        desk.transitions.act(AGENT, ticket.id, Action.ACKNOWLEDGE, ActionIn(), 7, NOW)
    with pytest.raises(ConflictError) as illegal:
        desk.transitions.act(AGENT, ticket.id, Action.CLOSE, ActionIn(), None, NOW)
    assert illegal.value.code == "illegal_transition" and "acknowledge" in illegal.value.details["allowed_actions"]


def test_a_technician_sees_only_their_own_jobs(desk):
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    with pytest.raises(NotFoundError):
        desk.queries.get(TECH, ticket.id, NOW)
    desk.transitions.act(AGENT, ticket.id, Action.ASSIGN, ActionIn(assignee_id="usr_tech"), None, NOW)
    assert desk.queries.get(TECH, ticket.id, NOW).assignee_id == "usr_tech"
    mine, _ = desk.queries.queue(TECH, TicketQuery(), NOW)
    assert [t.id for t in mine] == [ticket.id]


def test_waiting_on_the_resident_pauses_the_clocks_and_resuming_restarts_them(desk):
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    desk.transitions.act(AGENT, ticket.id, Action.ACKNOWLEDGE, ActionIn(), None, NOW)
    waiting = desk.transitions.act(AGENT, ticket.id, Action.WAIT_ON_RESIDENT, ActionIn(reason="请提供照片"), None,
                                   NOW + timedelta(hours=1))
    assert {c["clock"]: c["state"] for c in waiting.sla}["resolution"] == "paused"
    resumed = desk.transitions.act(RESIDENT, ticket.id, Action.RESUME, ActionIn(), None, NOW + timedelta(hours=5))
    resolution = next(c for c in resumed.sla if c["clock"] == "resolution")
    assert resolution["state"] == "running" and resolution["due_at"] == "2026-11-28T06:00:00.000Z"  # +4 h paused


def test_an_internal_note_never_reaches_the_resident(desk):
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    desk.transitions.comment(AGENT, ticket.id, "业主脾气急，注意沟通", "internal", [], NOW)
    reply = desk.transitions.comment(AGENT, ticket.id, "您好，师傅下午到", "public", [], NOW + timedelta(minutes=1))

    assert [c.body for c in desk.queries.comments(RESIDENT, ticket.id)] == [reply.body]
    assert len(desk.queries.comments(AGENT, ticket.id)) == 2
    seen = desk.queries.get(RESIDENT, ticket.id, NOW)
    assert seen.acknowledged_at == "2026-11-27T02:01:00.000Z"  # the public reply was the first response
    assert [e.title for e in desk.queries.public_timeline(RESIDENT, ticket.id)] == ["工单已提交", "收到新回复"]


def test_the_residents_timeline_says_what_happened_and_keeps_staff_internals_out(desk):
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    desk.transitions.act(AGENT, ticket.id, Action.ASSIGN, ActionIn(assignee_id="usr_tech"), None, NOW)
    desk.transitions.act(AGENT, ticket.id, Action.ASSIGN, ActionIn(assignee_id="usr_agent", reason="师傅请假，换人"),
                         None, NOW + timedelta(minutes=5))
    desk.transitions.comment(AGENT, ticket.id, "业主脾气急", "internal", [], NOW + timedelta(minutes=6))
    desk.transitions.act(AGENT, ticket.id, Action.RESOLVE, ActionIn(note="已更换水管"), None, NOW + timedelta(hours=1))
    desk.transitions.act(RESIDENT, ticket.id, Action.RATE, ActionIn(score=1), None, NOW + timedelta(hours=2))
    desk.transitions.act(AGENT, ticket.id, Action.RETURN_VISIT, ActionIn(note="住户仍不满意", outcome="unsatisfied"),
                         None, NOW + timedelta(hours=3))

    mine = desk.queries.public_timeline(RESIDENT, ticket.id)
    assert [(e.type, e.title, e.actor_label) for e in mine] == [
        ("ticket.created", "工单已提交", "您"), ("ticket.assigned", "已安排专人处理", "客服"),
        ("ticket.assigned", "已转交其他同事处理", "客服"), ("ticket.resolved", "已处理完成，请确认", "客服"),
        ("ticket.rated", "您评价了本次服务", "您")]
    assert mine[-1].score == 1 and mine[-1].status == "closed"
    shown = "".join(e.model_dump_json() for e in mine)
    for leak in ("usr_", "师傅请假", "业主脾气急", "住户仍不满意", "return_visit", "sla", "flagged", "reason"):
        assert leak not in shown, leak
    audit = desk.queries.timeline(AGENT, ticket.id)  # staff keep the full audit log
    assert any(e.data.get("reason") == "师傅请假，换人" for e in audit)
    assert "ticket.return_visited" in [e.type for e in audit]
    with pytest.raises(ForbiddenError):
        desk.queries.timeline(RESIDENT, ticket.id)


def _waiting(desk: Desk) -> TicketOut:
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    desk.transitions.act(AGENT, ticket.id, Action.ASSIGN, ActionIn(assignee_id="usr_tech"), None, NOW)
    return desk.transitions.act(TECH, ticket.id, Action.WAIT_ON_RESIDENT, ActionIn(reason="请拍一张漏水处的照片"),
                                None, NOW + timedelta(hours=1))


def test_a_residents_reply_to_a_ticket_waiting_on_them_resumes_it_in_the_same_commit(desk):
    ticket = _waiting(desk)
    desk.transitions.comment(AGENT, ticket.id, "麻烦您拍照后回复", "public", [], NOW + timedelta(hours=2))
    assert desk.tickets.get(AGENT, ticket.id).status == "waiting_on_resident"  # staff talking does not resume
    commits, seen = desk.store.commits, len(desk.store.events_of(ticket.id))

    desk.transitions.comment(RESIDENT, ticket.id, "照片在这里，水管接口处一直滴水", "public", [],
                             NOW + timedelta(hours=5))

    after = desk.queries.get(AGENT, ticket.id, NOW + timedelta(hours=5))
    assert after.status == "assigned" and desk.store.commits == commits + 1
    resolution = next(c for c in after.sla if c["clock"] == "resolution")
    assert resolution["state"] == "running" and resolution["due_at"] == "2026-11-28T06:00:00.000Z"  # +4 h paused
    new = desk.store.events_of(ticket.id)[seen:]
    assert [e.type for e in new] == ["ticket.commented", "ticket.status_changed", "sla.resumed"]
    assert new[1].data["action"] == "resume" and new[1].data["via"] == "reply"
    assert new[1].data["comment_id"] == new[0].data["comment_id"]
    assert new[1].changes["status"] == {"before": "waiting_on_resident", "after": "assigned"}
    assert new[2].data["reason"] == "reply by resident"
    assert desk.tickets.get(AGENT, ticket.id).previous_status is None
    titles = [e.title for e in desk.queries.public_timeline(RESIDENT, ticket.id)][-3:]
    assert titles == ["收到新回复", "您补充了留言", "继续处理"]


def test_a_reply_while_a_quote_waits_is_only_a_reply(desk):
    service = LEAK.model_copy(update={"kind": "service", "category": "家政保洁", "description": "周六深度保洁"})
    ticket = desk.intake.create(RESIDENT, service, None, NOW)
    desk.transitions.act(AGENT, ticket.id, Action.ACKNOWLEDGE, ActionIn(), None, NOW)
    quoted = desk.transitions.act(AGENT, ticket.id, Action.QUOTE, ActionIn(price="280.00", eta="周六上午"), None, NOW)
    assert quoted.status == "waiting_on_resident"
    seen = len(desk.store.events_of(ticket.id))

    desk.transitions.comment(RESIDENT, ticket.id, "能便宜一点吗？", "public", [], NOW + timedelta(hours=1))

    still = desk.tickets.get(AGENT, ticket.id)
    assert still.status == "waiting_on_resident" and still.quote["status"] == "pending"
    assert [e.type for e in desk.store.events_of(ticket.id)[seen:]] == ["ticket.commented"]
    with pytest.raises(ConflictError) as refused:  # nor does the explicit resume: approve or decline the quote
        desk.transitions.act(RESIDENT, ticket.id, Action.RESUME, ActionIn(), None, NOW + timedelta(hours=1))
    assert set(refused.value.details["allowed_actions"]) >= {"approve_quote", "decline_quote"}


def _resolved(desk: Desk, category: str, by: TenantContext = AGENT) -> str:
    ticket = desk.intake.create(RESIDENT, LEAK.model_copy(update={"category": category}), None, NOW)
    if by is TECH:
        desk.transitions.act(AGENT, ticket.id, Action.ASSIGN, ActionIn(assignee_id="usr_tech"), None, NOW)
    desk.transitions.act(by, ticket.id, Action.RESOLVE, ActionIn(note="已处理"), None, NOW + timedelta(minutes=30))
    return ticket.id


def _follow_ups(desk: Desk, ctx: TenantContext = AGENT) -> list[str]:
    return [t.id for t in desk.queries.queue(ctx, TicketQuery(bucket="flagged"), NOW)[0]]


def test_a_low_rating_waits_on_the_follow_up_list_until_a_return_visit(desk):
    older, happy, newer = _resolved(desk, "水电", by=TECH), _resolved(desk, "门窗"), _resolved(desk, "家电")
    desk.transitions.act(RESIDENT, older, Action.RATE, ActionIn(score=1), None, NOW + timedelta(hours=1))
    desk.transitions.act(RESIDENT, happy, Action.RATE, ActionIn(score=5), None, NOW + timedelta(hours=1))
    desk.transitions.act(RESIDENT, newer, Action.RATE, ActionIn(score=2), None, NOW + timedelta(hours=2))

    assert _follow_ups(desk) == [newer, older]  # newest flag first
    assert _follow_ups(desk, TECH) == [older]  # a technician sees their own jobs only
    unreachable = ActionIn(note="电话无人接听", outcome="unreachable")
    desk.transitions.act(AGENT, newer, Action.RETURN_VISIT, unreachable, None, NOW + timedelta(hours=3))
    assert _follow_ups(desk) == [newer, older]  # nobody reached: still to do
    visited = desk.transitions.act(AGENT, newer, Action.RETURN_VISIT, ActionIn(note="住户表示理解"), None,
                                   NOW + timedelta(hours=4))
    assert _follow_ups(desk) == [older]
    assert visited.flagged == {"reason": "low_rating", "at": "2026-11-27T04:00:00.000Z",
                               "followed_up_at": "2026-11-27T06:00:00.000Z"}  # the flag stays, as history
    desk.transitions.act(RESIDENT, older, Action.REOPEN, ActionIn(reason="又漏了"), None, NOW + timedelta(hours=5))
    assert _follow_ups(desk) == []  # back at work: it is on the at-risk view instead, never on both
    assert [t.id for t in desk.queries.at_risk(AGENT, 25, None, NOW)[0]] == [older]
    desk.transitions.act(TECH, older, Action.RESOLVE, ActionIn(note="重新密封"), None, NOW + timedelta(hours=6))
    assert _follow_ups(desk) == [older]  # still owed a return visit
    assert desk.queries.at_risk(AGENT, 25, None, NOW)[0] == []


def test_an_sla_breach_is_recorded_once_however_often_it_is_checked(desk):
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    late = NOW + timedelta(minutes=16)

    first = desk.schedules.sla_check(TENANT, ticket.id, late)
    again = desk.schedules.sla_check(TENANT, ticket.id, late)
    admin_step = desk.schedules.sla_check(TENANT, ticket.id, late + timedelta(minutes=30))

    # the first escalation step is due at the breach, so it pages in the same check
    assert [e["type"] for e in first] == ["sla.warning", "sla.breached", "sla.escalated"]
    assert first[-1]["notify"] == "supervisor" and again == []
    assert [(e["type"], e["notify"]) for e in admin_step] == [("sla.escalated", "admin")]
    assert desk.types(ticket.id).count("sla.breached") == 1
    assert desk.tickets.get(AGENT, ticket.id).sla_state == "breached"
    assert [t.id for t in desk.tickets.queue(AGENT, _breached(), 25, None)[0]] == [ticket.id]


def test_a_resolved_ticket_closes_itself_after_the_confirmation_window(desk):
    ticket = desk.intake.create(RESIDENT, LEAK, None, NOW)
    desk.transitions.act(AGENT, ticket.id, Action.RESOLVE, ActionIn(note="已更换水管"), None, NOW)
    assert desk.schedules.auto_close_due(NOW + timedelta(days=2)) == 0
    assert desk.schedules.auto_close_due(NOW + timedelta(days=3, minutes=1)) == 1
    closed = desk.tickets.get(AGENT, ticket.id)
    closing = [e for e in desk.store.events_of(ticket.id) if e.type == "ticket.closed"]
    assert closed.status == "closed" and [e.data["how"] for e in closing] == ["auto"]


def _photo():
    from chalicelib.tickets.schemas import AttachmentIn

    return AttachmentIn(content_type="image/jpeg", size=2048)


def _breached():
    from chalicelib.tickets.records import QueueFilter

    return QueueFilter(sla_state="breached")


def test_ticket_numbers_follow_the_days_sequence_across_containers_and_never_repeat(desk):
    """Two containers (two intakes on one store) take blocks of the day's numbers: every ticket gets its own
    11-digit number starting with the day, and a block one container did not use is a gap, never a repeat."""
    other = TicketIntake(desk.tickets, desk.configs, Places(), RecordingAttachments(),
                         TicketPresenter(desk.configs, RecordingAttachments()), desk.store.unit_of_work)
    filed = [(desk.intake if n % 3 else other).create(
        AGENT, StaffTicketIn(**LEAK.model_copy(update={"description": f"第{n}件"}).model_dump(),
                             resident_id="res_chen"), None, NOW + timedelta(minutes=n)).number for n in range(45)]
    assert len(set(filed)) == 45 and all(len(n) == 11 and n.startswith("261127") for n in filed)
    assert min(filed) == "26112700001" and max(filed) <= "26112700100"  # a retried create leaves a gap
    tomorrow = desk.intake.create(AGENT, StaffTicketIn(**LEAK.model_dump(), resident_id="res_chen"), None,
                                  NOW + timedelta(days=1))
    assert tomorrow.number == "26112800001"
