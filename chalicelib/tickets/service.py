"""Ticket use cases: intake, actions, conversation, timeline, queues."""
from __future__ import annotations

import copy
import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import (
    ConflictError,
    ForbiddenError,
    LinliError,
    NotFoundError,
    PreconditionFailedError,
    RateLimitedError,
    ValidationFailedError,
)
from chalicelib.core.ids import new_id
from chalicelib.core.observability import logger
from chalicelib.core.permissions import Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.residents.repository import (
    CommunityItem,
    ResidentItem,
    UnitItem,
    community_pk,
    community_sk,
    resident_sk,
    unit_sk,
)
from chalicelib.sla import domain as sla_domain
from chalicelib.storage import keys
from chalicelib.storage.table import CounterItem, LinliModel, UniqueItem
from chalicelib.storage.unit_of_work import UnitOfWork
from chalicelib.tenants.domain import TenantConfig
from chalicelib.tenants.repository import StaffItem, staff_sk
from chalicelib.tickets import dispatch, domain
from chalicelib.tickets.attachments import AttachmentStore, object_key
from chalicelib.tickets.domain import Action, Actor, Status
from chalicelib.tickets.repository import (
    TICKET_SK,
    AttachmentItem,
    CommentItem,
    DuplicateMarkerItem,
    IdempotencyItem,
    SlaMarkItem,
    TicketItem,
    TicketRepository,
    attachment_pk,
    due_keys,
    index_keys,
    number_pk,
    sla_due_keys,
    ticket_pk,
)
from chalicelib.tickets.schemas import (
    ActionIn,
    AttachmentIn,
    AttachmentOut,
    AttachmentUploadOut,
    CommentOut,
    EventOut,
    TicketIn,
    TicketOut,
    TicketPatch,
    TicketQuery,
)

CHINA = ZoneInfo("Asia/Shanghai")
DUPLICATE_WINDOW = timedelta(hours=24)
IDEMPOTENCY_TTL = timedelta(hours=24)


class _Replay(ConflictError):
    code = "idempotent_replay"


class _NumberTaken(ConflictError):
    code = "number_taken"


class _DuplicateSeen(ConflictError):
    code = "duplicate_seen"


class _MarkRecorded(ConflictError):
    code = "sla_mark_recorded"


def actor_of(ctx: TenantContext) -> Actor:
    return Actor(ctx.principal.kind, ctx.principal.id, ctx.principal.role)


def state_of(item: TicketItem) -> domain.TicketState:
    return domain.TicketState(
        status=Status(item.status), resident_id=item.resident_id, kind=item.kind, assignee_id=item.assignee_id,
        grab_team=item.grab_team, previous_status=Status(item.previous_status) if item.previous_status else None,
        acknowledged_at=item.acknowledged_at, arrived_at=item.arrived_at, resolved_at=item.resolved_at,
        closed_at=item.closed_at, quote=item.quote, rating=item.rating, reopen_count=item.reopen_count or 0)


def sla_state(clocks: dict[str, Any]) -> str | None:
    """The worst state among a ticket's clocks, for queue filters."""
    states = {c["state"] for c in clocks.values()}
    warned = any(c["state"] == "running" and c.get("warned_at") for c in clocks.values())
    for state in ("breached", "warning" if warned else "", "running", "paused", "met", "stopped"):
        if state and state in states | ({"warning"} if warned else set()):
            return state
    return None


def _invalid(field: str, type_: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(details=[{"field": field, "type": type_, "message": message}])


class TicketService:
    def __init__(self, repo: TicketRepository, tenants: Any, store: AttachmentStore,
                 notify: Callable[[str, TicketItem, dict[str, Any]], None] | None = None) -> None:
        self.repo = repo
        self.tenants = tenants
        self.store = store
        self.notify = notify

    # --- intake ---------------------------------------------------------------------------------------
    def create(self, ctx: TenantContext, cmd: TicketIn, idempotency_key: str | None, now: datetime) -> TicketOut:
        config: TenantConfig = self.tenants.config(ctx.tenant_id)
        kind = config.kind(cmd.kind)
        resident_channel = ctx.principal.kind == "resident"
        if kind is None or (resident_channel and not kind.resident_visible):
            raise _invalid("kind", "unknown_kind", "No such ticket kind in this company's catalogue.")
        if cmd.category and kind.categories and cmd.category not in kind.categories:
            raise _invalid("category", "unknown_category", f"Categories of {kind.key}: {', '.join(kind.categories)}")
        place = self._place(ctx, cmd)
        priority = (getattr(cmd, "priority", None) if not resident_channel else None) or kind.default_priority
        route = dispatch.route(config.dispatch_rules, config.teams, kind=kind.key,
                               community_id=cmd.location.community_id, building_id=place["building_id"])
        assignee = route.assignee_id
        if route.round_robin_team is not None:
            assignee = dispatch.pick_round_robin(route.round_robin_team, self._next_position(
                ctx, route.round_robin_team.id))
        ticket_id, stamp = new_id("tkt"), to_rfc3339(now)
        status = Status.ASSIGNED if assignee else Status.NEW
        policy = sla_domain.match_policy(config.policies(), kind=kind.key, category=cmd.category, priority=priority,
                                         community_id=cmd.location.community_id)
        clocks, sla_ledger = sla_domain.start(policy, now, config.calendar_for(cmd.location.community_id))
        upcoming = sla_domain.next_due(clocks)
        breach_due = min((c["due_at"] for c in clocks.values() if c.get("due_at")), default=None)
        item = TicketItem(
            ticket_pk(ctx.tenant_id, ticket_id), TICKET_SK, ticket_id=ticket_id, tenant_id=ctx.tenant_id,
            number="", kind=kind.key, category=cmd.category, priority=priority, status=status.value,
            description=cmd.description, channel=cmd.channel, resident_id=place["resident_id"],
            resident_name=place["resident_name"], location=place["location"], community_id=cmd.location.community_id,
            preferred_visit=cmd.preferred_visit.model_dump(mode="json") if cmd.preferred_visit else None,
            attachments=list(dict.fromkeys(cmd.attachments)), assignee_id=assignee, grab_team=route.grab_team,
            return_visits=[], reopen_count=0, created_by=ctx.actor, created_at=stamp, updated_at=stamp, version=1,
            sla=clocks, sla_state=sla_state(clocks),
            **(sla_due_keys(ctx.tenant_id, ticket_id, upcoming) if upcoming else {}),
            **index_keys(ctx.tenant_id, ticket_id=ticket_id, status=status, priority=priority, created_at=stamp,
                         resident_id=place["resident_id"], assignee_id=assignee, grab_team=route.grab_team,
                         sla_due=breach_due))
        request_digest = hashlib.sha256(cmd.model_dump_json().encode()).hexdigest()
        idem_pk = keys.tenant_pk(ctx.tenant_id, "IDEM", ctx.principal.id,
                                 hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]) if idempotency_key else None
        dup_pk = keys.tenant_pk(ctx.tenant_id, "DUP", hashlib.sha256(
            f"{place['location'].get('unit_id') or place['location'].get('common_area')}|"
            f"{cmd.location.community_id}|{kind.key}|{cmd.category}".encode()).hexdigest()[:40])
        check_duplicate = True
        for attempt in range(6):
            item.number = f"{now:%y%m%d}{secrets.randbelow(10**5):05d}"
            uow = self._create_uow(ctx, item, now, idem_pk, request_digest, dup_pk, check_duplicate,
                                   config.ticket_settings.resident_daily_limit if resident_channel else None)
            self._record_ledger(uow, item, sla_ledger)
            try:
                uow.commit()
                break
            except _Replay:
                return self._replay(ctx, idem_pk, request_digest, now)
            except _NumberTaken:
                continue
            except _DuplicateSeen:
                marker = self.repo.duplicate_marker(dup_pk)
                item.possible_duplicate_of = marker.ticket_id if marker else None
                check_duplicate = False
            except ConflictError as exc:
                if exc.code != "write_conflict" or attempt == 5:
                    raise
                time.sleep(0.05 * (attempt + 1))
        else:
            raise ConflictError("Could not file the ticket; retry.", code="write_conflict")
        return self.ticket_out(ctx, item, now)

    def _create_uow(self, ctx: TenantContext, item: TicketItem, now: datetime, idem_pk: str | None,
                    request_digest: str, dup_pk: str, check_duplicate: bool, daily_limit: int | None) -> UnitOfWork:
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        stamp = to_rfc3339(now)
        if idem_pk:
            uow.put(IdempotencyItem(idem_pk, "IDEM", request_digest=request_digest, ticket_id=item.ticket_id,
                                    expires_at=int((now + IDEMPOTENCY_TTL).timestamp())),
                    condition=IdempotencyItem.PK.does_not_exist(), on_conflict=_Replay())
        uow.put(UniqueItem(number_pk(ctx.tenant_id, item.number), keys.UNIQUE_SK, owner_id=item.ticket_id),
                condition=UniqueItem.PK.does_not_exist(), on_conflict=_NumberTaken())
        if daily_limit is not None:
            day = now.astimezone(CHINA).strftime("%Y%m%d")
            expires = int((now + timedelta(days=2)).timestamp())
            uow.update(CounterItem(keys.tenant_pk(ctx.tenant_id, "DAILY", ctx.principal.id), day),
                       [CounterItem.count.add(1), CounterItem.expires_at.set(expires)],
                       condition=CounterItem.count.does_not_exist() | (CounterItem.count < daily_limit),
                       on_conflict=RateLimitedError("You have reported a lot today; call the service desk if urgent.",
                                                    code="daily_ticket_limit", retry_after=3600))
        for index, attachment_id in enumerate(item.attachments):
            uow.check(AttachmentItem, attachment_pk(ctx.tenant_id, attachment_id), "ATT",
                      AttachmentItem.owner_id == ctx.principal.id,
                      on_conflict=_invalid(f"attachments.{index}", "unknown_attachment",
                                           "Upload the photo first (POST /v1/me/attachments)."))
        marker = DuplicateMarkerItem(dup_pk, "DUP", ticket_id=item.ticket_id,
                                     until=to_rfc3339(now + DUPLICATE_WINDOW),
                                     expires_at=int((now + DUPLICATE_WINDOW).timestamp()))
        if check_duplicate:
            uow.put(marker, condition=DuplicateMarkerItem.PK.does_not_exist() | (DuplicateMarkerItem.until < stamp),
                    on_conflict=_DuplicateSeen())
        else:
            uow.put(marker)
        uow.put(item, condition=TicketItem.PK.does_not_exist())
        uow.record("ticket.created", pk=item.PK, subject=("ticket", item.ticket_id), subject_version=1,
                   data={"number": item.number, "kind": item.kind, "category": item.category,
                         "priority": item.priority, "channel": item.channel, "status": item.status,
                         "community_id": item.location["community_id"], "unit_id": item.location.get("unit_id"),
                         "assignee_id": item.assignee_id, "possible_duplicate_of": item.possible_duplicate_of,
                         "visibility": "public"})
        return uow

    def _replay(self, ctx: TenantContext, idem_pk: str | None, request_digest: str, now: datetime) -> TicketOut:
        record = self.repo.idempotency_record(idem_pk) if idem_pk else None
        if record is None:
            raise ConflictError("The first request with this key is still in flight; retry.", code="write_conflict")
        if record.request_digest != request_digest:
            raise ValidationFailedError("This Idempotency-Key was used with a different request.",
                                        code="idempotency_key_reused")
        item = self.repo.get(ctx, record.ticket_id, consistent=True)
        if item is None:
            raise NotFoundError()
        return self.ticket_out(ctx, item, now)

    def _place(self, ctx: TenantContext, cmd: TicketIn) -> dict[str, Any]:
        loc = cmd.location
        if ctx.principal.kind == "resident":
            units = {u[1]: u for u in ctx.principal.units}
            communities = {u[0] for u in ctx.principal.units}
            if loc.unit_id:
                unit = units.get(loc.unit_id)
                if unit is None or unit[0] != loc.community_id:
                    raise _invalid("location.unit_id", "unknown_unit", "This is not one of your units.")
                building_id = unit[3] if len(unit) > 3 and unit[3] else None
                location = {"community_id": loc.community_id, "unit_id": loc.unit_id, "label": unit[2],
                            "building_id": building_id}
                return {"resident_id": ctx.principal.id, "resident_name": None, "location": location,
                        "building_id": building_id}
            if loc.community_id not in communities:
                raise _invalid("location.community_id", "unknown_community", "You don't live in this community.")
            return {"resident_id": ctx.principal.id, "resident_name": None, "building_id": None,
                    "location": {"community_id": loc.community_id, "common_area": loc.common_area}}
        resident_id = cmd.resident_id  # type: ignore[attr-defined]
        wanted = [(keys.tenant_pk(ctx.tenant_id), resident_sk(resident_id)),
                  (community_pk(ctx.tenant_id, loc.community_id), unit_sk(loc.unit_id)) if loc.unit_id
                  else (keys.tenant_pk(ctx.tenant_id), community_sk(loc.community_id))]
        found = list(LinliModel.batch_get(wanted))
        resident = next((i for i in found if isinstance(i, ResidentItem)), None)
        if resident is None:
            raise _invalid("resident_id", "unknown_resident", "No such resident.")
        if loc.unit_id:
            unit = next((i for i in found if isinstance(i, UnitItem)), None)
            if unit is None:
                raise _invalid("location.unit_id", "unknown_unit", "No such unit in this community.")
            return {"resident_id": resident.resident_id, "resident_name": resident.name,
                    "building_id": unit.building_id,
                    "location": {"community_id": loc.community_id, "unit_id": unit.unit_id, "label": unit.label,
                                 "building_id": unit.building_id}}
        if not any(isinstance(i, CommunityItem) for i in found):
            raise _invalid("location.community_id", "unknown_community", "No such community.")
        return {"resident_id": resident.resident_id, "resident_name": resident.name, "building_id": None,
                "location": {"community_id": loc.community_id, "common_area": loc.common_area}}

    def _next_position(self, ctx: TenantContext, team_id: str) -> int:
        counter = CounterItem(keys.tenant_pk(ctx.tenant_id, "RR", team_id), "RR")
        counter.update(actions=[CounterItem.count.add(1)])
        return int(counter.count) - 1

    # --- reads ------------------------------------------------------------------------------------------
    def get(self, ctx: TenantContext, ticket_id: str, now: datetime) -> TicketOut:
        return self.ticket_out(ctx, self._visible(ctx, ticket_id), now)

    def get_by_number(self, ctx: TenantContext, number: str, now: datetime) -> TicketOut:
        ticket_id = self.repo.ticket_id_for_number(ctx, number)
        if ticket_id is None:
            raise NotFoundError()
        return self.get(ctx, ticket_id, now)

    def queue(self, ctx: TenantContext, q: TicketQuery, now: datetime) -> tuple[list[TicketOut], str | None]:
        tid = ctx.tenant_id
        assignee, pool = q.assignee_id, q.pool
        if ctx.principal.role == Role.TECHNICIAN:
            if pool and ctx.principal.id not in self._team_members(ctx, pool):
                raise ForbiddenError("You are not in this team.")
            assignee = None if pool else ctx.principal.id
        condition = None
        for clause in (
            TicketItem.status == q.status.value if q.status else None,
            TicketItem.kind == q.kind if q.kind else None,
            TicketItem.priority == q.priority if q.priority else None,
            TicketItem.community_id == q.community_id if q.community_id else None,
            TicketItem.created_at >= to_rfc3339(q.created_from) if q.created_from else None,
            TicketItem.created_at <= to_rfc3339(q.created_to) if q.created_to else None,
            TicketItem.sla_state == q.sla_state if q.sla_state else None,
        ):
            if clause is not None:
                condition = clause if condition is None else condition & clause
        if assignee:
            index, partition, prefix = "GSI1", keys.tenant_pk(tid, "ASG", assignee), f"{q.bucket}#"
        elif pool:
            index, partition, prefix = "GSI1", keys.tenant_pk(tid, "POOL", pool), "open#"
        else:
            index, partition, prefix = "GSI2", keys.tenant_pk(tid, "TQ", q.bucket), None
        items, cursor = self.repo.queue(ctx, index=index, partition=partition, sort_prefix=prefix,
                                        condition=condition, limit=q.limit, cursor=q.cursor)
        return [self.ticket_out(ctx, i, now) for i in items], cursor

    def at_risk(self, ctx: TenantContext, limit: int, cursor: str | None, now: datetime):  # noqa: ANN201
        """Open tickets with a running clock, the next deadline first."""
        items, next_cursor = self.repo.at_risk(ctx, limit, cursor)
        return [self.ticket_out(ctx, i, now) for i in items], next_cursor

    def my_tickets(self, ctx: TenantContext, limit: int, cursor: str | None, now: datetime):  # noqa: ANN201
        items, next_cursor = self.repo.queue(ctx, index="GSI3", partition=keys.tenant_pk(
            ctx.tenant_id, "RES", ctx.principal.id), sort_prefix="TKT#", condition=None, limit=limit,
            cursor=cursor, newest_first=True)
        return [self.ticket_out(ctx, i, now) for i in items], next_cursor

    def timeline(self, ctx: TenantContext, ticket_id: str) -> list[EventOut]:
        self._visible(ctx, ticket_id)
        resident = ctx.principal.kind == "resident"
        events = []
        for event in self.repo.timeline(ctx, ticket_id):
            data = dict(event.data or {})
            if resident and data.get("visibility") == "internal":
                continue
            events.append(EventOut(id=event.event_id, type=event.type, occurred_at=event.occurred_at,
                                   actor=event.actor, changes=event.changes or {}, data=data))
        return events

    def comments(self, ctx: TenantContext, ticket_id: str) -> list[CommentOut]:
        self._visible(ctx, ticket_id)
        resident = ctx.principal.kind == "resident"
        return [self._comment_out(ctx, c) for c in self.repo.comments(ctx, ticket_id)
                if not (resident and c.visibility == "internal")]

    # --- writes on an existing ticket -----------------------------------------------------------------
    def act(self, ctx: TenantContext, ticket_id: str, action: Action, params: ActionIn, if_match: int | None,
            now: datetime) -> TicketOut:
        item = self._visible(ctx, ticket_id, consistent=True)
        if if_match is not None and if_match != item.version:
            raise PreconditionFailedError()
        config: TenantConfig = self.tenants.config(ctx.tenant_id)
        kind = config.kind(item.kind)
        required = list(kind.required_to_resolve) if kind else ["note"]
        if item.kind == "repair" and config.ticket_settings.photo_required_for_repairs and "photo" not in required:
            required.append("photo")
        rules = domain.KindRules(paid=bool(kind and kind.paid), required_to_resolve=tuple(required))
        policy = domain.Policy(config.ticket_settings.reopen_window_days, config.ticket_settings.rating_window_days,
                               config.ticket_settings.low_rating_action)
        actor = actor_of(ctx)
        if action == Action.GRAB and item.grab_team and ctx.principal.id not in self._team_members(ctx, item.grab_team):
            raise ForbiddenError("Only members of the team can grab this job.")
        decision = domain.decide(state_of(item), action, actor, params.model_dump(mode="json"), now, rules, policy)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        if action == Action.ASSIGN:
            uow.check(StaffItem, keys.tenant_pk(ctx.tenant_id), staff_sk(params.assignee_id),
                      (StaffItem.status == "active") & StaffItem.role.is_in("technician", "butler", "agent",
                                                                            "supervisor", "admin"),
                      on_conflict=_invalid("assignee_id", "unknown_staff", "No active staff member with this id."))
        if action == Action.MERGE:
            if params.into_ticket_id == ticket_id:
                raise _invalid("into_ticket_id", "same_ticket", "A ticket cannot be merged into itself.")
            uow.check(TicketItem, ticket_pk(ctx.tenant_id, params.into_ticket_id), TICKET_SK,
                      TicketItem.PK.exists(),
                      on_conflict=_invalid("into_ticket_id", "unknown_ticket", "No such ticket."))
        for index, attachment_id in enumerate(params.photos if action == Action.RESOLVE else []):
            uow.check(AttachmentItem, attachment_pk(ctx.tenant_id, attachment_id), "ATT", AttachmentItem.PK.exists(),
                      on_conflict=_invalid(f"photos.{index}", "unknown_attachment", "Upload the photo first."))
        changes, ledger, sla_fields = self._apply(ctx, uow, item, decision.status, decision.changes, if_match, now,
                                                  config, reason=f"{action.value} by {actor.kind}")
        uow.record(decision.event_type, pk=item.PK, subject=("ticket", ticket_id), subject_version=item.version + 1,
                   changes=changes, data={**decision.data, "visibility": decision.visibility,
                                          "status": decision.status.value})
        self._record_ledger(uow, item, ledger)
        uow.commit()
        self._commit_locally(item, decision.status, {**decision.changes, **sla_fields}, now)
        return self.ticket_out(ctx, item, now)

    def triage(self, ctx: TenantContext, ticket_id: str, patch: TicketPatch, if_match: int | None,
               now: datetime) -> TicketOut:
        """Change kind, category or priority; the SLA policy is matched again and the clocks re-target."""
        item = self._visible(ctx, ticket_id, consistent=True)
        if if_match is not None and if_match != item.version:
            raise PreconditionFailedError()
        if Status(item.status) not in domain.OPEN:
            raise ConflictError("Only open tickets can be re-triaged.", code="ticket_not_open")
        config: TenantConfig = self.tenants.config(ctx.tenant_id)
        fields = patch.model_dump(exclude_unset=True, exclude_none=True)
        kind = config.kind(fields.get("kind", item.kind))
        if kind is None:
            raise _invalid("kind", "unknown_kind", "No such ticket kind in this company's catalogue.")
        category = fields.get("category", item.category if "kind" not in fields else None)
        if category and kind.categories and category not in kind.categories:
            raise _invalid("category", "unknown_category", f"Categories of {kind.key}: {', '.join(kind.categories)}")
        changes = {"kind": kind.key, "category": category, "priority": fields.get("priority", item.priority)}
        changes = {k: v for k, v in changes.items() if v != getattr(item, k)}
        if not changes:
            return self.ticket_out(ctx, item, now)
        clocks = copy.deepcopy(item.sla or {})
        policy = sla_domain.match_policy(config.policies(), kind=changes.get("kind", item.kind),
                                         category=changes.get("category", item.category),
                                         priority=changes.get("priority", item.priority),
                                         community_id=item.community_id)
        reason = ", ".join(f"{k} {getattr(item, k)} → {v}" for k, v in changes.items())
        ledger = sla_domain.retarget(clocks, policy, now, config.calendar_for(item.community_id), reason)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        changed, more, sla_fields = self._apply(ctx, uow, item, Status(item.status), changes, if_match, now, config,
                                                clocks=clocks)
        uow.record("ticket.updated", pk=item.PK, subject=("ticket", ticket_id), subject_version=item.version + 1,
                   changes=changed, data={"visibility": "internal", "policy": policy.name})
        self._record_ledger(uow, item, ledger + more)
        uow.commit()
        self._commit_locally(item, Status(item.status), {**changes, **sla_fields}, now)
        return self.ticket_out(ctx, item, now)

    def comment(self, ctx: TenantContext, ticket_id: str, body: str, visibility: str, attachments: list[str],
                now: datetime) -> CommentOut:
        item = self._visible(ctx, ticket_id, consistent=True)
        if ctx.principal.kind == "resident":
            visibility = "public"
        if Status(item.status) in (Status.CANCELLED,) or item.merged_into:
            raise ConflictError("This ticket is closed for comments.", code="ticket_closed")
        stamp = to_rfc3339(now)
        comment_id = new_id("cmt")
        comment = CommentItem(item.PK, f"CMT#{comment_id}", comment_id=comment_id, author=ctx.actor,
                              body=body, visibility=visibility, attachments=list(dict.fromkeys(attachments)),
                              created_at=stamp)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        for index, attachment_id in enumerate(comment.attachments):
            uow.check(AttachmentItem, attachment_pk(ctx.tenant_id, attachment_id), "ATT",
                      AttachmentItem.owner_id == ctx.principal.id,
                      on_conflict=_invalid(f"attachments.{index}", "unknown_attachment", "Upload the photo first."))
        uow.put(comment)
        first_response = (ctx.principal.kind == "staff" and visibility == "public" and item.acknowledged_at is None)
        changes = {"acknowledged_at": stamp} if first_response else {}
        status = Status.ACKNOWLEDGED if first_response and item.status == Status.NEW else Status(item.status)
        reply = "public reply by staff" if ctx.principal.kind == "staff" and visibility == "public" else (
            "reply by resident" if ctx.principal.kind == "resident" else "internal note")
        changed, ledger, sla_fields = self._apply(ctx, uow, item, status, changes, None, now, reason=reply)
        uow.record("ticket.commented", pk=item.PK, subject=("ticket", ticket_id), subject_version=item.version + 1,
                   changes=changed,
                   data={"comment_id": comment.comment_id, "visibility": visibility, "first_response": first_response})
        self._record_ledger(uow, item, ledger)
        uow.commit()
        self._commit_locally(item, status, {**changes, **sla_fields}, now)
        return self._comment_out(ctx, comment)

    def auto_close_due(self, now: datetime, lookback_hours: int = 72) -> int:
        """Close resolved tickets the resident did not confirm within the tenant's window (scheduled)."""
        closed = 0
        until = to_rfc3339(now)
        for hours_ago in range(lookback_hours, -1, -1):
            due_bucket = f"DUE#{now - timedelta(hours=hours_ago):%Y%m%d%H}"
            for tenant_id, ticket_id in self.repo.due_in_bucket(due_bucket, until):
                ctx = TenantContext(tenant_id, Principal("system", "auto-close"))
                try:
                    self.act(ctx, ticket_id, Action.AUTO_CLOSE, ActionIn(), None, now)
                    closed += 1
                except LinliError as exc:  # closed or reopened meanwhile: nothing to do
                    logger.info("auto-close skipped", extra={"ticket_id": ticket_id, "reason": exc.code})
        return closed

    def sla_check(self, tenant_id: str, ticket_id: str, now: datetime) -> list[dict[str, Any]]:
        """Record every SLA mark due now on one ticket, each exactly once (conditional mark items)."""
        ctx = TenantContext(tenant_id, Principal("system", "sla"))
        for attempt in range(4):
            item = self.repo.get(ctx, ticket_id, consistent=True)
            if item is None or Status(item.status) not in domain.OPEN:
                return []
            clocks = copy.deepcopy(item.sla or {})
            marks = sla_domain.due_marks(clocks, now)
            if not marks:
                return []
            uow = UnitOfWork(tenant_id, ctx.actor, now)
            entries = []
            for clock, mark, step in marks:
                cycle = clocks[clock]["cycle"]
                uow.put(SlaMarkItem(item.PK, f"SLA#{clock}#{cycle}#{mark}#{step}", recorded_at=to_rfc3339(now)),
                        condition=SlaMarkItem.PK.does_not_exist(), on_conflict=_MarkRecorded())
                entries.append(sla_domain.record(clocks, clock, mark, step, now))
            breach_due = min((c["due_at"] for c in clocks.values() if c["state"] == "running" and c.get("due_at")),
                             default=None)
            actions = [TicketItem.sla.set(clocks), TicketItem.sla_state.set(sla_state(clocks) or "met"),
                       TicketItem.version.set(item.version + 1), TicketItem.updated_at.set(to_rfc3339(now))]
            upcoming = sla_domain.next_due(clocks)
            if upcoming:
                due = sla_due_keys(tenant_id, ticket_id, upcoming)
                actions += [TicketItem.due_bucket.set(due["due_bucket"]), TicketItem.due_at.set(due["due_at"])]
            else:
                actions += [TicketItem.due_bucket.remove(), TicketItem.due_at.remove()]
            for name, value in index_keys(tenant_id, ticket_id=ticket_id, status=Status(item.status),
                                          priority=item.priority, created_at=item.created_at,
                                          resident_id=item.resident_id, assignee_id=item.assignee_id,
                                          grab_team=item.grab_team, sla_due=breach_due).items():
                attribute = getattr(TicketItem, name)
                actions.append(attribute.remove() if value is None else attribute.set(value))
            uow.update(item, actions, condition=TicketItem.version == item.version,
                       on_conflict=ConflictError(code="write_conflict"))
            self._record_ledger(uow, item, entries)
            try:
                uow.commit()
            except _MarkRecorded:
                continue  # another sweep or a redelivered message recorded it: re-read and see
            except ConflictError as exc:
                if exc.code != "write_conflict" or attempt == 3:
                    raise
                continue
            self._notify_escalations(tenant_id, item, entries)
            return entries
        return []

    def _notify_escalations(self, tenant_id: str, item: TicketItem, entries: list[dict[str, Any]]) -> None:
        if self.notify is None:
            return
        for entry in entries:
            if entry["type"] != "sla.escalated":
                continue
            self.notify(tenant_id, item, entry)

    def presign_attachment(self, ctx: TenantContext, cmd: AttachmentIn, now: datetime) -> AttachmentUploadOut:
        attachment_id = new_id("att")
        key = object_key(ctx.tenant_id, attachment_id)
        item = AttachmentItem(attachment_pk(ctx.tenant_id, attachment_id), "ATT", attachment_id=attachment_id,
                              owner_id=ctx.principal.id, content_type=cmd.content_type, size=cmd.size, key=key,
                              created_at=to_rfc3339(now))
        item.save(condition=AttachmentItem.PK.does_not_exist())
        upload = self.store.presign_upload(key, cmd.content_type, cmd.size)
        return AttachmentUploadOut(id=attachment_id, url=upload["url"], fields=upload["fields"], expires_in=600)

    # --- helpers ----------------------------------------------------------------------------------------
    def _apply(self, ctx: TenantContext, uow: UnitOfWork, item: TicketItem, status: Status, changes: dict[str, Any],
               if_match: int | None, now: datetime, config: TenantConfig | None = None,
               reason: str = "", clocks: dict[str, Any] | None = None,
               ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
        """Queue the ticket's version-checked update for these changes, with its SLA clocks moved along.

        Returns the changed fields (before/after), the SLA ledger entries to record as events, and
        the new SLA fields (to apply locally after the commit).
        """
        config = config or self.tenants.config(ctx.tenant_id)
        clocks = copy.deepcopy(item.sla or {} if clocks is None else clocks)
        ledger = self._move_clocks(config, item, clocks, status, changes, now, reason)
        changes = {**changes, "sla": clocks, "sla_state": sla_state(clocks)}
        actions = []
        diff: dict[str, tuple[Any, Any]] = {}
        for name, value in changes.items():
            if name == "return_visit":
                visits = list(item.return_visits or []) + [value]
                actions.append(TicketItem.return_visits.set(visits))
                diff["return_visits"] = (len(item.return_visits or []), len(visits))
                continue
            attribute = getattr(TicketItem, name)
            before = getattr(item, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
            if before != value and name not in ("sla", "sla_state"):
                diff[name] = (before, value)
        if status.value != item.status:
            diff["status"] = (item.status, status.value)
            actions.append(TicketItem.status.set(status.value))
        upcoming = sla_domain.next_due(clocks) if status in domain.OPEN else None
        breach_due = min((c["due_at"] for c in clocks.values() if c["state"] == "running" and c.get("due_at")),
                         default=None)
        assignee = changes.get("assignee_id", item.assignee_id)
        grab_team = changes.get("grab_team", item.grab_team)
        for name, value in index_keys(ctx.tenant_id, ticket_id=item.ticket_id, status=status, priority=changes.get(
                "priority", item.priority), created_at=item.created_at, resident_id=item.resident_id,
                assignee_id=assignee, grab_team=grab_team, sla_due=breach_due).items():
            attribute = getattr(TicketItem, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        due: dict[str, str] | None = None
        if upcoming is not None:
            due = sla_due_keys(ctx.tenant_id, item.ticket_id, upcoming)
        elif status == Status.RESOLVED:
            due = due_keys(ctx.tenant_id, item.ticket_id,
                           now + timedelta(days=config.ticket_settings.auto_close_days))
        if due:
            actions += [TicketItem.due_bucket.set(due["due_bucket"]), TicketItem.due_at.set(due["due_at"])]
        elif item.due_bucket:
            actions += [TicketItem.due_bucket.remove(), TicketItem.due_at.remove()]
        actions += [TicketItem.updated_at.set(to_rfc3339(now)), TicketItem.version.set(item.version + 1)]
        conflict = PreconditionFailedError() if if_match is not None else ConflictError(
            "The ticket changed while you were acting on it; reload and retry.", code="write_conflict")
        uow.update(item, actions, condition=TicketItem.version == item.version, on_conflict=conflict)
        sla_fields = {"sla": clocks, "sla_state": changes["sla_state"]}
        return {name: {"before": b, "after": a} for name, (b, a) in diff.items()}, ledger, sla_fields

    @staticmethod
    def _move_clocks(config: TenantConfig, item: TicketItem, clocks: dict[str, Any], status: Status,
                     changes: dict[str, Any], now: datetime, reason: str) -> list[dict[str, Any]]:
        """SLA consequences of a change: goals met, pauses, resumes, restarts, stops."""
        calendars = config.calendar_for(item.community_id)
        before = Status(item.status)
        ledger: list[dict[str, Any]] = []
        if reason == "public reply by staff":
            ledger += sla_domain.meet(clocks, "next_reply", now, calendars, reason)
        elif reason == "reply by resident" and status in domain.OPEN:
            policy = sla_domain.match_policy(config.policies(), kind=item.kind, category=item.category,
                                             priority=item.priority, community_id=item.community_id)
            if "next_reply" in policy.targets and clocks.get("next_reply", {}).get("state") != "running":
                ledger += sla_domain.restart(clocks, policy, "next_reply", now, calendars, reason)
        if changes.get("acknowledged_at") and not item.acknowledged_at:
            ledger += sla_domain.meet(clocks, "first_response", now, calendars, reason or "first human response")
        if changes.get("arrived_at") and not item.arrived_at:
            ledger += sla_domain.meet(clocks, "on_site", now, calendars, "arrived on site")
        if status == Status.WAITING_ON_RESIDENT and before != Status.WAITING_ON_RESIDENT:
            ledger += sla_domain.pause(clocks, now, calendars, reason or "waiting on the resident")
        if before == Status.WAITING_ON_RESIDENT and status in domain.OPEN and status != before:
            ledger += sla_domain.resume(clocks, now, calendars, reason or "resident answered")
        if status == Status.RESOLVED and before != Status.RESOLVED:
            ledger += sla_domain.meet(clocks, "resolution", now, calendars, "resolved")
            ledger += sla_domain.stop(clocks, now, calendars, "resolved")
        if status in domain.OPEN and before in (Status.RESOLVED, Status.CLOSED):
            policy = sla_domain.match_policy(config.policies(), kind=item.kind, category=item.category,
                                             priority=item.priority, community_id=item.community_id)
            ledger += sla_domain.restart(clocks, policy, "resolution", now, calendars, "reopened")
        if status in (Status.CLOSED, Status.CANCELLED) and before in domain.OPEN:
            ledger += sla_domain.stop(clocks, now, calendars, status.value)
        return ledger

    @staticmethod
    def _record_ledger(uow: UnitOfWork, item: TicketItem, ledger: list[dict[str, Any]]) -> None:
        for entry in ledger:
            uow.record(entry["type"], pk=item.PK, subject=("ticket", item.ticket_id),
                       data={**{k: v for k, v in entry.items() if k != "type"}, "visibility": "internal"})

    @staticmethod
    def _commit_locally(item: TicketItem, status: Status, changes: dict[str, Any], now: datetime) -> None:
        for name, value in changes.items():
            if name == "return_visit":
                item.return_visits = list(item.return_visits or []) + [value]
            else:
                setattr(item, name, value)
        item.status, item.updated_at, item.version = status.value, to_rfc3339(now), item.version + 1

    def _visible(self, ctx: TenantContext, ticket_id: str, *, consistent: bool = False) -> TicketItem:
        """The ticket if this caller may see it; otherwise 404, exactly like a missing one."""
        item = self.repo.get(ctx, ticket_id, consistent=consistent)
        if item is None:
            raise NotFoundError()
        principal = ctx.principal
        if principal.kind == "resident" and item.resident_id != principal.id:
            raise NotFoundError()
        in_pool = bool(item.grab_team and item.assignee_id is None
                       and principal.id in self._team_members(ctx, item.grab_team))
        if principal.role == Role.TECHNICIAN and item.assignee_id != principal.id and not in_pool:
            raise NotFoundError()
        return item

    def _team_members(self, ctx: TenantContext, team_id: str) -> set[str]:
        team = self.tenants.config(ctx.tenant_id).team(team_id)
        return {m.user_id for m in team.members} if team else set()

    def ticket_out(self, ctx: TenantContext, item: TicketItem, now: datetime) -> TicketOut:
        resident = ctx.principal.kind == "resident"
        config: TenantConfig = self.tenants.config(ctx.tenant_id)
        policy = domain.Policy(config.ticket_settings.reopen_window_days, config.ticket_settings.rating_window_days,
                               config.ticket_settings.low_rating_action)
        return TicketOut(
            id=item.ticket_id, number=item.number, kind=item.kind, category=item.category, priority=item.priority,
            status=Status(item.status), description=item.description, channel=item.channel,
            resident_id=item.resident_id, resident_name=None if resident else item.resident_name,
            location=item.location, preferred_visit=item.preferred_visit,
            attachments=[self._attachment_out(ctx, a) for a in item.attachments or []],
            assignee_id=item.assignee_id, grab_team=None if resident else item.grab_team, quote=item.quote,
            resolution=item.resolution, rating=item.rating, flagged=None if resident else item.flagged,
            return_visits=[] if resident else list(item.return_visits or []), acknowledged_at=item.acknowledged_at,
            arrived_at=item.arrived_at, resolved_at=item.resolved_at, closed_at=item.closed_at,
            cancelled_at=item.cancelled_at, cancel_reason=item.cancel_reason, merged_into=item.merged_into,
            possible_duplicate_of=None if resident else item.possible_duplicate_of,
            reopen_count=item.reopen_count or 0, created_by=item.created_by, created_at=item.created_at,
            updated_at=item.updated_at, version=item.version, sla_state=item.sla_state,
            sla=sla_domain.view(item.sla or {}, now),
            allowed_actions=domain.allowed_actions(state_of(item), actor_of(ctx), now, policy))

    def _attachment_out(self, ctx: TenantContext, attachment_id: str) -> AttachmentOut:
        return AttachmentOut(id=attachment_id,
                             url=self.store.presign_download(object_key(ctx.tenant_id, attachment_id)))

    def _comment_out(self, ctx: TenantContext, comment: CommentItem) -> CommentOut:
        return CommentOut(id=comment.comment_id, author=comment.author, body=comment.body,
                          visibility=comment.visibility, created_at=comment.created_at,
                          attachments=[self._attachment_out(ctx, a) for a in comment.attachments or []])

