"""The webhooks consumer against moto with a scripted receiver and a fixed clock: the retry schedule,
410/429/503 handling, auto-disable after 5 days with a notice event, duplicates, and the SSRF guard at
registration and at send time (loopback refused unless the local setting allows it)."""
from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from chalicelib import bootstrap
from chalicelib.core.errors import ValidationFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.storage import keys
from chalicelib.storage.unit_of_work import EventItem
from chalicelib.webhooks import ssrf
from chalicelib.webhooks.delivery import WebhookDeliverer
from chalicelib.webhooks.domain import SCHEDULE
from chalicelib.webhooks.repository import EndpointItem, WebhookRepository, endpoint_key
from chalicelib.webhooks.schemas import WebhookIn
from chalicelib.webhooks.service import WebhookService

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
PUBLIC = "93.184.216.34"
SSRF_HOSTS = ["127.0.0.1", "localhost", "10.0.0.1", "169.254.169.254", "[::1]", "2130706433", "0x7f000001",
              "[::ffff:127.0.0.1]", "intranet.example.com"]


def resolver(host: str, port: int) -> list[str]:
    return ["10.20.30.40"] if host == "intranet.example.com" else [PUBLIC]


class Harness:
    def __init__(self, answers: list[ssrf.Response | Exception] | None = None, **deliverer_options) -> None:
        settings = bootstrap.get_settings()
        self.repo = WebhookRepository(bootstrap.cursor_codec())
        self.queued: list[tuple[dict, int]] = []
        self.sent: list[tuple[ssrf.Target, bytes, dict]] = []
        self.answers = list(answers or [])
        self.service = WebhookService(self.repo, bootstrap.unit_of_work, bootstrap.secret_box(), self._enqueue,
                                      check_actor=lambda uow, ctx: None, https_only=True, allow_loopback=False,
                                      resolve=resolver)
        options = {"https_only": True, "allow_loopback": False, "resolve": resolver, "send": self._send,
                   "rand": random.Random(7), **deliverer_options}
        self.deliverer = WebhookDeliverer(self.repo, bootstrap.unit_of_work, bootstrap.secret_box(), self._enqueue,
                                          **options)
        self.tenant_id = new_id("tnt")
        self.ctx = TenantContext(self.tenant_id, Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
        assert settings.is_local

    def _enqueue(self, body: dict, delay: int) -> None:
        self.queued.append((body, delay))

    def _send(self, target, body, headers, **_):  # noqa: ANN001
        self.sent.append((target, body, headers))
        answer = self.answers.pop(0) if self.answers else ssrf.Response(200, {}, b"ok", 12, target.addresses[0])
        if isinstance(answer, Exception):
            raise answer
        return answer

    def endpoint(self, url: str = "https://hooks.example.com/linli", types: list[str] | None = None) -> str:
        return self.service.create(self.ctx, WebhookIn(url=url, event_types=types or []), T0).id

    def event(self, event_type: str = "ticket.created", n: int = 1) -> dict:
        return {"id": f"evt_{new_id('x')[2:]}", "type": event_type, "tenant_id": self.tenant_id,
                "subject": {"type": "ticket", "id": f"tkt_{n}", "version": 1},
                "occurred_at": "2026-11-27T09:00:00.000Z", "actor": {"type": "staff", "id": "usr_1"},
                "changes": {}, "data": {"number": "26112700001", "kind": "repair", "status": "new"}}

    def run_queue(self, now: datetime) -> list[str]:
        """Process what is queued (as SQS would, once each); returns the outcomes."""
        pending, self.queued = self.queued, []
        return [self.deliverer.handle(body, now) for body, _ in pending]

    def delivery(self, endpoint_id: str):  # noqa: ANN201
        items, _ = self.repo.list_deliveries(self.ctx, endpoint_id, 10, None)
        return items


def answer(status: int, headers: dict | None = None, body: bytes = b"") -> ssrf.Response:
    return ssrf.Response(status, headers or {}, body, 30, PUBLIC)


def test_the_schedule_runs_out_after_eight_attempts_with_jittered_waits(stack):
    h = Harness([answer(500)] * 8)
    endpoint_id = h.endpoint()
    assert h.deliverer.handle(h.event(), T0) == "queued 1"
    now, waits = T0, []
    for attempt in range(1, 9):
        body, delay = h.queued[-1]
        assert body["attempt"] == attempt
        if attempt > 1:
            wait = (datetime.fromisoformat(body["not_before"].replace("Z", "+00:00")) - now).total_seconds()
            waits.append(wait)
            now += timedelta(seconds=wait)
            assert delay == min(900, int(wait) + (wait % 1 > 0))
        h.queued = [(body, delay)]
        assert h.run_queue(now) == (["failed"] if attempt == 8 else ["pending"])
    for wait, planned in zip(waits, SCHEDULE[1:], strict=True):
        assert planned * 0.9 <= wait <= planned * 1.1
    [item] = h.delivery(endpoint_id)
    assert item.status == "failed" and [a["status_code"] for a in item.attempts] == [500] * 8
    assert h.queued == []
    assert len({headers["webhook-id"] for _, _, headers in h.sent}) == 1


def test_a_long_wait_hops_on_the_queue_until_it_is_due(stack):
    h = Harness([answer(500)] * 4)
    h.endpoint()
    h.deliverer.handle(h.event(), T0)
    now = T0
    for _ in range(3):  # attempts 1, 2 and 3 fail; attempt 4 is due in 30 minutes
        body, _ = h.queued[-1]
        if body.get("not_before"):
            now = datetime.fromisoformat(body["not_before"].replace("Z", "+00:00"))
        h.queued = [h.queued[-1]]
        h.run_queue(now)
    body, delay = h.queued[-1]
    assert body["attempt"] == 4 and delay == 900
    assert h.run_queue(now + timedelta(seconds=900)) == ["held"]  # arrived early: back on the queue
    assert h.queued[-1][0] == body and len(h.sent) == 3


def test_410_disables_the_endpoint_and_records_a_notice(stack):
    h = Harness([answer(410)])
    endpoint_id = h.endpoint()
    h.deliverer.handle(h.event(), T0)
    assert h.run_queue(T0) == ["failed"]
    endpoint = h.repo.get_endpoint(h.ctx, endpoint_id, consistent=True)
    assert endpoint.enabled is False and "410" in endpoint.disabled_reason
    audit = EventItem.query(keys.event_partition(h.tenant_id, "webhook", endpoint_id))  # the endpoint's own audit
    notices = [e for e in audit if isinstance(e, EventItem) and e.type == "webhook.disabled"]
    assert len(notices) == 1 and notices[0].data["url"] == "https://hooks.example.com/linli"
    h.deliverer.handle(h.event(n=2), T0)
    assert h.queued == []  # a disabled endpoint gets nothing new


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_honour_retry_after(stack, status):
    h = Harness([answer(status, {"retry-after": "120"})])
    h.endpoint()
    h.deliverer.handle(h.event(), T0)
    h.run_queue(T0)
    body, delay = h.queued[-1]
    assert body["attempt"] == 2 and delay == 120 and body["not_before"] == "2026-11-27T09:02:00.000Z"


def test_five_days_of_failures_disable_the_endpoint_and_one_success_resets_the_count(stack):
    h = Harness([answer(500), answer(200), answer(500), answer(500)])
    endpoint_id = h.endpoint()
    for n, now in enumerate((T0, T0 + timedelta(days=1), T0 + timedelta(days=2), T0 + timedelta(days=7))):
        h.deliverer.handle(h.event(n=n), now)
        h.queued = [q for q in h.queued if q[0]["attempt"] == 1]
        h.run_queue(now)
        endpoint = h.repo.get_endpoint(h.ctx, endpoint_id, consistent=True)
        if n == 0:
            assert endpoint.failing_since == "2026-11-27T09:00:00.000Z"
        if n == 1:
            assert endpoint.failing_since is None and endpoint.enabled  # the success reset it
        if n == 2:
            assert endpoint.failing_since == "2026-11-29T09:00:00.000Z" and endpoint.enabled
    assert endpoint.enabled is False and "5 days" in endpoint.disabled_reason


def test_an_event_or_an_attempt_delivered_twice_sends_once(stack):
    h = Harness()
    endpoint_id = h.endpoint()
    event = h.event()
    h.deliverer.handle(event, T0)
    h.deliverer.handle(event, T0)  # the stream redelivered the record before the first attempt ran
    assert len(h.delivery(endpoint_id)) == 1 and len(h.queued) == 2
    assert sorted(h.run_queue(T0)) == ["stale", "succeeded"]
    assert h.deliverer.handle(event, T0) == "queued 0"  # delivered already: nothing queued again
    assert len(h.sent) == 1


def test_concurrent_attempts_of_one_delivery_send_once(stack):
    h = Harness()
    h.endpoint()
    h.deliverer.handle(h.event(), T0)
    message = h.queued[0][0]
    results = []
    threads = [threading.Thread(target=lambda: results.append(h.deliverer.handle(message, T0))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(h.sent) == 1 and results.count("succeeded") == 1


@pytest.mark.parametrize("host", SSRF_HOSTS)
def test_ssrf_refused_at_registration(stack, host):
    h = Harness()
    with pytest.raises(ValidationFailedError) as refused:
        h.endpoint(f"https://{host}/hook")
    assert refused.value.details[0]["type"] == "url_not_allowed"
    assert h.repo.endpoints(h.ctx) == []


@pytest.mark.parametrize("host", SSRF_HOSTS)
def test_ssrf_refused_at_send_time(stack, host):
    """The URL was fine when registered (or its name re-resolves since): the attempt is refused, nothing sent."""
    h = Harness()
    endpoint_id = h.endpoint()
    EndpointItem(*endpoint_key(h.tenant_id, endpoint_id)).update(actions=[EndpointItem.url.set(f"https://{host}/hook")])
    h.deliverer.handle(h.event(), T0)
    assert h.run_queue(T0) == ["pending"]
    [delivery] = h.delivery(endpoint_id)
    assert h.sent == [] and delivery.attempts[0]["error"].startswith("refused: the URL points at")


def test_the_connection_is_checked_against_the_address_actually_reached(stack):
    """Loopback is refused by the socket-level check even when the name check is bypassed."""
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    port = server.server_address[1]
    target = ssrf.Target(url=f"http://127.0.0.1:{port}/", scheme="http", host="hooks.example.com", port=port,
                         path="/", addresses=("127.0.0.1",))
    with pytest.raises(ssrf.UnsafeUrl, match="loopback"):
        ssrf.post(target, b"{}", {}, timeout=2)
    server.server_close()


def test_the_local_setting_lets_loopback_through_and_nothing_else(stack):
    service = WebhookService(WebhookRepository(bootstrap.cursor_codec()), bootstrap.unit_of_work,
                             bootstrap.secret_box(), lambda *_: None,
                             check_actor=lambda uow, ctx: None, https_only=False, allow_loopback=True,
                             resolve=resolver)
    ctx = TenantContext(new_id("tnt"), Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
    assert service.create(ctx, WebhookIn(url="http://127.0.0.1:9/hook"), T0).enabled
    with pytest.raises(ValidationFailedError):
        service.create(ctx, WebhookIn(url="http://10.0.0.1/hook"), T0)
    with pytest.raises(ValidationFailedError):  # https only outside the local stage
        Harness().endpoint("http://hooks.example.com/hook")


def test_secrets_are_sealed_at_rest_and_rotation_keeps_the_old_one_for_24_hours(stack):
    h = Harness()
    created = h.service.create(h.ctx, WebhookIn(url="https://hooks.example.com/a"), T0)
    raw = json.dumps(h.repo.get_endpoint(h.ctx, created.id).secrets)
    assert created.secret not in raw and created.secret[6:] not in raw
    rotated = h.service.rotate_secret(h.ctx, created.id, T0 + timedelta(hours=1))
    h.deliverer.handle(h.event(), T0 + timedelta(hours=2))
    h.run_queue(T0 + timedelta(hours=2))
    h.deliverer.handle(h.event(n=2), T0 + timedelta(hours=26))
    h.run_queue(T0 + timedelta(hours=26))
    from standardwebhooks import Webhook

    during, after = h.sent[0][2], h.sent[1][2]
    assert len(during["webhook-signature"].split(" ")) == 2 and len(after["webhook-signature"].split(" ")) == 1
    assert rotated.secret != created.secret
    body = h.sent[1][1].decode()
    sig_new = Webhook(rotated.secret).sign(after["webhook-id"],
                                           datetime.fromtimestamp(int(after["webhook-timestamp"]), timezone.utc),
                                           body)
    assert after["webhook-signature"] == sig_new


def test_unreachable_receivers_are_logged_and_retried(stack):
    h = Harness([ConnectionRefusedError(), TimeoutError()])
    endpoint_id = h.endpoint()
    h.deliverer.handle(h.event(), T0)
    h.run_queue(T0)
    h.queued = [(dict(h.queued[0][0], not_before=None), 0)]
    h.run_queue(T0 + timedelta(seconds=6))
    [delivery] = h.delivery(endpoint_id)
    assert [a["error"] for a in delivery.attempts] == ["connection refused", "no answer within 15 s"]


def test_an_attempt_queued_before_the_previous_outcome_was_written_comes_back_later(stack):
    h = Harness()
    endpoint_id = h.endpoint()
    h.deliverer.handle(h.event(), T0)
    [(first, _)] = h.queued
    second = {**first, "attempt": 2}
    h.queued = []
    assert h.deliverer.handle(second, T0) == "early"  # attempt 1 has not recorded its outcome yet
    assert h.queued == [({**second, "early": 1}, 2)] and h.sent == []
    assert h.delivery(endpoint_id)[0].attempts_made == 0


def test_a_receiver_that_trickles_is_cut_off_at_the_timeout():
    import time

    class Trickle(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["content-length"]))
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            try:
                for _ in range(20):
                    time.sleep(0.2)
                    self.wfile.write(b"X-Drip: 1\r\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up, as the test wants (not an error to print after the test)

        def log_message(self, *args):  # noqa: ANN002
            pass

    server = HTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.handle_request, daemon=True).start()
    target = ssrf.check_url(f"http://127.0.0.1:{server.server_address[1]}/", https_only=False, allow_loopback=True)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        ssrf.post(target, b"{}", {}, timeout=1, allow_loopback=True)
    assert time.monotonic() - started < 3
    server.server_close()
