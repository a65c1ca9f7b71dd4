"""The reports consumer's batch: a ticket is folded once for all the messages of a batch about it, with the same
rollups as one fold per message; a fold that fails leaves the ticket to the batch's next message about it."""
from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.reports.facts import Contributions
from chalicelib.reports.repository import FactMovedError
from chalicelib.reports.service import ATTEMPTS, RollupMaintainer
from tests.unit.test_report_facts import Log

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


class Store:
    """What the maintainer needs of the rollup store, in memory, counting its reads."""

    def __init__(self, logs: dict[str, list[dict[str, Any]]]) -> None:
        self.logs, self.facts, self.rollups = logs, {}, {}
        self.reads: list[str] = []
        self.refuse = 0  # how many applies to refuse as if the fact had moved

    def ticket_events(self, tenant_id: str, ticket_id: str) -> list[dict[str, Any]]:
        self.reads.append(ticket_id)
        return self.logs[ticket_id]

    def fact(self, tenant_id: str, ticket_id: str) -> tuple[Contributions, int]:
        return self.facts.get(ticket_id, ({}, 0))

    def apply(self, tenant_id: str, ticket_id: str, contributions: Contributions, delta: Contributions,
              revision: int) -> None:
        if self.refuse:
            self.refuse -= 1
            raise FactMovedError("moved")
        self.facts[ticket_id] = (contributions, revision + 1)
        for key, counters in delta.items():
            row = self.rollups.setdefault(key, {})
            for name, amount in counters.items():
                row[name] = row.get(name, 0) + amount


ZONES = SimpleNamespace(config=lambda tenant_id: SimpleNamespace(timezone="Asia/Shanghai"))


def _messages(ticket_id: str, log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**event, "tenant_id": "tnt_1", "subject": {"type": "ticket", "id": ticket_id}} for event in log]


def _logs() -> dict[str, list[dict[str, Any]]]:
    return {"tkt_a": Log().ack(5).assign(10).resolve(60).events, "tkt_b": Log("complaint").ack(3).events}


def test_a_batch_folds_each_ticket_once_with_the_rollups_of_one_fold_per_message():
    logs = _logs()
    batch = _messages("tkt_a", logs["tkt_a"]) + _messages("tkt_b", logs["tkt_b"])
    batch = [batch[0], batch[4], batch[1], batch[2], batch[5], batch[3]]  # interleaved, as a queue hands them out
    one_by_one = Store(logs)
    for message in batch:
        RollupMaintainer(one_by_one, ZONES).handle(message, NOW)
    batched = Store(logs)
    handle = RollupMaintainer(batched, ZONES).for_batch()
    for message in batch:
        handle(message, NOW)
    assert batched.reads == ["tkt_a", "tkt_b"]  # one fold each, against one per message
    assert len(one_by_one.reads) == len(batch)
    assert batched.rollups == one_by_one.rollups and batched.rollups
    assert batched.facts == {ticket: (contributions, 1) for ticket, (contributions, _) in one_by_one.facts.items()}


def test_a_fold_that_fails_leaves_the_ticket_to_the_batchs_next_message_about_it():
    logs = _logs()
    store = Store(logs)
    store.refuse = ATTEMPTS  # every attempt of the first fold finds the fact moved
    handle = RollupMaintainer(store, ZONES).for_batch()
    first, second = _messages("tkt_a", logs["tkt_a"])[:2]
    with pytest.raises(FactMovedError):
        handle(first, NOW)  # reported failed: the message comes back
    handle(second, NOW)  # folded here instead
    assert store.reads == ["tkt_a"] * (ATTEMPTS + 1) and store.facts["tkt_a"][1] == 1
    handle(first, NOW)  # (redelivered in this batch's place: nothing more to read)
    assert len(store.reads) == ATTEMPTS + 1


def test_a_new_batch_folds_again():
    logs = _logs()
    store = Store(logs)
    maintainer = RollupMaintainer(store, ZONES)
    message = _messages("tkt_a", logs["tkt_a"])[0]
    maintainer.for_batch()(message, NOW)
    maintainer.for_batch()(message, NOW)
    assert store.reads == ["tkt_a", "tkt_a"]
