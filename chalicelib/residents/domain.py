"""Places and people: their records, phone rules, unit labels, the field types the API and the CSV import share.
Pure: no I/O."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import AfterValidator, StringConstraints, WithJsonSchema

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


# --- search (?q= on the residents list): what a caller typed → which index answers it -------------------------
SearchBy = Literal["phone", "phone_tail", "unit", "name"]
MAX_SEARCH_LENGTH = 64
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
_UNIT_QUERY = re.compile(r"^(?P<community>[^0-9A-Za-z]*?)\s*(?P<label>[0-9A-Za-z][0-9A-Za-z栋幢座号楼单元室\-#/\s]*)$")
_UNIT_PART = re.compile(r"[0-9A-Za-z]+")
_UNIT_DESIGNATORS = re.compile(r"[栋幢座号楼单元室\-#/\s]+$")


@dataclass(frozen=True)
class ResidentSearch:
    """What ``?q=`` asks for, as :func:`classify_search` read it: the index (``by``) and its key, and for a unit the
    community name typed before the label (normalised; ``None`` when none was typed)."""

    by: SearchBy
    key: str
    community: str | None = None


def search_text(text: str) -> str:
    """Text as the name index and the community hint compare it: NFKC (full-width → half-width), case-folded,
    without whitespace.

    Example
    -------
    >>> search_text(" 陈 阿姨 "), search_text("ＬＩ Ｍｉｎｇ")
    ('陈阿姨', 'liming')
    """
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def unit_search_key(label: str) -> str:
    """A unit label as the unit index keys it: its runs of digits and Latin letters, joined by ``-`` (building,
    entrance, number), so ``1栋2单元202``, ``1-2-202`` and ``1号楼2单元202室`` meet; leading zeros dropped, letters
    upper-cased. A label without digits or letters keys as its :func:`search_text`.

    Example
    -------
    >>> unit_search_key("1栋2单元202"), unit_search_key("1-2-202"), unit_search_key("a座0301")
    ('1-2-202', '1-2-202', 'A-301')
    """
    text = unicodedata.normalize("NFKC", label)
    parts = [part.lstrip("0") or "0" if part.isdigit() else part.upper() for part in _UNIT_PART.findall(text)]
    return "-".join(parts) if parts else search_text(label)


def classify_search(q: str) -> ResidentSearch:
    """Which index answers a search: a full mainland mobile number (spaces, hyphens, brackets and +86 allowed) → the
    phone index; four digits → the last four digits of phones; a unit label (at least two runs of digits or letters,
    such as ``1栋2单元202`` or ``1-2-202``, optionally after the community's name) → the units; anything else → a
    prefix of names.

    Example
    -------
    >>> classify_search("+86 138-0000-0001")
    ResidentSearch(by='phone', key='13800000001', community=None)
    >>> classify_search("0001")
    ResidentSearch(by='phone_tail', key='0001', community=None)
    >>> classify_search("翠苑 1栋1单元101")
    ResidentSearch(by='unit', key='1-1-101', community='翠苑')
    >>> classify_search("1-2-202")
    ResidentSearch(by='unit', key='1-2-202', community=None)
    >>> classify_search(" 陈 ")
    ResidentSearch(by='name', key='陈', community=None)
    """
    text = unicodedata.normalize("NFKC", q).strip()
    compact = _PHONE_SEPARATORS.sub("", text)
    if len(compact) > 11:
        compact = re.sub(r"^\+?86", "", compact)
    if compact.isascii() and MOBILE_RE.match(compact):
        return ResidentSearch("phone", compact)
    if compact.isascii() and re.fullmatch(r"[0-9]{4}", compact):
        return ResidentSearch("phone_tail", compact)
    unit = _UNIT_QUERY.match(text)
    if unit is not None:
        label = unit.group("label")
        parts = _UNIT_PART.findall(label)
        if len(parts) >= 2 and any(c.isdigit() for c in parts[-1]):
            community = search_text(_UNIT_DESIGNATORS.sub("", unit.group("community")))
            return ResidentSearch("unit", unit_search_key(label), community or None)
    return ResidentSearch("name", search_text(text))


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


class UnitPlace(NamedTuple):
    """Where a unit is, as a file names it: its community and building, the entrance (if any) and the number; what
    keeps a unit number unique."""

    community_id: str
    building_id: str
    entrance: str | None
    number: str


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


MobilePhone = Annotated[str, StringConstraints(max_length=20), AfterValidator(normalise_phone), WithJsonSchema({
    "type": "string", "maxLength": 20, "pattern": r"^(?:\+?86)?1[3-9][0-9]{9}$",
    "description": "A mainland mobile number (11 digits, 13x–19x); spaces, hyphens and brackets are dropped first"})]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Entrance = Annotated[str, StringConstraints(max_length=20)]
UnitNumber = Annotated[str, StringConstraints(min_length=1, max_length=20)]
"""The field types of places and people, one definition each: the API's request models and the CSV import's rows
(``residents.csv_files``) validate with these, so a file can store nothing the API would refuse (a building name
over 50 characters, an entrance long enough to push the unit's claim key past DynamoDB's 2,048 bytes)."""
MAX_RESIDENT_UNITS = 10  # the units one resident lives in, by the API or by import
