"""Import files, read once: a CSV (streamed; UTF-8 with or without BOM, else GBK) or an XLSX (openpyxl in read-only
mode: rows stream out of the zipped XML, never a whole workbook in memory) becomes a *row copy*, one JSON line per
non-blank row, and a plan of chunks over it (byte ranges of :data:`CHUNK_ROWS` rows each), so every chunk is one
ranged read and no chunk parses the rows before it. Then, for the rows that failed, the error file a person fixes
and uploads again. Pure: callers hand in the bytes or a way to open them.

XLSX cells read as a person sees them typed: numbers as their digits (a phone typed as a number,
``13800000001``, stays that; ``101.0`` reads ``101``), dates as ISO dates, and a formula as its text
(``=HYPERLINK(…)``), which the row rules then neutralise exactly as they do a CSV cell: no cached result a file
can set to anything is trusted.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, BinaryIO, Literal

from chalicelib.residents import csv_files

Format = Literal["csv", "xlsx"]
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES: dict[Format, str] = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_JOB_ROWS = 100_000
"""Rows one import job takes (about 2 MB of cells per 20,000 rows; a larger estate is imported in several files)."""
CHUNK_ROWS = 500
"""Rows one queue message carries: reading them, a few batched reads and about 25 transactions, about a second in
AWS, far inside the consumer's time limit."""
MAX_COLUMNS, MAX_TITLE = 64, 100
"""Columns a file may have (the rest are dropped) and characters of a column title kept."""
MAX_KEPT_CELL, MAX_KEPT_ROW = 1000, 4000
"""Characters of a failed row the error file gives back: of one cell (a cell can hold 32,767; past this it is not a
value to fix) and of the whole row (so a transaction's failed rows stay far below DynamoDB's 4 MB)."""
ERROR_COLUMNS = ("行号", "错误")


class UnreadableFileError(ValueError):
    """The file is not a CSV or XLSX of residents at all: ``code`` says why, the message names the place."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Chunk:
    """Rows ``first_row``…``last_row`` (their row numbers in the file) at bytes ``start``…``end`` of the row copy."""

    first_row: int
    last_row: int
    start: int
    end: int


@dataclass(frozen=True)
class RowCopy:
    """What a file holds, read once: its header, the row copy (JSON lines: the header, then ``[row, cells]`` per
    non-blank row) and the chunks over it."""

    header: list[str]
    data: bytes
    total_rows: int
    chunks: list[Chunk]


def sniff(head: bytes) -> Format:
    """An XLSX is a zip archive; anything else is read as CSV.

    Example
    -------
    >>> sniff(b"PK\\x03\\x04\\x14\\x00"), sniff("小区,楼栋".encode())
    ('xlsx', 'csv')
    """
    return "xlsx" if head.startswith(b"PK\x03\x04") else "csv"


def cell_text(value: Any) -> str:
    """An XLSX cell as text.

    Example
    -------
    >>> [cell_text(v) for v in (None, 13800000001, 101.0, 2.5, True, "=1+2", datetime(2026, 1, 2))]
    ['', '13800000001', '101', '2.5', 'TRUE', '=1+2', '2026-01-02']
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(getattr(value, "text", None) or value)  # array and data-table formulas: their text


def csv_records(open_file: Callable[[], BinaryIO], encoding: str) -> Iterator[tuple[int, list[str]]]:
    """A CSV file's records with their row numbers, decoded as it streams (``newline=""``: quoted line breaks
    stay inside their cell). Raises :class:`UnicodeDecodeError` at the first byte that is not ``encoding``."""
    text = io.TextIOWrapper(open_file(), encoding=encoding, newline="")
    reader = csv.reader(text)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise UnreadableFileError("unreadable_file", f"line {reader.line_num}: {exc}") from exc


def xlsx_records(data: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows with their row numbers, each cell as :func:`cell_text` reads it."""
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(data, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFileError("unreadable_file", "the file is not an XLSX workbook") from exc
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [cell_text(v) for v in values]
    finally:
        book.close()


def row_copy(records: Iterable[tuple[int, list[str]]], *, max_rows: int = MAX_JOB_ROWS,
             chunk_rows: int = CHUNK_ROWS) -> RowCopy:
    """The row copy and its chunks: the first non-blank row is the header (the columns it names are checked),
    blank rows are left out, cells past the header's width dropped.

    Example
    -------
    >>> copy = row_copy([(1, ["小区", "楼栋", "房号", "姓名", "手机"]), (2, ["翠苑", "1栋", "101", "王", "138"]),
    ...                  (3, ["", ""]), (4, ["翠苑", "1栋", "102", "李", "139", "extra"])], chunk_rows=1)
    >>> copy.total_rows, [(c.first_row, c.last_row) for c in copy.chunks]
    (2, [(2, 2), (4, 4)])
    >>> rows_in(copy.data[copy.chunks[1].start:copy.chunks[1].end])
    [(4, ['翠苑', '1栋', '102', '李', '139'])]
    """
    out, header, chunks, total = io.BytesIO(), None, [], 0
    first_row = start = last_row = 0
    for number, values in records:
        if csv_files.is_blank(values):
            continue
        if header is None:
            header = [value.strip()[:MAX_TITLE] for value in values[:MAX_COLUMNS]]
            while header and not header[-1]:
                header.pop()
            _, missing = csv_files.columns_of(header)
            if missing:
                raise UnreadableFileError("missing_columns", csv_files.missing_columns_error(missing).message)
            out.write(_line(header))
            continue
        total += 1
        if total > max_rows:
            raise UnreadableFileError("too_many_rows", f"an import takes at most {max_rows:,} rows; split the file")
        if (total - 1) % chunk_rows == 0:
            first_row, start = number, out.tell()
        out.write(_line([number, values[: len(header)]]))
        last_row = number
        if total % chunk_rows == 0:
            chunks.append(Chunk(first_row, last_row, start, out.tell()))
    if header is None:
        raise UnreadableFileError("empty_file", "the file is empty")
    if total % chunk_rows:
        chunks.append(Chunk(first_row, last_row, start, out.tell()))
    return RowCopy(header, out.getvalue(), total, chunks)


def read_file(open_file: Callable[[], BinaryIO], file_format: Format, *, max_rows: int = MAX_JOB_ROWS,
              chunk_rows: int = CHUNK_ROWS) -> RowCopy:
    """Read an uploaded file once into its row copy (``open_file`` opens it again when a CSV turns out not to be
    UTF-8 and is read as GBK). Raises :class:`UnreadableFileError`."""
    if file_format == "xlsx":
        with _spooled(open_file()) as data:
            return row_copy(xlsx_records(data), max_rows=max_rows, chunk_rows=chunk_rows)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return row_copy(csv_records(open_file, encoding), max_rows=max_rows, chunk_rows=chunk_rows)
        except UnicodeDecodeError:
            continue
    raise UnreadableFileError("unreadable_file", "the file is neither UTF-8 nor GBK")


def _spooled(stream: BinaryIO) -> Any:
    """A seekable copy of a stream (a zip is read from its end): in memory up to 8 MB, then in a temporary file."""
    import shutil
    import tempfile

    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed by the caller's with
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool


def header_of(data: bytes) -> list[str]:
    """The header line of a row copy (its first line)."""
    return json.loads(data.split(b"\n", 1)[0])


def rows_in(data: bytes) -> list[tuple[int, list[str]]]:
    """The rows of a slice of the row copy (whole lines; the JSON keeps line breaks escaped, so lines split on the
    byte ``\\n`` alone, never on the other line separators Unicode has)."""
    return [(row, cells) for row, cells in (json.loads(line) for line in data.split(b"\n") if line.strip())]


def _line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def kept_cells(cells: list[str]) -> list[str]:
    """A failed row's cells as the error file keeps them: each at most :data:`MAX_KEPT_CELL` characters, all of them
    at most :data:`MAX_KEPT_ROW` (the cells past that left empty).

    Example
    -------
    >>> [len(c) for c in kept_cells(["a" * 5000, "b" * 2500, "c" * 900, "d"])]
    [1000, 1000, 900, 1]
    >>> [len(c) for c in kept_cells(["a" * 1000] * 6)]
    [1000, 1000, 1000, 1000, 0, 0]
    """
    kept, left = [], MAX_KEPT_ROW
    for cell in cells:
        piece = cell[: min(MAX_KEPT_CELL, left)]
        kept.append(piece)
        left -= len(piece)
    return kept


def error_file(header: list[str], failures: Iterable[tuple[int, list[str], str]]) -> bytes:
    """The failed rows, to fix and upload again: the file's own columns, then its row number and what is wrong;
    UTF-8 with a BOM (what Excel needs for Chinese), every cell neutralised against formulas as an export is.

    Example
    -------
    >>> text = error_file(["小区", "姓名", "手机"], [(3, ["翠苑", "=cmd", "123"], "phone: must be …")]).decode()
    >>> text.splitlines()
    ['\\ufeff小区,姓名,手机,行号,错误', "翠苑,'=cmd,123,3,phone: must be …"]
    """
    out = io.StringIO()
    out.write(codecs.BOM_UTF8.decode())
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*header, *ERROR_COLUMNS])
    for row, cells, message in failures:
        padded = [*cells, *[""] * (len(header) - len(cells))][: len(header)]
        writer.writerow([csv_files.neutralise(cell) for cell in padded] + [str(row), csv_files.neutralise(message)])
    return out.getvalue().encode("utf-8")
