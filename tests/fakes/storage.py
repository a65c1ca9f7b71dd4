"""The in-memory table and unit of work the fakes share: what DynamoDB's transaction gives, minus I/O.

A fake repository keeps its records in ``store.tables[<name>]`` and stages writes on an
:class:`InMemoryUnitOfWork` as (check, apply) pairs: ``commit`` runs every check first and applies
nothing unless all pass — the all-or-nothing of ``TransactWriteItems`` — then appends the recorded
events to ``store.events`` (the outbox a service test asserts on).
"""
from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, LinliError
from chalicelib.core.ids import sortable_token


@dataclass
class RecordedEvent:
    event_id: str
    type: str
    tenant_id: str
    subject_type: str
    subject_id: str
    subject_version: int | None
    occurred_at: str
    actor: dict[str, Any]
    changes: dict[str, Any] | None = None
    data: dict[str, Any] | None = None

    def to_message(self) -> dict[str, Any]:
        return {"id": self.event_id, "type": self.type, "tenant_id": self.tenant_id,
                "subject": {"type": self.subject_type, "id": self.subject_id, "version": self.subject_version},
                "occurred_at": self.occurred_at, "actor": self.actor, "changes": self.changes or {},
                "data": self.data or {}}


@dataclass
class MemoryStore:
    """Named collections (one per fake repository) and the outbox of committed events."""

    tables: dict[str, dict[Any, Any]] = field(default_factory=lambda: defaultdict(dict))
    events: list[RecordedEvent] = field(default_factory=list)
    commits: int = 0

    def table(self, name: str) -> dict[Any, Any]:
        return self.tables[name]

    def unit_of_work(self, tenant_id: str, actor: dict[str, Any], now: datetime) -> InMemoryUnitOfWork:
        """The ``UnitOfWorkFactory`` services take."""
        return InMemoryUnitOfWork(self, tenant_id, actor, now)

    def events_of(self, subject_id: str) -> list[RecordedEvent]:
        return [e for e in self.events if e.subject_id == subject_id]


Check = Callable[[], bool]
Apply = Callable[[], None]
# DynamoDB reports the first failed condition in this order of operations (PynamoDB sends them so).
OPERATION_ORDER = ("check", "delete", "put", "update")


@dataclass
class InMemoryUnitOfWork:
    store: MemoryStore
    tenant_id: str
    actor: dict[str, Any]
    now: datetime
    staged: list[tuple[str, Check | None, Apply, LinliError | None]] = field(default_factory=list)
    events: list[RecordedEvent] = field(default_factory=list)

    def stage(self, apply: Apply, *, check: Check | None = None, on_conflict: LinliError | None = None,
              kind: str = "put") -> None:
        """A write (``apply``) that happens only if ``check`` holds at commit time for every staged write.
        ``kind`` (put, update, delete) decides which failed condition is reported first, as in DynamoDB."""
        self.staged.append((kind, check, apply, on_conflict))

    def check(self, check: Check, *, on_conflict: LinliError) -> None:
        """A condition on something this use case does not write (a ConditionCheck)."""
        self.staged.append(("check", check, lambda: None, on_conflict))

    def record(self, event_type: str, *, subject: tuple[str, str], subject_version: int | None = None,
               changes: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> RecordedEvent:
        stamp = sortable_token(int(self.now.timestamp() * 1000))
        token = f"{stamp[:10]}{len(self.events):03d}{stamp[10:]}"
        event = RecordedEvent(f"evt_{token}", event_type, self.tenant_id, subject[0], subject[1], subject_version,
                              to_rfc3339(self.now), copy.deepcopy(self.actor), copy.deepcopy(changes) or None,
                              copy.deepcopy(data) or None)
        self.events.append(event)
        return event

    def size(self) -> int:
        return len(self.staged) + len(self.events)

    def commit(self) -> None:
        if not self.staged and not self.events:
            return
        for kind in OPERATION_ORDER:
            for staged_kind, check, _, on_conflict in self.staged:
                if staged_kind == kind and check is not None and not check():
                    raise on_conflict or ConflictError()
        for _, _, apply, _ in self.staged:
            apply()
        self.store.events.extend(self.events)
        self.store.commits += 1
