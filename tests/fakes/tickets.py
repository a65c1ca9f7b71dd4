"""In-memory ``tickets.ports.TicketStore``: the same contract as the DynamoDB repository (tests/contract holds both
to it), with queues sorted exactly as their index keys sort."""
from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import LinliError
from chalicelib.core.tenancy import TenantContext
from chalicelib.tickets.domain import OPEN, Status, bucket, load_owner
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
from chalicelib.tickets.repository import due_attributes, index_keys
from tests.fakes.storage import InMemoryUnitOfWork, MemoryStore


class InMemoryTicketRepository:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.tickets = store.table("tickets")          # (tenant, ticket id) → Ticket
        self.numbers = store.table("ticket_numbers")   # (tenant, number) → ticket id
        self.idempotency = store.table("idempotency")  # (tenant, principal, digest) → IdempotencyRecord
        self.duplicates = store.table("duplicates")    # (tenant, key) → (ticket id, until)
        self.daily = store.table("daily_counts")       # (tenant, principal, day) → count
        self.attachments = store.table("attachments")  # (tenant, attachment id) → Attachment
        self.comment_log = store.table("comments")     # (tenant, ticket id) → [Comment]
        self.marks = store.table("sla_marks")          # (tenant, ticket id, mark) → recorded at
        self.positions = store.table("round_robin")    # (tenant, team) → next position
        self.sequences = store.table("ticket_numbers")  # (tenant, day) → the day's counter
        self.loads = store.table("open_loads")         # (tenant, user id) → open tickets counted

    # --- reads ---------------------------------------------------------------------------------------
    def get(self, ctx: TenantContext, ticket_id: str, *, consistent: bool = False) -> Ticket | None:
        found = self.tickets.get((ctx.tenant_id, ticket_id))
        return copy.deepcopy(found)

    def ticket_id_for_number(self, ctx: TenantContext, number: str) -> str | None:
        return self.numbers.get((ctx.tenant_id, number))

    def idempotency_record(self, ctx: TenantContext, key_digest: str) -> IdempotencyRecord | None:
        return self.idempotency.get((ctx.tenant_id, ctx.principal.id, key_digest))

    def duplicate_of(self, ctx: TenantContext, duplicate_key: str) -> str | None:
        marker = self.duplicates.get((ctx.tenant_id, duplicate_key))
        return marker[0] if marker else None

    def queue(self, ctx: TenantContext, spec: QueueFilter, limit: int, cursor: str | None
              ) -> tuple[list[Ticket], str | None]:
        mine = [t for (tenant, _), t in self.tickets.items() if tenant == ctx.tenant_id]
        if spec.resident_id or spec.bucket == "flagged":  # GSI3 or GSI4: assignee and pool as filters
            if spec.resident_id:
                rows = sorted((t for t in mine if t.resident_id == spec.resident_id),
                              key=lambda t: index_keys(t)["GSI3SK"], reverse=True)
            else:
                rows = sorted((t for t in mine if index_keys(t)["GSI4PK"] == f"T#{ctx.tenant_id}#FLAG"),
                              key=lambda t: index_keys(t)["GSI4SK"], reverse=True)
            return self._page(rows, limit, cursor, keep=lambda t: _matches(t, spec) and (
                not spec.assignee_id or t.assignee_id == spec.assignee_id) and (
                not spec.pool or t.grab_team == spec.pool) and (
                not spec.resident_id or _in_bucket(t, spec.bucket, ctx.tenant_id)))
        if spec.priority:  # the queues' sort keys start with it: read as a key condition, not filtered
            mine = [t for t in mine if t.priority == spec.priority]
        if spec.assignee_id or spec.pool:
            owner = ("ASG", spec.assignee_id) if spec.assignee_id else ("POOL", spec.pool)
            prefix = f"{spec.bucket or 'open'}#" if spec.assignee_id else "open#"
            rows = sorted((t for t in mine if index_keys(t)["GSI1PK"] == f"T#{ctx.tenant_id}#{owner[0]}#{owner[1]}"
                           and (index_keys(t)["GSI1SK"] or "").startswith(prefix)),
                          key=lambda t: index_keys(t)["GSI1SK"])
        else:
            rows = sorted((t for t in mine if bucket(Status(t.status)) == (spec.bucket or "open")),
                          key=lambda t: index_keys(t)["GSI2SK"])
        return self._page(rows, limit, cursor, keep=lambda t: _matches(t, spec))

    def open_load(self, ctx: TenantContext, user_ids: list[str]) -> dict[str, int]:
        return {user_id: max(self.loads.get((ctx.tenant_id, user_id), 0), 0) for user_id in dict.fromkeys(user_ids)}

    def at_risk(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        rows = [t for (tenant, _), t in self.tickets.items()
                if tenant == ctx.tenant_id and index_keys(t)["GSI4PK"] == f"T#{ctx.tenant_id}#RISK"]
        return self._page(sorted(rows, key=lambda t: index_keys(t)["GSI4SK"]), limit, cursor)

    def timeline(self, ctx: TenantContext, ticket_id: str) -> list[dict[str, Any]]:
        return [e.to_message() for e in self.store.events
                if e.tenant_id == ctx.tenant_id and (e.subject_type, e.subject_id) == ("ticket", ticket_id)]

    def comments(self, ctx: TenantContext, ticket_id: str) -> list[Comment]:
        return sorted(self.comment_log.get((ctx.tenant_id, ticket_id), []), key=lambda c: c.comment_id)

    def sla_due(self, due_bucket: str, until: str) -> tuple[list[tuple[str, str, str]], int]:
        entries = self._due_entries(due_bucket)
        return [(t, i, at) for t, i, at in entries if at <= until + "~"], len(entries)

    def auto_close_due(self, due_bucket: str, until: str) -> list[tuple[str, str]]:
        return [(t, i) for t, i, at in self._due_entries(due_bucket) if at <= until + "~"]

    # --- writes outside a unit of work -----------------------------------------------------------------
    def reserve_numbers(self, tenant_id: str, day: str, count: int) -> int:
        self.sequences[(tenant_id, day)] = self.sequences.get((tenant_id, day), 0) + count
        return self.sequences[(tenant_id, day)]

    def next_round_robin_position(self, ctx: TenantContext, team_id: str) -> int:
        position = self.positions.get((ctx.tenant_id, team_id), 0)
        self.positions[(ctx.tenant_id, team_id)] = position + 1
        return position

    def save_attachment(self, ctx: TenantContext, attachment: Attachment) -> None:
        self.attachments[(ctx.tenant_id, attachment.attachment_id)] = attachment

    # --- staged writes ---------------------------------------------------------------------------------
    def stage_new(self, uow: InMemoryUnitOfWork, ctx: TenantContext, ticket: Ticket, guards: NewTicketGuards) -> None:
        tenant, stored = ctx.tenant_id, copy.deepcopy(ticket)
        self.stage_attachments_check(uow, ctx, ticket.attachments, owner_id=ctx.principal.id, field="attachments",
                                     message="Upload the photo first (POST /v1/me/attachments).")
        if guards.idempotency_key_digest:
            key = (tenant, ctx.principal.id, guards.idempotency_key_digest)
            uow.stage(lambda: self.idempotency.__setitem__(key, IdempotencyRecord(guards.request_digest,
                                                                                   ticket.ticket_id)),
                      check=lambda: key not in self.idempotency, on_conflict=IdempotentReplayError())
        number = (tenant, ticket.number)
        uow.stage(lambda: self.numbers.__setitem__(number, ticket.ticket_id),
                  check=lambda: number not in self.numbers, on_conflict=NumberTakenError())
        marker_key, now_text = (tenant, guards.duplicate_key), to_rfc3339(uow.now)
        uow.stage(lambda: self.duplicates.__setitem__(marker_key, (ticket.ticket_id, guards.duplicate_window_ends)),
                  check=(lambda: marker_key not in self.duplicates or self.duplicates[marker_key][1] < now_text)
                  if guards.check_duplicate else None, on_conflict=DuplicateSeenError())
        stored.load_owner = load_owner(Status(ticket.status), ticket.assignee_id)
        uow.stage(lambda: self.tickets.__setitem__((tenant, ticket.ticket_id), stored),
                  check=lambda: (tenant, ticket.ticket_id) not in self.tickets)
        self._stage_load_moves(uow, tenant, None, stored.load_owner)
        if guards.daily_limit is not None:
            day = (tenant, ctx.principal.id, guards.local_day)
            uow.stage(lambda: self.daily.__setitem__(day, self.daily.get(day, 0) + 1), kind="update",
                      check=lambda: self.daily.get(day, 0) < guards.daily_limit, on_conflict=DailyTicketLimitError())

    def stage_update(self, uow: InMemoryUnitOfWork, ctx: TenantContext, before: Ticket, after: Ticket, *,
                     on_conflict: LinliError) -> None:
        key, stored = (ctx.tenant_id, before.ticket_id), copy.deepcopy(after)
        stored.load_owner = load_owner(Status(after.status), after.assignee_id)
        uow.stage(lambda: self.tickets.__setitem__(key, stored), kind="update",
                  check=lambda: key in self.tickets and self.tickets[key].version == before.version,
                  on_conflict=on_conflict)
        self._stage_load_moves(uow, ctx.tenant_id, before.load_owner, stored.load_owner)

    def stage_comment(self, uow: InMemoryUnitOfWork, ctx: TenantContext, comment: Comment) -> None:
        key = (ctx.tenant_id, comment.ticket_id)
        uow.stage(lambda: self.comment_log.setdefault(key, []).append(comment))

    def stage_attachments_check(self, uow: InMemoryUnitOfWork, ctx: TenantContext, attachment_ids: list[str], *,
                                owner_id: str | None, field: str, message: str) -> None:
        for index, attachment_id in enumerate(attachment_ids):
            def uploaded(attachment_id: str = attachment_id) -> bool:
                found = self.attachments.get((ctx.tenant_id, attachment_id))
                return found is not None and (owner_id is None or found.owner_id == owner_id)
            uow.check(uploaded, on_conflict=invalid_field(f"{field}.{index}", "unknown_attachment", message))

    def stage_ticket_exists_check(self, uow: InMemoryUnitOfWork, ctx: TenantContext, ticket_id: str, *,
                                  on_conflict: LinliError) -> None:
        uow.check(lambda: (ctx.tenant_id, ticket_id) in self.tickets, on_conflict=on_conflict)

    def stage_sla_mark(self, uow: InMemoryUnitOfWork, ctx: TenantContext, ticket_id: str, mark: str,
                       now: datetime) -> None:
        key = (ctx.tenant_id, ticket_id, mark)
        uow.stage(lambda: self.marks.__setitem__(key, to_rfc3339(now)), check=lambda: key not in self.marks,
                  on_conflict=SlaMarkRecordedError())

    # --- helpers -------------------------------------------------------------------------------------
    def _stage_load_moves(self, uow: InMemoryUnitOfWork, tenant_id: str, counted: str | None,
                          owner: str | None) -> None:
        """As ``repository.stage_load_moves``: −1 (never below zero) on the counter counted in, +1 on the new one."""
        if counted == owner:
            return
        if counted:
            was = (tenant_id, counted)
            uow.stage(lambda: self.loads.__setitem__(was, self.loads[was] - 1), kind="update",
                      check=lambda: self.loads.get(was, 0) >= 1, on_conflict=LoadOutOfStepError())
        if owner:
            now = (tenant_id, owner)
            uow.stage(lambda: self.loads.__setitem__(now, self.loads.get(now, 0) + 1), kind="update")

    def _due_entries(self, due_bucket: str) -> list[tuple[str, str, str]]:
        entries = []
        for (tenant, ticket_id), ticket in self.tickets.items():
            due = due_attributes(ticket)
            if due["due_bucket"] == due_bucket:
                entries.append((tenant, ticket_id, (due["due_at"] or "").split("#")[0]))
        return sorted(entries, key=lambda e: e[2])

    @staticmethod
    def _page(rows: list[Ticket], limit: int, cursor: str | None, keep: Callable[[Ticket], bool] = lambda _: True
              ) -> tuple[list[Ticket], str | None]:
        """Like the repository's bounded page: ``limit`` items are read, then filtered; when fewer than ``limit`` are
        left and more remain, as many more as are missing are read (two reads at most); the cursor follows what was
        read."""
        position = int(cursor) if cursor else 0
        kept: list[Ticket] = []
        budget = limit
        for _ in range(2):
            read = rows[position:position + budget]
            position += len(read)
            kept += [copy.deepcopy(t) for t in read if keep(t)]
            budget = limit - len(kept)
            if position >= len(rows) or budget <= 0:
                break
        return kept, str(position) if position < len(rows) else None


def _in_bucket(ticket: Ticket, box: str | None, tenant_id: str) -> bool:
    if box is None:
        return True
    if box == "flagged":
        return index_keys(ticket)["GSI4PK"] == f"T#{tenant_id}#FLAG"
    return Status(ticket.status) in OPEN if box == "open" else ticket.status == box


def _matches(ticket: Ticket, spec: QueueFilter) -> bool:
    return all((
        not spec.status or ticket.status == spec.status, not spec.kind or ticket.kind == spec.kind,
        not spec.priority or ticket.priority == spec.priority,
        not spec.community_id or ticket.community_id == spec.community_id,
        not spec.unit_id or ticket.location.get("unit_id") == spec.unit_id,
        not spec.unassigned or ticket.assignee_id is None,
        not spec.created_from or ticket.created_at >= spec.created_from,
        not spec.created_to or ticket.created_at <= spec.created_to,
        not spec.sla_state or ticket.sla_state == spec.sla_state,
    ))




class RecordingAttachments:
    """``ports.AttachmentSigner`` without S3: deterministic keys and links."""

    def key_for(self, tenant_id: str, attachment_id: str) -> str:
        return f"t/{tenant_id}/att/{attachment_id}"

    def presign_upload(self, tenant_id: str, attachment_id: str, content_type: str, size: int) -> dict[str, Any]:
        return {"url": "https://uploads.test/", "fields": {"key": self.key_for(tenant_id, attachment_id),
                                                            "Content-Type": content_type}}

    def presign_download(self, tenant_id: str, attachment_id: str) -> str:
        return f"https://downloads.test/{self.key_for(tenant_id, attachment_id)}"
