"""Request and response models for communities, buildings, units and residents."""
from __future__ import annotations

import unicodedata

from pydantic import Field, field_validator

from chalicelib.core.pagination import ListQuery
from chalicelib.core.schema import Request, Schema
from chalicelib.residents.domain import (
    MAX_RESIDENT_UNITS,
    MAX_SEARCH_LENGTH,
    Entrance,
    MobilePhone,
    Relation,
    ShortName,
    UnitNumber,
)


class CommunityIn(Request):
    name: ShortName
    address: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=50)


class CommunityPatch(Request):
    name: ShortName | None = None
    address: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=50)


class CommunityOut(Schema):
    id: str
    name: str
    address: str | None
    city: str | None
    created_at: str
    updated_at: str
    version: int


class BuildingIn(Request):
    name: ShortName
    butler_id: str | None = Field(None, max_length=40)


class BuildingOut(Schema):
    id: str
    community_id: str
    name: str
    butler_id: str | None


class UnitIn(Request):
    building_id: str = Field(min_length=1, max_length=40)
    entrance: Entrance | None = None
    number: UnitNumber


class UnitOut(Schema):
    id: str
    community_id: str
    building_id: str
    entrance: str | None
    number: str
    label: str


class UnitQuery(ListQuery):
    building_id: str | None = None


class ResidentUnitIn(Request):
    unit_id: str = Field(min_length=1, max_length=40)
    community_id: str = Field(min_length=1, max_length=40)
    relation: Relation = "owner"


class ResidentUnitOut(Schema):
    unit_id: str
    community_id: str
    relation: Relation
    label: str
    building_id: str | None = None


class ResidentIn(Request):
    name: ShortName
    phone: MobilePhone
    units: list[ResidentUnitIn] = Field(default_factory=list, max_length=MAX_RESIDENT_UNITS)


class ResidentPatch(Request):
    name: ShortName | None = None
    phone: MobilePhone | None = None
    units: list[ResidentUnitIn] | None = Field(None, max_length=MAX_RESIDENT_UNITS)


NO_CONTROL_CHARACTERS = r"^[^\u0000-\u001f\u007f-\u009f]*$"  # Unicode category Cc: C0, DEL and C1


class ResidentQuery(ListQuery):
    q: str | None = Field(None, max_length=MAX_SEARCH_LENGTH, json_schema_extra={"pattern": NO_CONTROL_CHARACTERS},
                          description=(
        "Find residents (phone intake): a full mainland mobile number (spaces, hyphens, +86 allowed), the last 4 "
        "digits of one, a unit label (1栋2单元202 or 1-2-202, optionally after the community's name: 翠苑1栋2单元202) "
        "or the beginning of a name. No control characters; blank lists everyone."))

    @field_validator("q")
    @classmethod
    def _no_control_characters(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()  # a pasted number's trailing newline is not worth a 422
        if any(unicodedata.category(ch) == "Cc" for ch in value):  # what NO_CONTROL_CHARACTERS says
            raise ValueError("must not contain control characters")
        return value or None


class ResidentOut(Schema):
    id: str
    name: str
    phone: str = Field(description="Masked (138****5678) except for staff who manage residents, on one resident")
    units: list[ResidentUnitOut]
    created_at: str
    updated_at: str
    version: int


class CommunityPage(Schema):
    items: list[CommunityOut]
    next_cursor: str | None


class BuildingPage(Schema):
    items: list[BuildingOut]
    next_cursor: str | None


class UnitPage(Schema):
    items: list[UnitOut]
    next_cursor: str | None


class ResidentPage(Schema):
    items: list[ResidentOut]
    next_cursor: str | None


class ImportErrorOut(Schema):
    line: int
    field: str | None = Field(None, description="The column at fault (community, building, entrance, number, name, "
                                                "phone, relation); none for the file or the row as a whole")
    message: str


class ImportOut(Schema):
    created: int
    updated: int
    unchanged: int
    errors: list[ImportErrorOut]


class OtpIn(Request):
    phone: MobilePhone


class OtpSentOut(Schema):
    expires_in: int = 300
    resend_after: int = 60
    message: str = "If this phone belongs to a registered resident, a code is on its way."


class OtpVerifyIn(Request):
    phone: MobilePhone
    code: str = Field(pattern=r"^\d{6}$")
    wechat_binding_token: str | None = Field(None, max_length=2048,
                                             description="From a 409 binding_required: links this WeChat account")


class ResidentRefreshIn(Request):
    refresh_token: str = Field(min_length=1, max_length=512)


class WeChatLoginIn(Request):
    code: str = Field(min_length=1, max_length=128)


class ResidentTokenOut(Schema):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds the access token lives (an hour); renew it with the refresh token")
    refresh_token: str = Field(description="Renews the access token at /refresh; each one works once")
    resident_id: str
    name: str
    units: list[ResidentUnitOut]
