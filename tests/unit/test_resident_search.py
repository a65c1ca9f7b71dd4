"""What ?q= on the residents list asks for: which index answers it, with which key (pure)."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.residents.domain import ResidentSearch, classify_search, search_text, unit_search_key
from chalicelib.residents.schemas import ResidentQuery


@pytest.mark.parametrize("typed", ["13800000001", "138 0000 0001", "138-0000-0001", "+86 138 0000 0001",
                                   "8613800000001", "(138)00000001", "１３８００００００01"])
def test_a_full_mobile_number_in_any_usual_spelling_searches_the_phone_index(typed: str):
    assert classify_search(typed) == ResidentSearch("phone", "13800000001")


def test_four_digits_search_the_last_four_digits_of_phones():
    assert classify_search(" 0001 ") == ResidentSearch("phone_tail", "0001")


@pytest.mark.parametrize("typed, key, community", [
    ("1栋2单元202", "1-2-202", None),
    ("1-2-202", "1-2-202", None),
    ("1号楼2单元202室", "1-2-202", None),
    ("1 2 202", "1-2-202", None),
    ("5栋301", "5-301", None),
    ("A座0301", "A-301", None),
    ("翠苑1栋1单元101", "1-1-101", "翠苑"),
    ("荷塘月色 5-301", "5-301", "荷塘月色"),
])
def test_a_unit_label_searches_the_units_with_the_community_typed_before_it(typed: str, key: str,
                                                                           community: str | None):
    assert classify_search(typed) == ResidentSearch("unit", key, community)


@pytest.mark.parametrize("typed, key", [("陈", "陈"), ("陈 阿姨", "陈阿姨"), ("Li", "li"), ("12345", "12345"),
                                        ("1栋", "1栋"), ("138****0001", "138****0001")])
def test_anything_else_is_the_beginning_of_a_name(typed: str, key: str):
    assert classify_search(typed) == ResidentSearch("name", key)


def test_a_label_and_what_a_caller_types_for_it_meet_on_one_key():
    assert unit_search_key("1栋2单元202") == unit_search_key("1-2-202") == unit_search_key("1幢2单元0202") == "1-2-202"
    assert unit_search_key("3栋1201") != unit_search_key("3栋2单元1201")
    assert search_text("Ｃｈｅｎ Ａ") == "chena"


@pytest.mark.parametrize("q", ["陈\x00", "1栋\n202", "\x7f陈", "a\x1bb", "陈\u0085阿姨"])
def test_control_characters_are_refused(q: str):
    with pytest.raises(ValidationError) as refused:
        ResidentQuery.model_validate({"q": q})
    assert refused.value.errors()[0]["loc"] == ("q",)


def test_too_long_is_refused_and_blank_means_no_search():
    with pytest.raises(ValidationError):
        ResidentQuery.model_validate({"q": "陈" * 65})
    assert ResidentQuery.model_validate({"q": "   "}).q is None
    assert ResidentQuery.model_validate({"q": " 陈 "}).q == "陈"
    assert ResidentQuery.model_validate({"q": "13800000001\n"}).q == "13800000001"  # pasted with its line end
