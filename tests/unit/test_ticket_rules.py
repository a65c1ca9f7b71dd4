"""The pure ticket lifecycle: transitions, roles, windows, required fields, ratings."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import ForbiddenError, ValidationFailedError
from chalicelib.core.permissions import Role
from chalicelib.tickets.domain import (
    Action,
    Actor,
    IllegalTransitionError,
    KindRules,
    Policy,
    Status,
    TicketState,
    allowed_actions,
    apply,
    decide,
)

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
AGENT = Actor("staff", "usr_agent", Role.AGENT)
TECH = Actor("staff", "usr_tech", Role.TECHNICIAN)
OTHER_TECH = Actor("staff", "usr_other", Role.TECHNICIAN)
RESIDENT = Actor("resident", "res_1")
NEIGHBOUR = Actor("resident", "res_2")
NEW = TicketState(status=Status.NEW, resident_id="res_1")


def run(state, *steps):
    for action, actor, params in steps:
        state = apply(state, decide(state, action, actor, params, NOW))
    return state


def test_happy_path_repair():
    state = run(NEW, (Action.ACKNOWLEDGE, AGENT, {}), (Action.ASSIGN, AGENT, {"assignee_id": "usr_tech"}),
                (Action.ARRIVE, TECH, {}), (Action.RESOLVE, TECH, {"note": "fixed"}), (Action.CONFIRM, RESIDENT, {}))
    assert state.status == Status.CLOSED and state.arrived_at and state.closed_at


def test_illegal_transition_lists_what_is_allowed():
    with pytest.raises(IllegalTransitionError) as raised:
        decide(NEW, Action.CLOSE, AGENT, {}, NOW)
    assert raised.value.status == 409
    assert "acknowledge" in raised.value.details["allowed_actions"]
    assert "close" not in raised.value.details["allowed_actions"]


def test_roles_and_ownership():
    assigned = run(NEW, (Action.ASSIGN, AGENT, {"assignee_id": "usr_tech"}))
    with pytest.raises(ForbiddenError):
        decide(assigned, Action.ARRIVE, OTHER_TECH, {}, NOW)
    with pytest.raises(ForbiddenError):
        decide(NEW, Action.CANCEL, NEIGHBOUR, {}, NOW)
    with pytest.raises(ForbiddenError):
        decide(NEW, Action.ASSIGN, TECH, {"assignee_id": "usr_tech"}, NOW)
    assert "arrive" in allowed_actions(assigned, TECH, NOW)
    assert allowed_actions(assigned, OTHER_TECH, NOW) == []


def test_residents_cancel_only_before_work_starts():
    started = run(NEW, (Action.ASSIGN, AGENT, {"assignee_id": "usr_tech"}), (Action.START, TECH, {}))
    with pytest.raises(IllegalTransitionError):
        decide(started, Action.CANCEL, RESIDENT, {}, NOW)
    assert decide(started, Action.CANCEL, AGENT, {"reason": "duplicate"}, NOW).status == Status.CANCELLED


def test_waiting_on_resident_resumes_where_it_was():
    state = run(NEW, (Action.ASSIGN, AGENT, {"assignee_id": "usr_tech"}),
                (Action.WAIT_ON_RESIDENT, TECH, {"reason": "需要住户在家"}))
    assert state.status == Status.WAITING_ON_RESIDENT
    assert run(state, (Action.RESUME, RESIDENT, {})).status == Status.ASSIGNED


def test_required_fields_to_resolve():
    working = run(NEW, (Action.ACKNOWLEDGE, AGENT, {}))
    with pytest.raises(ValidationFailedError) as raised:
        decide(working, Action.RESOLVE, AGENT, {"note": "done"}, NOW, KindRules(required_to_resolve=("note", "photo")))
    assert raised.value.details[0]["field"] == "photo"
    decision = decide(working, Action.RESOLVE, AGENT, {"note": "done", "photos": ["att_1"]}, NOW,
                      KindRules(required_to_resolve=("note", "photo")))
    assert decision.status == Status.RESOLVED


def test_reopen_from_closed_only_within_the_window():
    closed = run(NEW, (Action.RESOLVE, AGENT, {"note": "x"}), (Action.CLOSE, AGENT, {}))
    assert decide(closed, Action.REOPEN, RESIDENT, {"reason": "again"}, NOW + timedelta(days=6)).status == \
        Status.ACKNOWLEDGED
    with pytest.raises(IllegalTransitionError):
        decide(closed, Action.REOPEN, RESIDENT, {"reason": "again"}, NOW + timedelta(days=8))


@pytest.mark.parametrize("action_policy,expected_status,flagged", [("flag", Status.CLOSED, True),
                                                                   ("reopen", Status.ASSIGNED, False)])
def test_low_ratings_flag_or_reopen_per_tenant(action_policy, expected_status, flagged):
    resolved = run(NEW, (Action.ASSIGN, AGENT, {"assignee_id": "usr_tech"}), (Action.RESOLVE, TECH, {"note": "x"}))
    policy = Policy(low_rating_action=action_policy)
    decision = decide(resolved, Action.RATE, RESIDENT, {"score": 1}, NOW, policy=policy)
    assert decision.status == expected_status
    assert ("flagged" in decision.changes) == flagged


def test_rating_once_within_the_window_and_in_range():
    resolved = run(NEW, (Action.RESOLVE, AGENT, {"note": "x"}))
    for score in (0, 6, "5", True):
        with pytest.raises(ValidationFailedError):
            decide(resolved, Action.RATE, RESIDENT, {"score": score}, NOW)
    rated = run(resolved, (Action.RATE, RESIDENT, {"score": 5}))
    with pytest.raises(IllegalTransitionError):
        decide(rated, Action.RATE, RESIDENT, {"score": 4}, NOW)
    with pytest.raises(IllegalTransitionError):
        decide(resolved, Action.RATE, RESIDENT, {"score": 4}, NOW + timedelta(days=8))


def test_quotes_gate_the_work():
    acknowledged = run(NEW, (Action.ACKNOWLEDGE, AGENT, {}))
    quoted = run(acknowledged, (Action.QUOTE, AGENT, {"price": "120.00"}))
    assert quoted.status == Status.WAITING_ON_RESIDENT and quoted.quote["status"] == "pending"
    with pytest.raises(IllegalTransitionError):
        decide(quoted, Action.RESUME, AGENT, {}, NOW)
    approved = run(quoted, (Action.APPROVE_QUOTE, RESIDENT, {}))
    assert approved.status == Status.ACKNOWLEDGED and approved.quote["status"] == "approved"
    declined = run(quoted, (Action.DECLINE_QUOTE, RESIDENT, {}))
    assert declined.status == Status.CANCELLED


def test_first_response_is_only_a_human_action():
    assigned_by_rule = replace(NEW, status=Status.ASSIGNED, assignee_id="usr_tech")
    assert "acknowledge" in allowed_actions(assigned_by_rule, AGENT, NOW)
    decision = decide(assigned_by_rule, Action.ACKNOWLEDGE, AGENT, {}, NOW)
    assert decision.status == Status.ASSIGNED and decision.changes["acknowledged_at"]
