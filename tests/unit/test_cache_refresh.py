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
    clock, jobs, loaded_at, beside = Clock(), [], {}, [False]
    where = []

    def load() -> str:
        where.append("beside" if beside[0] else "on the path")
        version = f"v{len(where)}"
        loaded_at[version] = clock.now
        return version

    values = cache(clock, jobs)
    for second in range(0, 300, 10):  # a request every 10 s for five minutes
        clock.now = float(second)
        served = values.get_or_load("tnt_1", load)
        assert clock.now - loaded_at[served] < 60  # never a value past its life
        beside[0] = True
        while jobs:  # the refresh runs beside the request
            jobs.pop()()
        beside[0] = False
    assert where[0] == "on the path" and where[1:] == ["beside"] * (len(where) - 1)
    assert len(where) == 6  # one load per 45 s of steady use: at 0 s, then beside the requests at 50, 100, … 250 s


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
