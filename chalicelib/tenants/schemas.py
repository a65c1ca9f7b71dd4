"""Request and response models of the tenant context's routes (also the OpenAPI source)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from chalicelib.core.pagination import ListQuery
from chalicelib.core.permissions import API_KEY_SCOPES, Permission, Role
from chalicelib.core.schema import Request, Schema
from chalicelib.notifications.rules import NotificationSettings
from chalicelib.sla.policies import CalendarConfig, SlaPolicy
from chalicelib.tenants import reply_templates
from chalicelib.tenants.domain import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    RESERVED_SLUGS,
    SLUG_RE,
    Branding,
    DispatchRule,
    Email,
    HexColour,
    HttpsUrl,
    Locale,
    Name,
    Notice,
    PageTitle,
    Phone,
    Team,
    TicketKind,
    TicketSettings,
    TimeZoneName,
)

# What normalise_slug and check_password enforce, as far as a schema can say it (the document only: the checks keep
# their own messages). A password must also not be common, nor contain the e-mail's name or the company's.
SLUG_SCHEMA = {"pattern": SLUG_RE.pattern.replace("^[a-z]", "^[a-z](?!.*--)", 1),
               "not": {"enum": sorted(RESERVED_SLUGS)},
               "description": "3–32 characters: lower-case letters, digits and single hyphens; starts with a letter"}
PASSWORD_SCHEMA = {"minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX, "pattern": "^(?=.*[A-Za-z])(?=.*[0-9])",
                   "description": "Letters and digits; not a common password, nor your e-mail name or company name"}


class SignupIn(Request):
    company_name: Name
    slug: str = Field(min_length=1, max_length=64, json_schema_extra=SLUG_SCHEMA)
    admin_email: Email
    admin_password: str = Field(min_length=1, max_length=256, json_schema_extra=PASSWORD_SCHEMA)
    admin_name: Name | None = None


class LoginIn(Request):
    tenant_slug: str = Field(min_length=1, max_length=64)
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(Request):
    refresh_token: str = Field(min_length=1, max_length=512)


class TokensOut(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class BrandingPatch(Request):
    display_name: Name | None = None
    logo_url: HttpsUrl | None = None
    primary_color: HexColour | None = None
    contact_phone: Phone | None = None
    notice: Notice | None = Field(None, description="One line shown on the resident page's home (null removes it)")
    page_title: PageTitle | None = Field(None, description="The resident page's title (default: the display name)")


class TenantPatch(Request):
    """JSON merge patch of the tenant's profile and configuration."""

    company_name: Name | None = None
    branding: BrandingPatch | None = None
    timezone: TimeZoneName | None = None
    locale: Locale | None = None
    ticket_kinds: list[TicketKind] | None = Field(None, min_length=1, max_length=50)
    ticket_settings: dict | None = None
    teams: list[Team] | None = None
    dispatch_rules: list[DispatchRule] | None = None
    wechat_app_id: str | None = None
    sla_policies: list[SlaPolicy] | None = None
    calendars: list[CalendarConfig] | None = None
    community_calendars: dict[str, str] | None = None
    notifications: dict | None = None
    api_keys_outlive_creator: bool | None = None


class TenantOut(Schema):
    id: str
    slug: str
    company_name: str
    plan: str
    isolation: str
    branding: Branding
    timezone: str
    locale: str
    ticket_kinds: list[TicketKind]
    ticket_settings: TicketSettings
    teams: list[Team]
    dispatch_rules: list[DispatchRule]
    wechat_app_id: str | None
    sla_policies: list[SlaPolicy] = Field(description="Effective policies (the defaults when none are set)")
    calendars: list[CalendarConfig]
    community_calendars: dict[str, str]
    notifications: NotificationSettings = Field(description="Rules shown as in effect (the defaults when none set)")
    api_keys_outlive_creator: bool = False
    created_at: str
    updated_at: str
    version: int


class PublicBrandingOut(Schema):
    slug: str
    name: str
    logo_url: str | None
    primary_color: str
    contact_phone: str | None
    notice: str | None = None
    page_title: str = Field(description="The page's title: the branding's own, else the name")
    locale: str
    ticket_kinds: list[TicketKind]


class StaffIn(Request):
    email: Email
    name: Name
    role: Role
    password: str = Field(min_length=1, max_length=256, json_schema_extra=PASSWORD_SCHEMA)
    phone: Phone | None = None
    on_duty: bool = True


class StaffPatch(Request):
    name: Name | None = None
    role: Role | None = None
    status: Literal["active", "disabled"] | None = None
    phone: Phone | None = None
    on_duty: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=256)


class StaffOut(Schema):
    id: str
    email: str
    name: str
    role: Role
    status: str
    phone: str | None
    on_duty: bool = Field(True, description="Supervisors on duty receive emergency pages")
    last_login_at: str | None
    created_at: str
    updated_at: str
    version: int
    open_tickets: int | None = Field(None, description="Open tickets assigned to them now (GET /v1/staff with "
                                                       "with_load=true; otherwise null)")


class StaffQuery(ListQuery):
    """``GET /v1/staff``: a page of the directory, optionally one role's members with their open load."""

    role: Role | None = Field(None, description="Only members with this role (the assign picker: technician)")
    with_load: bool = Field(False, description="Add each member's open_tickets, the assign picker's load")


class MyTeamOut(Schema):
    id: str
    name: str
    grab_pool: bool = Field(description="A dispatch rule sends tickets to this team's grab pool (抢单): list them "
                                        "with GET /v1/tickets?pool=<id>, take one with the grab action")


class StaffMeOut(StaffOut):
    """The signed-in staff member and what their role may do: the console hides what it may not (the server still
    enforces every permission on every route)."""

    kind: Literal["staff"] = "staff"
    tenant_id: str
    permissions: list[Permission] = Field(description="The role's permissions (core.permissions)")
    teams: list[MyTeamOut] = Field(default_factory=list, description="The teams this member is in")

class SignupOut(Schema):
    tenant: TenantOut
    user: StaffOut
    access_token: str
    refresh_token: str
    expires_in: int


KEY_SCOPES = sorted(p.value for p in API_KEY_SCOPES)


class ApiKeyIn(Request):
    name: Name
    scopes: list[Annotated[Permission, WithJsonSchema({"type": "string", "enum": KEY_SCOPES})]] = Field(
        min_length=1, max_length=len(Permission), description="Integrations never administer people or credentials")
    acts_for: str | None = Field(None, min_length=1, max_length=40, description=(
        "An active staff member the key works for: its acknowledgements and public replies then count as that "
        "person's first response (without one, an integration's never meet the first-response clock)"))


class ApiKeyOut(Schema):
    id: str
    name: str
    scopes: list[str]
    hint: str
    created_at: str
    created_by: str
    last_used_at: str | None
    revoked_at: str | None
    acts_for: str | None = None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The secret, shown once. Store it now: Linli keeps only a hash.")


class StaffPage(Schema):
    items: list[StaffOut]
    next_cursor: str | None


class ApiKeyPage(Schema):
    items: list[ApiKeyOut]
    next_cursor: str | None


# --- canned replies (快捷回复) ---------------------------------------------------------------------------
REPLY_BODY_SCHEMA = {
    "pattern": "^(?=[\\s\\S]*\\S)" + reply_templates.BODY_PATTERN[1:],
    "description": "zh-CN text; placeholders: " + ", ".join(f"{{{name}}} ({what})" for name, what in
                                                          reply_templates.PLACEHOLDERS.items())
                   + "; {{ and }} are literal braces; nothing else in braces (no format specs)"}
REPLY_KIND = r"^[a-z][a-z0-9_]{1,31}$"


def _checked_body(body: str | None) -> str | None:
    if body is None:
        return None
    try:
        return reply_templates.check_body(body)
    except ValueError as exc:
        raise PydanticCustomError("invalid_placeholder", str(exc)) from None


class CannedReplyIn(Request):
    """A reply snippet: general (no kind, no category), or offered only on tickets of a kind and/or category."""

    title: str = Field(min_length=1, max_length=40, pattern=r"\S")
    body: str = Field(min_length=1, max_length=1000, json_schema_extra=REPLY_BODY_SCHEMA)
    kind: str | None = Field(None, max_length=32, pattern=REPLY_KIND, description="A ticket kind of the catalogue")
    category: str | None = Field(None, min_length=1, max_length=30,
                                 description="A category (of the kind, when one is given)")
    sort_order: int = Field(0, ge=0, le=9999, description="Smaller first")

    _body = field_validator("body")(_checked_body)


class CannedReplyPatch(Request):
    """Changes to a reply; ``kind`` or ``category`` set to null makes it general again."""

    title: str | None = Field(None, min_length=1, max_length=40, pattern=r"\S")
    body: str | None = Field(None, min_length=1, max_length=1000, json_schema_extra=REPLY_BODY_SCHEMA)
    kind: str | None = Field(None, max_length=32, pattern=REPLY_KIND)
    category: str | None = Field(None, min_length=1, max_length=30)
    sort_order: int | None = Field(None, ge=0, le=9999)

    _body = field_validator("body")(_checked_body)


class CannedReplyQuery(Schema):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    kind: str | None = Field(None, max_length=32, description="The kind's replies (any category) and the general ones")
    category: str | None = Field(None, max_length=30, description="The category's replies and the general ones")


class CannedReplyOut(Schema):
    id: str
    title: str
    body: str = Field(description="The text with its {placeholders}")
    kind: str | None
    category: str | None
    sort_order: int
    placeholders: list[str] = Field(description="The placeholders the body uses")
    created_at: str
    updated_at: str
    version: int


class CannedReplyList(Schema):
    items: list[CannedReplyOut] = Field(description="Every match, in desk order (sort_order, the more specific "
                                                    "first, the older first); a tenant keeps at most 200")

