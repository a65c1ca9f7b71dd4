"""The webhook service on an in-memory fake: registering, changing under a version, re-enabling, rotating
secrets, removing (each with its event), and retrying or pinging deliveries."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import ConflictError, NotFoundError, PreconditionFailedError, ValidationFailedError
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.webhooks.domain import new_delivery
from chalicelib.webhooks.schemas import WebhookIn, WebhookPatch
from chalicelib.webhooks.service import MAX_ENDPOINTS, WebhookService
from chalicelib.webhooks.signing import SecretBox
from tests.fakes.storage import MemoryStore
from tests.fakes.webhooks import FakeKms, InMemoryWebhookRepository

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))


def resolver(host: str, port: int) -> list[str]:
    return ["10.20.30.40"] if host == "intranet.example.com" else ["93.184.216.34"]


class World:
    def __init__(self) -> None:
        self.store, self.queued = MemoryStore(), []
        self.repo = InMemoryWebhookRepository(self.store)
        self.service = WebhookService(self.repo, self.store.unit_of_work, SecretBox(FakeKms(), FakeKms().key_id),
                                      lambda body, delay: self.queued.append((body, delay)),
                                      check_actor=lambda uow, ctx: None, https_only=True,
                                      allow_loopback=False, resolve=resolver)

    def register(self, url: str = "https://hooks.example.com/a", **fields: object):  # noqa: ANN201
        return self.service.create(ADMIN, WebhookIn(url=url, **fields), T0)

    def events(self) -> list[tuple[str, str, int | None]]:
        return [(e.type, e.subject_id, e.subject_version) for e in self.store.events]


@pytest.fixture
def world() -> World:
    return World()


def test_registering_stores_a_sealed_secret_and_records_the_event(world):
    created = world.register(event_types=["ticket.*", "sla.breached", "ticket.*"])
    stored = world.repo.get_endpoint(ADMIN, created.id)
    assert created.secret.startswith("whsec_") and created.event_types == ["sla.breached", "ticket.*"]
    assert created.secret not in str(stored.secrets) and stored.version == 1 and stored.enabled
    assert world.events() == [("webhook.created", created.id, 1)]
    assert world.store.events[0].data == {"url": "https://hooks.example.com/a",
                                          "event_types": ["sla.breached", "ticket.*"], "enabled": True}


def test_unsafe_urls_unknown_filters_and_a_21st_endpoint_are_refused(world):
    with pytest.raises(ValidationFailedError):
        world.register("https://intranet.example.com/hook")
    with pytest.raises(ValidationFailedError):
        world.register(event_types=["staff.created"])
    for n in range(MAX_ENDPOINTS):
        world.register(f"https://hooks.example.com/{n}")
    with pytest.raises(ConflictError) as refused:
        world.register()
    assert refused.value.code == "too_many_endpoints" and len(world.repo.endpoints(ADMIN)) == MAX_ENDPOINTS


def test_an_update_applies_under_if_match_and_records_what_changed(world):
    created = world.register()
    with pytest.raises(PreconditionFailedError):
        world.service.update(ADMIN, created.id, WebhookPatch(description="新"), 7, T0)
    updated = world.service.update(ADMIN, created.id, WebhookPatch(description="新", enabled=False), 1, T0)
    assert updated.version == 2 and updated.enabled is False and updated.disabled_reason == "disabled by the tenant"
    assert world.repo.get_endpoint(ADMIN, created.id).disabled_at == "2026-11-27T09:00:00.000Z"
    [_, changed] = world.store.events
    assert changed.type == "webhook.updated" and changed.subject_version == 2
    assert changed.changes == {"description": {"before": "", "after": "新"},
                               "enabled": {"before": True, "after": False}}
    assert world.service.update(ADMIN, created.id, WebhookPatch(description="新"), None, T0).version == 2
    assert len(world.store.events) == 2  # nothing changed, nothing recorded


def test_re_enabling_starts_afresh(world):
    created = world.register()
    world.repo.endpoints_[("tnt_1", created.id)] = replace(
        world.repo.get_endpoint(ADMIN, created.id), enabled=False, disabled_reason="410 Gone",
        disabled_at="2026-11-26T00:00:00.000Z", failing_since="2026-11-21T00:00:00.000Z")
    enabled = world.service.update(ADMIN, created.id, WebhookPatch(enabled=True), None, T0)
    assert enabled.enabled and enabled.disabled_reason is None and enabled.failing_since is None
    stored = world.repo.get_endpoint(ADMIN, created.id)
    assert (stored.disabled_reason, stored.disabled_at, stored.failing_since) == (None, None, None)


def test_rotation_keeps_only_the_newest_previous_secret_and_can_expire_it_now(world):
    created = world.register()
    for hour in (1, 2, 3):
        world.service.rotate_secret(ADMIN, created.id, T0 + timedelta(hours=hour))
    secrets = world.repo.get_endpoint(ADMIN, created.id).secrets
    assert len(secrets) == 2 and [s.get("expires_at") for s in secrets] == [None, "2026-11-28T12:00:00.000Z"]
    now = world.service.rotate_secret(ADMIN, created.id, T0 + timedelta(hours=4), expire_previous=True)
    assert now.rotating_until is None and len(world.repo.get_endpoint(ADMIN, created.id).secrets) == 1
    assert world.store.events[-1].data == {"previous_valid_until": "2026-11-27T13:00:00.000Z"}


def test_rotation_keeps_the_old_secret_for_a_day_and_delete_records_the_url(world):
    created = world.register()
    rotated = world.service.rotate_secret(ADMIN, created.id, T0 + timedelta(hours=1))
    assert rotated.secret != created.secret and rotated.version == 2
    assert rotated.rotating_until == "2026-11-28T10:00:00.000Z"
    assert len(world.repo.get_endpoint(ADMIN, created.id).secrets) == 2
    world.service.delete(ADMIN, created.id, 2, T0)
    assert world.repo.get_endpoint(ADMIN, created.id) is None
    assert world.events()[1:] == [("webhook.secret_rotated", created.id, 2), ("webhook.deleted", created.id, None)]
    assert world.store.events[-1].data == {"url": "https://hooks.example.com/a"}
    with pytest.raises(NotFoundError):
        world.service.get(ADMIN, created.id, T0)


def test_a_ping_queues_a_test_delivery_and_a_retry_replays_a_finished_one(world):
    created = world.register()
    ping = world.service.ping(ADMIN, created.id, T0)
    assert ping.event_type == "webhook.test" and ping.status == "pending"
    assert world.queued == [({"kind": "webhook.attempt", "tenant_id": "tnt_1", "endpoint_id": created.id,
                              "delivery_id": ping.id, "attempt": 1, "not_before": None, "manual": True}, 0)]
    with pytest.raises(ConflictError):  # still being attempted
        world.service.retry(ADMIN, created.id, ping.id, T0)
    delivery = world.repo.create_delivery(ADMIN, new_delivery("tnt_1", created.id, {
        "id": "evt_01", "type": "ticket.created"}, {"type": "ticket.created"}, T0))
    world.repo.finish_attempt(ADMIN, delivery, 1, {"attempt": 1, "at": "2026-11-27T09:00:00.000Z"}, "succeeded",
                              None)
    replayed = world.service.retry(ADMIN, created.id, delivery.delivery_id, T0 + timedelta(hours=1))
    assert replayed.status == "pending" and replayed.next_attempt_at == "2026-11-27T10:00:00.000Z"
    assert world.queued[-1][0]["attempt"] == 2 and world.queued[-1][0]["manual"] is True
    with pytest.raises(NotFoundError):
        world.service.get_delivery(ADMIN, created.id, "evt_01")
