"""Ticket items, their comments, attachments, idempotency records and the queue indexes."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.storage import keys
from chalicelib.storage.table import GSI1, GSI2, GSI3, GSI4, DueIndex, LinliModel, UniqueItem
from chalicelib.storage.unit_of_work import EventItem
from chalicelib.tickets.domain import Status, bucket


class TicketItem(LinliModel, discriminator="ticket"):
    GSI1PK = UnicodeAttribute(null=True)   # T#tid#ASG#<assignee> or T#tid#POOL#<team>
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)   # T#tid#TQ#<bucket>: the staff queue
    GSI2SK = UnicodeAttribute(null=True)
    GSI3PK = UnicodeAttribute(null=True)   # T#tid#RES#<resident>: "my tickets"
    GSI3SK = UnicodeAttribute(null=True)
    GSI4PK = UnicodeAttribute(null=True)   # T#tid#RISK while a clock runs: "what breaches next"
    GSI4SK = UnicodeAttribute(null=True)
    due_bucket = UnicodeAttribute(null=True)  # DueIndex (platform-wide, sparse): resolved tickets awaiting auto-close
    due_at = UnicodeAttribute(null=True)
    by_assignee = GSI1()
    by_status = GSI2()
    by_resident = GSI3()
    by_risk = GSI4()
    by_due = DueIndex()

    ticket_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    number = UnicodeAttribute()
    kind = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    priority = UnicodeAttribute()
    status = UnicodeAttribute()
    previous_status = UnicodeAttribute(null=True)
    description = UnicodeAttribute()
    channel = UnicodeAttribute()
    resident_id = UnicodeAttribute()
    resident_name = UnicodeAttribute(null=True)
    location = JSONAttribute()
    community_id = UnicodeAttribute()
    preferred_visit = JSONAttribute(null=True)
    attachments = JSONAttribute(default=list)
    assignee_id = UnicodeAttribute(null=True)
    grab_team = UnicodeAttribute(null=True)
    quote = JSONAttribute(null=True)
    resolution = JSONAttribute(null=True)
    rating = JSONAttribute(null=True)
    flagged = JSONAttribute(null=True)
    return_visits = JSONAttribute(default=list)
    acknowledged_at = UnicodeAttribute(null=True)
    arrived_at = UnicodeAttribute(null=True)
    resolved_at = UnicodeAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)
    confirmed_at = UnicodeAttribute(null=True)
    cancelled_at = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    merged_into = UnicodeAttribute(null=True)
    possible_duplicate_of = UnicodeAttribute(null=True)
    sla = JSONAttribute(default=dict)
    sla_state = UnicodeAttribute(null=True)
    reopen_count = NumberAttribute(default=0)
    created_by = JSONAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class CommentItem(LinliModel, discriminator="comment"):
    comment_id = UnicodeAttribute()
    author = JSONAttribute()
    body = UnicodeAttribute()
    visibility = UnicodeAttribute()
    attachments = JSONAttribute(default=list)
    created_at = UnicodeAttribute()


class AttachmentItem(LinliModel, discriminator="attachment"):
    attachment_id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    key = UnicodeAttribute()
    created_at = UnicodeAttribute()


class IdempotencyItem(LinliModel, discriminator="idempotency"):
    request_digest = UnicodeAttribute()
    ticket_id = UnicodeAttribute()


class DuplicateMarkerItem(LinliModel, discriminator="duplicate_marker"):
    ticket_id = UnicodeAttribute()
    until = UnicodeAttribute()


def ticket_pk(tenant_id: str, ticket_id: str) -> str:
    return keys.tenant_pk(tenant_id, "TKT", ticket_id)


TICKET_SK = "TICKET"


def number_pk(tenant_id: str, number: str) -> str:
    return keys.tenant_pk(tenant_id, "NUM", number)


def attachment_pk(tenant_id: str, attachment_id: str) -> str:
    return keys.tenant_pk(tenant_id, "ATT", attachment_id)


def index_keys(tenant_id: str, *, ticket_id: str, status: Status, priority: str, created_at: str,
               resident_id: str, assignee_id: str | None, grab_team: str | None,
               sla_due: str | None = None) -> dict[str, str | None]:
    """Where a ticket appears: its status queue, its assignee's (or grab pool's) queue, its resident's list.

    Queues sort by priority (P1 first), then oldest first.
    """
    box = bucket(status)
    urgency = f"{priority}#{created_at}#{ticket_id}"
    if assignee_id:
        owner_pk: str | None = keys.tenant_pk(tenant_id, "ASG", assignee_id)
    elif grab_team and box == "open":
        owner_pk = keys.tenant_pk(tenant_id, "POOL", grab_team)
    else:
        owner_pk = None
    return {
        "GSI1PK": owner_pk, "GSI1SK": f"{box}#{urgency}" if owner_pk else None,
        "GSI2PK": keys.tenant_pk(tenant_id, "TQ", box), "GSI2SK": urgency,
        "GSI3PK": keys.tenant_pk(tenant_id, "RES", resident_id), "GSI3SK": f"TKT#{created_at}#{ticket_id}",
        "GSI4PK": keys.tenant_pk(tenant_id, "RISK") if sla_due and box == "open" else None,
        "GSI4SK": f"{sla_due}#{ticket_id}" if sla_due and box == "open" else None,
    }


def due_keys(tenant_id: str, ticket_id: str, due: datetime) -> dict[str, str]:
    """Where a due ticket sits in the DueIndex: an hour bucket, then the exact time.

    Example
    -------
    >>> due_keys("tnt_1", "tkt_1", datetime(2026, 11, 30, 9, 15, tzinfo=timezone.utc))["due_bucket"]
    'DUE#2026113009'
    """
    return {"due_bucket": f"DUE#{due.astimezone(timezone.utc):%Y%m%d%H}",
            "due_at": f"{to_rfc3339(due)}#{tenant_id}#{ticket_id}"}


def sla_due_keys(tenant_id: str, ticket_id: str, due: datetime) -> dict[str, str]:
    """Where a ticket with a running SLA clock sits in the DueIndex: a minute bucket, then the exact time.

    Example
    -------
    >>> sla_due_keys("tnt_1", "tkt_1", datetime(2026, 11, 30, 9, 15, 30, tzinfo=timezone.utc))["due_bucket"]
    'SLA#202611300915'
    """
    return {"due_bucket": f"SLA#{due.astimezone(timezone.utc):%Y%m%d%H%M}",
            "due_at": f"{to_rfc3339(due)}#{tenant_id}#{ticket_id}"}


class TicketRepository:
    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    def get(self, ctx: TenantContext, ticket_id: str, *, consistent: bool = False) -> TicketItem | None:
        try:
            item = LinliModel.get(ticket_pk(ctx.tenant_id, ticket_id), TICKET_SK, consistent_read=consistent)
        except DoesNotExist:
            return None
        return item if isinstance(item, TicketItem) else None

    def ticket_id_for_number(self, ctx: TenantContext, number: str) -> str | None:
        try:
            return UniqueItem.get(number_pk(ctx.tenant_id, number), keys.UNIQUE_SK).owner_id
        except DoesNotExist:
            return None

    def idempotency_record(self, pk: str) -> IdempotencyItem | None:
        try:
            return IdempotencyItem.get(pk, "IDEM", consistent_read=True)
        except DoesNotExist:
            return None

    def duplicate_marker(self, pk: str) -> DuplicateMarkerItem | None:
        try:
            return DuplicateMarkerItem.get(pk, "DUP", consistent_read=True)
        except DoesNotExist:
            return None

    def queue(self, ctx: TenantContext, *, index: str, partition: str, sort_prefix: str | None, condition: Any,
              limit: int, cursor: str | None, newest_first: bool = False) -> tuple[list[TicketItem], str | None]:
        idx = {"GSI1": TicketItem.by_assignee, "GSI2": TicketItem.by_status, "GSI3": TicketItem.by_resident}[index]
        range_key = getattr(TicketItem, f"{index}SK")
        results = idx.query(partition, range_key.startswith(sort_prefix) if sort_prefix else None,
                            filter_condition=condition, limit=limit, scan_index_forward=not newest_first,
                            last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        return self._cursors.page(ctx.tenant_id, results)

    def sla_due(self, due_bucket: str, until: str) -> tuple[list[tuple[str, str, str]], int]:
        """(tenant_id, ticket_id, due_at) due in one minute bucket up to ``until``, and how many items were read."""
        found = []
        results = TicketItem.by_due.query(due_bucket, TicketItem.due_at <= until + "~")
        for item in results:
            due_at, tenant_id, ticket_id = item.due_at.split("#")
            found.append((tenant_id, ticket_id, due_at))
        return found, results.page_iter.total_scanned_count  # what DynamoDB read (and bills), not only matches

    def at_risk(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[TicketItem], str | None]:
        results = TicketItem.by_risk.query(keys.tenant_pk(ctx.tenant_id, "RISK"), limit=limit,
                                           last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        return self._cursors.page(ctx.tenant_id, results)

    def due_in_bucket(self, due_bucket: str, until: str) -> list[tuple[str, str]]:
        """(tenant_id, ticket_id) of tickets due in this hour bucket up to ``until`` (platform sweep)."""
        found = []
        for item in TicketItem.by_due.query(due_bucket, TicketItem.due_at <= until + "~"):
            _, tenant_id, ticket_id = item.due_at.split("#")
            found.append((tenant_id, ticket_id))
        return found

    def timeline(self, ctx: TenantContext, ticket_id: str) -> list[EventItem]:
        return list(EventItem.query(ticket_pk(ctx.tenant_id, ticket_id), EventItem.SK.startswith(keys.EVENT_PREFIX)))

    def comments(self, ctx: TenantContext, ticket_id: str) -> list[CommentItem]:
        return list(CommentItem.query(ticket_pk(ctx.tenant_id, ticket_id), CommentItem.SK.startswith("CMT#")))


class SlaMarkItem(LinliModel, discriminator="sla_mark"):
    """Proof that one SLA mark (warning, breach, escalation step) of one clock cycle was recorded: exactly once."""

    recorded_at = UnicodeAttribute()


class SweepStateItem(LinliModel, discriminator="sweep_state"):
    """Platform-wide: the last minute bucket the SLA sweep has read."""

    last_minute = UnicodeAttribute()
