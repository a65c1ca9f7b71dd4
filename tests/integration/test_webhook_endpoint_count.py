"""Webhook endpoints registered before they were counted get their count from the one-off backfill, and the limit
then holds for them as for everyone (DynamoDB, moto)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.errors import ConflictError
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.storage import keys
from chalicelib.storage.table import CounterItem
from chalicelib.storage.unit_of_work import UnitOfWork
from chalicelib.webhooks.domain import Endpoint
from chalicelib.webhooks.repository import ENDPOINT_COUNT_SK, WebhookRepository

STAMP = "2026-11-27T09:00:00.000Z"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def endpoint(n: int) -> Endpoint:
    return Endpoint(endpoint_id=f"whk_{n:02d}", url=f"https://hooks.example.com/{n}", created_at=STAMP,
                    updated_at=STAMP, event_types=["ticket.*"])


def register(repo: WebhookRepository, ctx: TenantContext, n: int, most: int | None = None) -> None:
    uow = UnitOfWork(ctx.tenant_id, ctx.actor, NOW)
    repo.stage_new_endpoint(uow, ctx, endpoint(n), most=most, on_full=ConflictError(code="too_many_endpoints"))
    uow.commit()


def counted(tenant_id: str) -> int | None:
    try:
        return int(CounterItem.get(keys.tenant_pk(tenant_id), ENDPOINT_COUNT_SK, consistent_read=True).count)
    except DoesNotExist:
        return None


def test_endpoints_registered_before_the_counter_are_counted_once_and_the_limit_then_holds(stack):
    repo = WebhookRepository(CursorCodec(b"count-backfill-cursor-key-012345"))
    ctx = TenantContext(new_id("tnt"), Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
    for n in range(1, 4):
        register(repo, ctx, n)
    assert counted(ctx.tenant_id) == 3
    CounterItem(keys.tenant_pk(ctx.tenant_id), ENDPOINT_COUNT_SK).delete()  # as the code before the counter left it

    assert repo.backfill_endpoint_count(ctx.tenant_id) is True
    assert counted(ctx.tenant_id) == 3
    assert repo.backfill_endpoint_count(ctx.tenant_id) is False  # idempotent: the counter is there
    register(repo, ctx, 4, most=4)
    with pytest.raises(ConflictError) as refused:
        register(repo, ctx, 5, most=4)
    assert refused.value.code == "too_many_endpoints" and counted(ctx.tenant_id) == 4
    assert len(repo.endpoints(ctx)) == 4

    empty = new_id("tnt")  # a tenant without endpoints needs no counter
    assert repo.backfill_endpoint_count(empty) is False and counted(empty) is None


def test_the_relay_learns_which_tenants_have_an_endpoint_now_in_one_read(stack):
    repo = WebhookRepository(CursorCodec(b"count-backfill-cursor-key-012345"))
    hooked, emptied, never = (TenantContext(new_id("tnt"), Principal("staff", "usr_admin", Role.ADMIN,
                                                                     frozenset(Permission))) for _ in range(3))
    register(repo, hooked, 1)
    register(repo, emptied, 2)
    uow = UnitOfWork(emptied.tenant_id, emptied.actor, NOW)
    repo.stage_delete_endpoint(uow, emptied, "whk_02", expected_version=1, on_conflict=ConflictError())
    uow.commit()
    assert counted(emptied.tenant_id) == 0
    asked = {hooked.tenant_id, emptied.tenant_id, never.tenant_id}
    assert repo.tenants_with_endpoints(asked) == {hooked.tenant_id}
    assert repo.tenants_with_endpoints(set()) == set()
    many = {new_id("tnt") for _ in range(150)} | {hooked.tenant_id}  # more than one BatchGetItem holds
    assert repo.tenants_with_endpoints(many) == {hooked.tenant_id}
