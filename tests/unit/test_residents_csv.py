"""The residents' CSV rules (``residents.csv_files``): rows validated as the API validates the same fields, formula
cells neutralised both ways, files that are not CSV or too long refused before anything is written."""
from __future__ import annotations

import csv
import io

import pytest

from chalicelib.residents import csv_files
from chalicelib.residents.csv_files import ExportRow, ImportRow, RowError
from chalicelib.residents.domain import Unit
from chalicelib.residents.repository import unit_claim_pk
from chalicelib.residents.schemas import BuildingIn, CommunityIn, ResidentIn, UnitIn

HEADER = "小区,楼栋,单元,房号,姓名,手机,身份\n"


def parse(*lines: str) -> tuple[list[ImportRow], list[RowError]]:
    return csv_files.parse_residents_csv(HEADER + "".join(line + "\n" for line in lines))


@pytest.mark.parametrize("column,model,field", [
    ("community", CommunityIn, "name"), ("building", BuildingIn, "name"), ("entrance", UnitIn, "entrance"),
    ("number", UnitIn, "number"), ("name", ResidentIn, "name"), ("phone", ResidentIn, "phone")])
def test_each_column_has_the_type_of_its_api_field(column, model, field):
    def shape(schema: dict) -> dict:
        return {k: v for k, v in schema.items() if k not in ("title", "default")}

    row_schema = ImportRow.model_json_schema()["properties"][column]
    api_schema = model.model_json_schema()["properties"][field]
    assert shape(row_schema) == shape(api_schema)


@pytest.mark.parametrize("cells,field,says", [
    ("翠苑," + "栋" * 51 + ",,101,王,13800000001,", "building", "building: String should have at most 50 characters"),
    ("翠苑,1栋," + "单" * 700 + ",101,王,13800000001,", "entrance", "entrance: String should have at most 20"),
    ("翠苑,1栋,,1" + "0" * 20 + ",王,13800000001,", "number", "number: String should have at most 20 characters"),
    ("翠苑,1栋,,101," + "王" * 51 + ",13800000001,", "name", "name: String should have at most 50 characters"),
    ("小" * 51 + ",1栋,,101,王,13800000001,", "community", "community: String should have at most 50"),
    ("翠苑,1栋,,101,王,bad-phone,", "phone", "phone: must be an 11-digit mainland mobile number"),
    ("翠苑,1栋,,101,王," + "1" * 30 + ",", "phone", "phone: String should have at most 20 characters"),
    ("翠苑,1栋,,101,王,13800000001,邻居", "relation", "relation: one of owner/业主, occupant/住户, family/家属"),
    ("翠苑,,,101,王,13800000001,", "building", "building: required"),
    ("翠苑,1栋,,-,王,13800000001,", "number", "number: required"),
])
def test_a_bad_field_is_a_row_error_naming_the_field(cells, field, says):
    rows, errors = parse("翠苑,1栋,,100,好,13800000009,业主", cells)

    assert [r.line for r in rows] == [2]
    assert [(e.line, e.field) for e in errors] == [(3, field)] and errors[0].message.startswith(says)


def test_every_bad_field_of_a_row_is_reported():
    _, errors = parse("翠苑," + "栋" * 51 + ",,,王,bad,")
    assert [(e.line, e.field) for e in errors] == [(2, "building"), (2, "number"), (2, "phone")]


def test_the_longest_fields_the_rules_allow_keep_the_unit_claim_key_under_dynamodbs_limit():
    widest = "\U00020000"  # four bytes in UTF-8
    rows, errors = parse(f"翠苑,1栋,{widest * 20},{widest * 20},王,13800000001,")
    assert errors == []
    row = rows[0]
    unit = Unit("unt_" + "x" * 26, "com_" + "x" * 26, "bld_" + "x" * 26, row.entrance, row.number, "")
    assert len(unit_claim_pk("tnt_" + "x" * 26, unit).encode()) < 2048
    _, too_long = parse(f"翠苑,1栋,{widest * 21},101,王,13800000001,")
    assert [e.field for e in too_long] == ["entrance"]


@pytest.mark.parametrize("value,expected", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("+SUM(A1)", "'+SUM(A1)"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"), ("\n=1", "'\n=1"),
    ("-1", "-1"), ("+1", "+1"), ("-2.5", "-2.5"), ("-１", "'-１"), ("1栋", "1栋"), ("", ""),
    ("'=already", "'=already"), ("a=b", "a=b"),
])
def test_formula_leading_cells_are_prefixed_and_plain_numbers_kept(value, expected):
    assert csv_files.neutralise(value) == expected
    assert csv_files.neutralise(csv_files.neutralise(value)) == expected  # idempotent


def test_import_neutralises_stored_text_and_reads_phones_by_the_phone_rule():
    rows, errors = parse("翠苑,@SUM(1),=1+2,-1,=cmd|' /C calc'!A0,+86 138 0000 0001,业主",
                         "翠苑,1栋,-,+1,\t=HYPERLINK(\"x\"),138-0000-0002,")
    assert errors == []
    first, second = rows
    assert (first.building, first.entrance, first.number, first.name, first.phone) == (
        "'@SUM(1)", "'=1+2", "-1", "'=cmd|' /C calc'!A0", "13800000001")
    assert (second.entrance, second.number, second.name, second.phone, second.relation) == (
        None, "+1", "'=HYPERLINK(\"x\")", "13800000002", "owner")


def test_export_neutralises_every_cell_and_reads_back_unchanged():
    text = csv_files.residents_csv([
        ExportRow("=翠苑", "@1栋", "\t2单元", "-1", "=cmd|' /C calc'!A0", "13800000001", "owner"),
        ExportRow("翠苑", "1栋", None, "101", "'=imported", "13800000002", "family"),
        ExportRow("", "", None, "", "没房的人", "138****0003", None)])

    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert lines == [
        ["小区", "楼栋", "单元", "房号", "姓名", "手机", "身份"],
        ["'=翠苑", "'@1栋", "'\t2单元", "-1", "'=cmd|' /C calc'!A0", "13800000001", "业主"],
        ["翠苑", "1栋", "", "101", "'=imported", "13800000002", "家属"],
        ["", "", "", "", "没房的人", "138****0003", ""]]
    assert all(not cell.startswith(("=", "+", "@", "\t", "\r")) for line in lines for cell in line)
    rows, _ = csv_files.parse_residents_csv(text.removeprefix("\ufeff"))
    assert rows[1].name == "'=imported" and csv_files.without_neutralising(rows[0].community) == "=翠苑"


def test_a_field_past_the_csv_modules_limit_is_an_unreadable_file():
    with pytest.raises(csv_files.CsvFileError, match="line 2: field larger than field limit"):
        parse("翠苑,1栋,," + "1" * 200_000 + ",王,13800000001,")


def test_more_rows_than_one_import_takes_are_refused():
    assert len(parse(*["翠苑,1栋,,101,王,13800000001,"] * csv_files.MAX_IMPORT_ROWS)[0]) == csv_files.MAX_IMPORT_ROWS
    with pytest.raises(csv_files.TooManyRowsError):
        parse(*["翠苑,1栋,,101,王,13800000001,"] * (csv_files.MAX_IMPORT_ROWS + 1))


def test_blank_lines_missing_columns_and_empty_files():
    assert parse("", ",,,,,,", "翠苑,1栋,,101,王,13800000001,")[0][0].line == 4
    assert csv_files.parse_residents_csv("") == ([], [RowError(1, None, "the file is empty", "empty_file")])
    assert csv_files.parse_residents_csv("小区,姓名\n翠苑,陈\n") == (
        [], [RowError(1, None, "missing columns: building, number, phone", "missing_columns")])
