"""The resident's timeline is a deliberate projection: one public rule per event type of the catalogue, and nothing
of the audit record (staff ids, internal reasons, return visits, SLA details) reaches the resident."""
from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.permissions import Role
from chalicelib.events.catalogue import CATALOGUE
from chalicelib.tickets.domain import Action, Actor, Status, TicketState, apply, decide
from chalicelib.tickets.public_timeline import RULES, PublicEntry, hidden, project, project_timeline
from chalicelib.tickets.schemas import ResidentEventOut

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
RESIDENT_ID = "res_chen"
AGENT = Actor("staff", "usr_agent_7", Role.AGENT)
TECH = Actor("staff", "usr_tech_1", Role.TECHNICIAN)
OTHER_TECH = Actor("staff", "usr_tech_2", Role.TECHNICIAN)
BUTLER = Actor("staff", "usr_butler_3", Role.BUTLER)
RESIDENT = Actor("resident", RESIDENT_ID)
SECRETS = ("师傅请假，换人", "缺少配件", "业主情绪激动", "住户表示理解", "厨房太乱进不去", "报价备注：含材料")


def actor_dict(actor: Actor) -> dict[str, Any]:
    return {"type": actor.kind, "id": actor.id, "role": actor.role.value if actor.role else None}


class Play:
    """A ticket's life through the real lifecycle rules, written down as the event messages the services record."""

    def __init__(self) -> None:
        self.state = TicketState(Status.NEW, RESIDENT_ID)
        self.messages: list[dict[str, Any]] = []

    def event(self, event_type: str, actor: dict[str, Any], data: dict[str, Any],
              changes: dict[str, Any] | None = None) -> None:
        self.messages.append({"id": f"evt_{len(self.messages):03d}", "type": event_type,
                              "occurred_at": "2026-11-27T02:00:00.000Z", "actor": actor, "changes": changes or {},
                              "data": data})

    def act(self, action: Action, actor: Actor, **params: Any) -> None:
        decision = decide(self.state, action, actor, params, NOW)
        changes = {k: {"before": getattr(self.state, k, None), "after": v} for k, v in decision.changes.items()}
        if decision.status != self.state.status:
            changes["status"] = {"before": self.state.status.value, "after": decision.status.value}
        self.event(decision.event_type, actor_dict(actor), {**decision.data, "visibility": decision.visibility,
                                                             "status": decision.status.value}, changes)
        self.state = apply(self.state, decision)

    def comment(self, actor: Actor, visibility: str) -> None:
        self.event("ticket.commented", actor_dict(actor), {"comment_id": "cmt_1", "visibility": visibility,
                                                           "first_response": False})

    def sla(self, kind: str, **data: Any) -> None:
        self.event(f"sla.{kind}", {"type": "system", "id": "sla", "role": None},
                   {"clock": "resolution", "cycle": 1, "reason": "reply by resident", "target_seconds": 86400,
                    "elapsed_seconds": 90000, "due_at": "2026-11-28T02:00:00.000Z", "notify": "supervisor",
                    "visibility": "internal", **data})


@pytest.fixture
def play() -> Play:
    """Filed, transferred with a reason, returned (退单), waited on, quoted, resolved, rated 1 star, visited."""
    p = Play()
    p.event("ticket.created", actor_dict(RESIDENT), {"number": "26112700001", "kind": "service", "status": "new",
                                                     "assignee_id": None, "possible_duplicate_of": "tkt_other",
                                                     "visibility": "public"})
    p.sla("started")
    p.act(Action.ACKNOWLEDGE, AGENT)
    p.sla("met")
    p.act(Action.ASSIGN, AGENT, assignee_id=TECH.id)
    p.act(Action.ASSIGN, AGENT, assignee_id=OTHER_TECH.id, reason=SECRETS[0])
    p.act(Action.RETURN, OTHER_TECH, reason=SECRETS[1])
    p.comment(AGENT, "internal")
    p.act(Action.ASSIGN, AGENT, assignee_id=TECH.id)
    p.act(Action.WAIT_ON_RESIDENT, TECH, reason=SECRETS[4])
    p.sla("paused")
    p.comment(RESIDENT, "public")
    p.act(Action.RESUME, RESIDENT)
    p.sla("resumed")
    p.sla("warning")
    p.sla("breached")
    p.sla("escalated", step=0)
    p.act(Action.QUOTE, TECH, price="280.00", eta="周六 9:00-12:00", note=SECRETS[5])
    p.act(Action.APPROVE_QUOTE, RESIDENT)
    p.act(Action.ARRIVE, TECH)
    p.comment(TECH, "public")
    p.act(Action.RESOLVE, TECH, note="已修好")
    p.act(Action.RATE, RESIDENT, score=1, comment=SECRETS[2])
    p.act(Action.RETURN_VISIT, BUTLER, note=SECRETS[3], outcome="satisfied")
    p.event("ticket.updated", actor_dict(AGENT), {"visibility": "internal", "policy": "报修"},
            {"priority": {"before": "P3", "after": "P2"}})
    return p


def test_every_event_type_of_the_catalogue_has_exactly_one_public_rule():
    missing = sorted(set(CATALOGUE) - set(RULES))
    assert not missing, f"say what residents see of these in chalicelib/tickets/public_timeline.py RULES: {missing}"
    stale = sorted(set(RULES) - set(CATALOGUE))
    assert not stale, f"rules for event types the catalogue no longer has: {stale}"
    assert all(callable(rule) for rule in RULES.values())


@pytest.mark.parametrize("event_type", sorted(t for t in CATALOGUE if not t.startswith("ticket.")))
def test_nothing_but_ticket_steps_is_ever_shown(event_type):
    assert RULES[event_type] is hidden


def test_return_visits_triage_and_the_sla_ledger_are_hidden_outright():
    assert all(RULES[t] is hidden for t in ("ticket.return_visited", "ticket.updated"))
    assert all(RULES[t] is hidden for t in CATALOGUE if t.startswith("sla."))


def test_the_resident_reads_what_happened_in_plain_words_with_roles(play):
    entries = project_timeline(play.messages, RESIDENT_ID)
    assert [(e.title, e.actor_label, e.status) for e in entries] == [
        ("工单已提交", "您", "new"),
        ("工单已受理", "客服", "acknowledged"),
        ("已安排专人处理", "客服", "assigned"),
        ("已转交其他同事处理", "客服", None),
        ("已安排专人处理", "客服", "assigned"),  # the return (退单) before it is staff business
        ("等待您的回复", "维修师傅", "waiting_on_resident"),
        ("您补充了留言", "您", None),
        ("继续处理", "您", "assigned"),
        ("报价待您确认", "维修师傅", "waiting_on_resident"),
        ("您已同意报价", "您", "assigned"),
        ("工作人员已上门", "维修师傅", "in_progress"),
        ("收到新回复", "维修师傅", None),
        ("已处理完成，请确认", "维修师傅", "resolved"),
        ("您评价了本次服务", "您", "closed"),
    ]
    assert all(e.title_en and e.actor_label_en for e in entries)
    quote = entries[8]
    assert (quote.price, quote.eta) == ("280.00", "周六 9:00-12:00")
    assert entries[-1].score == 1


def test_no_staff_id_reason_return_visit_or_sla_detail_reaches_the_resident(play):
    shown = repr(project_timeline(play.messages, RESIDENT_ID))
    assert "usr_" not in shown and "tkt_other" not in shown and "cmt_" not in shown
    for secret in SECRETS:
        assert secret not in shown
    for internal in ("sla.", "return_visit", "flagged", "low_rating", "due_at", "notify", "supervisor", "P2", "报修",
                     "reason", "outcome"):
        assert internal not in shown, internal


def test_only_the_whitelisted_fields_exist_at_all():
    assert {f.name for f in fields(PublicEntry)} == set(ResidentEventOut.model_fields) == {
        "id", "type", "occurred_at", "title", "title_en", "actor_label", "actor_label_en", "status", "price", "eta",
        "score"}


def test_internal_moves_and_notes_are_hidden_by_their_own_rule():
    note = {"id": "evt_1", "type": "ticket.commented", "occurred_at": "t", "actor": actor_dict(AGENT),
            "data": {"visibility": "internal"}}
    returned = {"id": "evt_2", "type": "ticket.status_changed", "occurred_at": "t", "actor": actor_dict(TECH),
                "data": {"action": "return", "reason": "缺少配件", "visibility": "internal"}}
    assert project(note, RESIDENT_ID) is None and project(returned, RESIDENT_ID) is None
    assert project({**note, "data": {}}, RESIDENT_ID) is None  # no visibility said: not public


def test_an_event_type_without_a_rule_is_hidden():
    stranger = {"id": "evt_1", "type": "ticket.teleported", "occurred_at": "t", "actor": actor_dict(RESIDENT),
                "changes": {"status": {"before": "new", "after": "closed"}}, "data": {"visibility": "public"}}
    assert project(stranger, RESIDENT_ID) is None


@pytest.mark.parametrize(("actor", "label"), [
    ({"type": "staff", "id": "usr_1", "role": "agent"}, ("客服", "Customer service")),
    ({"type": "staff", "id": "usr_1", "role": "technician"}, ("维修师傅", "Technician")),
    ({"type": "staff", "id": "usr_1", "role": "butler"}, ("管家", "Butler")),
    ({"type": "staff", "id": "usr_1", "role": "supervisor"}, ("客服主管", "Service supervisor")),
    ({"type": "staff", "id": "usr_1", "role": "admin"}, ("物业", "Property management")),
    ({"type": "staff", "id": "usr_1", "role": None}, ("工作人员", "Staff")),
    ({"type": "resident", "id": RESIDENT_ID}, ("您", "You")),
    ({"type": "resident", "id": "res_someone_else"}, ("住户", "Resident")),
    ({"type": "api_key", "id": "key_1", "role": None}, ("系统", "System")),
    ({"type": "system", "id": "auto-close", "role": None}, ("系统", "System")),
])
def test_who_did_it_is_a_role_never_an_id(actor, label):
    entry = project({"id": "evt_1", "type": "ticket.acknowledged", "occurred_at": "t", "actor": actor, "data": {}},
                    RESIDENT_ID)
    assert (entry.actor_label, entry.actor_label_en) == label


def test_closing_says_how_and_a_grab_says_the_job_was_taken():
    closed = {"id": "evt_1", "type": "ticket.closed", "occurred_at": "t", "actor": {"type": "system", "id": "x"},
              "changes": {"status": {"before": "resolved", "after": "closed"}}, "data": {"how": "auto"}}
    assert project(closed, RESIDENT_ID).title == "确认期已过，工单自动关闭"
    grabbed = {"id": "evt_2", "type": "ticket.assigned", "occurred_at": "t", "actor": actor_dict(TECH),
               "data": {"action": "grab", "to": TECH.id, "team": "plumbers"}}
    assert (project(grabbed, RESIDENT_ID).title, project(grabbed, RESIDENT_ID).actor_label) == ("已接单", "维修师傅")
