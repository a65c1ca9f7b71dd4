"""Places and people: their records, phone rules, unit labels, the field types the API and the CSV import share.
Pure: no I/O."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

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
