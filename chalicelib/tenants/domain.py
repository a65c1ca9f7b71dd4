"""Tenant rules: slugs, e-mails, passwords, configuration and login throttling. Pure: no I/O."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, WithJsonSchema, model_validator

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.errors import ValidationFailedError
from chalicelib.core.schema import Schema
from chalicelib.notifications.rules import NotificationSettings
from chalicelib.sla.calendar import BusinessCalendar
from chalicelib.sla.policies import CalendarConfig, SlaPolicy, check_policies, default_policies

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
RESERVED_SLUGS = frozenset({
    "admin", "api", "app", "www", "static", "assets", "linli", "platform", "public", "console", "help",
    "support", "status", "docs", "login", "signup", "auth", "dev", "test", "mail", "root", "system",
})
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
PHONE_RE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$|^400-?\d{3}-?\d{4}$")
HEX_COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
PASSWORD_MIN, PASSWORD_MAX = 10, 128
ASSIGNABLE_ROLES = ("technician", "butler", "agent", "supervisor", "admin")  # who can be assigned a ticket
COMMON_PASSWORDS = frozenset({
    "password123", "1234567890", "qwertyuiop", "1qaz2wsx3edc", "administrator", "password1234",
    "woaini1314", "a123456789", "abcd123456", "iloveyou123", "qwerty12345",
})


def invalid(field: str, message: str, type_: str = "invalid") -> ValidationFailedError:
    return ValidationFailedError(details=[{"field": field, "type": type_, "message": message}])


def normalise_slug(slug: str) -> str:
    """Validate and normalise a tenant slug (3–32 chars, a–z 0–9 and '-', starts with a letter).

    Example
    -------
    >>> normalise_slug("Green-Garden")
    'green-garden'
    """
    value = slug.strip().lower()
    if not SLUG_RE.match(value) or "--" in value:
        raise invalid("slug", "3–32 characters: lower-case letters, digits and single hyphens; "
                              "starts with a letter, ends with a letter or digit.", "slug_format")
    if value in RESERVED_SLUGS:
        raise invalid("slug", "This slug is reserved.", "slug_reserved")
    return value


def normalise_email(email: str) -> str:
    value = email.strip()
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise ValueError("not a valid e-mail address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


def check_password(password: str, *, email: str = "", company: str = "", field: str = "password") -> None:
    """Password policy: 10–128 characters, letters and digits, not common, not the e-mail or company name."""
    lowered = password.lower()
    problems = []
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        problems.append(f"must be {PASSWORD_MIN}–{PASSWORD_MAX} characters long")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        problems.append("must contain letters and digits")
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        problems.append("is too common")
    local_part = email.split("@")[0].lower()
    if (local_part and len(local_part) >= 4 and local_part in lowered) or (company and company.lower() in lowered):
        problems.append("must not contain your e-mail name or company name")
    if problems:
        raise invalid(field, "Password " + "; ".join(problems) + ".", "weak_password")


def _email(value: str) -> str:
    return normalise_email(value)


def _timezone(value: str) -> str:
    if not _known_timezone(value):
        raise ValueError("unknown IANA time zone")
    return value


def _known_timezone(name: str) -> bool:
    """Whether ``name`` is one of ``zoneinfo.available_timezones()`` — without listing them all: that walks the whole
    time-zone database (tens of milliseconds of a new container's first request, for every tenant read).

    >>> [_known_timezone(n) for n in ("Asia/Shanghai", "Etc/GMT+8", "Asia", "posix/UTC", "posixrules", "../x")]
    [True, True, False, False, False, False]
    """
    if name == "posixrules" or name.startswith(("posix/", "right/")):  # files the listing leaves out
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _https_url(value: str) -> str:
    if not re.match(r"^https://[^\s/$.?#][^\s]*$", value) or len(value) > 1024:
        raise ValueError("must be an https:// URL")
    return value


def _phone(value: str) -> str:
    compact = value.replace(" ", "")
    if not PHONE_RE.match(compact):
        raise ValueError("must be a mainland China mobile, landline or 400 number")
    return compact


Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email),
                  WithJsonSchema({"type": "string", "maxLength": 254, "pattern": EMAIL_RE.pattern})]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
HttpsUrl = Annotated[str, AfterValidator(_https_url),
                     WithJsonSchema({"type": "string", "maxLength": 1024, "pattern": r"^https://[^\s/$.?#][^\s]*$"})]
Phone = Annotated[str, StringConstraints(max_length=20), AfterValidator(_phone),
                  WithJsonSchema({"type": "string", "maxLength": 20, "pattern": PHONE_RE.pattern,
                                  "description": "Mainland China mobile, landline or 400 number (spaces dropped)"})]
HexColour = Annotated[str, StringConstraints(pattern=HEX_COLOUR_RE.pattern)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# The resident page's one-line notice (停水通知, 物业费缴纳提醒 …) and its browser/mini-program title.
Notice = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
PageTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
Locale = Literal["zh-CN", "en"]


class Branding(Schema):
    model_config = ConfigDict(extra="ignore")

    display_name: Name | None = None
    logo_url: HttpsUrl | None = None
    primary_color: HexColour = "#1677FF"
    contact_phone: Phone | None = None
    notice: Notice | None = None
    page_title: PageTitle | None = None


Priority = Literal["P1", "P2", "P3", "P4"]
ResolveField = Literal["note", "photo"]
KindKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]


class TicketKind(Schema):
    """One entry of the tenant's ticket catalogue."""

    model_config = ConfigDict(extra="ignore")

    key: KindKey
    name: Name
    name_en: Name
    default_priority: Priority
    categories: list[Annotated[str, StringConstraints(min_length=1, max_length=30)]] = Field(
        default_factory=list, max_length=50)
    resident_visible: bool = True
    paid: bool = False
    required_to_resolve: list[ResolveField] = Field(default_factory=lambda: ["note"])


@lru_cache(maxsize=1)
def default_ticket_kinds() -> tuple[TicketKind, ...]:
    """The catalogue of DOMAIN.md every tenant starts with (built on first use)."""
    return (
        TicketKind(key="repair", name="报修", name_en="Repair", default_priority="P3",
                   categories=["水电", "门窗", "家电", "公共设施", "电梯", "其他"]),
        TicketKind(key="complaint", name="投诉", name_en="Complaint", default_priority="P2",
                   categories=["噪音", "卫生", "安全", "停车", "服务态度", "邻里纠纷", "其他"]),
        TicketKind(key="inquiry", name="咨询", name_en="Inquiry", default_priority="P4",
                   categories=["物业费", "规章制度", "装修许可", "其他"]),
        TicketKind(key="suggestion", name="建议", name_en="Suggestion", default_priority="P4"),
        TicketKind(key="service", name="便民服务", name_en="Service", default_priority="P3", paid=True,
                   categories=["家政保洁", "代买药品", "陪同就医", "宠物照看", "其他"]),
        TicketKind(key="emergency", name="紧急", name_en="Emergency", default_priority="P1",
                   categories=["漏水", "火情", "电梯困人", "燃气泄漏", "其他"]),
    )


class TicketSettings(Schema):
    model_config = ConfigDict(extra="ignore")

    resident_daily_limit: int = Field(10, ge=1, le=100)
    auto_close_days: int = Field(3, ge=1, le=30)
    reopen_window_days: int = Field(7, ge=0, le=90)
    rating_window_days: int = Field(7, ge=1, le=90)
    low_rating_action: Literal["reopen", "flag"] = "flag"
    photo_required_for_repairs: bool = False


class TeamMember(Schema):
    user_id: str = Field(min_length=1, max_length=40)
    on_duty: bool = True


class Team(Schema):
    id: KindKey
    name: Name
    members: list[TeamMember] = Field(default_factory=list, max_length=200)


class DispatchMatch(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    community_id: str | None = None
    building_id: str | None = None


class DispatchRule(Schema):
    """First matching rule wins: a person, or a team by round-robin among on-duty members, or a grab pool."""

    match: DispatchMatch = Field(default_factory=DispatchMatch)
    user_id: str | None = None
    team_id: str | None = None
    mode: Literal["direct", "round_robin", "grab"] = "direct"


class TenantConfig(Schema):
    """What a tenant configures about itself (stored as one document on the tenant item)."""

    model_config = ConfigDict(extra="ignore")

    branding: Branding = Field(default_factory=Branding)
    timezone: TimeZoneName = "Asia/Shanghai"
    locale: Locale = "zh-CN"
    ticket_kinds: list[TicketKind] = Field(default_factory=lambda: list(default_ticket_kinds()))
    ticket_settings: TicketSettings = Field(default_factory=TicketSettings)
    wechat_app_id: Annotated[str, StringConstraints(pattern=r"^wx[0-9a-f]{16}$")] | None = None
    sla_policies: list[SlaPolicy] = Field(default_factory=list, max_length=100,
                                          description="Ordered; first match wins; the last must match everything. "
                                                      "Empty: the defaults of DOMAIN.md.")
    calendars: list[CalendarConfig] = Field(default_factory=list, max_length=50)
    community_calendars: dict[str, str] = Field(default_factory=dict, description="community_id → calendar id")
    api_keys_outlive_creator: bool = Field(False, description=(
        "Keep the API keys a staff member created working after they are disabled or removed. Off by "
        "default: their keys are revoked with them."))

    @model_validator(mode="after")
    def _sla_consistent(self) -> TenantConfig:
        problems = check_policies(self.sla_policies, self.calendars)
        known = {c.id for c in self.calendars}
        problems += [{"field": f"community_calendars.{k}", "type": "unknown_calendar", "message": f"No calendar {v}."}
                     for k, v in self.community_calendars.items() if v not in known]
        if problems:
            raise ValueError("; ".join(f"{p['field']}: {p['message']}" for p in problems))
        return self

    def policies(self) -> list[SlaPolicy]:
        return self.sla_policies or list(default_policies())

    def calendar_for(self, community_id: str | None) -> Callable[[str], BusinessCalendar]:
        """Calendar lookup for a community: its own calendar overrides the policy's named one."""
        own = self.community_calendars.get(community_id or "")
        by_id = {c.id: c for c in self.calendars}

        def lookup(name: str) -> BusinessCalendar:
            chosen = by_id.get(own or name) or by_id.get(name)
            return chosen.build() if chosen else BusinessCalendar.weekdays("09:00", "18:00")

        return lookup
    teams: list[Team] = Field(default_factory=list, max_length=100)
    dispatch_rules: list[DispatchRule] = Field(default_factory=list, max_length=100)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)

    def kind(self, key: str) -> TicketKind | None:
        return next((k for k in self.ticket_kinds if k.key == key), None)

    def team(self, team_id: str) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)


def merge_patch(document: dict, patch: dict) -> dict:
    """RFC 7386 JSON merge patch: ``null`` removes, objects merge, everything else replaces.

    Example
    -------
    >>> merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}})
    {'a': {'c': 2, 'd': 3}}
    """
    result = dict(document)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge_patch(result[key], value)
        else:
            result[key] = value
    return result


@dataclass(frozen=True)
class LoginAttempts:
    """Failed-login state of one account (or of one unknown e-mail address)."""

    failures: int = 0
    first_failed_at: datetime | None = None
    locked_until: datetime | None = None

    @classmethod
    def from_stamps(cls, failures: int | None, first_failed_at: str | None, locked_until: str | None
                    ) -> LoginAttempts:
        """The state as stored: a count and two RFC 3339 stamps (either may be missing).

        Example
        -------
        >>> LoginAttempts.from_stamps(2, "2026-11-27T08:00:00.000Z", None).failures
        2
        """
        return cls(failures or 0, from_rfc3339(first_failed_at) if first_failed_at else None,
                   from_rfc3339(locked_until) if locked_until else None)

    def locked_for(self, now: datetime) -> int:
        """Seconds the account stays locked (0 when it isn't)."""
        if self.locked_until and self.locked_until > now:
            return int((self.locked_until - now).total_seconds()) + 1
        return 0

    def after_failure(self, now: datetime, *, max_failures: int, window_seconds: int) -> "LoginAttempts":
        window = timedelta(seconds=window_seconds)
        window_open = self.first_failed_at is not None and now - self.first_failed_at < window
        failures = self.failures + 1 if window_open else 1
        first = self.first_failed_at if window_open else now
        locked_until = now + window if failures >= max_failures else None
        return LoginAttempts(failures, first, locked_until)

    def after_failure_backing_off(self, now: datetime, *, max_failures: int, base_seconds: int,
                                  max_seconds: int) -> "LoginAttempts":
        """One more failure, with back-off: ``max_failures`` lock for ``base_seconds``, each further failure
        doubles the lock up to ``max_seconds``; the count is forgotten ``max_seconds`` after the last lock
        (or the first failure) with nothing since.

        Example
        -------
        >>> from datetime import UTC
        >>> at, state = datetime(2026, 11, 27, tzinfo=UTC), LoginAttempts()
        >>> for _ in range(5):
        ...     state = state.after_failure_backing_off(at, max_failures=5, base_seconds=60, max_seconds=900)
        >>> state.locked_for(at), state.after_failure_backing_off(
        ...     at, max_failures=5, base_seconds=60, max_seconds=900).locked_for(at)
        (61, 121)
        """
        if self.is_stale(now, max_seconds):
            failures, first = 1, now
        else:
            failures, first = self.failures + 1, self.first_failed_at or now
        locked_until = None
        if failures >= max_failures:
            seconds = min(base_seconds * 2 ** min(failures - max_failures, 16), max_seconds)
            locked_until = now + timedelta(seconds=seconds)
        return LoginAttempts(failures, first, locked_until)

    def is_stale(self, now: datetime, max_seconds: int) -> bool:
        """Whether this state is forgotten: nothing within ``max_seconds`` of its last lock or first failure."""
        last = self.locked_until or self.first_failed_at
        return last is None or now - last >= timedelta(seconds=max_seconds)

    def as_entry(self) -> list[Any]:
        """The stored form of one source's state: ``[failures, first_failed_at, locked_until]``."""
        return [self.failures, to_rfc3339(self.first_failed_at) if self.first_failed_at else None,
                to_rfc3339(self.locked_until) if self.locked_until else None]

    @classmethod
    def from_entry(cls, entry: list[Any] | None) -> LoginAttempts:
        """The inverse of :meth:`as_entry` (fresh when there is none)."""
        if not entry:
            return cls()
        return cls.from_stamps(int(entry[0]), entry[1], entry[2])


MAX_LOGIN_SOURCES = 32  # per account: the most recent sources' failure states kept on the staff item


def throttles_after(throttles: dict[str, list[Any]] | None, source_key: str, attempts: LoginAttempts | None,
                    now: datetime, *, max_seconds: int) -> dict[str, list[Any]]:
    """An account's per-source failure states with ``source_key`` set (or dropped when ``attempts`` is None),
    stale ones pruned and at most :data:`MAX_LOGIN_SOURCES` kept (the most recently active).

    Example
    -------
    >>> from datetime import UTC
    >>> at = datetime(2026, 11, 27, tzinfo=UTC)
    >>> throttles_after({"old": [1, "2026-11-26T00:00:00.000Z", None]}, "src", LoginAttempts(1, at), at,
    ...                 max_seconds=900)
    {'src': [1, '2026-11-27T00:00:00.000Z', None]}
    """
    kept = {key: entry for key, entry in (throttles or {}).items()
            if key != source_key and not LoginAttempts.from_entry(entry).is_stale(now, max_seconds)}
    if attempts is not None:
        kept[source_key] = attempts.as_entry()
    if len(kept) > MAX_LOGIN_SOURCES:
        recent = sorted(kept, key=lambda k: max(s or "" for s in kept[k][1:]), reverse=True)[:MAX_LOGIN_SOURCES]
        kept = {key: kept[key] for key in recent}
    return kept
