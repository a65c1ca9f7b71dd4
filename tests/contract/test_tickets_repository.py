"""One contract, two repositories: the in-memory fake and DynamoDB (moto) answer every question alike.

The ``memory`` half runs in ``make test-fast``; the ``dynamodb`` half needs the embedded emulator.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, PreconditionFailedError, RateLimitedError, ValidationFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import Role, permissions_for
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.sla import domain as sla
from chalicelib.sla.calendar import BusinessCalendar
from chalicelib.sla.policies import default_policies
from chalicelib.tickets.errors import DuplicateSeenError, IdempotentReplayError, NumberTakenError, SlaMarkRecordedError
from chalicelib.tickets.ports import TicketStore
from chalicelib.tickets.records import Attachment, Comment, NewTicketGuards, QueueFilter, Ticket
from tests.contract.conftest import Backend

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@dataclass
class Subject:
    repo: TicketStore
    backend: Backend
    ctx: TenantContext

    def commit(self, stage: Callable[[Any], None], *, now: datetime = NOW, event: str | None = None,
               ticket_id: str | None = None) -> None:
        def with_event(uow: Any) -> None:
            stage(uow)
            if event:
                uow.record(event, subject=("ticket", ticket_id or ""), data={"visibility": "public"})
        self.backend.commit(self.ctx, now, with_event)


@pytest.fixture
def subject(backend: Backend) -> Subject:
    ctx = TenantContext(new_id("tnt"), Principal("resident", "res_chen"))
    if backend.store is not None:
        from tests.fakes.tickets import InMemoryTicketRepository

        return Subject(InMemoryTicketRepository(backend.store), backend, ctx)
    from chalicelib.tickets.repository import TicketRepository

    return Subject(TicketRepository(backend.cursors), backend, ctx)


def a_ticket(ctx: TenantContext, **fields: Any) -> Ticket:
    created = fields.pop("created_at", to_rfc3339(NOW))
    clocks, _ = sla.start(default_policies()[2], NOW, lambda name: BusinessCalendar.twenty_four_seven())
    values: dict[str, Any] = dict(
        ticket_id=new_id("tkt"), tenant_id=ctx.tenant_id, number=new_id("n")[-11:], kind="repair", priority="P3",
        status="new", description="厨房水管漏水", channel="h5", resident_id="res_chen",
        location={"community_id": "com_1", "unit_id": "unt_101", "label": "1栋1单元101", "building_id": "bld_1"},
        community_id="com_1", created_by={"type": "resident", "id": "res_chen", "role": None}, created_at=created,
        updated_at=created, category="水电", sla=clocks, sla_state="running")
    values.update(fields)
    return Ticket(**values)


def guards(**fields: Any) -> NewTicketGuards:
    values: dict[str, Any] = dict(idempotency_key_digest=None, request_digest="r1", duplicate_key=new_id("dup"),
                                  check_duplicate=True, daily_limit=None, local_day="20261127",
                                  duplicate_window_ends=to_rfc3339(NOW + timedelta(hours=24)))
    values.update(fields)
    return NewTicketGuards(**values)


def file(subject: Subject, ticket: Ticket, **guard_fields: Any) -> Ticket:
    subject.commit(lambda uow: subject.repo.stage_new(uow, subject.ctx, ticket, guards(**guard_fields)),
                   event="ticket.created", ticket_id=ticket.ticket_id)
    return ticket


def test_a_new_ticket_reads_back_field_for_field(subject):
    ticket = file(subject, a_ticket(subject.ctx, attachments=[], preferred_visit={"start": "x", "end": "y"}))
    assert subject.repo.get(subject.ctx, ticket.ticket_id, consistent=True) == ticket
    assert subject.repo.ticket_id_for_number(subject.ctx, ticket.number) == ticket.ticket_id
    other_tenant = TenantContext(new_id("tnt"), subject.ctx.principal)
    assert subject.repo.get(other_tenant, ticket.ticket_id) is None


def test_a_taken_number_refuses_the_whole_ticket(subject):
    first = file(subject, a_ticket(subject.ctx))
    second = a_ticket(subject.ctx, number=first.number)
    with pytest.raises(NumberTakenError):
        file(subject, second)
    assert subject.repo.get(subject.ctx, second.ticket_id) is None


def test_an_idempotency_key_answers_the_first_ticket(subject):
    first = file(subject, a_ticket(subject.ctx), idempotency_key_digest="k" * 40)
    with pytest.raises(IdempotentReplayError):
        file(subject, a_ticket(subject.ctx), idempotency_key_digest="k" * 40)
    record = subject.repo.idempotency_record(subject.ctx, "k" * 40)
    assert (record.ticket_id, record.request_digest) == (first.ticket_id, "r1")


def test_the_duplicate_marker_flags_the_second_ticket_and_can_be_overruled(subject):
    first = file(subject, a_ticket(subject.ctx), duplicate_key="same-place")
    with pytest.raises(DuplicateSeenError):
        file(subject, a_ticket(subject.ctx), duplicate_key="same-place")
    assert subject.repo.duplicate_of(subject.ctx, "same-place") == first.ticket_id
    second = file(subject, a_ticket(subject.ctx, possible_duplicate_of=first.ticket_id), duplicate_key="same-place",
                  check_duplicate=False)
    assert subject.repo.get(subject.ctx, second.ticket_id).possible_duplicate_of == first.ticket_id


def test_the_daily_limit_counts_per_resident_and_day(subject):
    file(subject, a_ticket(subject.ctx), daily_limit=1)
    with pytest.raises(RateLimitedError):
        file(subject, a_ticket(subject.ctx), daily_limit=1)
    file(subject, a_ticket(subject.ctx), daily_limit=1, local_day="20261128")


def test_photos_must_be_uploaded_by_the_one_who_references_them(subject):
    mine = Attachment(new_id("att"), "res_chen", "image/jpeg", 10, "k", to_rfc3339(NOW))
    theirs = Attachment(new_id("att"), "res_other", "image/jpeg", 10, "k", to_rfc3339(NOW))
    subject.repo.save_attachment(subject.ctx, mine)
    subject.repo.save_attachment(subject.ctx, theirs)
    file(subject, a_ticket(subject.ctx, attachments=[mine.attachment_id]))
    with pytest.raises(ValidationFailedError) as refused:
        file(subject, a_ticket(subject.ctx, attachments=[mine.attachment_id, theirs.attachment_id]))
    assert refused.value.details[0]["field"] == "attachments.1"
    check = subject.repo.stage_attachments_check
    subject.commit(lambda uow: check(uow, subject.ctx, [theirs.attachment_id], owner_id=None, field="photos",
                                     message="m"))


def test_an_update_applies_only_at_the_version_read(subject):
    ticket = file(subject, a_ticket(subject.ctx))
    after = dataclasses.replace(ticket, status="assigned", assignee_id="usr_tech", category=None, version=2)
    subject.commit(lambda uow: subject.repo.stage_update(uow, subject.ctx, ticket, after,
                                                         on_conflict=PreconditionFailedError()))
    assert subject.repo.get(subject.ctx, ticket.ticket_id, consistent=True) == after
    with pytest.raises(PreconditionFailedError):
        subject.commit(lambda uow: subject.repo.stage_update(uow, subject.ctx, ticket, after,
                                                             on_conflict=PreconditionFailedError()))


def test_queues_sort_p1_first_then_oldest_and_filter_by_field(subject):
    ctx = subject.ctx
    old = file(subject, a_ticket(ctx, created_at="2026-11-27T01:00:00.000Z"))
    urgent = file(subject, a_ticket(ctx, priority="P1", kind="emergency", created_at="2026-11-27T01:30:00.000Z"))
    newer = file(subject, a_ticket(ctx, created_at="2026-11-27T01:45:00.000Z", assignee_id="usr_tech",
                                   status="assigned"))
    done = file(subject, a_ticket(ctx, status="resolved", created_at="2026-11-27T01:50:00.000Z"))

    def ids(spec: QueueFilter) -> list[str]:
        return [t.ticket_id for t in subject.repo.queue(ctx, spec, 25, None)[0]]

    assert ids(QueueFilter()) == [urgent.ticket_id, old.ticket_id, newer.ticket_id]
    assert ids(QueueFilter(kind="emergency")) == [urgent.ticket_id]
    assert ids(QueueFilter(assignee_id="usr_tech")) == [newer.ticket_id]
    assert ids(QueueFilter(bucket="resolved")) == [done.ticket_id]
    assert ids(QueueFilter(bucket=None, resident_id="res_chen")) == [done.ticket_id, newer.ticket_id,
                                                                    urgent.ticket_id, old.ticket_id]
    first, cursor = subject.repo.queue(ctx, QueueFilter(), 2, None)
    rest, _ = subject.repo.queue(ctx, QueueFilter(), 2, cursor)
    assert [t.ticket_id for t in first + rest] == [urgent.ticket_id, old.ticket_id, newer.ticket_id]


def test_a_filtered_page_reads_at_most_twice_its_size_and_says_where_to_read_on(subject):
    """A rare kind at the far end of a long bucket: each page reads ``limit`` items, then as many more as are
    missing, and stops — short or empty, with a cursor — rather than reading the whole bucket."""
    ctx = subject.ctx
    common = [file(subject, a_ticket(ctx, created_at=f"2026-11-27T01:{m:02d}:00.000Z")) for m in range(9)]
    rare = [file(subject, a_ticket(ctx, kind="inquiry", created_at=f"2026-11-27T01:{m:02d}:00.000Z"))
            for m in (30, 31)]
    spec = QueueFilter(kind="inquiry")

    pages, cursor = [], None
    while True:
        page, cursor = subject.repo.queue(ctx, spec, 3, cursor)
        pages.append([t.ticket_id for t in page])
        if not cursor:
            break
    assert pages[0] == [] and len(pages) >= 2  # the first six read held none: an empty page, and a cursor
    assert [i for page in pages for i in page] == [t.ticket_id for t in rare]  # nothing lost, nothing twice
    assert all(len(page) <= 3 for page in pages)
    unfiltered, more = subject.repo.queue(ctx, QueueFilter(), 3, None)
    assert [t.ticket_id for t in unfiltered] == [t.ticket_id for t in common[:3]] and more
    urgent = file(subject, a_ticket(ctx, priority="P1", kind="emergency", created_at="2026-11-27T01:59:00.000Z"))
    late = file(subject, a_ticket(ctx, priority="P4", created_at="2026-11-27T01:58:00.000Z"))
    # priority starts the queues' sort keys: a key condition, so its pages are full and read nothing else
    assert [t.ticket_id for t in subject.repo.queue(ctx, QueueFilter(priority="P1"), 3, None)[0]] == [urgent.ticket_id]
    assert [t.ticket_id for t in subject.repo.queue(ctx, QueueFilter(priority="P4"), 3, None)[0]] == [late.ticket_id]
    assert len(subject.repo.queue(ctx, QueueFilter(priority="P3"), 3, None)[0]) == 3


def test_the_console_buckets_unassigned_by_resident_and_by_unit(subject):
    ctx = subject.ctx
    nobodys = file(subject, a_ticket(ctx, created_at="2026-11-27T01:00:00.000Z"))
    pooled = file(subject, a_ticket(ctx, created_at="2026-11-27T01:10:00.000Z", grab_team="plumbers"))
    taken = file(subject, a_ticket(ctx, created_at="2026-11-27T01:20:00.000Z", assignee_id="usr_tech",
                                   status="assigned"))
    done = file(subject, a_ticket(ctx, created_at="2026-11-27T01:30:00.000Z", status="resolved"))
    neighbour = file(subject, a_ticket(ctx, created_at="2026-11-27T01:40:00.000Z", resident_id="res_liu",
                                       location={"community_id": "com_1", "unit_id": "unt_202"}))
    hallway = file(subject, a_ticket(ctx, created_at="2026-11-27T01:50:00.000Z", resident_id="res_liu",
                                     location={"community_id": "com_1", "common_area": "3栋电梯厅"},
                                     assignee_id="usr_tech", status="assigned"))

    def ids(**fields: Any) -> list[str]:
        return [t.ticket_id for t in subject.repo.queue(ctx, QueueFilter(**fields), 25, None)[0]]

    assert ids(unassigned=True) == [nobodys.ticket_id, pooled.ticket_id, neighbour.ticket_id]
    assert ids(unassigned=True, pool="plumbers") == [pooled.ticket_id]
    assert ids(bucket="resolved", unassigned=True) == [done.ticket_id]
    # a resident's tickets: newest first, every bucket or the one asked for, the owner filters applied
    assert ids(bucket=None, resident_id="res_chen") == [done.ticket_id, taken.ticket_id, pooled.ticket_id,
                                                        nobodys.ticket_id]
    assert ids(bucket="open", resident_id="res_chen") == [taken.ticket_id, pooled.ticket_id, nobodys.ticket_id]
    assert ids(bucket="resolved", resident_id="res_chen") == [done.ticket_id]
    assert ids(bucket=None, resident_id="res_liu", assignee_id="usr_tech") == [hallway.ticket_id]
    assert ids(bucket=None, resident_id="res_liu", unassigned=True) == [neighbour.ticket_id]
    assert ids(bucket=None, resident_id="res_nobody") == []
    # a unit's tickets, in any list
    assert ids(unit_id="unt_202") == [neighbour.ticket_id]
    assert ids(unit_id="unt_101", assignee_id="usr_tech") == [taken.ticket_id]
    assert ids(bucket=None, resident_id="res_liu", unit_id="unt_202") == [neighbour.ticket_id]
    # another tenant's resident id names nobody here
    theirs_ctx = TenantContext(new_id("tnt"), ctx.principal)
    assert subject.repo.queue(theirs_ctx, QueueFilter(bucket=None, resident_id="res_chen"), 25, None)[0] == []


def load_of(subject: Subject, *user_ids: str) -> list[int]:
    counts = subject.repo.open_load(subject.ctx, list(user_ids))
    return [counts[u] for u in user_ids]


def move(subject: Subject, ticket: Ticket, **changes: Any) -> Ticket:
    """Change a ticket as a service does (from the record as read back) and read it back."""
    after = dataclasses.replace(ticket, **changes, version=ticket.version + 1)
    subject.commit(lambda uow: subject.repo.stage_update(uow, subject.ctx, ticket, after,
                                                         on_conflict=PreconditionFailedError()))
    return subject.repo.get(subject.ctx, ticket.ticket_id, consistent=True)


def test_open_load_follows_tickets_onto_and_off_their_assignees(subject):
    assert load_of(subject, "usr_a", "usr_b") == [0, 0]
    filed = file(subject, a_ticket(subject.ctx, status="assigned", assignee_id="usr_a"))  # dispatched on filing
    file(subject, a_ticket(subject.ctx, status="assigned", assignee_id="usr_a"))
    assert load_of(subject, "usr_a", "usr_b") == [2, 0]
    filed = subject.repo.get(subject.ctx, filed.ticket_id, consistent=True)
    assert filed.load_owner == "usr_a"

    moved = move(subject, filed, assignee_id="usr_b")                      # transfer: −1 / +1
    assert load_of(subject, "usr_a", "usr_b") == [1, 1]
    waiting = move(subject, moved, status="waiting_on_resident")          # still open: no move
    assert load_of(subject, "usr_b") == [1]
    resolved = move(subject, waiting, status="resolved")                  # leaves the open set
    assert load_of(subject, "usr_a", "usr_b") == [1, 0] and resolved.load_owner is None
    move(subject, resolved, status="assigned")                            # reopened: back on usr_b
    assert load_of(subject, "usr_b") == [1]
    # a retry of a change already made (the version read is gone) moves nothing
    with pytest.raises(PreconditionFailedError):
        move(subject, resolved, status="assigned")
    assert load_of(subject, "usr_a", "usr_b") == [1, 1]
    # another tenant's counters are its own
    assert subject.repo.open_load(TenantContext(new_id("tnt"), subject.ctx.principal), ["usr_a"]) == {"usr_a": 0}


def test_a_ticket_counted_before_the_counters_never_drives_one_below_zero(subject):
    legacy = file(subject, a_ticket(subject.ctx))                         # nobody's: counted nowhere
    handed = move(subject, subject.repo.get(subject.ctx, legacy.ticket_id, consistent=True), status="assigned",
                  assignee_id="usr_a")
    assert load_of(subject, "usr_a") == [1]
    counted_nowhere = dataclasses.replace(handed, load_owner=None)        # as a ticket stored before the counters
    subject.commit(lambda uow: subject.repo.stage_update(
        uow, subject.ctx, counted_nowhere, dataclasses.replace(handed, status="resolved", version=handed.version + 1),
        on_conflict=PreconditionFailedError()))
    assert load_of(subject, "usr_a") == [1]                               # nothing taken that was not given
    stale = dataclasses.replace(counted_nowhere, status="assigned", load_owner="usr_b", version=handed.version + 1)
    with pytest.raises(ConflictError) as out_of_step:                     # usr_b's counter is at 0: refused
        subject.commit(lambda uow: subject.repo.stage_update(
            uow, subject.ctx, stale, dataclasses.replace(stale, status="resolved", version=stale.version + 1),
            on_conflict=PreconditionFailedError()))
    assert out_of_step.value.code == "load_out_of_step"
    assert load_of(subject, "usr_a", "usr_b") == [1, 0]


def test_at_risk_lists_running_clocks_by_the_next_breach(subject):
    later = file(subject, a_ticket(subject.ctx))
    sooner_clocks = {name: {**clock, "due_at": "2026-11-27T02:05:00.000Z"} for name, clock in later.sla.items()}
    sooner = file(subject, a_ticket(subject.ctx, sla=sooner_clocks))
    paused = {name: {**clock, "state": "paused"} for name, clock in later.sla.items()}
    file(subject, a_ticket(subject.ctx, sla=paused))
    assert [t.ticket_id for t in subject.repo.at_risk(subject.ctx, 25, None)[0]] == [sooner.ticket_id,
                                                                                     later.ticket_id]


def a_flag(at: str, **fields: Any) -> dict[str, Any]:
    return {"reason": "low_rating", "at": at, **fields}


def test_the_follow_up_list_holds_flagged_tickets_not_yet_visited_newest_flag_first(subject):
    ctx = subject.ctx
    older = file(subject, a_ticket(ctx, status="closed", assignee_id="usr_tech",
                                   flagged=a_flag("2026-11-27T03:00:00.000Z")))
    newer = file(subject, a_ticket(ctx, status="resolved", kind="complaint",
                                   flagged=a_flag("2026-11-27T05:00:00.000Z")))
    file(subject, a_ticket(ctx, status="closed", flagged=a_flag("2026-11-27T04:00:00.000Z",
                                                                  followed_up_at="2026-11-27T06:00:00.000Z")))
    reopened = file(subject, a_ticket(ctx, status="assigned", assignee_id="usr_tech",
                                      flagged=a_flag("2026-11-27T04:30:00.000Z")))
    file(subject, a_ticket(ctx, status="closed"))

    def ids(spec: QueueFilter, limit: int = 25, cursor: str | None = None) -> list[str]:
        return [t.ticket_id for t in subject.repo.queue(ctx, spec, limit, cursor)[0]]

    assert ids(QueueFilter(bucket="flagged")) == [newer.ticket_id, older.ticket_id]
    assert ids(QueueFilter(bucket="flagged", kind="complaint")) == [newer.ticket_id]
    assert ids(QueueFilter(bucket="flagged", assignee_id="usr_tech")) == [older.ticket_id]
    first, cursor = subject.repo.queue(ctx, QueueFilter(bucket="flagged"), 1, None)
    assert [t.ticket_id for t in first] == [newer.ticket_id] and cursor
    assert ids(QueueFilter(bucket="flagged"), 1, cursor) == [older.ticket_id]
    # an open ticket is never on the follow-up list, and a flagged one never on the at-risk view
    assert [t.ticket_id for t in subject.repo.at_risk(ctx, 25, None)[0]] == [reopened.ticket_id]

    visited = dataclasses.replace(older, flagged={**older.flagged, "followed_up_at": "2026-11-27T07:00:00.000Z"},
                                  version=2)
    subject.commit(lambda uow: subject.repo.stage_update(uow, ctx, older, visited,
                                                         on_conflict=PreconditionFailedError()))
    assert ids(QueueFilter(bucket="flagged")) == [newer.ticket_id]
    assert subject.repo.get(ctx, older.ticket_id, consistent=True).flagged == visited.flagged


def test_another_tenants_flagged_tickets_never_appear(subject):
    mine = file(subject, a_ticket(subject.ctx, status="closed", flagged=a_flag("2026-11-27T03:00:00.000Z")))
    theirs_ctx = TenantContext(new_id("tnt"), subject.ctx.principal)
    theirs = Subject(subject.repo, subject.backend, theirs_ctx)
    file(theirs, a_ticket(theirs_ctx, status="closed", flagged=a_flag("2026-11-27T04:00:00.000Z")))
    assert [t.ticket_id for t in subject.repo.queue(subject.ctx, QueueFilter(bucket="flagged"), 25, None)[0]] == [
        mine.ticket_id]
    assert len(subject.repo.queue(theirs_ctx, QueueFilter(bucket="flagged"), 25, None)[0]) == 1
    assert subject.repo.queue(TenantContext(new_id("tnt"), subject.ctx.principal), QueueFilter(bucket="flagged"),
                              25, None)[0] == []


def test_comments_and_the_timeline_belong_to_their_ticket(subject):
    ticket = file(subject, a_ticket(subject.ctx))
    note = Comment(new_id("cmt"), ticket.ticket_id, {"type": "staff", "id": "usr_a", "role": "agent"}, "内部备注",
                   "internal", to_rfc3339(NOW), ["att_1"])
    subject.commit(lambda uow: subject.repo.stage_comment(uow, subject.ctx, note), event="ticket.commented",
                   ticket_id=ticket.ticket_id, now=NOW + timedelta(seconds=1))
    assert subject.repo.comments(subject.ctx, ticket.ticket_id) == [note]
    assert [e["type"] for e in subject.repo.timeline(subject.ctx, ticket.ticket_id)] == ["ticket.created",
                                                                                         "ticket.commented"]


def test_an_sla_mark_is_recorded_once(subject):
    ticket = file(subject, a_ticket(subject.ctx))
    mark = "first_response#1#breached#0"
    subject.commit(lambda uow: subject.repo.stage_sla_mark(uow, subject.ctx, ticket.ticket_id, mark, NOW))
    with pytest.raises(SlaMarkRecordedError):
        subject.commit(lambda uow: subject.repo.stage_sla_mark(uow, subject.ctx, ticket.ticket_id, mark, NOW))


def test_merge_target_must_exist(subject):
    ticket = file(subject, a_ticket(subject.ctx))
    exists = subject.repo.stage_ticket_exists_check
    subject.commit(lambda uow: exists(uow, subject.ctx, ticket.ticket_id, on_conflict=ConflictError()))
    with pytest.raises(ConflictError):
        subject.commit(lambda uow: exists(uow, subject.ctx, "tkt_missing", on_conflict=ConflictError()))


def test_the_due_index_holds_the_next_sla_mark_and_the_auto_close(subject):
    ticket = file(subject, a_ticket(subject.ctx))
    warn_at = ticket.sla["first_response"]["warn_due_at"]  # 02:11:15
    found, _ = subject.repo.sla_due("SLA#202611270211", "2026-11-27T02:20:00.000Z")
    assert (subject.ctx.tenant_id, ticket.ticket_id, warn_at) in found
    resolved = dataclasses.replace(ticket, status="resolved", sla={}, version=2,
                                   auto_close_at="2026-11-30T02:00:00.000Z")
    subject.commit(lambda uow: subject.repo.stage_update(uow, subject.ctx, ticket, resolved,
                                                         on_conflict=ConflictError()))
    assert (subject.ctx.tenant_id, ticket.ticket_id) in subject.repo.auto_close_due("DUE#2026113002",
                                                                                   "2026-11-30T03:00:00.000Z")
    assert subject.repo.get(subject.ctx, ticket.ticket_id, consistent=True).auto_close_at == resolved.auto_close_at


def test_round_robin_positions_count_up_per_team(subject):
    staff_ctx = TenantContext(subject.ctx.tenant_id, Principal("staff", "usr_a", Role.AGENT,
                                                               permissions_for(Role.AGENT)))
    assert [subject.repo.next_round_robin_position(staff_ctx, "plumbers") for _ in range(3)] == [0, 1, 2]
    assert subject.repo.next_round_robin_position(staff_ctx, "electricians") == 0


def test_ticket_numbers_are_reserved_in_blocks_per_tenant_and_day(subject):
    repo = subject.repo
    tenant = subject.ctx.tenant_id
    assert [repo.reserve_numbers(tenant, "261128", 20), repo.reserve_numbers(tenant, "261128", 20)] == [20, 40]
    assert repo.reserve_numbers(tenant, "261129", 20) == 20  # a new day starts again
    assert repo.reserve_numbers("tnt_other", "261128", 5) == 5  # and so does another tenant
