"""Places and people: their records, phone rules, unit labels, CSV rows. Pure: no I/O."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, StringConstraints

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
Relation = Literal["owner", "occupant", "family"]
RELATION_ALIASES = {"owner": "owner", "业主": "owner", "occupant": "occupant", "住户": "occupant", "租户": "occupant",
                    "family": "family", "家属": "family", "家庭成员": "family"}


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits.

    Example
    -------
    >>> normalise_phone("+86 138-1234-5678")
    '13812345678'
    """
    digits = re.sub(r"[\s\-()]", "", raw)
    digits = re.sub(r"^(\+?86)", "", digits) if len(digits) > 11 else digits
    if not MOBILE_RE.match(digits):
        raise ValueError("must be an 11-digit mainland mobile number")
    return digits


def mask_phone(phone: str | None) -> str | None:
    """Example
    -------
    >>> mask_phone("13812345678")
    '138****5678'
    """
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def unit_label(building: str, entrance: str | None, number: str) -> str:
    """Example
    -------
    >>> unit_label("3栋", "2单元", "1201")
    '3栋2单元1201'
    """
    return f"{building}{entrance or ''}{number}"


@dataclass(frozen=True)
class Community:
    """A residential community (小区), in the tenant's partition."""

    community_id: str
    name: str
    address: str | None
    city: str | None
    created_at: str
    updated_at: str
    version: int = 1


@dataclass(frozen=True)
class Building:
    """A building (楼栋) of a community, optionally with its butler (a staff member)."""

    building_id: str
    community_id: str
    name: str
    butler_id: str | None = None


@dataclass(frozen=True)
class Unit:
    """A unit (房号) of a building; ``label`` is what people read, e.g. ``3栋2单元1201``."""

    unit_id: str
    community_id: str
    building_id: str
    entrance: str | None
    number: str
    label: str


@dataclass(frozen=True)
class Resident:
    """A resident and the units they live in.

    ``units`` holds one dict per unit: ``unit_id``, ``community_id``, ``relation``, ``label``,
    ``building_id`` (the shape residents' tokens and tickets carry).
    """

    resident_id: str
    name: str
    phone: str
    units: list[dict[str, Any]]
    created_at: str
    updated_at: str
    version: int = 1
    wechat_openid: str | None = None


@dataclass(frozen=True)
class Otp:
    """The sign-in code last sent to one phone of one tenant (only its digest is kept)."""

    code_digest: str
    sent_at: str
    valid_until: str
    attempts: int
    resident_id: str | None
    expires_at: int | None = None


MobilePhone = Annotated[str, StringConstraints(max_length=20), AfterValidator(normalise_phone)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


@dataclass(frozen=True)
class ImportRow:
    line: int
    community: str
    building: str
    entrance: str | None
    number: str
    name: str
    phone: str
    relation: str


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


HEADER_ALIASES = {
    "community": ("community", "小区"),
    "building": ("building", "楼栋", "楼号"),
    "entrance": ("entrance", "单元"),
    "number": ("unit", "number", "房号", "房间号"),
    "name": ("name", "姓名"),
    "phone": ("phone", "手机", "手机号", "电话"),
    "relation": ("relation", "身份", "关系"),
}


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GBK (what Excel in China writes)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("the file is neither UTF-8 nor GBK")


def parse_residents_csv(text: str) -> tuple[list[ImportRow], list[RowError]]:
    reader = csv.reader(io.StringIO(text))
    rows, errors = [], []
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], [RowError(1, "the file is empty")]
    columns: dict[str, int] = {}
    for field, aliases in HEADER_ALIASES.items():
        for index, title in enumerate(header):
            if title in aliases:
                columns[field] = index
    missing = [f for f in ("community", "building", "number", "name", "phone") if f not in columns]
    if missing:
        return [], [RowError(1, f"missing columns: {', '.join(missing)}")]
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue

        def cell(field: str, values: list[str] = values) -> str:
            index = columns.get(field)
            return values[index].strip() if index is not None and index < len(values) else ""

        try:
            phone = normalise_phone(cell("phone"))
        except ValueError:
            errors.append(RowError(line, "phone: must be an 11-digit mainland mobile number"))
            continue
        relation = RELATION_ALIASES.get(cell("relation").lower() or "owner")
        if relation is None:
            errors.append(RowError(line, "relation: one of owner/业主, occupant/住户, family/家属"))
            continue
        blanks = [f for f in ("community", "building", "number", "name") if not cell(f)]
        if blanks:
            errors.append(RowError(line, f"empty: {', '.join(blanks)}"))
            continue
        if len(cell("name")) > 50 or len(cell("number")) > 20:
            errors.append(RowError(line, "name or unit number too long"))
            continue
        rows.append(ImportRow(line, cell("community"), cell("building"), cell("entrance") or None, cell("number"),
                              cell("name"), phone, relation))
    return rows, errors
