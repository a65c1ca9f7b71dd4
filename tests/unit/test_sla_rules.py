"""SLA calendars and clocks with fixed clocks: business hours, 2026 Spring Festival and 调休, pauses,
reopen, priority changes, policies with a catch-all."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.sla import domain
from chalicelib.sla.calendar import BusinessCalendar, CalendarYearUnknownError
from chalicelib.sla.policies import CalendarConfig, SlaPolicy, check_policies, default_policies, match_policy

SH = ZoneInfo("Asia/Shanghai")
OFFICE = BusinessCalendar.weekdays("09:00", "18:00")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_business_hours_across_the_night_and_the_weekend():
    assert OFFICE.add(at(2026, 3, 4, 17, 0), timedelta(hours=2)) == at(2026, 3, 5, 10, 0)   # Wed 17:00 → Thu 10:00
    assert OFFICE.add(at(2026, 3, 6, 17, 30), timedelta(hours=1)) == at(2026, 3, 9, 9, 30)  # Fri → Mon
    assert OFFICE.add(at(2026, 3, 7, 12, 0), timedelta(minutes=15)) == at(2026, 3, 9, 9, 15)  # Sat → Mon
    assert OFFICE.elapsed(at(2026, 3, 6, 17, 0), at(2026, 3, 9, 10, 0)) == timedelta(hours=2)
    assert BusinessCalendar.twenty_four_seven().add(at(2026, 3, 7, 23, 50), timedelta(minutes=15)) == \
        at(2026, 3, 8, 0, 5)


def test_spring_festival_2026_and_its_make_up_workdays():
    # Holidays 2026-02-15 … 02-23; Saturday 02-14 and Saturday 02-28 are make-up workdays (调休).
    assert OFFICE.hours_on(date(2026, 2, 14))  # Saturday, but a workday
    assert not OFFICE.hours_on(date(2026, 2, 16)) and not OFFICE.hours_on(date(2026, 2, 23))  # Monday holidays
    assert OFFICE.hours_on(date(2026, 2, 28))
    # Friday 2026-02-13 17:00 + 2 h → Saturday 02-14 10:00 (make-up day), not Monday
    assert OFFICE.add(at(2026, 2, 13, 17, 0), timedelta(hours=2)) == at(2026, 2, 14, 10, 0)
    # Saturday 02-14 17:00 + 2 h → Tuesday 02-24 10:00: the whole festival is skipped
    assert OFFICE.add(at(2026, 2, 14, 17, 0), timedelta(hours=2)) == at(2026, 2, 24, 10, 0)


def test_tenant_closures_and_extra_workdays():
    cal = CalendarConfig(id="east", closures=[date(2026, 3, 9)], extra_workdays=[date(2026, 3, 7)]).build()
    assert cal.add(at(2026, 3, 6, 17, 0), timedelta(hours=2)) == at(2026, 3, 7, 10, 0)
    assert cal.add(at(2026, 3, 7, 17, 0), timedelta(hours=2)) == at(2026, 3, 10, 10, 0)


def test_years_the_library_does_not_know_are_a_clear_error():
    with pytest.raises(CalendarYearUnknownError) as raised:
        OFFICE.hours_on(date(2031, 1, 2))
    assert "2031" in raised.value.message and raised.value.status == 422


def office_calendars(name: str) -> BusinessCalendar:
    return OFFICE


def test_clock_pauses_across_a_holiday_and_resumes_with_the_time_left():
    policy = SlaPolicy(name="t", targets={"resolution": timedelta(hours=8)}, calendar="office")
    clocks, ledger = domain.start(policy, at(2026, 2, 12, 9, 0), office_calendars)
    assert clocks["resolution"]["due_at"] == "2026-02-12T09:00:00.000Z"  # 17:00 Shanghai
    domain.pause(clocks, at(2026, 2, 12, 13, 0), office_calendars, "waiting on resident")  # 4 h used
    assert clocks["resolution"]["state"] == "paused" and clocks["resolution"]["elapsed_seconds"] == 4 * 3600
    domain.resume(clocks, at(2026, 2, 20, 10, 0), office_calendars, "resident answered")  # mid-festival
    assert clocks["resolution"]["due_at"] == "2026-02-24T05:00:00.000Z"  # Tue 02-24 13:00 Shanghai
    assert [e["type"] for e in ledger] == ["sla.started"]


def test_meeting_before_the_deadline_and_breach_marks():
    policy = SlaPolicy(name="t", targets={"first_response": timedelta(minutes=15)})
    clocks, _ = domain.start(policy, at(2026, 3, 4, 10, 0), office_calendars)
    assert domain.due_marks(clocks, at(2026, 3, 4, 10, 10)) == []
    assert domain.due_marks(clocks, at(2026, 3, 4, 10, 12)) == [("first_response", "warning", 0)]
    ledger = domain.meet(clocks, "first_response", at(2026, 3, 4, 10, 12), office_calendars, "acknowledged")
    assert clocks["first_response"]["state"] == "met" and [e["type"] for e in ledger] == ["sla.met"]
    assert domain.due_marks(clocks, at(2026, 3, 4, 11, 0)) == [] and domain.next_due(clocks) is None

    late, _ = domain.start(policy, at(2026, 3, 4, 10, 0), office_calendars)
    assert ("first_response", "breached", 0) in domain.due_marks(late, at(2026, 3, 4, 10, 15))
    domain.record(late, "first_response", "breached", 0, at(2026, 3, 4, 10, 15))
    assert domain.due_marks(late, at(2026, 3, 4, 10, 15)) == [("first_response", "escalated", 0)]
    domain.record(late, "first_response", "escalated", 0, at(2026, 3, 4, 10, 15))
    assert domain.next_due(late) == at(2026, 3, 4, 10, 45)  # admin 30 min after the breach
    domain.meet(late, "first_response", at(2026, 3, 4, 10, 20), office_calendars, "acknowledged")
    assert late["first_response"]["met_at"] and domain.next_due(late) is None


def test_reopen_restarts_resolution_in_a_new_cycle():
    policy = match_policy(list(default_policies()), kind="inquiry", category=None, priority="P4", community_id=None)
    clocks, _ = domain.start(policy, at(2026, 3, 4, 10, 0), office_calendars)
    domain.meet(clocks, "resolution", at(2026, 3, 4, 11, 0), office_calendars, "resolved")
    ledger = domain.restart(clocks, policy, "resolution", at(2026, 3, 5, 9, 0), office_calendars, "reopened")
    assert clocks["resolution"]["state"] == "running" and clocks["resolution"]["cycle"] == 2
    assert clocks["resolution"]["due_at"] == "2026-03-05T05:00:00.000Z" and ledger[0]["cycle"] == 2


def test_priority_change_retargets_keeping_time_spent():
    policies = list(default_policies())
    normal = match_policy(policies, kind="repair", category=None, priority="P3", community_id=None)
    urgent = match_policy(policies, kind="repair", category=None, priority="P1", community_id=None)
    assert (normal.name, urgent.name) == ("报修", "紧急报修")
    clocks, _ = domain.start(normal, at(2026, 3, 4, 10, 0), office_calendars)
    domain.retarget(clocks, urgent, at(2026, 3, 4, 11, 0), office_calendars, "priority P3 → P1")
    assert clocks["resolution"]["target_seconds"] == 12 * 3600 and clocks["resolution"]["elapsed_seconds"] == 3600
    assert clocks["resolution"]["due_at"] == "2026-03-04T14:00:00.000Z"  # 10:00 Shanghai + 12 h, 24×7
    assert "on_site" not in clocks  # arrival clocks don't start late


def test_policies_first_match_wins_and_a_catch_all_is_required_last():
    policies = [SlaPolicy(name="vip", match={"community_id": "com_vip"}, targets={"first_response": "PT5M"}),
                SlaPolicy(name="all", targets={"first_response": "PT15M"}, calendar="office")]
    assert match_policy(policies, kind="repair", category=None, priority="P3", community_id="com_vip").name == "vip"
    assert match_policy(policies, kind="repair", category=None, priority="P3", community_id="com_x").name == "all"
    assert check_policies(policies, [CalendarConfig(id="office")]) == []
    problems = check_policies(policies[:1], [])
    assert problems[0]["type"] == "catch_all_last"
    assert check_policies(policies, [])[0]["type"] == "unknown_calendar"
    assert SlaPolicy.model_validate({"name": "x", "targets": {"first_response": "PT15M", "resolution": "PT24H"},
                                     "calendar": "24x7", "warn_at": 0.75}).targets["resolution"] == timedelta(hours=24)


def test_next_reply_waits_for_the_resident_and_is_met_by_a_staff_reply():
    policy = SlaPolicy(name="t", targets={"first_response": "PT15M", "next_reply": "PT2H"})
    clocks, _ = domain.start(policy, at(2026, 3, 4, 10, 0), office_calendars)
    assert set(clocks) == {"first_response"}
    domain.restart(clocks, policy, "next_reply", at(2026, 3, 4, 11, 0), office_calendars, "reply by resident")
    assert clocks["next_reply"]["state"] == "running"
    domain.meet(clocks, "next_reply", at(2026, 3, 4, 12, 0), office_calendars, "public reply by staff")
    assert clocks["next_reply"]["state"] == "met"
