"""The per-container cache's refresh-ahead: a steadily read key is reloaded beside requests, never on their path,
and never returned past its life; a write's own value is not overwritten by an older load."""
from __future__ import annotations

from chalicelib.core.cache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def cache(clock: Clock, jobs: list) -> TTLCache[str]:
    return TTLCache(60, refresh_ahead_seconds=15, monotonic=clock, spawn=jobs.append)


def test_a_key_read_steadily_is_loaded_once_on_the_path_and_then_only_beside_requests():
    clock, jobs, loads, beside = Clock(), [], [], [False]

    def load() -> str:
        loads.append("beside" if beside[0] else "on the path")
        return f"v{len(loads)}"

    values = cache(clock, jobs)
    seen = []
    for second in range(0, 300, 10):  # a request every 10 s for five minutes
        clock.now = float(second)
        seen.append(values.get_or_load("tnt_1", load))
        beside[0] = True
        while jobs:  # the refresh runs beside the request
            jobs.pop()()
        beside[0] = False
    assert loads[0] == "on the path" and loads[1:] == ["beside"] * (len(loads) - 1) and len(loads) >= 5
    assert seen[-1] == f"v{len(loads) - 1}" or seen[-1] == f"v{len(loads)}"


def test_past_its_life_a_value_is_never_returned_even_with_a_refresh_pending():
    clock, jobs = Clock(), []
    values = cache(clock, jobs)
    values.get_or_load("k", lambda: "old")
    clock.now = 50.0
    assert values.get_or_load("k", lambda: "new") == "old" and len(jobs) == 1  # refresh started, not yet run
    clock.now = 61.0
    assert values.get_or_load("k", lambda: "fresh") == "fresh"  # loaded on the path: the old one expired


def test_a_value_put_while_a_refresh_was_loading_is_kept():
    clock, jobs = Clock(), []
    values = cache(clock, jobs)
    values.get_or_load("tenant", lambda: "version 1")
    clock.now = 50.0
    values.get_or_load("tenant", lambda: "version 1 (read before the write)")
    values.put("tenant", "version 2")  # the update's own result
    jobs.pop()()
    assert values.get("tenant") == "version 2"


def test_a_failed_refresh_leaves_the_value_to_expire_and_a_later_read_loads_it():
    clock, jobs = Clock(), []
    values = cache(clock, jobs)
    values.get_or_load("k", lambda: "v1")
    clock.now = 50.0

    def broken() -> str:
        raise ConnectionError("store unreachable")

    values.get_or_load("k", broken)
    jobs.pop()()  # logged, not raised
    assert values.get("k") == "v1"
    values.get_or_load("k", lambda: "v2")  # a new refresh may start: the failed one is over
    assert len(jobs) == 1
