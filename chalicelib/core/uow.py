"""What a service needs of a unit of work: record the events of a use case and commit it.

Repositories stage their changes on the unit of work (they know its concrete type: the DynamoDB
one in ``chalicelib.storage.unit_of_work``, the in-memory one in the tests' fakes); services only
record events and commit, so they never see a key, a condition or a table.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

Actor = dict[str, Any]
MAX_TRANSACTION_ITEMS = 100
"""What one TransactWriteItems takes (staged writes and events together)."""


class UnitOfWork(Protocol):
    tenant_id: str
    actor: Actor
    now: datetime

    def record(self, event_type: str, *, subject: tuple[str, str], subject_version: int | None = None,
               changes: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> Any:
        """Add the audit/outbox event of this change (committed with it, or not at all)."""
        ...

    def commit(self) -> None:
        """Write every staged change and recorded event atomically; raises the staged conflict's error."""
        ...

    def size(self) -> int:
        """Writes staged and events recorded so far (one transaction takes :data:`MAX_TRANSACTION_ITEMS`)."""
        ...


UnitOfWorkFactory = Callable[[str, Actor, datetime], UnitOfWork]
