"""Residents' CSV files, both ways: the import's rows (validated field by field as the API validates the same
fields) and the export's lines, with spreadsheet formulas neutralised in both directions. Pure: no I/O.

Formulas (OWASP, "CSV Injection"): a spreadsheet evaluates a cell that begins with ``=``, ``+``, ``-`` or ``@``
(and, after a leading tab, carriage return or line feed, what follows), so ``=cmd|' /C calc'!A0`` in a name runs
on the machine of whoever opens an export. :func:`neutralise` prefixes such a cell with ``'``, which every
spreadsheet reads as "this is text", and keeps the value otherwise as it was:

- on import, every stored text cell (building, entrance, unit number, name) is neutralised before it is validated
  and stored: the row imports, the value keeps its characters and loses its formula meaning wherever it goes next
  (the console, a webhook, a report, an export made by another tool). Refusing such rows would also have been
  safe, but would reject values a person may mean (``@家`` as a name) and turn a whole re-import into errors;
- on export, every cell is neutralised again (values typed through the API are stored as typed), and a cell
  already neutralised (it begins with ``'``) is left alone, so an imported file exported and imported again
  changes nothing;
- a plain number (``-1`` for a basement unit, ``+1``, ``-2.5``) is not a formula: no spreadsheet evaluates it to
  anything but itself, so it is kept as it is rather than turned into the text ``'-1``;
- the phone column never reaches the rule as typed: ``+86 138-0000-0001`` is a legitimate way to write a number
  and the phone rule (``domain.normalise_phone``) stores it as ``13800000001``, which is what an export writes;
- a cell that is only ``-`` is the usual spreadsheet mark for "none" and reads as empty (it is also what the
  unit claim key writes for "no entrance", so storing it would make it collide with an empty one).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from chalicelib.residents.domain import RELATION_ALIASES, Entrance, MobilePhone, Relation, ShortName, UnitNumber

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?", re.ASCII)
MAX_IMPORT_ROWS = 500
"""Rows one import may carry: each row is up to three writes made while the person waits (API Gateway gives a
request 29 s); a larger estate is imported in several files."""

HEADER_ALIASES = {
    "community": ("community", "小区"),
    "building": ("building", "楼栋", "楼号"),
    "entrance": ("entrance", "单元"),
    "number": ("unit", "number", "房号", "房间号"),
    "name": ("name", "姓名"),
    "phone": ("phone", "手机", "手机号", "电话"),
    "relation": ("relation", "身份", "关系"),
}
REQUIRED_COLUMNS = ("community", "building", "number", "name", "phone")
STORED_TEXT = ("building", "entrance", "number", "name")
EXPORT_HEADER = ("小区", "楼栋", "单元", "房号", "姓名", "手机", "身份")
RELATION_NAMES = {"owner": "业主", "occupant": "住户", "family": "家属"}


class CsvFileError(ValueError):
    """The file cannot be read as a CSV of residents at all (the message names the line)."""


class TooManyRowsError(ValueError):
    """The file has more rows than one import takes."""


def neutralise(value: str) -> str:
    """The cell as a spreadsheet will read as text: ``'`` before a formula-leading value, else unchanged.

    Example
    -------
    >>> neutralise("=cmd|' /C calc'!A0"), neutralise("@SUM(A1)"), neutralise("\\t=1+1")
    ("'=cmd|' /C calc'!A0", "'@SUM(A1)", "'\\t=1+1")
    >>> neutralise("-1"), neutralise("+2.5"), neutralise("1栋"), neutralise("'=already")
    ('-1', '+2.5', '1栋', "'=already")
    """
    if value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def without_neutralising(value: str) -> str:
    """The value :func:`neutralise` was given (an exported name read back, to find what it names).

    Example
    -------
    >>> without_neutralising("'=x"), without_neutralising("'quoted"), without_neutralising("=x")
    ('=x', "'quoted", '=x')
    """
    return value[1:] if value.startswith("'") and neutralise(value[1:]) == value else value


def _relation(value: Any) -> Any:
    if isinstance(value, str):
        known = RELATION_ALIASES.get(value.strip().lower())
        if known is None:
            raise ValueError("one of owner/业主, occupant/住户, family/家属")
        return known
    return value


class ImportRow(BaseModel):
    """One row of a residents' file, each field of the type its API model gives it (``CommunityIn.name``,
    ``BuildingIn.name``, ``UnitIn.entrance``, ``UnitIn.number``, ``ResidentIn.name``, ``ResidentIn.phone``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int
    community: ShortName
    building: ShortName
    entrance: Entrance | None = None
    number: UnitNumber
    name: ShortName
    phone: MobilePhone
    relation: Annotated[Relation, BeforeValidator(_relation)] = "owner"


@dataclass(frozen=True)
class RowError:
    """Why one row (``line``: its row number, the header being row 1) imports nothing: the field at fault (``None``
    for the row or the file as a whole), a stable ``code`` and a message a person reads."""

    line: int
    field: str | None
    message: str
    code: str = "invalid"


ERROR_CODES = {"missing": "required", "string_too_long": "too_long", "string_too_short": "required"}
"""pydantic's error types → the import's codes (anything else is ``invalid``)."""


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GBK (what Excel in China writes)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvFileError("the file is neither UTF-8 nor GBK")


def columns_of(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Which column holds which field (the header's titles in English or Chinese, any case), and the required
    fields no column holds.

    Example
    -------
    >>> columns_of(["小区", "楼栋", "房号", "Name", "手机号"])
    ({'community': 0, 'building': 1, 'number': 2, 'name': 3, 'phone': 4}, [])
    >>> columns_of(["小区", "姓名"])[1]
    ['building', 'number', 'phone']
    """
    titles = [(h or "").strip().lower() for h in header]
    columns = {field: index for field, aliases in HEADER_ALIASES.items()
               for index, title in enumerate(titles) if title in aliases}
    return columns, [f for f in REQUIRED_COLUMNS if f not in columns]


def missing_columns_error(missing: list[str]) -> RowError:
    return RowError(1, None, f"missing columns: {', '.join(missing)}", "missing_columns")


def csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """The records of a CSV text with their row numbers (the header is row 1; a blank line is a row, as a
    spreadsheet shows it). Raises :class:`CsvFileError` naming the line when the text is not CSV."""
    reader = csv.reader(io.StringIO(text))
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise CsvFileError(f"line {reader.line_num}: {exc}") from exc


def is_blank(values: list[str]) -> bool:
    return not any((v or "").strip() for v in values)


def parse_residents_csv(text: str) -> tuple[list[ImportRow], list[RowError]]:
    """The valid rows and, for every other row, one error per field at fault (nothing of that row is kept).

    Raises :class:`CsvFileError` when the file is not CSV (a field past the csv module's size limit, a NUL) and
    :class:`TooManyRowsError` past :data:`MAX_IMPORT_ROWS`.

    Example
    -------
    >>> rows, errors = parse_residents_csv("小区,楼栋,房号,姓名,手机\\n翠苑,1栋,-1,=HYPERLINK(1),+86 138 0000 0001\\n"
    ...                                    "翠苑," + "栋" * 51 + ",101,王,13800000002\\n")
    >>> [(r.number, r.name, r.phone) for r in rows]
    [('-1', "'=HYPERLINK(1)", '13800000001')]
    >>> errors
    [RowError(line=3, field='building', message='building: String should have at most 50 characters', code='too_long')]
    """
    records = csv_records(text)
    header = next(records, None)
    if header is None:
        return [], [RowError(1, None, "the file is empty", "empty_file")]
    columns, missing = columns_of(header[1])
    if missing:
        return [], [missing_columns_error(missing)]
    rows, errors, counted = [], [], 0
    for line, values in records:
        if is_blank(values):
            continue
        counted += 1
        if counted > MAX_IMPORT_ROWS:
            raise TooManyRowsError(f"a file takes at most {MAX_IMPORT_ROWS} rows; split it or start an import job "
                                   "(POST /v1/imports)")
        row, problems = parse_row(line, columns, values)
        rows.extend([row] if row is not None else [])
        errors.extend(problems)
    return rows, errors


def parse_row(line: int, columns: dict[str, int], values: list[str]) -> tuple[ImportRow | None, list[RowError]]:
    """One row of any residents' file (CSV or XLSX, its cells as text) checked as the API checks the same fields,
    text cells neutralised against formulas: the row, or one error per field at fault.

    Example
    -------
    >>> columns = {"community": 0, "building": 1, "number": 2, "name": 3, "phone": 4}
    >>> parse_row(2, columns, ["翠苑", "1栋", "101", "@王", "138 0000 0001"])[0].name
    "'@王"
    >>> parse_row(3, columns, ["翠苑", "1栋", "", "王", "123"])[1]  # doctest: +NORMALIZE_WHITESPACE
    [RowError(line=3, field='number', message='number: required', code='required'),
     RowError(line=3, field='phone', message='phone: must be an 11-digit mainland mobile number', code='invalid')]
    """
    cells: dict[str, Any] = {"line": line}
    for field, index in columns.items():
        value = (values[index] or "").strip() if index < len(values) else ""
        if value in ("", "-"):
            continue
        if field == "phone":  # typed as text ('138…) or given back by an error file: the quote is not a digit
            value = value.removeprefix("'")
        cells[field] = neutralise(value) if field in STORED_TEXT else value
    try:
        return ImportRow.model_validate(cells), []
    except ValidationError as exc:
        return None, [_row_error(line, error) for error in exc.errors(include_url=False, include_input=False)]


def _row_error(line: int, error: Any) -> RowError:
    field = str(error["loc"][0]) if error["loc"] else None
    if error["type"] == "missing":
        reason = "required"
    elif error["type"] == "value_error":
        reason = str(error["ctx"]["error"])
    else:
        reason = error["msg"]
    return RowError(line, field, f"{field}: {reason}", ERROR_CODES.get(error["type"], "invalid"))


@dataclass(frozen=True)
class ExportRow:
    """One line of an export: a resident in one of their units (place columns empty for a resident with none)."""

    community: str
    building: str
    entrance: str | None
    number: str
    name: str
    phone: str
    relation: str | None


def residents_csv(rows: Iterable[ExportRow]) -> str:
    """The export: the import's columns (so the file can come back in), every cell quoted and neutralised,
    UTF-8 with a BOM (what Excel needs to read Chinese from a CSV).

    Example
    -------
    >>> text = residents_csv([ExportRow("翠苑", "1栋", None, "-1", "=cmd|' /C calc'!A0", "13800000001", "owner")])
    >>> text.splitlines()[1]
    '"翠苑","1栋","","-1","\\'=cmd|\\' /C calc\\'!A0","13800000001","业主"'
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in (
            row.community, row.building, row.entrance or "", row.number, row.name, row.phone,
            RELATION_NAMES.get(row.relation or "", ""))])
    return out.getvalue()
