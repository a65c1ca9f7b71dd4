"""Ticket items, their comments, attachments, idempotency records, duplicate markers and SLA marks; the
queue indexes and the due index entries. PynamoDB lives here and nowhere else in this context: services
hand in and get back records (``tickets.records``), and stage their writes through this repository.

(Over ~350 lines: the ticket item declares some fifty attributes, and its keys, indexes and mapping belong
beside it — split, the table layout of a ticket would live in two places.)
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.sla import domain as sla_domain
from chalicelib.storage import keys
from chalicelib.storage.table import (
    GSI1,
    GSI2,
    GSI3,
    GSI4,
    CompressedJSONAttribute,
    CounterItem,
    DueIndex,
    LinliModel,
    UniqueItem,
)
from chalicelib.storage.unit_of_work import EventItem, UnitOfWork
from chalicelib.tickets.domain import OPEN, Status, bucket, load_owner, needs_follow_up
from chalicelib.tickets.errors import (
    DailyTicketLimitError,
    DuplicateSeenError,
    IdempotentReplayError,
    LoadOutOfStepError,
    NumberTakenError,
    SlaMarkRecordedError,
    invalid_field,
)
from chalicelib.tickets.records import Attachment, Comment, IdempotencyRecord, NewTicketGuards, QueueFilter, Ticket

IDEMPOTENCY_TTL = timedelta(hours=24)
TICKET_SK = "TICKET"
LOAD_SK = "LOAD"
INDEX_ATTRIBUTES = ("GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "GSI4PK", "GSI4SK")


class TicketItem(LinliModel, discriminator="ticket"):
    GSI1PK = UnicodeAttribute(null=True)   # T#tid#ASG#<assignee> or T#tid#POOL#<team>
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)   # T#tid#TQ#<bucket>: the staff queue
    GSI2SK = UnicodeAttribute(null=True)
    GSI3PK = UnicodeAttribute(null=True)   # T#tid#RES#<resident>: "my tickets"
    GSI3SK = UnicodeAttribute(null=True)
    GSI4PK = UnicodeAttribute(null=True)   # T#tid#RISK while a clock runs: "what breaches next"; T#tid#FLAG while
    #                                        a closed or resolved low-rated ticket awaits its return visit
    GSI4SK = UnicodeAttribute(null=True)
    due_bucket = UnicodeAttribute(null=True)  # DueIndex (platform-wide, sparse): SLA marks due, or auto-close
    due_at = UnicodeAttribute(null=True)
    unit_id = UnicodeAttribute(null=True)     # location.unit_id, top-level so a queue can filter on it
    load_owner = UnicodeAttribute(null=True)  # whose open-load counter counts this ticket (see stage_load_moves)
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
    resident_phone = UnicodeAttribute(null=True)  # masked only
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
    sla = CompressedJSONAttribute(default=dict)  # the clocks: the largest part of a ticket, read only whole
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


class SlaMarkItem(LinliModel, discriminator="sla_mark"):
    """Proof that one SLA mark (warning, breach, escalation step) of one clock cycle was recorded: exactly once."""

    recorded_at = UnicodeAttribute()


RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(Ticket) if f.name not in ("auto_close_at", "load_owner"))


# --- keys -------------------------------------------------------------------------------------------
def ticket_pk(tenant_id: str, ticket_id: str) -> str:
    return keys.tenant_pk(tenant_id, "TKT", ticket_id)


def number_pk(tenant_id: str, number: str) -> str:
    return keys.tenant_pk(tenant_id, "NUM", number)


def attachment_pk(tenant_id: str, attachment_id: str) -> str:
    return keys.tenant_pk(tenant_id, "ATT", attachment_id)


def load_pk(tenant_id: str, user_id: str) -> str:
    """The counter of a staff member's open tickets: its own small item, apart from the (versioned) staff item."""
    return keys.tenant_pk(tenant_id, "LOAD", user_id)


def index_keys(ticket: Ticket) -> dict[str, str | None]:
    """Where a ticket appears: its status queue, its assignee's (or grab pool's) queue, its resident's list and, on
    the sparse GSI4, either the at-risk view (open, a clock running: by the next breach) or the follow-up list
    (flagged by a low rating, no return visit yet, not open: newest flag first). An open ticket is never flagged
    for follow-up and a closed one runs no clock, so the two never claim GSI4 at once. Queues sort by priority
    (P1 first), then oldest first."""
    tenant_id, box = ticket.tenant_id, bucket(Status(ticket.status))
    urgency = f"{ticket.priority}#{ticket.created_at}#{ticket.ticket_id}"
    if ticket.assignee_id:
        owner_pk: str | None = keys.tenant_pk(tenant_id, "ASG", ticket.assignee_id)
    elif ticket.grab_team and box == "open":
        owner_pk = keys.tenant_pk(tenant_id, "POOL", ticket.grab_team)
    else:
        owner_pk = None
    breach = sla_domain.next_breach(ticket.sla or {}) if box == "open" else None
    flagged_at = (ticket.flagged or {}).get("at") if box != "open" and needs_follow_up(ticket.flagged) else None
    if breach:
        watch_pk, watch_sk = keys.tenant_pk(tenant_id, "RISK"), f"{breach}#{ticket.ticket_id}"
    elif flagged_at:
        watch_pk, watch_sk = keys.tenant_pk(tenant_id, "FLAG"), f"{flagged_at}#{ticket.ticket_id}"
    else:
        watch_pk = watch_sk = None
    return {
        "GSI1PK": owner_pk, "GSI1SK": f"{box}#{urgency}" if owner_pk else None,
        "GSI2PK": keys.tenant_pk(tenant_id, "TQ", box), "GSI2SK": urgency,
        "GSI3PK": keys.tenant_pk(tenant_id, "RES", ticket.resident_id),
        "GSI3SK": f"TKT#{ticket.created_at}#{ticket.ticket_id}",
        "GSI4PK": watch_pk, "GSI4SK": watch_sk,
    }


def due_keys(tenant_id: str, ticket_id: str, due: datetime) -> dict[str, str]:
    """Where a resolved ticket awaiting auto-close sits in the DueIndex: an hour bucket, then the exact time.

    Example
    -------
    >>> due_keys("tnt_1", "tkt_1", datetime(2026, 11, 30, 9, 15, tzinfo=timezone.utc))["due_bucket"]
    'DUE#2026113009'
    """
    return {"due_bucket": f"DUE#{due.astimezone(timezone.utc):%Y%m%d%H}",
            "due_at": f"{to_rfc3339(due)}#{tenant_id}#{ticket_id}"}


def sla_due_keys(tenant_id: str, ticket_id: str, due: datetime) -> dict[str, str]:
    """Where a ticket with an SLA mark coming sits in the DueIndex: a minute bucket, then the exact time.

    Example
    -------
    >>> sla_due_keys("tnt_1", "tkt_1", datetime(2026, 11, 30, 9, 15, 30, tzinfo=timezone.utc))["due_bucket"]
    'SLA#202611300915'
    """
    return {"due_bucket": f"SLA#{due.astimezone(timezone.utc):%Y%m%d%H%M}",
            "due_at": f"{to_rfc3339(due)}#{tenant_id}#{ticket_id}"}


def derived_attributes(ticket: Ticket) -> dict[str, str | None]:
    """Attributes stored beside the record's fields for queue filters and the load counters."""
    return {"unit_id": ticket.location.get("unit_id"),
            "load_owner": load_owner(Status(ticket.status), ticket.assignee_id)}


def due_attributes(ticket: Ticket) -> dict[str, str | None]:
    """The ticket's DueIndex entry: its next SLA mark while open, its auto-close once resolved, else none."""
    upcoming = sla_domain.next_due(ticket.sla or {}) if Status(ticket.status) in OPEN else None
    if upcoming is not None:
        return dict(sla_due_keys(ticket.tenant_id, ticket.ticket_id, upcoming))
    if ticket.status == Status.RESOLVED and ticket.auto_close_at:
        return dict(due_keys(ticket.tenant_id, ticket.ticket_id, from_rfc3339(ticket.auto_close_at)))
    return {"due_bucket": None, "due_at": None}


# --- mapping ------------------------------------------------------------------------------------------
def to_record(item: TicketItem) -> Ticket:
    values = {name: getattr(item, name) for name in RECORD_FIELDS}
    values["reopen_count"] = int(item.reopen_count or 0)
    values["version"] = int(item.version)
    values["attachments"] = list(item.attachments or [])
    values["return_visits"] = list(item.return_visits or [])
    values["sla"] = item.sla or {}
    if item.due_bucket and item.due_bucket.startswith("DUE#") and item.due_at:
        values["auto_close_at"] = item.due_at.split("#")[0]
    return Ticket(**values, load_owner=item.load_owner)


def to_item(ticket: Ticket) -> TicketItem:
    attributes = {name: getattr(ticket, name) for name in RECORD_FIELDS}
    indexes = {k: v for k, v in {**index_keys(ticket), **due_attributes(ticket), **derived_attributes(ticket)}.items()
               if v is not None}
    return TicketItem(ticket_pk(ticket.tenant_id, ticket.ticket_id), TICKET_SK, **attributes, **indexes)


def stage_load_moves(uow: UnitOfWork, tenant_id: str, counted: str | None, owner: str | None) -> None:
    """Move a ticket between two staff members' open-load counters (ADD −1 / ADD +1) in the ticket's transaction.

    ``counted`` is whose counter the stored ticket is counted in (its ``load_owner``), ``owner`` whose it counts in
    after the change. The ticket's write is conditional on the version read, so the moves apply exactly once or not
    at all, however often a request is retried. A ticket stored before the counters counts nowhere until its next
    change, which counts it where it then belongs, so a counter only ever loses what it gained; the condition on the
    decrement keeps it from going below zero even if someone edits it by hand (the change is refused instead:
    ``LoadOutOfStepError``).
    """
    if counted == owner:
        return
    if counted:
        uow.update(CounterItem(load_pk(tenant_id, counted), LOAD_SK), [CounterItem.count.add(-1)],
                   condition=CounterItem.count >= 1, on_conflict=LoadOutOfStepError())
    if owner:
        uow.update(CounterItem(load_pk(tenant_id, owner), LOAD_SK), [CounterItem.count.add(1)])


def _comment(item: CommentItem, ticket_id: str) -> Comment:
    return Comment(comment_id=item.comment_id, ticket_id=ticket_id, author=item.author, body=item.body,
                   visibility=item.visibility, created_at=item.created_at, attachments=list(item.attachments or []))


class TicketRepository:
    """Tickets in the single table (see the module docstring); satisfies ``tickets.ports.TicketStore``."""

    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    # --- reads ---------------------------------------------------------------------------------------
    def get(self, ctx: TenantContext, ticket_id: str, *, consistent: bool = False) -> Ticket | None:
        try:
            item = LinliModel.get(ticket_pk(ctx.tenant_id, ticket_id), TICKET_SK, consistent_read=consistent)
        except DoesNotExist:
            return None
        return to_record(item) if isinstance(item, TicketItem) else None

    def get_many(self, ctx: TenantContext, ticket_ids: list[str]) -> dict[str, Ticket]:
        """The tickets of ``ticket_ids`` that exist, by id (a notifications batch's): BatchGetItem, which PynamoDB
        splits by 100 keys and retries for what DynamoDB leaves unprocessed."""
        wanted = [(ticket_pk(ctx.tenant_id, t), TICKET_SK) for t in dict.fromkeys(ticket_ids)]
        return {item.ticket_id: to_record(item) for item in LinliModel.batch_get(wanted)
                if isinstance(item, TicketItem)} if wanted else {}

    def ticket_id_for_number(self, ctx: TenantContext, number: str) -> str | None:
        try:
            return UniqueItem.get(number_pk(ctx.tenant_id, number), keys.UNIQUE_SK).owner_id
        except DoesNotExist:
            return None

    def idempotency_record(self, ctx: TenantContext, key_digest: str) -> IdempotencyRecord | None:
        try:
            item = IdempotencyItem.get(self._idempotency_pk(ctx, key_digest), "IDEM", consistent_read=True)
        except DoesNotExist:
            return None
        return IdempotencyRecord(item.request_digest, item.ticket_id)

    def duplicate_of(self, ctx: TenantContext, duplicate_key: str) -> str | None:
        try:
            return DuplicateMarkerItem.get(self._duplicate_pk(ctx, duplicate_key), "DUP", consistent_read=True
                                           ).ticket_id
        except DoesNotExist:
            return None

    def queue(self, ctx: TenantContext, spec: QueueFilter, limit: int, cursor: str | None
              ) -> tuple[list[Ticket], str | None]:
        """One page of a queue from the index that serves it: the status queue (GSI2), an assignee's or a grab pool's
        (GSI1), the follow-up list (``flagged``, GSI4, newest flag first) or a resident's tickets (GSI3, newest first,
        every bucket unless one is asked for). Priority is part of the queues' sort keys, so it is a key condition
        there; every other filter is applied by DynamoDB to what the page reads, which is bounded (see
        ``_bounded_page``): a page is at most two Queries and ``2 × limit`` items, whatever the list's size."""
        tenant_id = ctx.tenant_id
        by_resident = bool(spec.resident_id)
        follow_ups = spec.bucket == "flagged" and not by_resident
        owner_filters = follow_ups or by_resident  # the assignee's or pool's index is not the one read
        served_priority = not (follow_ups or by_resident)  # the queues sort by priority first: a key condition
        condition = None
        for clause in (
            _bucket_condition(tenant_id, spec.bucket) if by_resident and spec.bucket else None,
            TicketItem.status == spec.status if spec.status else None,
            TicketItem.kind == spec.kind if spec.kind else None,
            TicketItem.priority == spec.priority if spec.priority and not served_priority else None,
            TicketItem.community_id == spec.community_id if spec.community_id else None,
            TicketItem.unit_id == spec.unit_id if spec.unit_id else None,
            TicketItem.created_at >= spec.created_from if spec.created_from else None,
            TicketItem.created_at <= spec.created_to if spec.created_to else None,
            TicketItem.sla_state == spec.sla_state if spec.sla_state else None,
            TicketItem.assignee_id.does_not_exist() if spec.unassigned else None,
            TicketItem.assignee_id == spec.assignee_id if owner_filters and spec.assignee_id else None,
            TicketItem.grab_team == spec.pool if owner_filters and spec.pool else None,
        ):
            if clause is not None:
                condition = clause if condition is None else condition & clause
        newest_first = False
        if spec.resident_id:
            index, partition = TicketItem.by_resident, keys.tenant_pk(tenant_id, "RES", spec.resident_id)
            range_condition: Any = TicketItem.GSI3SK.startswith("TKT#")
            newest_first = True
        elif follow_ups:
            index, partition = TicketItem.by_risk, keys.tenant_pk(tenant_id, "FLAG")
            range_condition, newest_first = None, True
        elif spec.assignee_id:
            index, partition = TicketItem.by_assignee, keys.tenant_pk(tenant_id, "ASG", spec.assignee_id)
            range_condition = TicketItem.GSI1SK.startswith(f"{spec.bucket or 'open'}#{_priority_prefix(spec)}")
        elif spec.pool:
            index, partition = TicketItem.by_assignee, keys.tenant_pk(tenant_id, "POOL", spec.pool)
            range_condition = TicketItem.GSI1SK.startswith(f"open#{_priority_prefix(spec)}")
        else:
            index, partition = TicketItem.by_status, keys.tenant_pk(tenant_id, "TQ", spec.bucket or "open")
            range_condition = TicketItem.GSI2SK.startswith(_priority_prefix(spec)) if spec.priority else None
        items, last_key = self._bounded_page(index, partition, range_condition, condition, limit, newest_first,
                                             self._cursors.decode(tenant_id, cursor))
        return [to_record(i) for i in items], self._cursors.encode(tenant_id, last_key)

    @staticmethod
    def _bounded_page(index: Any, partition: str, range_condition: Any, condition: Any, limit: int,
                      newest_first: bool, start: dict[str, Any] | None) -> tuple[list[TicketItem], dict | None]:
        """At most two Queries reading at most ``2 × limit`` items: the first reads ``limit`` items; when a filter
        left fewer than ``limit`` of them, a second reads on only as many as are missing. Whatever that found is
        the page — short, even empty, with a cursor to read on — rather than reading on until ``limit`` match (a
        rare kind in a large bucket would read the whole bucket)."""
        connection = TicketItem._get_connection()
        items: list[TicketItem] = []
        last_key, budget = start, limit
        for _ in range(2):  # (without a filter the first read fills the page or ends the list)
            answer = connection.query(partition, range_key_condition=range_condition, filter_condition=condition,
                                      index_name=index.Meta.index_name, exclusive_start_key=last_key, limit=budget,
                                      scan_index_forward=not newest_first)
            items += [TicketItem.from_raw_data(raw) for raw in answer.get("Items", [])]
            last_key = answer.get("LastEvaluatedKey")
            budget = limit - len(items)
            if not last_key or budget <= 0:
                break
        return items, last_key

    def open_load(self, ctx: TenantContext, user_ids: list[str]) -> dict[str, int]:
        """Each staff member's open tickets, from their counters: one BatchGetItem (none counted yet: 0)."""
        wanted = list(dict.fromkeys(user_ids))
        counts = {user_id: 0 for user_id in wanted}
        if wanted:
            for item in CounterItem.batch_get([(load_pk(ctx.tenant_id, u), LOAD_SK) for u in wanted]):
                counts[item.PK.rsplit("#", 1)[-1]] = max(int(item.count or 0), 0)
        return counts

    def at_risk(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        results = TicketItem.by_risk.query(keys.tenant_pk(ctx.tenant_id, "RISK"), limit=limit,
                                           last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor))
        items, next_cursor = self._cursors.page(ctx.tenant_id, results)
        return [to_record(i) for i in items], next_cursor

    def timeline(self, ctx: TenantContext, ticket_id: str) -> list[dict[str, Any]]:
        """The ticket's events, oldest first, as event messages."""
        return [message for e in EventItem.query(ticket_pk(ctx.tenant_id, ticket_id),
                                                 EventItem.SK.startswith(keys.EVENT_PREFIX))
                for message in e.to_messages()]

    def comments(self, ctx: TenantContext, ticket_id: str) -> list[Comment]:
        return [_comment(c, ticket_id) for c in CommentItem.query(ticket_pk(ctx.tenant_id, ticket_id),
                                                                  CommentItem.SK.startswith("CMT#"))]

    def sla_due(self, due_bucket: str, until: str) -> tuple[list[tuple[str, str, str]], int]:
        """Platform-wide: (tenant_id, ticket_id, due_at) due in one minute bucket up to ``until``, and how many items
        DynamoDB read (and bills), not only the matches."""
        found = []
        results = TicketItem.by_due.query(due_bucket, TicketItem.due_at <= until + "~")
        for item in results:
            due_at, tenant_id, ticket_id = item.due_at.split("#")
            found.append((tenant_id, ticket_id, due_at))
        return found, results.page_iter.total_scanned_count

    def auto_close_due(self, due_bucket: str, until: str) -> list[tuple[str, str]]:
        """Platform-wide: (tenant_id, ticket_id) of resolved tickets due in this hour bucket up to ``until``."""
        found = []
        for item in TicketItem.by_due.query(due_bucket, TicketItem.due_at <= until + "~"):
            _, tenant_id, ticket_id = item.due_at.split("#")
            found.append((tenant_id, ticket_id))
        return found

    # --- writes outside a unit of work -----------------------------------------------------------------
    def reserve_numbers(self, tenant_id: str, day: str, count: int) -> int:
        """Reserve ``count`` of the day's ticket numbers for the tenant: the counter after adding them (one
        UpdateItem; the counter expires a week later)."""
        counter = CounterItem(keys.tenant_pk(tenant_id, "TKTSEQ", day), "SEQ")
        expires = int(datetime.strptime(day, "%y%m%d").replace(tzinfo=timezone.utc).timestamp()) + 8 * 86400
        counter.update(actions=[CounterItem.count.add(count), CounterItem.expires_at.set(expires)])
        return int(counter.count)

    def next_round_robin_position(self, ctx: TenantContext, team_id: str) -> int:
        counter = CounterItem(keys.tenant_pk(ctx.tenant_id, "RR", team_id), "RR")
        counter.update(actions=[CounterItem.count.add(1)])
        return int(counter.count) - 1

    def save_attachment(self, ctx: TenantContext, attachment: Attachment) -> None:
        AttachmentItem(attachment_pk(ctx.tenant_id, attachment.attachment_id), "ATT",
                       attachment_id=attachment.attachment_id, owner_id=attachment.owner_id,
                       content_type=attachment.content_type, size=attachment.size, key=attachment.key,
                       created_at=attachment.created_at).save(condition=AttachmentItem.PK.does_not_exist())

    # --- staged writes ---------------------------------------------------------------------------------
    def stage_new(self, uow: UnitOfWork, ctx: TenantContext, ticket: Ticket, guards: NewTicketGuards) -> None:
        """A new ticket with its guards: idempotency record, unique number, the resident's daily limit, their
        photos, the duplicate marker — all in the one transaction."""
        now = uow.now
        if guards.idempotency_key_digest:
            uow.put(IdempotencyItem(self._idempotency_pk(ctx, guards.idempotency_key_digest), "IDEM",
                                    request_digest=guards.request_digest, ticket_id=ticket.ticket_id,
                                    expires_at=int((now + IDEMPOTENCY_TTL).timestamp())),
                    condition=IdempotencyItem.PK.does_not_exist(), on_conflict=IdempotentReplayError())
        uow.put(UniqueItem(number_pk(ctx.tenant_id, ticket.number), keys.UNIQUE_SK, owner_id=ticket.ticket_id),
                condition=UniqueItem.PK.does_not_exist(), on_conflict=NumberTakenError())
        if guards.daily_limit is not None:
            expires = int((now + timedelta(days=2)).timestamp())
            uow.update(CounterItem(keys.tenant_pk(ctx.tenant_id, "DAILY", ctx.principal.id), guards.local_day),
                       [CounterItem.count.add(1), CounterItem.expires_at.set(expires)],
                       condition=CounterItem.count.does_not_exist() | (CounterItem.count < guards.daily_limit),
                       on_conflict=DailyTicketLimitError())
        self.stage_attachments_check(uow, ctx, ticket.attachments, owner_id=ctx.principal.id, field="attachments",
                                     message="Upload the photo first (POST /v1/me/attachments).")
        marker = DuplicateMarkerItem(self._duplicate_pk(ctx, guards.duplicate_key), "DUP", ticket_id=ticket.ticket_id,
                                     until=guards.duplicate_window_ends,
                                     expires_at=int(from_rfc3339(guards.duplicate_window_ends).timestamp()))
        if guards.check_duplicate:
            uow.put(marker, condition=DuplicateMarkerItem.PK.does_not_exist()
                    | (DuplicateMarkerItem.until < to_rfc3339(now)), on_conflict=DuplicateSeenError())
        else:
            uow.put(marker)
        uow.put(to_item(ticket), condition=TicketItem.PK.does_not_exist())
        stage_load_moves(uow, ctx.tenant_id, None, derived_attributes(ticket)["load_owner"])

    def stage_update(self, uow: UnitOfWork, ctx: TenantContext, before: Ticket, after: Ticket, *,
                     on_conflict: LinliError) -> None:
        """The changed fields, the queue and due index entries, guarded by the version read."""
        actions = []
        for name in RECORD_FIELDS:
            value = getattr(after, name)
            if value != getattr(before, name):
                attribute = getattr(TicketItem, name)
                actions.append(attribute.remove() if value is None else attribute.set(value))
        derived = derived_attributes(after)
        for name, value in {**index_keys(after), **due_attributes(after), **derived}.items():
            attribute = getattr(TicketItem, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        target = TicketItem(ticket_pk(ctx.tenant_id, before.ticket_id), TICKET_SK)
        uow.update(target, actions, condition=TicketItem.version == before.version, on_conflict=on_conflict)
        stage_load_moves(uow, ctx.tenant_id, before.load_owner, derived["load_owner"])

    def stage_comment(self, uow: UnitOfWork, ctx: TenantContext, comment: Comment) -> None:
        uow.put(CommentItem(ticket_pk(ctx.tenant_id, comment.ticket_id), f"CMT#{comment.comment_id}",
                            comment_id=comment.comment_id, author=comment.author, body=comment.body,
                            visibility=comment.visibility, attachments=list(comment.attachments),
                            created_at=comment.created_at))

    def stage_attachments_check(self, uow: UnitOfWork, ctx: TenantContext, attachment_ids: list[str], *,
                                owner_id: str | None, field: str, message: str) -> None:
        """Each photo was uploaded (by ``owner_id``, when given) before it is referenced."""
        for index, attachment_id in enumerate(attachment_ids):
            condition = AttachmentItem.owner_id == owner_id if owner_id else AttachmentItem.PK.exists()
            uow.check(AttachmentItem, attachment_pk(ctx.tenant_id, attachment_id), "ATT", condition,
                      on_conflict=invalid_field(f"{field}.{index}", "unknown_attachment", message))

    def stage_ticket_exists_check(self, uow: UnitOfWork, ctx: TenantContext, ticket_id: str, *,
                                  on_conflict: LinliError) -> None:
        uow.check(TicketItem, ticket_pk(ctx.tenant_id, ticket_id), TICKET_SK, TicketItem.PK.exists(),
                  on_conflict=on_conflict)

    def stage_sla_mark(self, uow: UnitOfWork, ctx: TenantContext, ticket_id: str, mark: str, now: datetime) -> None:
        uow.put(SlaMarkItem(ticket_pk(ctx.tenant_id, ticket_id), f"SLA#{mark}", recorded_at=to_rfc3339(now)),
                condition=SlaMarkItem.PK.does_not_exist(), on_conflict=SlaMarkRecordedError())

    # --- helpers -------------------------------------------------------------------------------------
    @staticmethod
    def _idempotency_pk(ctx: TenantContext, key_digest: str) -> str:
        return keys.tenant_pk(ctx.tenant_id, "IDEM", ctx.principal.id, key_digest)

    @staticmethod
    def _duplicate_pk(ctx: TenantContext, duplicate_key: str) -> str:
        return keys.tenant_pk(ctx.tenant_id, "DUP", duplicate_key)


def _priority_prefix(spec: QueueFilter) -> str:
    """The queue sort key's start for a priority (queues sort by priority first), or "" for any.

    >>> _priority_prefix(QueueFilter(priority="P1")), _priority_prefix(QueueFilter())
    ('P1#', '')
    """
    return f"{spec.priority}#" if spec.priority else ""


def _bucket_condition(tenant_id: str, box: str) -> Any:
    """A bucket as a filter, for lists read from an index other than the bucket's own (a resident's tickets)."""
    if box == "open":
        return TicketItem.status.is_in(*(s.value for s in OPEN))
    if box == "flagged":
        return TicketItem.GSI4PK == keys.tenant_pk(tenant_id, "FLAG")
    return TicketItem.status == box
