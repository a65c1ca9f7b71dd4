"""The bench's write-unit counter (``bench/writecost.py``): item sizes and index writes as DynamoDB bills them."""
from __future__ import annotations

from bench.writecost import Index, item_size, table_definition, units, value_size

KEYS = ("PK", "SK")


def test_sizes_follow_dynamodbs_rules():
    assert value_size({"S": "翠苑"}) == 6  # UTF-8 bytes
    assert value_size({"N": "0"}) == 2 and value_size({"N": "123456"}) == 4
    assert value_size({"L": [{"S": "ab"}, {"BOOL": True}]}) == 3 + (1 + 2) + (1 + 1)
    assert item_size({"PK": {"S": "T#1"}, "n": {"N": "7"}}) == 2 + 3 + 1 + 2
    assert [units(0), units(1), units(1024), units(1025)] == [0, 1, 1, 2]


def test_an_index_writes_only_what_it_holds_and_twice_when_its_keys_move():
    base = {"PK": {"S": "T#t#TKT#1"}, "SK": {"S": "TICKET"}, "entity": {"S": "ticket"}, "big": {"S": "x" * 1500}}
    listed = {**base, "G2PK": {"S": "T#t#open"}, "G2SK": {"S": "2026-11-28"}}
    every = Index("GSI2", ("G2PK", "G2SK"), "ALL")
    lean = Index("GSI2", ("G2PK", "G2SK"), "INCLUDE", ("entity",))
    assert every.writes(None, base, KEYS) == 0  # not in the index
    assert every.writes(None, listed, KEYS) == 2  # ALL: 1.6 KB + 100 bytes
    assert lean.writes(None, listed, KEYS) == 1  # keys and entity only
    changed = {**listed, "big": {"S": "y" * 1500}}
    assert every.writes(listed, changed, KEYS) == 2 and lean.writes(listed, changed, KEYS) == 0  # not projected
    moved = {**listed, "G2PK": {"S": "T#t#closed"}}
    assert every.writes(listed, moved, KEYS) == 4 and lean.writes(listed, moved, KEYS) == 2  # removed + put
    assert every.writes(listed, None, KEYS) == 2  # deleted


def test_the_table_definition_comes_from_infra():
    keys, indexes = table_definition()
    assert keys == KEYS and {i.name for i in indexes} >= {"GSI1", "GSI2", "GSI3", "GSI4", "DueIndex"}
    due = next(i for i in indexes if i.name == "DueIndex")
    assert due.projection == "INCLUDE" and due.include == ("entity",)
