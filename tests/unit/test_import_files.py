"""Reading residents' files for import jobs (``residents.imports.files``): CSV and XLSX into one row copy, its chunks
(byte ranges a consumer reads alone), the rows checked by the small import's rules, and the error file."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import Workbook

from chalicelib.residents import csv_files
from chalicelib.residents.imports import files
from chalicelib.residents.imports.files import Chunk, UnreadableFileError

HEADER = ["小区", "楼栋", "单元", "房号", "姓名", "手机", "身份"]
ROWS = [
    ["翠苑", "1栋", "1单元", "101", "陈阿姨", "13800000001", "业主"],
    ["翠苑", "1栋", "1单元", "102", "=HYPERLINK(\"http://evil.example\")", "13800000002", "住户"],  # a formula
    ["翠苑", "1栋", "", "103", "王先生", "not-a-phone", "业主"],  # a bad row
    ["翠苑", "2栋", "", "201", "陈阿姨", "13800000001", "家属"],  # the first row's phone again: her second unit
]


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def read(data: bytes, file_format: files.Format, **limits: int) -> files.RowCopy:
    return files.read_file(lambda: io.BytesIO(data), file_format, **limits)


def all_rows(copy: files.RowCopy) -> list[tuple[int, list[str]]]:
    """Every row of a row copy (what its chunks hold together; the first line is the header)."""
    return files.rows_in(copy.data.split(b"\n", 1)[1])


def checked(copy: files.RowCopy) -> list[tuple[int, csv_files.ImportRow | None, list[csv_files.RowError]]]:
    columns, missing = csv_files.columns_of(copy.header)
    assert missing == []
    return [(line, *csv_files.parse_row(line, columns, cells)) for line, cells in all_rows(copy)]


@pytest.mark.parametrize("file_format,data", [
    ("csv", csv_bytes([HEADER, *ROWS])), ("csv", b"\xef\xbb\xbf" + csv_bytes([HEADER, *ROWS])),
    ("csv", csv_bytes([HEADER, *ROWS], "gbk")), ("xlsx", xlsx([HEADER, *ROWS]))])
def test_csv_and_xlsx_read_into_the_same_rows_checked_by_the_same_rules(file_format, data):
    copy = read(data, file_format)

    assert copy.header == HEADER and copy.total_rows == 4
    rows = checked(copy)
    assert [line for line, _, _ in rows] == [2, 3, 4, 5]
    (_, first, _), (_, formula, _), (_, bad, errors), (_, again, _) = rows
    assert (first.name, first.phone, first.relation) == ("陈阿姨", "13800000001", "owner")
    assert formula.name == "'=HYPERLINK(\"http://evil.example\")"  # text now, never a formula
    assert bad is None and [(e.line, e.field, e.code) for e in errors] == [(4, "phone", "invalid")]
    # the same phone twice is not a bad row: the resident gets both units (the roster merges them)
    assert (again.phone, again.building, again.number, again.relation) == ("13800000001", "2栋", "201", "family")


def test_xlsx_cells_read_as_typed_numbers_dates_and_formulas():
    copy = read(xlsx([["小区", "楼栋", "房号", "姓名", "手机", "入住"], [],
                      ["翠苑", 3, 1201.0, "=CONCAT(\"陈\",\"阿姨\")", 13800000001, datetime(2026, 1, 2)],
                      [None, None, None, None, None, None],
                      ["翠苑", "3栋", -1, "@王", "+86 138-0000-0002", None]]), "xlsx")

    assert all_rows(copy) == [
        (3, ["翠苑", "3", "1201", "=CONCAT(\"陈\",\"阿姨\")", "13800000001", "2026-01-02"]),
        (5, ["翠苑", "3栋", "-1", "@王", "+86 138-0000-0002"])]  # row numbers as the sheet shows them
    (_, first, _), (_, second, _) = checked(copy)
    assert (first.number, first.name, first.phone) == ("1201", "'=CONCAT(\"陈\",\"阿姨\")", "13800000001")
    assert (second.number, second.name, second.phone) == ("-1", "'@王", "13800000002")


def test_chunks_are_byte_ranges_of_the_row_copy_each_read_alone():
    rows = [["翠苑", "1栋", "", str(100 + i), f"住户{i}", f"1380000{i:04d}", ""] for i in range(23)]
    data = csv_bytes([HEADER, rows[0], [], *rows[1:]])  # a blank line between: row numbers skip it

    copy = read(data, "csv", chunk_rows=10)

    assert copy.total_rows == 23
    assert [(c.first_row, c.last_row) for c in copy.chunks] == [(2, 12), (13, 22), (23, 25)]
    read_back = [row for c in copy.chunks for row in files.rows_in(copy.data[c.start:c.end])]
    assert [line for line, _ in read_back] == [2, *range(4, 26)]
    assert [cells[4] for _, cells in read_back] == [f"住户{i}" for i in range(23)]
    assert files.header_of(copy.data) == HEADER
    assert copy.chunks[0].start == len(files._line(HEADER)) and copy.chunks[-1].end == len(copy.data)


def test_a_quoted_line_break_stays_in_its_cell_and_the_row_keeps_its_number():
    copy = read(csv_bytes([HEADER, ["翠苑", "1栋", "", "101", "陈\n阿姨", "13800000001", ""],
                           ["翠苑", "1栋", "", "102", "王\u2028先生", "13800000002", ""]]), "csv")

    assert [(line, cells[4]) for line, cells in all_rows(copy)] == [(2, "陈\n阿姨"), (3, "王\u2028先生")]


@pytest.mark.parametrize("file_format,data,code", [
    ("csv", b"", "empty_file"),
    ("csv", b"\n\n", "empty_file"),
    ("csv", "小区,姓名\n翠苑,陈\n".encode(), "missing_columns"),
    ("csv", b"\xff\xfe\x00\xd8\xff", "unreadable_file"),
    ("csv", ("小区,楼栋,房号,姓名,手机\n翠苑,1栋," + "1" * 200_000 + ",王,13800000001\n").encode(), "unreadable_file"),
    ("xlsx", b"PK\x03\x04 not really a zip", "unreadable_file"),
    ("xlsx", xlsx([]), "empty_file"),
])
def test_a_file_that_cannot_be_read_says_why(file_format, data, code):
    with pytest.raises(UnreadableFileError) as raised:
        read(data, file_format)

    assert raised.value.code == code


def test_a_file_past_the_row_limit_is_refused_before_any_row_is_applied():
    data = csv_bytes([HEADER, *[["翠苑", "1栋", "", str(i), "王", "13800000001", ""] for i in range(11)]])

    assert read(data, "csv", max_rows=11).total_rows == 11
    with pytest.raises(UnreadableFileError) as raised:
        read(data, "csv", max_rows=10)
    assert raised.value.code == "too_many_rows"


def test_the_format_is_told_by_the_first_bytes():
    assert files.sniff(xlsx([HEADER])) == "xlsx"
    assert files.sniff(csv_bytes([HEADER])) == "csv" and files.sniff(b"\xef\xbb\xbf" + csv_bytes([HEADER])) == "csv"


def test_the_error_file_gives_the_rows_back_to_fix_and_upload_again():
    text = files.error_file(HEADER, [(4, ["翠苑", "1栋", "", "103", "=cmd|' /C calc'!A0", "not-a-phone"],
                                      "phone: must be an 11-digit mainland mobile number")]).decode("utf-8")

    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert lines == [[*HEADER, "行号", "错误"],
                     ["翠苑", "1栋", "", "103", "'=cmd|' /C calc'!A0", "not-a-phone", "", "4",
                      "phone: must be an 11-digit mainland mobile number"]]
    # fixed and uploaded again, it reads as a residents' file (the extra columns are ignored)
    lines[1][5] = "13800000003"
    copy = read(csv_bytes(lines), "csv")
    [(line, row, errors)] = checked(copy)
    assert errors == [] and (row.name, row.phone) == ("'=cmd|' /C calc'!A0", "13800000003")


def test_kept_cells_are_bounded():
    assert files.kept_cells(["a" * 5000, "b"]) == ["a" * files.MAX_KEPT_CELL, "b"]


def test_chunk_records_round_trip():
    assert Chunk(2, 501, 10, 99) == Chunk(*[2, 501, 10, 99])
