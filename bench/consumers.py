"""AWS calls the consumers make per event, over the ticket lifecycle of ``bench/writecost.py``, for a tenant with
one webhook endpoint (a receiver on loopback taking ``ticket.*``) and one without any.

A botocore hook on every client of the embedded stack records each call with the thread that made it; each
consumer runs on its own thread there (``emulator-<name>``). The calls Lambda's event source mappings make in AWS —
receiving and deleting queue messages, reading the stream — are left out: they are not the function's.
"""
from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.lag import caller

MAPPING_CALLS = frozenset({"ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
                           "ChangeMessageVisibilityBatch", "GetQueueAttributes", "DescribeStream", "GetShardIterator",
                           "GetRecords"})
CONSUMERS = ("event_dispatcher", "notifications_consumer", "webhooks_consumer", "reports_consumer", "sla_consumer")


@dataclass
class Calls:
    by_consumer: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))


class CallsByThread:
    def __init__(self) -> None:
        self.calls = Calls()
        self._lock = threading.Lock()

    def install(self) -> Callable[[], None]:
        """Count the calls of every client built from now on; returns what takes the counting out again."""
        from bench.clients import on_new_clients

        return on_new_clients(lambda client: client.meta.events.register("before-call", self._seen))

    def _seen(self, model: Any = None, **_: Any) -> None:
        name = threading.current_thread().name
        if model is None or model.name in MAPPING_CALLS or not name.startswith("emulator-"):
            return
        with self._lock:  # (a function's extra workers and the threads it sends on count as the function)
            self.calls.by_consumer[caller(name) or name][model.name] += 1

    @contextmanager
    def measure(self) -> Iterator[Calls]:
        yield self.calls  # the whole lifecycle adds up in one place


class Receiver(BaseHTTPRequestHandler):
    received: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        Receiver.received.append(self.headers.get("webhook-id", ""))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return


@dataclass
class Result:
    webhooks: bool
    events: int
    deliveries: int
    calls: dict[str, Counter]


def run() -> list[Result]:
    from bench.writecost import lifecycle
    from devstack.stack import LocalStack, free_port
    from tests.helpers import ApiClient

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    counter = CallsByThread()
    uninstall = counter.install()
    stack = LocalStack(http_port=free_port(), aws_port=free_port(), table_name="linli-consumers-bench", seed=False)
    results = []
    try:
        stack.start()
        api = ApiClient(stack.api_url)
        for webhooks in (True, False):
            counter.calls = Calls()
            Receiver.received = []
            tenant_box: list[Any] = []

            def prepare(tenant: Any, webhooks: bool = webhooks, tenant_box: list[Any] = tenant_box) -> None:
                tenant_box.append(tenant)
                if webhooks:
                    answer = api.post("/v1/webhooks", token=tenant.token, json={
                        "url": f"http://127.0.0.1:{server.server_port}/hook", "event_types": ["ticket.*"]})
                    assert answer.status_code == 201, answer.text

            before = Calls()
            steps = lifecycle(stack, _Since(counter, before), api, prepare=prepare)
            ticket_events = _events(api, tenant_box[0])
            calls = {name: counter.calls.by_consumer[name] - before.by_consumer.get(name, Counter())
                     for name in CONSUMERS}
            results.append(Result(webhooks, ticket_events, len(Receiver.received) if webhooks else 0, calls))
            assert steps
    finally:
        stack.stop()
        server.shutdown()
        uninstall()
    return results


class _Since:
    """Counts from the first measured step on: the tenant's set-up (sign-up, staff, the resident's code) is not the
    lifecycle's."""

    def __init__(self, counter: CallsByThread, before: Calls) -> None:
        self.counter, self.before, self.started = counter, before, False

    @contextmanager
    def measure(self) -> Iterator[Calls]:
        if not self.started:
            self.started = True
            for name, ops in self.counter.calls.by_consumer.items():
                self.before.by_consumer[name] = Counter(ops)
        yield self.counter.calls


def _events(api: Any, tenant: Any) -> int:
    """The ticket's events (the lifecycle files one ticket), from the staff timeline."""
    tickets = api.get("/v1/tickets?bucket=closed", token=tenant.token).json()["items"]
    [ticket] = tickets
    return len(api.get(f"/v1/tickets/{ticket['id']}/events", token=tenant.token).json()["items"])


def report(results: list[Result]) -> str:
    lines = [f"{'consumer':<24} {'tenant':<16} {'calls':>6} {'per event':>10}  by operation", "-" * 100]
    for r in results:
        who = "1 webhook" if r.webhooks else "no webhooks"
        for name in CONSUMERS:
            ops = r.calls.get(name, Counter())
            total = sum(ops.values())
            detail = ", ".join(f"{op}×{n}" for op, n in ops.most_common())
            lines.append(f"{name:<24} {who:<16} {total:>6} {total / r.events:>10.2f}  {detail}")
        if r.webhooks:
            per = sum(r.calls.get("webhooks_consumer", Counter()).values()) / max(r.deliveries, 1)
            lines.append(f"{'':<24} {'':<16} {r.deliveries} deliveries received: {per:.2f} webhooks calls per delivery")
        lines.append(f"{'':<24} {who:<16} over the lifecycle's {r.events} events")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
