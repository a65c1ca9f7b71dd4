"""A tenant flooding the API beside a tenant working at its users' pace, on the embedded stack over loopback HTTP.

Shared by ``bench/fairshare.py`` (which reports the timings) and ``tests/security/test_fair_share.py`` (which asserts
what is deterministic: the flooding tenant refused beyond its plan with the documented 429, the other never
refused). The embedded stack allows 20 containers' worth of every limit (``bootstrap.LOCAL_LIMIT_SCALE``) so that
nothing else meets them; :func:`one_container` installs one container's worth, the deployed limits.
"""
from __future__ import annotations

import http.client
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

HOST = "127.0.0.1"
FLOOD_THREADS = 30
# Each of the 30 flooding clients sends again as soon as it is answered, refused or not, but no sooner than once a
# second: 30 requests a second, 15 times a trial plan's rate (2 a second), so nearly all of it is refused. The rate
# is bounded because on the embedded stack every request, refused or not, is parsed under the one interpreter lock
# that the other tenant's requests need too (a refusal costs ~1.5 ms of it); at 60 a second that alone, not anything
# the flooding tenant is let through, took the other's p95 past 2x beside a second test worker. In AWS an unbounded
# flood meets API Gateway's throttling and the WAF first, and the containers behind them serve one request each.
FLOOD_INTERVAL = 1.0
SAMPLES = 96  # of the steady tenant's requests alone, and as many under the flood: a p95 lies among the 5 slowest
WINDOWS = 3  # alone and under the flood alternate, so a change in the machine's other load falls on both alike
PACE_SECONDS = 0.1  # the steady tenant's users: at most 10 requests a second, half a standard plan's rate
QUEUE_PAGE = "/v1/tickets?limit=25"  # what agents poll all day: the staff route a flood would slow first


@contextmanager
def one_container() -> Iterator[None]:
    """The deployed per-container limits (scale 1) on fresh buckets while inside; the stack's own afterwards."""
    from chalicelib import bootstrap
    from chalicelib.core.http import api as edge

    previous = edge.throttle
    edge.throttle = bootstrap.build_request_throttle(scale=1)
    try:
        yield
    finally:
        edge.throttle = previous


def set_plan(tenant_id: str, plan: str) -> None:
    """What the platform does to change a tenant's plan: write the tenant item's ``plan`` (containers see it within
    the config cache time; this process forgets its cached tenants to see it at once)."""
    import boto3

    from chalicelib import bootstrap
    from chalicelib.storage import keys

    dynamodb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                            region_name=os.environ["AWS_REGION"])
    dynamodb.update_item(TableName=os.environ["LINLI_TABLE_NAME"],
                         Key={"PK": {"S": keys.tenant_pk(tenant_id)}, "SK": {"S": keys.TENANT_SK}},
                         UpdateExpression="SET #plan = :plan", ExpressionAttributeNames={"#plan": "plan"},
                         ExpressionAttributeValues={":plan": {"S": plan}})
    bootstrap.tenant_configs().clear_cache()


class Flood:
    """``threads`` clients of one tenant sending ``GET path`` while switched on, each at most every ``interval``
    seconds and spread evenly over it (independent clients do not fire together); counts what they are answered."""

    def __init__(self, port: int, path: str, headers: dict[str, str], *, threads: int = FLOOD_THREADS,
                 interval: float = FLOOD_INTERVAL) -> None:
        self._port, self._path, self._headers, self._interval = port, path, headers, interval
        self._on, self._stop, self._lock = threading.Event(), threading.Event(), threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.refusals: list[tuple[str | None, str]] = []  # (Retry-After, body) of each 429
        self._threads = [threading.Thread(target=self._run, args=(interval * n / threads,), daemon=True)
                         for n in range(threads)]

    def _run(self, offset: float) -> None:
        connection = http.client.HTTPConnection(HOST, self._port, timeout=30)
        next_at = 0.0
        while self._on.wait() and not self._stop.is_set():
            if time.perf_counter() - next_at > self._interval:  # (re)started: take this client's place in the cycle
                time.sleep(offset)
                next_at = time.perf_counter()
            next_at += self._interval
            connection.request("GET", self._path, headers=self._headers)
            response = connection.getresponse()
            body = response.read().decode()
            with self._lock:
                self.statuses[response.status] += 1
                if response.status == 429:
                    self.refusals.append((response.getheader("Retry-After"), body))
            time.sleep(max(0.0, next_at - time.perf_counter()))
        connection.close()

    def __enter__(self) -> Flood:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._on.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def switch_on(self) -> None:
        """Start; return once the flood is refused: the tenant's bucket is spent, and what follows is the flood's
        steady state (its plan's rate admitted, the rest refused). (Not "once every client is refused": clients and
        the bucket's refills are both periodic, so the same few clients can win every refill for many seconds.)"""
        refused = len(self.refusals)
        self._on.set()
        deadline = time.monotonic() + 30
        while len(self.refusals) == refused:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the flood was not refused within 30 s: {dict(self.statuses)}")
            time.sleep(0.01)

    def switch_off(self) -> None:
        self._on.clear()


def paced_latencies(port: int, headers: dict[str, str], samples: int, path: str = QUEUE_PAGE,
                    pace: float = PACE_SECONDS) -> tuple[list[float], Counter[int]]:
    """``GET path`` ``samples`` times on one kept-alive connection at a user's pace: each latency in seconds, and
    the statuses answered."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        for _ in range(samples):
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            statuses[response.status] += 1
            latencies.append(elapsed)
            time.sleep(max(0.0, pace - elapsed))
    finally:
        connection.close()
    return latencies, statuses


def p50(latencies: list[float]) -> float:
    return statistics.median(latencies)


def p95(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=20)[-1]


@dataclass
class FairShareRun:
    """What one run saw: the steady tenant's latencies alone and under the flood, its statuses, and the flood."""

    alone: list[float] = field(default_factory=list)
    flooded: list[float] = field(default_factory=list)
    steady_statuses: Counter[int] = field(default_factory=Counter)
    flood_statuses: Counter[int] = field(default_factory=Counter)
    refusals: list[tuple[str | None, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"steady tenant's p95 alone {p95(self.alone) * 1000:.0f} ms, under the flood "
                f"{p95(self.flooded) * 1000:.0f} ms; the flood answered {dict(self.flood_statuses)} in "
                f"{self.seconds:.0f} s")


def alternate(port: int, flooding: dict[str, str], steady: dict[str, str], *, samples: int = SAMPLES,
              windows: int = WINDOWS, path: str = QUEUE_PAGE) -> FairShareRun:
    """The steady tenant's ``path`` measured alone and under the flooding tenant's flood of the same route, in
    alternating windows (alone first and last), ``samples`` of each. The flooding tenant's plan and the limits in
    force are the caller's (:func:`set_plan`, :func:`one_container`)."""
    paced_latencies(port, steady, 5, path)  # warm: the steady tenant's config and this route
    run = FairShareRun()
    schedule = [(False, samples // (windows + 1))] + [(True, samples // windows),
                                                       (False, samples // (windows + 1))] * windows
    started = time.monotonic()
    with Flood(port, path, flooding) as flood:
        for flooding_now, count in schedule:
            if flooding_now:
                flood.switch_on()
            latencies, statuses = paced_latencies(port, steady, count, path)
            (run.flooded if flooding_now else run.alone).extend(latencies)
            run.steady_statuses += statuses
            flood.switch_off()
    run.seconds = time.monotonic() - started
    run.flood_statuses, run.refusals = flood.statuses, flood.refusals
    return run

