"""The ticket as services see it: plain records, no storage. The repository maps them to items."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.tenancy import TenantContext
from chalicelib.tickets.domain import Actor, Status, TicketState


@dataclass
class Ticket:
    ticket_id: str
    tenant_id: str
    number: str
    kind: str
    priority: str
    status: str
    description: str
    channel: str
    resident_id: str
    location: dict[str, Any]
    community_id: str
    created_by: dict[str, Any]
    created_at: str
    updated_at: str
    category: str | None = None
    previous_status: str | None = None
    resident_name: str | None = None
    resident_phone: str | None = None  # masked (138****5678), copied when filed: the full number is never stored here
    preferred_visit: dict[str, Any] | None = None
    attachments: list[str] = field(default_factory=list)
    assignee_id: str | None = None
    grab_team: str | None = None
    quote: dict[str, Any] | None = None
    resolution: dict[str, Any] | None = None
    rating: dict[str, Any] | None = None
    flagged: dict[str, Any] | None = None
    return_visits: list[dict[str, Any]] = field(default_factory=list)
    acknowledged_at: str | None = None
    arrived_at: str | None = None
    resolved_at: str | None = None
    closed_at: str | None = None
    confirmed_at: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None
    merged_into: str | None = None
    possible_duplicate_of: str | None = None
    sla: dict[str, Any] = field(default_factory=dict)
    sla_state: str | None = None
    reopen_count: int = 0
    version: int = 1
    auto_close_at: str | None = None  # resolved tickets: when the confirmation window ends
    # whose open-load counter counts this ticket, as stored (None: nobody's, or filed before the counters); the
    # repository sets it to ``domain.load_owner`` on every write and moves the counters with it
    load_owner: str | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return self.ticket_id

    def state(self) -> TicketState:
        """What the pure lifecycle rules need to decide an action."""
        return TicketState(
            status=Status(self.status), resident_id=self.resident_id, kind=self.kind, assignee_id=self.assignee_id,
            grab_team=self.grab_team,
            previous_status=Status(self.previous_status) if self.previous_status else None,
            acknowledged_at=self.acknowledged_at, arrived_at=self.arrived_at, resolved_at=self.resolved_at,
            closed_at=self.closed_at, quote=self.quote, rating=self.rating, reopen_count=self.reopen_count or 0,
            flagged=self.flagged)


# Fields a change may set on a ticket (everything but identity and bookkeeping).
MUTABLE_FIELDS = frozenset(
    name for name in Ticket.__dataclass_fields__
    if name not in {"ticket_id", "tenant_id", "number", "resident_id", "community_id", "created_by", "created_at",
                    "version", "updated_at", "channel", "load_owner"})


@dataclass(frozen=True)
class Comment:
    comment_id: str
    ticket_id: str
    author: dict[str, Any]
    body: str
    visibility: str
    created_at: str
    attachments: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Attachment:
    attachment_id: str
    owner_id: str
    content_type: str
    size: int
    key: str
    created_at: str


@dataclass(frozen=True)
class QueueFilter:
    """What a queue page asks for; the repository picks the index and the filter."""

    bucket: str | None = "open"  # None: every bucket (only a resident's list reads across them)
    status: str | None = None
    kind: str | None = None
    priority: str | None = None
    community_id: str | None = None
    unit_id: str | None = None
    created_from: str | None = None
    created_to: str | None = None
    sla_state: str | None = None
    assignee_id: str | None = None
    unassigned: bool = False  # nobody has it (a grab pool's tickets included)
    pool: str | None = None
    resident_id: str | None = None  # a resident's tickets, newest first


@dataclass(frozen=True)
class IdempotencyRecord:
    request_digest: str
    ticket_id: str


@dataclass(frozen=True)
class NewTicketGuards:
    """What must hold for a new ticket to be filed, checked in the same transaction."""

    idempotency_key_digest: str | None
    request_digest: str
    duplicate_key: str
    check_duplicate: bool
    daily_limit: int | None
    local_day: str
    duplicate_window_ends: str


def actor_of(ctx: TenantContext) -> Actor:
    return Actor(ctx.principal.kind, ctx.principal.id, ctx.principal.role, acts_for=ctx.principal.acts_for)
