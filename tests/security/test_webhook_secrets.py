"""Webhook secrets outlive keys and can be cut off: sealed by envelope encryption under a dedicated KMS key
(moto's KMS, created from the template's ``SecretsKey``), independent of the JWT keyring; at most the current
and one previous secret sign, and the previous one can be expired at once."""
from __future__ import annotations

import json
import random
import secrets
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from standardwebhooks import Webhook

from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.webhooks import ssrf
from chalicelib.webhooks.delivery import WebhookDeliverer
from chalicelib.webhooks.schemas import WebhookIn
from chalicelib.webhooks.service import WebhookService
from chalicelib.webhooks.signing import SecretBox, legacy_seal
from devstack.resources import create_secrets_key, secrets_key_alias
from tests.fakes.storage import MemoryStore
from tests.fakes.webhooks import InMemoryWebhookRepository

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
PUBLIC = "93.184.216.34"
EVENT = {"id": "evt_00001", "type": "ticket.created", "tenant_id": "tnt_1",
         "subject": {"type": "ticket", "id": "tkt_1", "version": 1}, "occurred_at": "2026-11-27T09:00:00.000Z",
         "actor": {"type": "staff", "id": "usr_1"}, "changes": {},
         "data": {"number": "26112700001", "kind": "repair", "status": "new"}}


class World:
    """The webhook service and deliverer on the in-memory store, sealing with KMS (moto) like bootstrap does;
    ``jwt_keys`` is the JWT keyring the box may read legacy secrets with."""

    def __init__(self) -> None:
        session = boto3.session.Session(region_name="us-east-1")
        create_secrets_key(session)
        self.kms = session.client("kms")
        self.jwt_keys = {"jwt-1": secrets.token_urlsafe(48)}
        self.box = SecretBox(self.kms, secrets_key_alias(), legacy_keys=lambda: self.jwt_keys)
        self.store, self.queued, self.sent = MemoryStore(), [], []
        self.repo = InMemoryWebhookRepository(self.store)
        enqueue = self.queued.append
        self.service = WebhookService(self.repo, self.store.unit_of_work, self.box, lambda b, d: enqueue((b, d)),
                                      check_actor=lambda uow, ctx: None, https_only=True, allow_loopback=False,
                                      resolve=lambda host, port: [PUBLIC])
        self.deliverer = WebhookDeliverer(self.repo, self.store.unit_of_work, self.box,
                                          lambda b, d: enqueue((b, d)), https_only=True, allow_loopback=False,
                                          resolve=lambda host, port: [PUBLIC], send=self._send,
                                          rand=random.Random(7))

    def _send(self, target, body, headers, **_):  # noqa: ANN001, ANN202
        self.sent.append((body, headers))
        return ssrf.Response(200, {}, b"ok", 12, PUBLIC)

    def deliver(self, now: datetime, n: int = 1) -> tuple[bytes, dict[str, str]]:
        """One event delivered to every endpoint; the (body, headers) the receiver got."""
        assert self.deliverer.handle({**EVENT, "id": f"evt_0000{n}"}, now) == "queued 1"
        pending, self.queued[:] = list(self.queued), []
        assert [self.deliverer.handle(body, now) for body, _ in pending] == ["succeeded"]
        return self.sent[-1]


def verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except Exception:  # noqa: BLE001 - standardwebhooks raises its own verification error
        return False
    return True


def signatures(headers: dict[str, str]) -> int:
    return len(headers["webhook-signature"].split(" "))


@pytest.fixture
def world(stack):  # noqa: ANN201 - KMS of the embedded emulator (an in-process mock would hide the stack's table)
    return World()


def _frozen(now: datetime):  # noqa: ANN202 - standardwebhooks checks the timestamp against the wall clock
    import standardwebhooks.webhooks as module

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206
            return now

    return module, Clock


def _verify_at(now: datetime, secret: str, body: bytes, headers: dict[str, str], monkeypatch) -> bool:
    module, clock = _frozen(now)
    monkeypatch.setattr(module, "datetime", clock)
    return verifies(secret, body, headers)


def test_removing_an_old_jwt_key_keeps_webhook_secrets_readable(world, monkeypatch):
    created = world.service.create(ADMIN, WebhookIn(url="https://hooks.example.com/a"), T0)
    sealed = world.repo.get_endpoint(ADMIN, created.id).secrets[0]["sealed"]
    assert not SecretBox.is_legacy(sealed) and created.secret not in sealed
    world.jwt_keys = {"jwt-2": secrets.token_urlsafe(48)}  # rotate the JWT keyring and remove the old key
    body, headers = world.deliver(T0 + timedelta(minutes=5))
    assert _verify_at(T0 + timedelta(minutes=5), created.secret, body, headers, monkeypatch)


def test_a_secret_sealed_under_the_jwt_keyring_is_read_and_resealed_with_kms_on_rotation(world, monkeypatch):
    created = world.service.create(ADMIN, WebhookIn(url="https://hooks.example.com/a"), T0)
    endpoint = world.repo.get_endpoint(ADMIN, created.id)
    endpoint.secrets[0]["sealed"] = legacy_seal(world.jwt_keys, "jwt-1", created.secret)  # as sealed before KMS
    world.repo.endpoints_[("tnt_1", created.id)] = endpoint
    body, headers = world.deliver(T0 + timedelta(minutes=1))  # still read while its JWT key exists
    assert _verify_at(T0 + timedelta(minutes=1), created.secret, body, headers, monkeypatch)
    rotated = world.service.rotate_secret(ADMIN, created.id, T0 + timedelta(minutes=2))
    assert not any(SecretBox.is_legacy(s["sealed"]) for s in world.repo.get_endpoint(ADMIN, created.id).secrets)
    world.jwt_keys = {}  # the old JWT key goes: both secrets still sign through the overlap
    body, headers = world.deliver(T0 + timedelta(minutes=3), n=2)
    assert signatures(headers) == 2
    assert _verify_at(T0 + timedelta(minutes=3), created.secret, body, headers, monkeypatch)
    assert _verify_at(T0 + timedelta(minutes=3), rotated.secret, body, headers, monkeypatch)


def test_after_five_rotations_at_most_two_secrets_sign(world, monkeypatch):
    created = world.service.create(ADMIN, WebhookIn(url="https://hooks.example.com/a"), T0)
    issued = [created.secret]
    for minute in range(1, 6):
        issued.append(world.service.rotate_secret(ADMIN, created.id, T0 + timedelta(minutes=minute)).secret)
    assert len(world.repo.get_endpoint(ADMIN, created.id).secrets) == 2
    now = T0 + timedelta(minutes=10)
    body, headers = world.deliver(now)
    assert signatures(headers) == 2
    assert [_verify_at(now, s, body, headers, monkeypatch) for s in issued] == [False] * 4 + [True, True]


def test_rotate_and_expire_now_leaves_one_secret(world, monkeypatch):
    created = world.service.create(ADMIN, WebhookIn(url="https://hooks.example.com/a"), T0)
    world.service.rotate_secret(ADMIN, created.id, T0 + timedelta(minutes=1))  # a routine rotation first
    rotated = world.service.rotate_secret(ADMIN, created.id, T0 + timedelta(minutes=2), expire_previous=True)
    assert rotated.rotating_until is None
    assert len(world.repo.get_endpoint(ADMIN, created.id).secrets) == 1
    assert world.store.events[-1].data == {"previous_valid_until": "2026-11-27T09:02:00.000Z"}
    now = T0 + timedelta(minutes=3)
    body, headers = world.deliver(now)
    assert signatures(headers) == 1
    assert _verify_at(now, rotated.secret, body, headers, monkeypatch)
    assert not _verify_at(now, created.secret, body, headers, monkeypatch)


def test_sealed_secrets_hold_no_whsec_and_the_data_key_is_cached(world):
    created = world.service.create(ADMIN, WebhookIn(url="https://hooks.example.com/a"), T0)
    raw = json.dumps([s["sealed"] for s in world.repo.get_endpoint(ADMIN, created.id).secrets])
    assert "whsec_" not in raw and created.secret.removeprefix("whsec_") not in raw  # the hint shows 4 characters
    calls = []
    decrypt = world.kms.decrypt
    world.box.kms = type("Counting", (), {"decrypt": lambda self, **kw: calls.append(1) or decrypt(**kw)})()
    world.deliver(T0 + timedelta(minutes=1), n=1)
    world.deliver(T0 + timedelta(minutes=2), n=2)
    assert len(calls) == 1  # one KMS Decrypt per data key per container, not one per attempt
