"""The lag bench's call counts (``bench/lag.py``): each AWS call is counted against the API or the consumer whose
thread made it, only while the load and its drain are measured."""
from __future__ import annotations

import threading
from collections import Counter
from types import SimpleNamespace

from bench.lag import CallCounter, Figures, caller, calls_per_request


def test_a_call_is_counted_against_the_function_its_thread_runs():
    assert caller("emulator-notifications_consumer") == "notifications_consumer"
    assert caller("emulator-webhooks_consumer-9") == "webhooks_consumer"  # an extra worker counts for its queue
    assert caller("emulator-sla_sweep") == "sla_sweep"
    assert caller("Thread-41 (process_request_thread)") == "API"
    assert caller("Thread-7 (sample)") is None and caller("MainThread") is None and caller("cache-refresh") is None


def test_calls_are_counted_by_caller_only_while_counting():
    counter = CallCounter()
    call = SimpleNamespace(name="GetItem")

    def make_calls(thread_name: str, times: int) -> None:
        worker = threading.Thread(target=lambda: [counter._seen(model=call) for _ in range(times)], name=thread_name)
        worker.start()
        worker.join()

    make_calls("emulator-notifications_consumer", 3)  # before the load: not counted
    counter.counting.set()
    make_calls("emulator-notifications_consumer", 4)
    make_calls("emulator-notifications_consumer-2", 5)
    make_calls("Thread-9 (process_request_thread)", 2)
    make_calls("Thread-3 (sample)", 6)  # the bench's own sampling
    counter.counting.clear()
    make_calls("Thread-9 (process_request_thread)", 8)
    assert counter.calls == Counter({"notifications_consumer": 9, "API": 2})
    line = calls_per_request(Figures(actions=2, calls=counter.calls))
    assert line == ("AWS calls per request answered: the API 1.0; the consumers and schedules 4.5 "
                    "(notifications_consumer 4.5)")
    assert calls_per_request(Figures()) == "AWS calls per request answered: no request answered"
