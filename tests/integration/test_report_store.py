"""The reports' rollup store against DynamoDB (moto): packed rollups add up whatever order tickets arrive in, a
rollup another ticket moved meanwhile is read again (nothing lost), a fact moved meanwhile is refused, and a rollup
still in the one-attribute-per-counter layout keeps its counts when it is next changed."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.core.ids import new_id
from chalicelib.reports.facts import TOTAL_KEY
from chalicelib.reports.repository import (
    PACKED,
    PREFIX,
    VERSION,
    FactMovedError,
    ReportStore,
    _item_key,
)
from chalicelib.storage.table import LinliModel, transaction_connection

KEY = "G#2026-11-27#cmt_1#repair"


def raw_item(tenant_id: str, key: str) -> dict:
    pk, sk = _item_key(tenant_id, key)
    client = transaction_connection().client
    return client.get_item(TableName=LinliModel.Meta.table_name, Key={"PK": {"S": pk}, "SK": {"S": sk}},
                           ConsistentRead=True).get("Item", {})


def groups(store: ReportStore, tenant_id: str) -> dict[str, dict[str, int]]:
    return dict(store.rollups(tenant_id, "G", date(2026, 11, 27), date(2026, 11, 27)))


def test_two_tickets_add_into_one_packed_rollup(stack):
    store, tenant_id = ReportStore(), new_id("tnt")
    one = {KEY: {"created": 1, "h.fr.60": 1}, TOTAL_KEY: {"o.cmt_1.repair": 1}}
    two = {KEY: {"created": 1, "h.fr.60": 1, "h.fr.900": 1}, TOTAL_KEY: {"o.cmt_1.repair": 1}}
    store.apply(tenant_id, "tkt_1", one, one, 0)
    store.apply(tenant_id, "tkt_2", two, two, 0)

    assert groups(store, tenant_id) == {KEY: {"created": 2, "h.fr.60": 2, "h.fr.900": 1}}
    item = raw_item(tenant_id, KEY)
    assert item[VERSION] == {"N": "2"}
    assert not [name for name in item if name.startswith(PREFIX)]  # one packed attribute, nothing else
    assert store.totals(tenant_id) == {"o.cmt_1.repair": 2}  # the running totals: ADD, never a conflict
    assert raw_item(tenant_id, TOTAL_KEY)[PREFIX + "o.cmt_1.repair"] == {"N": "2"}
    assert store.fact(tenant_id, "tkt_2") == (two, 1)


def test_a_ticket_taking_back_its_contribution_drops_the_counter(stack):
    store, tenant_id = ReportStore(), new_id("tnt")
    before = {KEY: {"created": 1, "h.fr.60": 1}}
    store.apply(tenant_id, "tkt_1", before, before, 0)
    after = {KEY: {"created": 1, "h.fr.75": 1}}
    store.apply(tenant_id, "tkt_1", after, {KEY: {"h.fr.60": -1, "h.fr.75": 1}}, 1)

    assert groups(store, tenant_id) == {KEY: {"created": 1, "h.fr.75": 1}}
    assert '"h.fr.60"' not in raw_item(tenant_id, KEY)[PACKED]["S"]


def test_a_rollup_moved_by_another_ticket_is_read_again_and_nothing_is_lost(stack, monkeypatch):
    store, tenant_id = ReportStore(), new_id("tnt")
    first = {KEY: {"created": 1}}
    store.apply(tenant_id, "tkt_1", first, first, 0)
    stale = store._read_rollups(tenant_id, [KEY])  # what a second delivery read before the third ticket landed
    third = {KEY: {"created": 1, "reopened": 1}}
    store.apply(tenant_id, "tkt_3", third, third, 0)

    reads = []
    real = store._read_rollups

    def racing(tenant: str, keys_: list[str]):
        reads.append(keys_)
        return stale if len(reads) == 1 else real(tenant, keys_)

    monkeypatch.setattr(store, "_read_rollups", racing)
    second = {KEY: {"created": 1}}
    store.apply(tenant_id, "tkt_2", second, second, 0)

    assert len(reads) == 2  # refused once on the version it read, then read again
    assert groups(store, tenant_id) == {KEY: {"created": 3, "reopened": 1}}
    assert raw_item(tenant_id, KEY)[VERSION] == {"N": "3"}


def test_a_fact_moved_meanwhile_is_refused_and_nothing_is_added(stack):
    store, tenant_id = ReportStore(), new_id("tnt")
    facts = {KEY: {"created": 1}}
    store.apply(tenant_id, "tkt_1", facts, facts, 0)
    with pytest.raises(FactMovedError):
        store.apply(tenant_id, "tkt_1", facts, facts, 0)  # a second delivery that read the fact before the first
    assert groups(store, tenant_id) == {KEY: {"created": 1}}


def test_a_rollup_in_the_old_layout_keeps_its_counts_and_is_rewritten_packed(stack):
    store, tenant_id = ReportStore(), new_id("tnt")
    pk, sk = _item_key(tenant_id, KEY)
    transaction_connection().client.put_item(TableName=LinliModel.Meta.table_name, Item={
        "PK": {"S": pk}, "SK": {"S": sk}, "entity": {"S": "report_rollup"},
        PREFIX + "created": {"N": "4"}, PREFIX + "h.fr.60": {"N": "4"}})
    assert groups(store, tenant_id) == {KEY: {"created": 4, "h.fr.60": 4}}

    facts = {KEY: {"created": 1, "h.fr.30": 1}}
    store.apply(tenant_id, "tkt_5", facts, facts, 0)

    assert groups(store, tenant_id) == {KEY: {"created": 5, "h.fr.60": 4, "h.fr.30": 1}}
    item = raw_item(tenant_id, KEY)
    assert item[VERSION] == {"N": "1"} and not [name for name in item if name.startswith(PREFIX)]
