"""How far the consumers fall behind under load: 8 clients working tickets for 60 s on the embedded stack (each in a
loop: file a ticket for its resident, acknowledge it, assign the technician, resolve it), a tenant with one webhook
endpoint (a receiver on loopback taking ``ticket.*``) whose residents and technician get SMS.

- *SMS lag*: from the API's answer to the action that caused a message until the local SMS provider recorded it
  (matched by ticket number and event type);
- *webhook lag*: from the event's ``timestamp`` until the receiver got it;
- *backlog*: the notifications and webhooks queues' visible messages, sampled every second;
- *AWS calls per request*: what the API and each consumer asked of the emulator for the load's requests, counted by
  a botocore hook on every client of the stack and the thread that made the call (the consumers' until the queues
  drained; their queue receives and deletes included, which in AWS the event source mapping makes).

The 8 clients run in a process of their own (``LOAD``), as clients are outside the system; the emulator serves one
request at a time, and the consumers run as threads of the same process as the API — each queue's up to its
mapping's ``MaximumConcurrency`` batches at once while a backlog waits, as Lambda scales them — so everything shares
one interpreter on one core: a lower bound on the throughput of the real thing, where each batch has a container.
"""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.daytime import daytime_zone

CLIENTS = 8
SECONDS = 60
DRAIN_SECONDS = 600
ROOT = Path(__file__).resolve().parent.parent
LOAD = """
import json, sys, threading, time
from tests.helpers import ApiClient

spec = json.loads(sys.stdin.read())
api, token, stop = ApiClient(spec["api"]), spec["token"], time.monotonic() + spec["seconds"]
acted, answered, lock = [], [0], threading.Lock()


def client(resident, unit):
    while time.monotonic() < stop:
        ticket = api.post("/v1/tickets", token=token, json={
            "kind": "repair", "category": "水电", "description": f"压测 {resident} {time.monotonic()}",
            "resident_id": resident, "location": {"community_id": spec["community"], "unit_id": unit}}).json()
        with lock:
            acted.append([ticket["number"], "ticket.created", time.time()])
            answered[0] += 1
        for action, body, event in (("acknowledge", {}, "ticket.acknowledged"),
                                    ("assign", {"assignee_id": spec["technician"]}, "ticket.assigned"),
                                    ("resolve", {"note": "已处理"}, "ticket.resolved")):
            answer = api.post(f"/v1/tickets/{ticket['id']}/actions/{action}", token=token, json=body)
            with lock:
                acted.append([ticket["number"], event, time.time()])
                answered[0] += answer.status_code < 300


threads = [threading.Thread(target=client, args=tuple(pair)) for pair in spec["residents"]]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"acted": acted, "answered": answered[0]}))
"""


@dataclass
class Figures:
    actions: int = 0
    sms_lags: list[float] = field(default_factory=list)
    webhook_lags: list[float] = field(default_factory=list)
    backlog: dict[str, int] = field(default_factory=dict)
    drained_after: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)  # by who made them: "API" or an emulator thread's function


API = "API"


def caller(thread_name: str) -> str | None:
    """Who a call is counted against, from the name of the thread that made it: the API's request threads, or the
    function an emulator thread runs (its extra workers, and the threads it sends on, together); None for the
    bench's own threads.

    >>> caller("emulator-notifications_consumer-3"), caller("emulator-event_dispatcher")
    ('notifications_consumer', 'event_dispatcher')
    >>> caller("emulator-event_dispatcher_2")  # one of the relay's sending threads (``events.dispatcher.send_all``)
    'event_dispatcher'
    >>> caller("Thread-12 (process_request_thread)"), caller("Thread-3 (sample)"), caller("MainThread")
    ('API', None, None)
    """
    if thread_name.startswith("emulator-"):
        return re.sub(r"(-\d+)?(_\d+)?$", "", thread_name.removeprefix("emulator-"))
    return API if thread_name.endswith("(process_request_thread)") else None


class CallCounter:
    """Counts the calls of every client built from ``install`` on, by caller, while ``counting`` is set."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.counting = threading.Event()
        self._lock = threading.Lock()

    def install(self) -> Any:
        from bench.clients import on_new_clients

        return on_new_clients(lambda client: client.meta.events.register("before-call", self._seen))

    def _seen(self, model: Any = None, **_: Any) -> None:
        who = caller(threading.current_thread().name) if self.counting.is_set() else None
        if who is not None:
            with self._lock:
                self.calls[who] += 1


class Receiver(BaseHTTPRequestHandler):
    lags: list[float] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        stamp = body.get("timestamp")
        if stamp:
            sent = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            Receiver.lags.append(time.time() - sent)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return


def run() -> Figures:
    from chalicelib import bootstrap
    from devstack.stack import LocalStack, free_port
    from tests.helpers import ApiClient

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.lags = []
    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-lag-bench", seed=False)
    counter = CallCounter()
    uninstall = counter.install()  # before the stack builds its clients
    figures = Figures()
    try:
        stack.start()
        api = ApiClient(stack.api_url)
        tenant = api.new_tenant()
        api.patch("/v1/tenant", token=tenant.token, json={"timezone": daytime_zone()})
        community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()["id"]
        building = api.post(f"/v1/communities/{community}/buildings", token=tenant.token,
                            json={"name": "1栋"}).json()["id"]
        residents = []
        for n in range(CLIENTS):
            unit = api.post(f"/v1/communities/{community}/units", token=tenant.token,
                            json={"building_id": building, "number": f"{101 + n}"}).json()["id"]
            residents.append((api.post("/v1/residents", token=tenant.token, json={
                "name": f"业主{n}", "phone": f"1350000{n:04d}",
                "units": [{"unit_id": unit, "community_id": community}]}).json()["id"], unit))
        technician = api.post("/v1/staff", token=tenant.token, json={
            "email": "fixer@bench.test", "name": "师傅", "role": "technician", "password": "Bench-pass-2026",
            "phone": "13700000001"}).json()["id"]
        assert api.post("/v1/webhooks", token=tenant.token, json={
            "url": f"http://127.0.0.1:{server.server_port}/hook", "event_types": ["ticket.*"]}).status_code == 201
        stack.settle("notifications", timeout=60)

        recorded: list[tuple[float, Any]] = []
        outbox = bootstrap.sms_channel()
        real_send = outbox.send

        def send(message: Any) -> str:
            recorded.append((time.time(), message))
            return real_send(message)

        outbox.send = send  # type: ignore[method-assign]
        stop = time.monotonic() + SECONDS

        def sample() -> None:
            sqs = stack._sqs
            while time.monotonic() < stop + DRAIN_SECONDS and not done.is_set():
                for queue in ("notifications", "webhooks"):
                    visible = int(sqs.get_queue_attributes(QueueUrl=stack.resources.queue_urls[queue],
                                                           AttributeNames=["ApproximateNumberOfMessages"])
                                  ["Attributes"]["ApproximateNumberOfMessages"])
                    figures.backlog[queue] = max(figures.backlog.get(queue, 0), visible)
                time.sleep(1)

        done = threading.Event()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        counter.counting.set()
        spec = {"api": stack.api_url, "token": tenant.token, "seconds": SECONDS, "community": community,
                "technician": technician, "residents": residents}
        load = subprocess.run([sys.executable, "-c", LOAD], input=json.dumps(spec), capture_output=True, text=True,
                              cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
        if load.returncode:
            raise RuntimeError(load.stderr[-2000:])
        result = json.loads(load.stdout.strip().splitlines()[-1])
        acted = {(number, event): at for number, event, at in result["acted"]}
        figures.actions = result["answered"]
        for queue in ("notifications", "webhooks"):
            stack.settle(queue, timeout=DRAIN_SECONDS)
        figures.drained_after = time.monotonic() - started - SECONDS
        counter.counting.clear()
        figures.calls = counter.calls
        done.set()
        for at, message in recorded:
            number = (message.params or {}).get("number")
            cause = acted.get((number, message.template))
            if cause is not None:
                figures.sms_lags.append(at - cause)
        figures.webhook_lags = list(Receiver.lags)
    finally:
        uninstall()
        stack.stop()
        server.shutdown()
    return figures


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank); infinite when nothing arrived.

    >>> p95([float(n) for n in range(1, 101)]), p95([])
    (95.0, inf)
    """
    if not values:
        return float("inf")
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _spread(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    return (f"p50 {statistics.median(ordered):.1f} s, p95 {p95(ordered):.1f} s, max {ordered[-1]:.1f} s "
            f"({len(ordered)} messages)")


def report(figures: Figures) -> str:
    return "\n".join([
        f"{CLIENTS} clients for {SECONDS} s: {figures.actions} requests answered",
        f"SMS lag (action answered → message recorded): {_spread(figures.sms_lags)}",
        f"webhook lag (event → receiver):               {_spread(figures.webhook_lags)}",
        f"backlog peak: notifications {figures.backlog.get('notifications', 0)}, "
        f"webhooks {figures.backlog.get('webhooks', 0)}; drained {figures.drained_after:.0f} s after the load",
        calls_per_request(figures),
        "p95 goal: 10 s each",
    ])


def calls_per_request(figures: Figures) -> str:
    """AWS calls per request answered, the API's and the consumers' (with each function's share).

    >>> print(calls_per_request(Figures(actions=10, calls=Counter({"API": 27, "sms": 45, "hooks": 8}))))
    AWS calls per request answered: the API 2.7; the consumers and schedules 5.3 (sms 4.5, hooks 0.8)
    """
    if not figures.actions:
        return "AWS calls per request answered: no request answered"
    per = {who: count / figures.actions for who, count in figures.calls.most_common()}
    others = {who: n for who, n in per.items() if who != API}
    shares = ", ".join(f"{who} {n:.1f}" for who, n in others.items())
    return (f"AWS calls per request answered: the API {per.get(API, 0):.1f}; the consumers and schedules "
            f"{sum(others.values()):.1f} ({shares})")


if __name__ == "__main__":
    print(report(run()))
