"""SLA clocks. Pure: ``now`` and calendars are passed in; decisions come out.

A clock is a small dict stored on the ticket (``sla``), so a ticket read shows every clock's
target, due time and state without another query. Every transition returns a ledger entry
that becomes an ``sla.*`` event item, so any breach can be explained from the timeline.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.sla.calendar import BusinessCalendar, CalendarYearUnknownError
from chalicelib.sla.policies import TWENTY_FOUR_SEVEN, SlaPolicy

CLOCKS: tuple[str, ...] = ("first_response", "next_reply", "on_site", "resolution")


CalendarFor = Callable[[str], BusinessCalendar]
Ledger = list[dict[str, Any]]


def _calendar(calendars: CalendarFor, name: str) -> BusinessCalendar:
    return BusinessCalendar.twenty_four_seven() if name == TWENTY_FOUR_SEVEN else calendars(name)


def _add(cal: BusinessCalendar, start: datetime, duration: timedelta, clock: dict[str, Any]) -> datetime:
    try:
        return cal.add(start, duration)
    except CalendarYearUnknownError as exc:  # keep counting on weekly hours; say why on the clock
        clock["calendar_note"] = exc.message
        return BusinessCalendar(timezone=cal.timezone, weekly_hours=cal.weekly_hours, china_holidays=False,
                                closures=cal.closures, extra_workdays=cal.extra_workdays,
                                always_open=cal.always_open).add(start, duration)


def _elapsed(cal: BusinessCalendar, start: datetime, end: datetime, clock: dict[str, Any]) -> timedelta:
    try:
        return cal.elapsed(start, end)
    except CalendarYearUnknownError as exc:
        clock["calendar_note"] = exc.message
        return BusinessCalendar(timezone=cal.timezone, weekly_hours=cal.weekly_hours, china_holidays=False,
                                closures=cal.closures, extra_workdays=cal.extra_workdays,
                                always_open=cal.always_open).elapsed(start, end)


def _schedule(clock: dict[str, Any], cal: BusinessCalendar, now: datetime) -> None:
    """Due and warning times of a running clock from what has elapsed so far."""
    target = timedelta(seconds=clock["target_seconds"])
    elapsed = timedelta(seconds=clock["elapsed_seconds"])
    running_since = from_rfc3339(clock["running_since"])
    clock["due_at"] = to_rfc3339(_add(cal, running_since, max(target - elapsed, timedelta(0)), clock))
    warn_left = target * clock["warn_at"] - elapsed
    clock["warn_due_at"] = to_rfc3339(_add(cal, running_since, warn_left, clock)) if (
        warn_left > timedelta(0) and not clock.get("warned_at")) else None


def _entry(kind: str, clock_name: str, clock: dict[str, Any], reason: str, **extra: Any) -> dict[str, Any]:
    return {"type": f"sla.{kind}", "clock": clock_name, "reason": reason, "target_seconds": clock["target_seconds"],
            "due_at": clock.get("due_at"), "elapsed_seconds": clock["elapsed_seconds"], "cycle": clock["cycle"],
            **extra}


def start(policy: SlaPolicy, now: datetime, calendars: CalendarFor, names: tuple[str, ...] | None = None,
          reason: str = "ticket created") -> tuple[dict[str, Any], Ledger]:
    """Clocks for a new ticket (or the named ones only)."""
    clocks, ledger = {}, []
    for name, target in policy.targets.items():
        if (names is None and name == "next_reply") or (names is not None and name not in names):
            continue  # next_reply starts when the resident writes, not at intake
        clock = {"target_seconds": int(target.total_seconds()), "calendar": policy.calendar, "policy": policy.name,
                 "warn_at": policy.warn_at, "started_at": to_rfc3339(now), "running_since": to_rfc3339(now),
                 "elapsed_seconds": 0, "state": "running", "cycle": 1, "pause_when_waiting":
                 name in policy.pause_when_waiting, "escalation": [
                     {"after_seconds": int(e.after.total_seconds()), "notify": e.notify} for e in policy.escalation],
                 "escalations_done": 0}
        _schedule(clock, _calendar(calendars, policy.calendar), now)
        clocks[name] = clock
        ledger.append(_entry("started", name, clock, reason, policy=policy.name, calendar=policy.calendar))
    return clocks, ledger


def _stop_running(clock: dict[str, Any], cal: BusinessCalendar, now: datetime) -> None:
    if clock["state"] == "running":
        clock["elapsed_seconds"] += int(_elapsed(cal, from_rfc3339(clock["running_since"]), now, clock)
                                        .total_seconds())
    clock["running_since"] = None


def pause(clocks: dict[str, Any], now: datetime, calendars: CalendarFor, reason: str) -> Ledger:
    ledger: Ledger = []
    for name, clock in clocks.items():
        if clock["state"] == "running" and clock.get("pause_when_waiting"):
            _stop_running(clock, _calendar(calendars, clock["calendar"]), now)
            clock.update(state="paused", paused_at=to_rfc3339(now), due_at=None, warn_due_at=None)
            ledger.append(_entry("paused", name, clock, reason))
    return ledger


def resume(clocks: dict[str, Any], now: datetime, calendars: CalendarFor, reason: str) -> Ledger:
    ledger: Ledger = []
    for name, clock in clocks.items():
        if clock["state"] == "paused":
            clock.update(state="running", running_since=to_rfc3339(now), paused_at=None)
            _schedule(clock, _calendar(calendars, clock["calendar"]), now)
            ledger.append(_entry("resumed", name, clock, reason))
    return ledger


def meet(clocks: dict[str, Any], name: str, now: datetime, calendars: CalendarFor, reason: str) -> Ledger:
    """A clock's goal was reached (first human response, arrival, resolution)."""
    clock = clocks.get(name)
    if clock is not None and clock["state"] == "breached" and clock.get("met_at") is None:
        clock["met_at"] = to_rfc3339(now)  # reached late: escalation stops here
        return [_entry("met", name, clock, reason, late=True)]
    if clock is None or clock["state"] not in ("running", "paused"):
        return []
    ledger: Ledger = []
    _stop_running(clock, _calendar(calendars, clock["calendar"]), now)
    late = clock["elapsed_seconds"] > clock["target_seconds"]
    clock.update(state="breached" if late else "met", met_at=to_rfc3339(now), warn_due_at=None)
    if late and not clock.get("breached_at"):
        clock["breached_at"] = clock.get("due_at") or to_rfc3339(now)
        ledger.append(_entry("breached", name, clock, f"{reason} after the deadline"))
    ledger.append(_entry("met", name, clock, reason, late=late))
    return ledger


def stop(clocks: dict[str, Any], now: datetime, calendars: CalendarFor, reason: str) -> Ledger:
    ledger: Ledger = []
    for name, clock in clocks.items():
        if clock["state"] in ("running", "paused"):
            _stop_running(clock, _calendar(calendars, clock["calendar"]), now)
            clock.update(state="stopped", stopped_at=to_rfc3339(now), due_at=None, warn_due_at=None)
            ledger.append(_entry("stopped", name, clock, reason))
    return ledger


def restart(clocks: dict[str, Any], policy: SlaPolicy, name: str, now: datetime, calendars: CalendarFor,
            reason: str) -> Ledger:
    """Reopen: the resolution clock starts over (a new cycle)."""
    previous = clocks.get(name)
    fresh, ledger = start(policy, now, calendars, (name,), reason)
    if name in fresh:
        fresh[name]["cycle"] = (previous or {}).get("cycle", 0) + 1
        ledger[-1]["cycle"] = fresh[name]["cycle"]
        clocks[name] = fresh[name]
    return ledger


def retarget(clocks: dict[str, Any], policy: SlaPolicy, now: datetime, calendars: CalendarFor,
             reason: str) -> Ledger:
    """Priority or kind changed: the new policy's targets apply; time already spent still counts."""
    ledger: Ledger = []
    for name, target in policy.targets.items():
        clock = clocks.get(name)
        if clock is None:
            if name in ("first_response", "on_site"):
                continue  # only clocks still meaningful start late
            started, entries = start(policy, now, calendars, (name,), reason)
            clocks.update(started)
            ledger += entries
            continue
        if clock["state"] not in ("running", "paused"):
            continue
        cal = _calendar(calendars, policy.calendar)
        if clock["state"] == "running":
            _stop_running(clock, _calendar(calendars, clock["calendar"]), now)
            clock["running_since"] = to_rfc3339(now)
        clock.update(target_seconds=int(target.total_seconds()), calendar=policy.calendar, policy=policy.name,
                     warn_at=policy.warn_at)
        if clock["state"] == "running":
            _schedule(clock, cal, now)
        ledger.append(_entry("retargeted", name, clock, reason, policy=policy.name))
    return ledger


def due_marks(clocks: dict[str, Any], now: datetime) -> list[tuple[str, str, int]]:
    """What is due now: (clock, mark, step) with mark warning, breached or escalated."""
    marks = []
    for name, clock in clocks.items():
        if clock["state"] == "running" and clock.get("warn_due_at") and not clock.get("warned_at") and \
                from_rfc3339(clock["warn_due_at"]) <= now:
            marks.append((name, "warning", 0))
        if clock["state"] == "running" and clock.get("due_at") and from_rfc3339(clock["due_at"]) <= now:
            marks.append((name, "breached", 0))
        if clock["state"] == "breached" and clock.get("breached_at") and clock.get("met_at") is None:
            done = clock.get("escalations_done", 0)
            steps = clock.get("escalation", [])
            if done < len(steps) and from_rfc3339(clock["breached_at"]) + timedelta(
                    seconds=steps[done]["after_seconds"]) <= now:
                marks.append((name, "escalated", done))
    return marks


def record(clocks: dict[str, Any], name: str, mark: str, step: int, now: datetime) -> dict[str, Any]:
    """Apply one due mark to the clocks; returns its ledger entry."""
    clock = clocks[name]
    if mark == "warning":
        clock.update(warned_at=to_rfc3339(now), warn_due_at=None)
        return _entry("warning", name, clock, f"{int(clock['warn_at'] * 100)}% of the target used")
    if mark == "breached":
        clock.update(state="breached", breached_at=clock["due_at"], warn_due_at=None)
        return _entry("breached", name, clock, "deadline passed without the goal reached")
    target = clock["escalation"][step]
    clock["escalations_done"] = step + 1
    return _entry("escalated", name, clock, f"escalation step {step + 1}: {target['notify']}",
                  notify=target["notify"], step=step + 1)


def next_due(clocks: dict[str, Any]) -> datetime | None:
    """The earliest moment something will be due (warning, breach or escalation step)."""
    moments = []
    for clock in clocks.values():
        if clock["state"] == "running":
            moments += [from_rfc3339(t) for t in (clock.get("warn_due_at"), clock.get("due_at")) if t]
        if clock["state"] == "breached" and clock.get("met_at") is None:
            done, steps = clock.get("escalations_done", 0), clock.get("escalation", [])
            if done < len(steps) and clock.get("breached_at"):
                moments.append(from_rfc3339(clock["breached_at"]) + timedelta(seconds=steps[done]["after_seconds"]))
    return min(moments) if moments else None


def view(clocks: dict[str, Any]) -> list[dict[str, Any]]:
    """What a person sees: every clock with target, due time and state. Nothing counted from the reader's clock
    (a countdown runs from ``due_at`` on the screen), so a ticket reads the same until it changes and its ETag
    holds: a poll of an unchanged queue is a 304."""
    shown = []
    for name in CLOCKS:
        clock = clocks.get(name)
        if clock is None:
            continue
        shown.append({"clock": name, "policy": clock["policy"], "target_seconds": clock["target_seconds"],
                      "calendar": clock["calendar"], "state": clock["state"], "due_at": clock.get("due_at"),
                      "met_at": clock.get("met_at"), "breached_at": clock.get("breached_at"),
                      "warned_at": clock.get("warned_at"), "calendar_note": clock.get("calendar_note")})
    return shown


def next_breach(clocks: dict[str, Any]) -> str | None:
    """When the first running clock breaches (RFC 3339), for "what breaches next"; None if nothing runs.

    Example
    -------
    >>> next_breach({"a": {"state": "running", "due_at": "2026-01-02T00:00:00.000Z"},
    ...              "b": {"state": "paused", "due_at": "2026-01-01T00:00:00.000Z"}})
    '2026-01-02T00:00:00.000Z'
    """
    return min((c["due_at"] for c in clocks.values() if c["state"] == "running" and c.get("due_at")), default=None)


def worst_state(clocks: dict[str, Any]) -> str | None:
    """The worst state among a ticket's clocks, for queue filters: breached, warning, running, paused, met, stopped.

    Example
    -------
    >>> worst_state({"a": {"state": "met"}, "b": {"state": "running", "warned_at": "…"}})
    'warning'
    >>> worst_state({}) is None
    True
    """
    states = {c["state"] for c in clocks.values()}
    if any(c["state"] == "running" and c.get("warned_at") for c in clocks.values()):
        states.add("warning")
    return next((s for s in ("breached", "warning", "running", "paused", "met", "stopped") if s in states), None)
