"""The webhooks' repository — endpoints and deliveries — one contract for the in-memory fake and DynamoDB
(moto): the fake cannot drift."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.core.errors import ConflictError, PreconditionFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.webhooks.domain import Delivery, Endpoint, new_delivery
from chalicelib.webhooks.ports import WebhookStore
from tests.contract.conftest import Backend
from tests.fakes.webhooks import InMemoryWebhookRepository

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
STAMP = "2026-11-27T09:00:00.000Z"
LATER = "2026-11-27T09:05:00.000Z"


class _DisabledError(ConflictError):
    pass


@dataclass
class Harness:
    repo: WebhookStore
    backend: Backend
    ctx: TenantContext

    def commit(self, *stage: Callable[[Any], None]) -> None:
        self.backend.commit(self.ctx, NOW, *stage)


@pytest.fixture
def repos(backend: Backend) -> Harness:
    ctx = TenantContext(new_id("tnt"), Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
    if backend.store is not None:
        return Harness(InMemoryWebhookRepository(backend.store), backend, ctx)
    from chalicelib.webhooks.repository import WebhookRepository

    return Harness(WebhookRepository(backend.cursors), backend, ctx)


def endpoint(endpoint_id: str = "whk_1", **fields: Any) -> Endpoint:
    return Endpoint(**{"endpoint_id": endpoint_id, "url": "https://hooks.example.com/a", "created_at": STAMP,
                       "updated_at": STAMP, "event_types": ["ticket.*"], "description": "ERP",
                       "secrets": [{"sealed": "local.abc", "hint": "whsec_abc…", "created_at": STAMP}], **fields})


def delivery(n: int = 1, endpoint_id: str = "whk_1", tenant_id: str = "tnt") -> Delivery:
    event = {"id": f"evt_000000000{n}", "type": "ticket.created"}
    return new_delivery(tenant_id, endpoint_id, event, {"type": "ticket.created", "n": n}, NOW)


# --- endpoints ------------------------------------------------------------------------------------------------
def test_a_new_endpoint_reads_back_as_stored_and_only_in_its_tenant(repos):
    repos.commit(lambda uow: repos.repo.stage_new_endpoint(uow, repos.ctx, endpoint()))
    assert repos.repo.get_endpoint(repos.ctx, "whk_1", consistent=True) == endpoint()
    assert repos.repo.endpoints(repos.ctx) == [endpoint()]
    other = TenantContext(new_id("tnt"), repos.ctx.principal)
    assert repos.repo.get_endpoint(other, "whk_1") is None and repos.repo.endpoints(other) == []
    with pytest.raises(ConflictError):
        repos.commit(lambda uow: repos.repo.stage_new_endpoint(uow, repos.ctx, endpoint(url="https://x.example")))


class _FullError(ConflictError):
    pass


def test_endpoints_are_counted_so_the_limit_holds_for_registrations_staged_together(repos):
    def add(uow: Any, n: int) -> None:
        repos.repo.stage_new_endpoint(uow, repos.ctx, endpoint(f"whk_{n:02d}"), most=3, on_full=_FullError())

    for n in (1, 2):
        repos.commit(lambda uow, n=n: add(uow, n))
    # two registrations that each saw room for one more: the first to commit takes it, the other is refused
    first, second = (repos.backend.new_uow(repos.ctx.tenant_id, repos.ctx.actor, NOW) for _ in range(2))
    add(first, 3)
    add(second, 4)
    first.commit()
    with pytest.raises(_FullError):
        second.commit()
    assert [e.endpoint_id for e in repos.repo.endpoints(repos.ctx)] == ["whk_01", "whk_02", "whk_03"]
    # removing one makes room again; without a limit an endpoint is still counted
    repos.commit(lambda uow: repos.repo.stage_delete_endpoint(uow, repos.ctx, "whk_02", expected_version=1,
                                                              on_conflict=PreconditionFailedError()))
    repos.commit(lambda uow: add(uow, 4))
    repos.commit(lambda uow: repos.repo.stage_new_endpoint(uow, repos.ctx, endpoint("whk_05")))
    with pytest.raises(_FullError):
        repos.commit(lambda uow: add(uow, 6))
    other = TenantContext(new_id("tnt"), repos.ctx.principal)  # another tenant's count is its own
    repos.commit(lambda uow: repos.repo.stage_new_endpoint(uow, other, endpoint("whk_07"), most=3,
                                                           on_full=_FullError()))
    assert [e.endpoint_id for e in repos.repo.endpoints(other)] == ["whk_07"]


def test_endpoints_list_in_pages(repos):
    for n in (1, 2, 3):
        repos.commit(lambda uow, n=n: repos.repo.stage_new_endpoint(uow, repos.ctx, endpoint(f"whk_{n}")))
    first, cursor = repos.repo.list_endpoints(repos.ctx, 2, None)
    rest, end = repos.repo.list_endpoints(repos.ctx, 2, cursor)
    assert [e.endpoint_id for e in first + rest] == ["whk_1", "whk_2", "whk_3"] and end is None


def test_an_update_applies_under_its_version_and_none_removes_a_field(repos):
    repos.commit(lambda uow: repos.repo.stage_new_endpoint(uow, repos.ctx, endpoint(
        enabled=False, disabled_reason="410", disabled_at=STAMP, failing_since=STAMP)))
    changes = {"enabled": True, "disabled_reason": None, "disabled_at": None, "failing_since": None,
               "url": "https://hooks.example.com/b", "updated_at": LATER, "version": 2}
    repos.commit(lambda uow: repos.repo.stage_update_endpoint(uow, repos.ctx, "whk_1", changes, expected_version=1,
                                                              on_conflict=PreconditionFailedError()))
    assert repos.repo.get_endpoint(repos.ctx, "whk_1", consistent=True) == endpoint(
        url="https://hooks.example.com/b", updated_at=LATER, version=2)
    with pytest.raises(PreconditionFailedError):
        repos.commit(lambda uow: repos.repo.stage_update_endpoint(uow, repos.ctx, "whk_1", {"version": 3},
                                                                  expected_version=1,
                                                                  on_conflict=PreconditionFailedError()))
    with pytest.raises(PreconditionFailedError):
        repos.commit(lambda uow: repos.repo.stage_delete_endpoint(uow, repos.ctx, "whk_1", expected_version=1,
                                                                  on_conflict=PreconditionFailedError()))
    repos.commit(lambda uow: repos.repo.stage_delete_endpoint(uow, repos.ctx, "whk_1", expected_version=2,
                                                              on_conflict=PreconditionFailedError()))
    assert repos.repo.get_endpoint(repos.ctx, "whk_1", consistent=True) is None


def test_an_endpoint_is_disabled_once(repos):
    repos.commit(lambda uow: repos.repo.stage_new_endpoint(uow, repos.ctx, endpoint()))
    repos.commit(lambda uow: repos.repo.stage_disable(uow, repos.ctx, "whk_1", "410 Gone", LATER,
                                                      on_conflict=_DisabledError()))
    assert repos.repo.get_endpoint(repos.ctx, "whk_1", consistent=True) == endpoint(
        enabled=False, disabled_reason="410 Gone", disabled_at=LATER, updated_at=LATER, version=2)
    with pytest.raises(_DisabledError):
        repos.commit(lambda uow: repos.repo.stage_disable(uow, repos.ctx, "whk_1", "again", LATER,
                                                          on_conflict=_DisabledError()))


def test_health_moves_only_from_the_state_it_was_read_in(repos):
    repos.commit(lambda uow: repos.repo.stage_new_endpoint(uow, repos.ctx, endpoint()))
    assert repos.repo.clear_failing(repos.ctx, "whk_1") is False
    assert repos.repo.mark_failing(repos.ctx, "whk_1", STAMP) is True
    assert repos.repo.mark_failing(repos.ctx, "whk_1", LATER) is False
    assert repos.repo.get_endpoint(repos.ctx, "whk_1", consistent=True).failing_since == STAMP
    assert repos.repo.clear_failing(repos.ctx, "whk_1") is True
    assert repos.repo.get_endpoint(repos.ctx, "whk_1", consistent=True).failing_since is None


# --- deliveries -----------------------------------------------------------------------------------------------
def test_a_delivery_is_created_once_and_a_second_create_gets_the_first(repos):
    first = delivery(tenant_id=repos.ctx.tenant_id)
    assert repos.repo.create_delivery(repos.ctx, first) == first
    assert repos.repo.claim_attempt(repos.ctx, first, 1, LATER, STAMP)
    again = repos.repo.create_delivery(repos.ctx, replace(first, body='{"other":1}'))
    assert again == replace(first, lease_until=LATER)
    assert repos.repo.get_delivery(repos.ctx, "whk_1", first.delivery_id) == again


def test_a_delivery_and_its_endpoint_are_read_together_and_only_in_their_tenant(repos):
    repos.commit(lambda uow: repos.repo.stage_new_endpoint(uow, repos.ctx, endpoint()))
    first = delivery(tenant_id=repos.ctx.tenant_id)
    repos.repo.create_delivery(repos.ctx, first)
    assert repos.repo.delivery_and_endpoint(repos.ctx, "whk_1", first.delivery_id) == (first, endpoint())
    assert repos.repo.delivery_and_endpoint(repos.ctx, "whk_1", "dlv_nothing") == (None, endpoint())
    other = TenantContext(new_id("tnt"), repos.ctx.principal)
    assert repos.repo.delivery_and_endpoint(other, "whk_1", first.delivery_id) == (None, None)


def test_an_attempt_is_claimed_with_a_lease_and_finished_only_under_it(repos):
    item = repos.repo.create_delivery(repos.ctx, delivery(tenant_id=repos.ctx.tenant_id))
    assert repos.repo.claim_attempt(repos.ctx, item, 2, LATER, STAMP) is False  # not attempt 2's turn
    assert repos.repo.claim_attempt(repos.ctx, item, 1, LATER, STAMP) is True
    assert repos.repo.claim_attempt(repos.ctx, item, 1, LATER, STAMP) is False  # leased
    record = {"attempt": 1, "at": STAMP, "status_code": 500, "manual": False}
    assert repos.repo.finish_attempt(repos.ctx, item, 1, record, "pending", LATER, lease="2026-01-01") is False
    assert repos.repo.finish_attempt(repos.ctx, item, 1, record, "pending", LATER, lease=LATER) is True
    assert repos.repo.finish_attempt(repos.ctx, item, 1, record, "pending", LATER, lease=None) is False  # recorded
    after = repos.repo.get_delivery(repos.ctx, "whk_1", item.delivery_id)
    assert after == replace(item, attempts=[record], attempts_made=1, next_attempt_at=LATER)
    assert repos.repo.claim_attempt(repos.ctx, after, 2, LATER, STAMP) is True
    assert repos.repo.claim_attempt(repos.ctx, after, 2, LATER, "2026-11-27T09:06:00.000Z") is True  # lease over
    assert repos.repo.finish_attempt(repos.ctx, after, 2, {**record, "attempt": 2}, "failed", None, lease=LATER)
    failed = repos.repo.get_delivery(repos.ctx, "whk_1", item.delivery_id)
    assert failed.status == "failed" and failed.next_attempt_at is None and failed.lease_until is None
    assert [a["attempt"] for a in failed.attempts] == [1, 2] and failed.attempts_made == 2


def test_a_finished_delivery_is_reopened_once(repos):
    item = repos.repo.create_delivery(repos.ctx, delivery(tenant_id=repos.ctx.tenant_id))
    repos.repo.finish_attempt(repos.ctx, item, 1, {"attempt": 1, "at": STAMP}, "failed", None)
    failed = repos.repo.get_delivery(repos.ctx, "whk_1", item.delivery_id)
    assert repos.repo.reopen(repos.ctx, failed, LATER) is True
    assert repos.repo.reopen(repos.ctx, failed, LATER) is False
    reopened = repos.repo.get_delivery(repos.ctx, "whk_1", item.delivery_id)
    assert reopened.status == "pending" and reopened.next_attempt_at == LATER


def test_the_delivery_log_reads_newest_first_in_pages_and_by_status(repos):
    for n in (1, 2, 3):
        made = repos.repo.create_delivery(repos.ctx, delivery(n, tenant_id=repos.ctx.tenant_id))
        if n == 2:
            repos.repo.finish_attempt(repos.ctx, made, 1, {"attempt": 1, "at": STAMP}, "succeeded", None)
    first, cursor = repos.repo.list_deliveries(repos.ctx, "whk_1", 2, None)
    rest, _ = repos.repo.list_deliveries(repos.ctx, "whk_1", 2, cursor)
    assert [d.delivery_id for d in first + rest] == ["dlv_0000000003", "dlv_0000000002", "dlv_0000000001"]
    succeeded, _ = repos.repo.list_deliveries(repos.ctx, "whk_1", 10, None, "succeeded")
    assert [d.delivery_id for d in succeeded] == ["dlv_0000000002"]
    assert repos.repo.list_deliveries(repos.ctx, "whk_2", 10, None) == ([], None)


def test_a_claimed_delivery_is_created_once_with_its_lease(repos):
    first = replace(delivery(tenant_id=repos.ctx.tenant_id), lease_until=LATER)
    assert repos.repo.create_claimed(repos.ctx, first) is True
    assert repos.repo.create_claimed(repos.ctx, replace(first, lease_until=STAMP)) is False
    assert repos.repo.create_delivery(repos.ctx, replace(first, lease_until=None)) == first
    assert repos.repo.claim_attempt(repos.ctx, first, 1, LATER, STAMP) is False  # attempt 1 is taken
