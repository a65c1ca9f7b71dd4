"""Request and response models of the ticket routes."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from chalicelib.core.pagination import ListQuery
from chalicelib.core.schema import Request, Schema
from chalicelib.tenants.domain import Priority
from chalicelib.tickets.domain import Status

MAX_PHOTOS = 9
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
AttachmentId = str
ASSIGNEE, RESIDENT_ID, UNIT_ID = r"^(?:me|none|usr_[0-9a-z]{1,36})$", r"^res_[0-9a-z]{1,36}$", r"^unt_[0-9a-z]{1,36}$"


class Location(Request):
    # Exactly one of unit_id and common_area, as _one_place checks (blank counts as absent: strings are stripped).
    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": ["unit_id"], "properties": {"unit_id": {"type": "string", "pattern": r"\S"}}},
        {"required": ["common_area"], "properties": {"common_area": {"type": "string", "pattern": r"\S"}}}]})

    community_id: str = Field(min_length=1, max_length=40)
    unit_id: str | None = Field(None, max_length=40)
    common_area: str | None = Field(None, max_length=100, description="e.g. 3栋电梯厅, 地下车库B2")

    @model_validator(mode="after")
    def _one_place(self) -> Location:
        if bool(self.unit_id) == bool(self.common_area):
            raise ValueError("give either unit_id or common_area")
        return self


class VisitWindow(Request):
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> VisitWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class TicketIn(Request):
    """A resident's report (H5 page or mini-program)."""

    kind: str = Field(min_length=1, max_length=32)
    category: str | None = Field(None, max_length=30)
    description: str = Field(min_length=1, max_length=2000)
    location: Location
    preferred_visit: VisitWindow | None = None
    attachments: list[AttachmentId] = Field(default_factory=list, max_length=MAX_PHOTOS)
    channel: Literal["h5", "mini_program"] = "h5"


class StaffTicketIn(TicketIn):
    """Filed by staff on a resident's behalf, or by an integration."""

    resident_id: str = Field(min_length=1, max_length=40)
    channel: Literal["phone", "walk_in", "api", "h5", "mini_program"] = "phone"  # type: ignore[assignment]
    priority: Priority | None = None


class ActionIn(Request):
    """Parameters of a ticket action; each action reads the ones it needs."""

    assignee_id: str | None = Field(None, max_length=40)
    reason: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=2000)
    photos: list[AttachmentId] = Field(default_factory=list, max_length=MAX_PHOTOS)
    price: Decimal | None = Field(None, ge=0, le=1_000_000, decimal_places=2)
    eta: str | None = Field(None, max_length=100)
    into_ticket_id: str | None = Field(None, max_length=40)
    score: int | None = None
    tags: list[str] = Field(default_factory=list, max_length=10)
    comment: str | None = Field(None, max_length=500)
    outcome: Literal["completed", "satisfied", "unsatisfied", "unreachable"] | None = None


class TicketPatch(Request):
    """Re-triage: kind, category or priority (the SLA clocks re-target, time spent still counts)."""

    kind: str | None = Field(None, min_length=1, max_length=32)
    category: str | None = Field(None, max_length=30)
    priority: Priority | None = None


class RatingIn(Request):
    score: int = Field(ge=1, le=5)
    tags: list[str] = Field(default_factory=list, max_length=10)
    comment: str | None = Field(None, max_length=500)


class ReasonIn(Request):
    reason: str | None = Field(None, max_length=500)


class AttachmentOut(Schema):
    id: str
    url: str | None = Field(None, description="Short-lived download URL")


class TicketOut(Schema):
    id: str
    number: str
    kind: str
    category: str | None
    priority: str
    status: Status
    description: str
    channel: str
    resident_id: str
    resident_name: str | None
    resident_phone: str | None = Field(None, description=(
        "The resident's phone, masked (138****5678), for staff; the full number only through "
        "POST /v1/tickets/{id}/reveal-phone, which is audited"))
    location: dict[str, Any]
    preferred_visit: dict[str, Any] | None
    attachments: list[AttachmentOut]
    assignee_id: str | None
    grab_team: str | None
    quote: dict[str, Any] | None
    resolution: dict[str, Any] | None
    rating: dict[str, Any] | None
    flagged: dict[str, Any] | None
    return_visits: list[dict[str, Any]]
    acknowledged_at: str | None
    arrived_at: str | None
    resolved_at: str | None
    closed_at: str | None
    cancelled_at: str | None
    cancel_reason: str | None
    merged_into: str | None
    possible_duplicate_of: str | None
    reopen_count: int
    created_by: dict[str, Any]
    created_at: str
    updated_at: str
    version: int
    sla_state: str | None = Field(None, description="Worst clock state: breached, warning, running, paused, met")
    sla: list[dict[str, Any]] = Field(default_factory=list, description="Every SLA clock: target, due_at, state, "
                                                                        "met_at, breached_at (count down from due_at "
                                                                        "against the response's Date)")
    allowed_actions: list[str]


class RevealedPhoneOut(Schema):
    resident_id: str
    phone: str = Field(description="The resident's full phone number; the reveal is in the ticket's timeline")


class TicketPage(Schema):
    items: list[TicketOut] = Field(description=(
        "At most `limit` tickets. A filtered page reads at most twice `limit` tickets of its list, so it can be "
        "short — even empty — and still have a `next_cursor`: read on until `next_cursor` is null"))
    next_cursor: str | None


class TicketQuery(ListQuery):
    bucket: Literal["open", "resolved", "closed", "cancelled", "flagged"] = Field(
        "open", description="open, resolved, closed, cancelled — or flagged: low-rated tickets still waiting for a "
                            "return visit (回访), newest flag first")
    status: Status | None = None
    kind: str | None = Field(None, max_length=32)
    priority: Priority | None = None
    community_id: str | None = Field(None, max_length=40)
    unit_id: str | None = Field(None, max_length=40, pattern=UNIT_ID, description="Tickets filed for this unit")
    assignee_id: str | None = Field(None, max_length=40, pattern=ASSIGNEE, description=(
        "A staff member's tickets; me: the caller's own; none: nobody has them yet (the unassigned list, grab "
        "pools included). Technicians always read their own jobs (or a pool of theirs)"))
    resident_id: str | None = Field(None, max_length=40, pattern=RESIDENT_ID, description=(
        "One resident's tickets, newest first — every bucket unless bucket is given"))
    pool: str | None = Field(None, max_length=32, description="A team's grab pool (抢单)")
    created_from: datetime | None = None
    created_to: datetime | None = None
    sla_state: Literal["breached", "warning", "running", "paused", "met"] | None = None


class CommentIn(Request):
    body: str = Field(min_length=1, max_length=2000)
    visibility: Literal["public", "internal"] = "public"
    attachments: list[AttachmentId] = Field(default_factory=list, max_length=MAX_PHOTOS)


class ResidentCommentIn(Request):
    body: str = Field(min_length=1, max_length=2000)
    attachments: list[AttachmentId] = Field(default_factory=list, max_length=MAX_PHOTOS)


class CommentOut(Schema):
    id: str
    author: dict[str, Any]
    body: str
    visibility: str
    attachments: list[AttachmentOut]
    created_at: str


class CommentList(Schema):
    items: list[CommentOut]


class EventOut(Schema):
    id: str
    type: str
    occurred_at: str
    actor: dict[str, Any]
    changes: dict[str, Any]
    data: dict[str, Any]


class EventList(Schema):
    items: list[EventOut]


class ResidentEventOut(Schema):
    """One line of a resident's timeline (``tickets.public_timeline``): what happened in plain words and who did it
    as a role — no staff ids, internal reasons, return visits or SLA details; only the whitelisted facts."""

    id: str
    type: str
    occurred_at: str
    title: str = Field(description="What happened, in plain words (zh-CN)")
    title_en: str = Field(description="The same in English")
    actor_label: str = Field(description="Who did it, as a role: 您, 客服, 维修师傅, 管家, 系统…")
    actor_label_en: str
    status: str | None = Field(None, description="The ticket's status after this step, when the step changed it")
    price: str | None = Field(None, description="A quote's price (yuan)")
    eta: str | None = Field(None, description="A quote's time")
    score: int | None = Field(None, description="Your rating (1–5)")


class ResidentEventList(Schema):
    items: list[ResidentEventOut]


class AttachmentIn(Request):
    content_type: Literal["image/jpeg", "image/png", "image/webp", "image/heic"]
    size: int = Field(gt=0, le=MAX_PHOTO_BYTES)


class AttachmentUploadOut(Schema):
    id: str
    url: str
    fields: dict[str, str]
    expires_in: int


class SuggestedReplyOut(Schema):
    """A canned reply offered on one ticket, its placeholders filled for it: the text the console inserts."""

    id: str
    title: str
    kind: str | None
    category: str | None
    text: str = Field(description="The reply with its placeholders filled for this ticket (≤ 2,000 characters)")
    unfilled: list[str] = Field(description="Placeholders nothing was known for (left empty in text), e.g. "
                                            "service_phone when the company has not set one")


class SuggestedReplyList(Schema):
    items: list[SuggestedReplyOut]

