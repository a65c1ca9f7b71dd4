"""The KPIs of DOMAIN.md from rollup counters (pure): summed over a period, then divided.

Medians and p90s are exact: the rollups keep every duration as a histogram of whole seconds (``h.fr.<s>``,
``h.res.<s>``), so the distribution of any set of days, communities and kinds is their sum. The median of an even
count is the mean of the two middle values; p90 is the nearest rank (the ⌈0.9·n⌉-th smallest value).
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, Literal

Granularity = Literal["day", "week", "month"]
CLOSURE_TARGET = 0.98
COMPLETENESS_TARGET = 1.0
FIRST_RESPONSE_TARGET = 0.95  # the dashboard's target line for 15-minute compliance
CLOCKS = ("first_response", "on_site", "resolution", "next_reply")


def histogram(counters: Mapping[str, int], name: str) -> dict[int, int]:
    prefix = f"h.{name}."
    return {int(k[len(prefix):]): v for k, v in counters.items() if k.startswith(prefix) and v > 0}


def percentile_rank(hist: Mapping[int, int], rank: int) -> int:
    """The ``rank``-th smallest value (1-based) of a histogram.

    >>> percentile_rank({5: 2, 9: 1}, 3)
    9
    """
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    raise ValueError("rank beyond the count")


def median(hist: Mapping[int, int]) -> float | None:
    """The median of a histogram of values.

    >>> median({10: 1, 20: 1}), median({10: 2, 30: 1}), median({})
    (15.0, 10.0, None)
    """
    n = sum(hist.values())
    if n == 0:
        return None
    if n % 2:
        return float(percentile_rank(hist, n // 2 + 1))
    return (percentile_rank(hist, n // 2) + percentile_rank(hist, n // 2 + 1)) / 2


def p90(hist: Mapping[int, int]) -> int | None:
    """The 90th percentile (nearest rank) of a histogram of values.

    >>> p90({i: 1 for i in range(1, 11)}), p90({})
    (9, None)
    """
    n = sum(hist.values())
    return percentile_rank(hist, math.ceil(0.9 * n)) if n else None


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(counters: Mapping[str, int]) -> dict[str, Any]:
    """Every KPI of one period (or one staff member) from its summed counters."""
    c = defaultdict(int, counters)
    fr, res = histogram(c, "fr"), histogram(c, "res")
    compliance = {clock: {"met": c[f"met.{clock}"], "breached": c[f"breached.{clock}"],
                          "rate": ratio(c[f"met.{clock}"], c[f"met.{clock}"] + c[f"breached.{clock}"])}
                  for clock in CLOCKS if c[f"met.{clock}"] or c[f"breached.{clock}"] or clock == "first_response"}
    return {
        "created": c["created"],
        "intake_by_channel": {k[3:]: v for k, v in sorted(c.items()) if k.startswith("ch.") and v},
        "intake_by_kind": {k[5:]: v for k, v in sorted(c.items()) if k.startswith("kind.") and v},
        "first_response": {"count": sum(fr.values()), "median_seconds": median(fr), "p90_seconds": p90(fr)},
        "sla_compliance": compliance,
        "complaints": {"created": c["complaints"], "closed": c["complaints_closed"],
                       "closure_rate": ratio(c["complaints_closed"], c["complaints"]), "target": CLOSURE_TARGET},
        "completeness": {"closed": c["closed"], "complete": c["complete"], "rate": ratio(c["complete"], c["closed"]),
                         "target": COMPLETENESS_TARGET},
        "satisfaction": {"ratings": c["ratings"],
                         "mean_rating": round(c["rating_sum"] / c["ratings"], 4) if c["ratings"] else None,
                         "csat": ratio(c["satisfied"], c["ratings"]),
                         "return_visit_rate": ratio(c["followed_up"], c["closed"])},
        "resolution": {"count": c["resolved"], "median_seconds": median(res), "p90_seconds": p90(res)},
        "reopen_rate": ratio(c["reopened"], c["resolved"]),
        "reopened": c["reopened"],
    }


def add(into: dict[str, int], counters: Mapping[str, int]) -> None:
    for name, amount in counters.items():
        into[name] = into.get(name, 0) + int(amount)


def period_start(day: date, granularity: Granularity) -> date:
    """The first day of the period holding ``day`` (weeks start on Monday).

    >>> period_start(date(2026, 11, 27), "week"), period_start(date(2026, 11, 27), "month")
    (datetime.date(2026, 11, 23), datetime.date(2026, 11, 1))
    """
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def periods(start: date, end: date, granularity: Granularity) -> list[tuple[date, date]]:
    """The periods covering [start, end], each clipped to it.

    >>> [(a.isoformat(), b.isoformat()) for a, b in periods(date(2026, 10, 30), date(2026, 11, 3), "month")]
    [('2026-10-30', '2026-10-31'), ('2026-11-01', '2026-11-03')]
    """
    out, current = [], start
    while current <= end:
        first = period_start(current, granularity)
        if granularity == "day":
            last = current
        elif granularity == "week":
            last = first + timedelta(days=6)
        else:
            last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        last = min(last, end)
        out.append((current, last))
        current = last + timedelta(days=1)
    return out


def split_group_key(key: str) -> tuple[str, str, str]:
    """``G#<day>#<community>#<kind>`` → (day, community, kind)."""
    _, day, community, kind = key.split("#", 3)
    return day, community, kind


def by_kind(rows: Iterable[tuple[str, Mapping[str, int]]]) -> dict[str, dict[str, Any]]:
    """Resolution time per kind (count, median, p90) from group rollups."""
    kinds: dict[str, dict[str, int]] = defaultdict(dict)
    for key, counters in rows:
        add(kinds[split_group_key(key)[2]], counters)
    out = {}
    for kind, counters in sorted(kinds.items()):
        res = histogram(counters, "res")
        if res:
            out[kind] = {"count": sum(res.values()), "median_seconds": median(res), "p90_seconds": p90(res)}
    return out


BACKLOG_COUNTERS = ("created", "ended", "overdue_in", "overdue_out")  # what the later days take back from the totals


def backlog(totals: Mapping[str, int], after: Iterable[Mapping[str, int]], community: str | None = None,
            kind: str | None = None, *, counters: tuple[str, str, str, str] = ("o", "e", "created", "ended")) -> int:
    """Tickets open at the end of a period: every ticket ever opened less every one ended (the running totals),
    then undoing what happened after the period (``after``: the group rollups of the later days).

    >>> backlog({"o.c1.repair": 5, "e.c1.repair": 3, "o.c2.repair": 1}, [{"created": 1, "ended": 2}])
    4
    """
    up, down, day_up, day_down = counters
    opened = ended = 0
    for name, amount in totals.items():
        prefix, _, rest = name.partition(".")
        owner, _, which = rest.partition(".")
        if (community and owner != community) or (kind and which != kind):
            continue
        opened += amount if prefix == up else 0
        ended += amount if prefix == down else 0
    later_up = sum(day.get(day_up, 0) for day in after)
    later_down = sum(day.get(day_down, 0) for day in after)
    return (opened - later_up) - (ended - later_down)


def overdue(totals: Mapping[str, int], after: Iterable[Mapping[str, int]], community: str | None = None,
            kind: str | None = None) -> int:
    """Tickets past their resolution deadline and not yet ended at the end of a period (as :func:`backlog`).

    >>> overdue({"d.c1.repair": 4, "x.c1.repair": 1}, [{"overdue_in": 1}])
    2
    """
    return backlog(totals, after, community, kind, counters=("d", "x", "overdue_in", "overdue_out"))
