"""The webhooks deliverer on an in-memory fake: one delivery per (event, endpoint), attempts claimed once,
retries queued before the outcome, endpoint health, auto-disable with its notice event."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.webhooks import ssrf
from chalicelib.webhooks.delivery import WebhookDeliverer
from chalicelib.webhooks.schemas import WebhookIn
from chalicelib.webhooks.service import WebhookService
from chalicelib.webhooks.signing import SecretBox
from tests.fakes.storage import MemoryStore
from tests.fakes.webhooks import FakeKms, InMemoryWebhookRepository

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
PUBLIC = "93.184.216.34"


class World:
    def __init__(self, answers: list[int | Exception] | None = None) -> None:
        self.store, self.queued, self.sent = MemoryStore(), [], []
        self.answers = list(answers or [])
        self.repo = InMemoryWebhookRepository(self.store)
        box = SecretBox(FakeKms(), FakeKms().key_id)
        enqueue = self.queued.append
        self.service = WebhookService(self.repo, self.store.unit_of_work, box, lambda body, delay: enqueue(
            (body, delay)), check_actor=lambda uow, ctx: None, https_only=True, allow_loopback=False,
            resolve=lambda host, port: [PUBLIC])
        self.deliverer = WebhookDeliverer(self.repo, self.store.unit_of_work, box,
                                          lambda body, delay: enqueue((body, delay)), https_only=True,
                                          allow_loopback=False, resolve=lambda host, port: [PUBLIC], send=self._send,
                                          rand=random.Random(7))

    def _send(self, target, body, headers, **_):  # noqa: ANN001, ANN202
        self.sent.append(headers)
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return ssrf.Response(answer, {}, b"ok", 12, PUBLIC)

    def endpoint(self, types: list[str] | None = None) -> str:
        return self.service.create(ADMIN, WebhookIn(url="https://hooks.example.com/a", event_types=types or []),
                                   T0).id

    def run_queue(self, now: datetime) -> list[str]:
        pending, self.queued[:] = list(self.queued), []
        return [self.deliverer.handle(body, now) for body, _ in pending]


def event(event_type: str = "ticket.created", n: int = 1) -> dict:
    return {"id": f"evt_0000{n}", "type": event_type, "tenant_id": "tnt_1",
            "subject": {"type": "ticket", "id": f"tkt_{n}", "version": 1}, "occurred_at": "2026-11-27T09:00:00.000Z",
            "actor": {"type": "staff", "id": "usr_1"}, "changes": {},
            "data": {"number": "26112700001", "kind": "repair", "status": "new"}}


@pytest.fixture
def world() -> World:
    return World()


def test_an_event_fans_out_once_to_each_matching_enabled_endpoint(world):
    matching, other = world.endpoint(["ticket.*"]), world.endpoint(["sla.breached"])
    assert world.deliverer.handle(event(), T0) == "queued 1"
    assert world.deliverer.handle(event(), T0) == "queued 1"  # redelivered before the first attempt ran
    assert sorted(world.run_queue(T0)) == ["stale", "succeeded"] and len(world.sent) == 1
    assert world.deliverer.handle(event(), T0) == "queued 0"  # delivered already
    [delivery] = world.repo.list_deliveries(ADMIN, matching, 10, None)[0]
    assert delivery.status == "succeeded" and delivery.attempts[0]["status_code"] == 200
    assert world.repo.list_deliveries(ADMIN, other, 10, None)[0] == []
    assert world.sent[0]["webhook-id"] == "evt_00001"


def test_a_failure_queues_the_next_attempt_and_records_the_outcome():
    world = World([500])
    endpoint_id = world.endpoint()
    world.deliverer.handle(event(), T0)
    assert world.run_queue(T0) == ["pending"]
    [(retry, delay)] = world.queued
    assert retry["attempt"] == 2 and 4 <= delay <= 6
    [delivery] = world.repo.list_deliveries(ADMIN, endpoint_id, 10, None)[0]
    assert delivery.attempts_made == 1 and delivery.lease_until is None and delivery.next_attempt_at
    assert world.repo.get_endpoint(ADMIN, endpoint_id).failing_since == "2026-11-27T09:00:00.000Z"
    assert world.run_queue(T0 + timedelta(seconds=6)) == ["succeeded"]
    assert world.repo.get_endpoint(ADMIN, endpoint_id).failing_since is None  # one success resets it


def test_410_disables_the_endpoint_once_and_records_a_notice():
    world = World([410])
    endpoint_id = world.endpoint()
    world.deliverer.handle(event(), T0)
    assert world.run_queue(T0) == ["failed"]
    endpoint = world.repo.get_endpoint(ADMIN, endpoint_id)
    assert endpoint.enabled is False and "410" in endpoint.disabled_reason and endpoint.version == 2
    [notice] = [e for e in world.store.events if e.type == "webhook.disabled"]
    assert notice.subject_id == endpoint_id and notice.data["url"] == "https://hooks.example.com/a"
    assert notice.actor == {"type": "system", "id": "webhooks", "role": None}
    assert world.deliverer.handle(event(n=2), T0) == "queued 0"


def test_an_attempt_held_by_another_is_busy_and_one_for_a_later_turn_comes_back():
    world = World()
    endpoint_id = world.endpoint()
    world.deliverer.handle(event(), T0)
    [(first, _)] = world.queued
    delivery = world.repo.list_deliveries(ADMIN, endpoint_id, 10, None)[0][0]
    assert world.repo.claim_attempt(ADMIN, delivery, 1, "2026-11-27T09:02:00.000Z", "2026-11-27T09:00:00.000Z")
    assert world.deliverer.handle(first, T0) == "busy" and world.sent == []
    world.queued.clear()
    assert world.deliverer.handle({**first, "attempt": 2}, T0) == "early"
    assert world.queued == [({**first, "attempt": 2, "early": 1}, 2)]


def test_a_deleted_endpoint_fails_its_pending_delivery():
    world = World()
    endpoint_id = world.endpoint()
    world.deliverer.handle(event(), T0)
    world.service.delete(ADMIN, endpoint_id, None, T0)
    assert world.run_queue(T0) == ["endpoint deleted"]
    [delivery] = world.repo.list_deliveries(ADMIN, endpoint_id, 10, None)[0]
    assert delivery.status == "failed" and delivery.attempts[0]["error"] == "endpoint deleted"


def test_events_that_happened_before_the_last_read_share_it_and_a_newer_one_reads_again(world):
    reads = []
    real = world.repo.endpoints
    world.repo.endpoints = lambda ctx: reads.append(ctx.tenant_id) or real(ctx)
    at = lambda seconds: (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")  # noqa: E731
    late = T0 + timedelta(seconds=30)  # a batch handled half a minute after its events

    # a tenant without webhooks: one read for the batch, not one per event
    assert [world.deliverer.handle({**event(n=n), "occurred_at": at(n)}, late) for n in (1, 2, 3)] == ["queued 0"] * 3
    assert reads == ["tnt_1"]
    # an endpoint created since: the next event happened after that read, so it is read for again — and delivered
    world.endpoint()
    reads.clear()  # (creating it read the list too: the limit)
    assert world.deliverer.handle({**event(n=4), "occurred_at": at(40)}, T0 + timedelta(seconds=41)) == "queued 1"
    assert reads == ["tnt_1"]
    # an older event handled later is answered by that same read (the endpoints as they are when it is handled)
    assert world.deliverer.handle({**event(n=5), "occurred_at": at(10)}, T0 + timedelta(seconds=42)) == "queued 1"
    assert reads == ["tnt_1"]


# --- first attempts in the fan-out ------------------------------------------------------------------------------
def test_with_time_to_spare_a_healthy_endpoints_first_attempt_is_made_in_the_fan_out(world):
    endpoint_id = world.endpoint()
    world.deliverer.inline_within(60)
    assert world.deliverer.handle(event(), T0) == "queued 0, sent 1"
    assert world.queued == [] and len(world.sent) == 1 and world.sent[0]["webhook-id"] == "evt_00001"
    [delivery] = world.repo.list_deliveries(ADMIN, endpoint_id, 10, None)[0]
    assert delivery.status == "succeeded" and delivery.attempts_made == 1 and delivery.lease_until is None
    assert delivery.attempts[0]["status_code"] == 200
    assert world.deliverer.handle(event(), T0) == "queued 0"  # the event delivered twice: sent once
    assert len(world.sent) == 1


def test_an_inline_first_attempt_that_fails_queues_the_second_and_marks_the_endpoint_failing():
    world = World([500])
    endpoint_id = world.endpoint()
    world.deliverer.inline_within(60)
    assert world.deliverer.handle(event(), T0) == "queued 0, sent 1"
    [(retry, delay)] = world.queued
    assert retry["attempt"] == 2 and 4 <= delay <= 6
    assert world.repo.get_endpoint(ADMIN, endpoint_id).failing_since == "2026-11-27T09:00:00.000Z"
    # a failing endpoint's first attempts go through the queue: a slow receiver does not hold up the batch
    assert world.deliverer.handle(event(n=2), T0 + timedelta(seconds=1)) == "queued 1"
    assert len(world.sent) == 1
    assert sorted(world.run_queue(T0 + timedelta(seconds=6))) == ["succeeded", "succeeded"]


def test_without_time_for_a_worst_case_attempt_the_first_attempt_is_queued(world):
    world.endpoint()
    world.deliverer.inline_within(30)  # a worst-case attempt (15 s × 2 addresses) plus the reserve does not fit
    assert world.deliverer.handle(event(), T0) == "queued 1" and world.sent == []


def test_an_endpoint_list_too_old_to_attempt_from_is_read_again_so_a_draining_backlog_still_sends_inline(world):
    world.endpoint()
    reads = []
    real = world.repo.endpoints
    world.repo.endpoints = lambda ctx: reads.append(ctx.tenant_id) or real(ctx)
    world.deliverer.inline_within(60)
    old = lambda n: {**event(n=n), "occurred_at": "2026-11-27T08:59:00.000Z"}  # noqa: E731 - a minute behind
    assert world.deliverer.handle(old(2), T0) == "queued 0, sent 1"
    assert world.deliverer.handle(old(3), T0 + timedelta(seconds=5)) == "queued 0, sent 1"
    assert reads == ["tnt_1"]  # event 3 happened before that read, and the list is 5 s old: shared
    # 20 s on, the list that answers event 4 is too old to make a first attempt from: read again, and sent here
    assert world.deliverer.handle(old(4), T0 + timedelta(seconds=20)) == "queued 0, sent 1"
    assert reads == ["tnt_1", "tnt_1"] and len(world.sent) == 3 and world.queued == []


def test_a_fan_out_that_died_after_its_claim_is_redelivered_and_the_attempt_runs_once_after_the_lease(world):
    endpoint_id = world.endpoint()
    world.deliverer.inline_within(60)
    died = world.repo.create_claimed  # the first run stores the claimed delivery, then the container dies
    world.repo.create_claimed = lambda ctx, delivery: died(ctx, delivery) and (_ for _ in ()).throw(TimeoutError())
    with pytest.raises(TimeoutError):
        world.deliverer.handle(event(), T0)
    world.repo.create_claimed = died
    assert world.deliverer.handle(event(), T0 + timedelta(seconds=5)) == "queued 1"  # the event comes back
    [(attempt, delay)] = world.queued
    assert attempt["attempt"] == 1 and delay == 71  # lease: 15 s × 2 addresses + 45 s, from T0; +1 s
    assert world.run_queue(T0 + timedelta(seconds=76)) == ["succeeded"]
    assert world.deliverer.handle(attempt, T0 + timedelta(seconds=77)) == "stale" and len(world.sent) == 1
    [delivery] = world.repo.list_deliveries(ADMIN, endpoint_id, 10, None)[0]
    assert delivery.status == "succeeded" and delivery.attempts_made == 1
