"""Property-fee collection and renewal rates per community and month, and satisfaction set beside them.

A tenant records, per community and month, the share of the property fee collected (收缴率) and, where it tracks
it, the share of owners who renewed (续费率) — by hand in the console, from a CSV/XLSX file, or from its billing
system with an API key (``fees:write``). The report sets each community-month's satisfaction (CSAT and mean rating
of the ratings given that month, from the rollups) beside them, gives the Pearson correlation across every
community-month that has both, the least-squares line the scatter draws, and flags renewal risks: communities
whose CSAT over the last three months of the range fell by 10 % or more (relative) from the three months before.
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_ROWS = 1000
RISK_DROP = 0.10
HEADERS = {"community": ("小区", "community", "community_id", "小区id"), "month": ("月份", "month"),
           "collection_rate": ("收缴率", "collection_rate"), "renewal_rate": ("续费率", "renewal_rate")}


@dataclass(frozen=True)
class FeeRate:
    community_id: str
    month: str  # YYYY-MM
    collection_rate: float | None
    renewal_rate: float | None
    updated_at: str = ""
    updated_by: str = ""


def pearson(pairs: list[tuple[float, float]]) -> float | None:
    """The correlation of x and y over the pairs (None for fewer than 3, or a constant side).

    >>> pearson([(0.9, 0.95), (0.8, 0.9), (0.7, 0.8), (0.6, 0.78)])
    0.9724
    >>> pearson([(1, 2), (1, 3), (1, 4)]) is None
    True
    """
    n = len(pairs)
    if n < 3:
        return None
    mx, my = sum(x for x, _ in pairs) / n, sum(y for _, y in pairs) / n
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    syy = sum((y - my) ** 2 for _, y in pairs)
    if sxx == 0 or syy == 0:
        return None
    return round(sum((x - mx) * (y - my) for x, y in pairs) / math.sqrt(sxx * syy), 4)


def trend(pairs: list[tuple[float, float]]) -> tuple[float, float] | None:
    """The least-squares line y = slope·x + intercept (None for fewer than 2 pairs or a constant x).

    >>> trend([(0.5, 0.7), (1.0, 0.9)])
    (0.4, 0.5)
    """
    n = len(pairs)
    if n < 2:
        return None
    mx, my = sum(x for x, _ in pairs) / n, sum(y for _, y in pairs) / n
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in pairs) / sxx
    return round(slope, 4), round(my - slope * mx, 4)


def parse_rate(text: str) -> float | None:
    """A rate as people type it: ``0.93``, ``93%``, ``93`` (read as percent above 1); blank is no figure.

    >>> parse_rate("93%"), parse_rate("0.925"), parse_rate("88"), parse_rate(" ")
    (0.93, 0.925, 0.88, None)
    """
    text = (text or "").strip().replace("％", "%")
    if not text:
        return None
    percent = text.endswith("%")
    value = float(text.rstrip("%").strip())
    if percent or value > 1:
        value /= 100
    if not 0 <= value <= 1 or math.isnan(value):
        raise ValueError("out of range")
    return round(value, 4)


def decode(raw: bytes) -> str:
    """CSV text as spreadsheets save it: UTF-8 (with or without BOM), else GBK/GB18030."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def file_rows(raw: bytes) -> Iterator[tuple[int, list[str]]]:
    """The rows of a CSV or an XLSX (recognised by its zip signature), numbered from 1, cells as text."""
    if raw[:4] == b"PK\x03\x04":
        import zipfile

        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise ValueError("the file is not an XLSX workbook") from exc
        try:
            for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
                yield number, ["" if v is None else (f"{v:%Y-%m}" if hasattr(v, "strftime") else str(v))
                               for v in values]
        finally:
            book.close()
        return
    yield from enumerate(csv.reader(io.StringIO(decode(raw))), start=1)


@dataclass(frozen=True)
class ParsedRow:
    line: int
    community: str
    month: str
    collection_rate: float | None
    renewal_rate: float | None


def parse_rows(rows: Iterable[tuple[int, list[str]]]) -> tuple[list[ParsedRow], list[dict[str, Any]]]:
    """Rows of 小区, 月份, 收缴率, 续费率 (either rate may be blank, not both) and the problems, by line and field.

    >>> ok, bad = parse_rows([(1, ["小区", "月份", "收缴率", "续费率"]), (2, ["翠苑", "2026-10", "93%", ""]),
    ...                       (3, ["翠苑", "2026-13", "0.9", ""]), (4, ["", "", "", ""])])
    >>> [(r.line, r.community, r.month, r.collection_rate, r.renewal_rate) for r in ok]
    [(2, '翠苑', '2026-10', 0.93, None)]
    >>> [(e["line"], e["field"]) for e in bad]
    [(3, 'month')]
    """
    import re

    iterator = iter(rows)
    header: dict[str, int] = {}
    for line, cells in iterator:
        if not any(c.strip() for c in cells):
            continue
        names = [c.strip().lower() for c in cells]
        header = {field: next((i for i, n in enumerate(names) if n in aliases), -1)
                  for field, aliases in HEADERS.items()}
        if header["community"] < 0 or header["month"] < 0 or (header["collection_rate"] < 0
                                                              and header["renewal_rate"] < 0):
            return [], [{"line": line, "field": "header", "message": "The first row must name 小区, 月份 and "
                                                                      "收缴率 or 续费率."}]
        break
    else:
        return [], [{"line": 0, "field": "file", "message": "The file is empty."}]
    parsed, errors = [], []

    def cell(cells: list[str], field: str) -> str:
        index = header[field]
        return cells[index].strip() if 0 <= index < len(cells) else ""

    for line, cells in iterator:
        if not any(c.strip() for c in cells):
            continue
        if len(parsed) + len(errors) >= MAX_ROWS:
            errors.append({"line": line, "field": "file", "message": f"At most {MAX_ROWS} rows a file."})
            break
        community, month = cell(cells, "community"), cell(cells, "month").replace("/", "-")
        if re.match(r"^\d{4}-\d$", month):
            month = month[:5] + "0" + month[5:]
        problems = []
        if not community:
            problems.append(("community", "Which community?"))
        if not re.match(MONTH_PATTERN, month[:7]) or len(month) not in (7, 10):
            problems.append(("month", "A month as YYYY-MM."))
        rates = {}
        for field in ("collection_rate", "renewal_rate"):
            try:
                rates[field] = parse_rate(cell(cells, field))
            except ValueError:
                problems.append((field, "A rate from 0 to 1, or a percentage."))
        if not problems and rates.get("collection_rate") is None and rates.get("renewal_rate") is None:
            problems.append(("collection_rate", "Give 收缴率 or 续费率."))
        if problems:
            errors += [{"line": line, "field": f, "message": m} for f, m in problems]
            continue
        parsed.append(ParsedRow(line, community, month[:7], rates["collection_rate"], rates["renewal_rate"]))
    return parsed, errors


def quarter_drop(previous: tuple[int, int], last: tuple[int, int]) -> float | None:
    """The relative change of CSAT from the previous quarter's (satisfied, ratings) to the last's.

    >>> quarter_drop((90, 100), (40, 50)), quarter_drop((0, 0), (4, 5))
    (-0.1111, None)
    """
    if not previous[1] or not last[1] or not previous[0]:
        return None
    before, after = previous[0] / previous[1], last[0] / last[1]
    return round((after - before) / before, 4)
