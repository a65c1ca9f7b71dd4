"""Each contract test runs on both sides of a repository Protocol: the in-memory fake (``memory``, in
``make test-fast``) and DynamoDB through the embedded emulator (``dynamodb``)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWork
from tests.fakes.storage import MemoryStore


@dataclass
class Backend:
    name: str
    store: MemoryStore | None = None
    cursors: CursorCodec = field(default_factory=lambda: CursorCodec(b"contract-cursor-key-0123456789ab"))

    @property
    def memory(self) -> bool:
        return self.store is not None

    def new_uow(self, tenant_id: str, actor: dict[str, Any], now: datetime) -> UnitOfWork:
        if self.store is not None:
            return self.store.unit_of_work(tenant_id, actor, now)
        from chalicelib.storage.unit_of_work import UnitOfWork as DynamoUnitOfWork

        return DynamoUnitOfWork(tenant_id, actor, now)

    def commit(self, ctx: TenantContext, now: datetime, *stage: Callable[[Any], None]) -> None:
        """Stage each write on one unit of work and commit them together."""
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        for write in stage:
            write(uow)
        uow.commit()


@pytest.fixture(params=["memory", "dynamodb"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        return Backend("memory", MemoryStore())
    request.getfixturevalue("stack")
    return Backend("dynamodb")
