"""The notifications' repositories — the inbox, the delivery claims and the quiet-hours holds — one contract for the
in-memory fakes and DynamoDB (moto): the fakes cannot drift."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.core.errors import ConflictError
from chalicelib.core.ids import new_id
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.notifications.domain import Claim, InboxNotification, Preferences, notification_for
from chalicelib.notifications.holds import Hold, HoldStore, hold_bucket
from chalicelib.notifications.ports import ClaimStore, InboxStore
from tests.contract.conftest import Backend
from tests.fakes.notifications import InMemoryClaimRepository, InMemoryHoldStore, InMemoryInboxRepository

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
STAMP = "2026-11-27T04:00:00.000Z"


class _DuplicateError(ConflictError):
    pass


class _ReadError(ConflictError):
    pass


@dataclass
class Harness:
    inbox: InboxStore
    claims: ClaimStore
    backend: Backend
    ctx: TenantContext

    def commit(self, *stage: Callable[[Any], None]) -> None:
        self.backend.commit(self.ctx, NOW, *stage)

    def file(self, person_id: str, note: InboxNotification) -> None:
        self.commit(lambda uow: self.inbox.stage_file(uow, self.ctx, person_id, note, on_conflict=_DuplicateError()))


@pytest.fixture
def repos(backend: Backend) -> Harness:
    ctx = TenantContext(new_id("tnt"), Principal("system", "notifications"))
    if backend.store is not None:
        return Harness(InMemoryInboxRepository(backend.store), InMemoryClaimRepository(backend.store), backend, ctx)
    from chalicelib.notifications.repository import ClaimRepository, InboxRepository

    return Harness(InboxRepository(backend.cursors), ClaimRepository(), backend, ctx)


def note(n: int, event_type: str = "ticket.resolved") -> InboxNotification:
    event = {"id": f"evt_0000000{n:03d}", "type": event_type, "subject": {"type": "ticket", "id": f"tkt_{n}"}}
    return notification_for(event, f"2611270000{n}", f"工单{n}已处理完成", STAMP)


# --- the inbox ----------------------------------------------------------------------------------------------
def test_a_filed_notification_counts_unread_and_comes_back_as_filed(repos):
    repos.file("res_1", note(1))
    page = repos.inbox.page(repos.ctx, "res_1", 10, None, False)
    assert page.items == [note(1)] and page.unread_count == 1 and page.next_cursor is None
    assert repos.inbox.unread_count(repos.ctx, "res_1") == 1
    assert repos.inbox.get(repos.ctx, "res_1", "ntf_0000000001") == note(1)
    assert repos.inbox.page(repos.ctx, "res_2", 10, None, False).items == []  # nobody else's


def test_filing_the_same_event_twice_is_refused_as_a_whole(repos):
    repos.file("res_1", note(1))
    with pytest.raises(_DuplicateError):
        repos.file("res_1", note(1))
    assert repos.inbox.unread_count(repos.ctx, "res_1") == 1


def test_an_empty_inbox_has_a_count_of_zero_on_its_first_page(repos):
    page = repos.inbox.page(repos.ctx, "res_1", 10, None, False)
    assert page.items == [] and page.unread_count == 0
    assert repos.inbox.unread_count(repos.ctx, "res_1") == 0
    assert repos.inbox.get(repos.ctx, "res_1", "ntf_nope") is None


def test_pages_run_newest_first_and_only_the_first_carries_the_count(repos):
    for n in range(1, 6):
        repos.file("res_1", note(n))
    repos.commit(lambda uow: repos.inbox.stage_preferences(uow, repos.ctx, "res_1", Preferences(), NOW))
    first = repos.inbox.page(repos.ctx, "res_1", 2, None, False)
    assert [i.event_id for i in first.items] == ["evt_0000000005", "evt_0000000004"] and first.unread_count == 5
    second = repos.inbox.page(repos.ctx, "res_1", 2, first.next_cursor, False)
    assert [i.event_id for i in second.items] == ["evt_0000000003", "evt_0000000002"]
    assert second.unread_count is None and second.next_cursor
    third = repos.inbox.page(repos.ctx, "res_1", 2, second.next_cursor, False)
    assert [i.event_id for i in third.items] == ["evt_0000000001"] and third.next_cursor is None


def test_marking_read_counts_off_sets_the_expiry_and_refuses_what_was_read_meanwhile(repos):
    for n in (1, 2, 3):
        repos.file("res_1", note(n))
    assert [n.event_id for n in repos.inbox.unread(repos.ctx, "res_1")] == [
        "evt_0000000001", "evt_0000000002", "evt_0000000003"]
    repos.commit(lambda uow: repos.inbox.stage_mark_read(uow, repos.ctx, "res_1", [note(1), note(2)], NOW,
                                                         on_conflict=_ReadError()))
    read = repos.inbox.get(repos.ctx, "res_1", "ntf_0000000001")
    assert read.read_at == STAMP and read.expires_at == int(NOW.timestamp()) + 90 * 86400
    assert repos.inbox.get(repos.ctx, "res_1", "ntf_0000000003").expires_at is None  # unread never expires
    assert repos.inbox.unread_count(repos.ctx, "res_1") == 1
    assert [n.event_id for n in repos.inbox.unread(repos.ctx, "res_1")] == ["evt_0000000003"]
    unread_page = repos.inbox.page(repos.ctx, "res_1", 10, None, True)
    assert [n.event_id for n in unread_page.items] == ["evt_0000000003"] and unread_page.unread_count == 1
    with pytest.raises(_ReadError):
        repos.commit(lambda uow: repos.inbox.stage_mark_read(uow, repos.ctx, "res_1", [note(2), note(3)], NOW,
                                                             on_conflict=_ReadError()))
    assert repos.inbox.unread_count(repos.ctx, "res_1") == 1  # nothing of the refused batch happened


def test_preferences_are_read_for_several_people_at_once(repos):
    muted = Preferences(frozenset({"sms"}), frozenset({"ticket.rated"}))
    repos.commit(lambda uow: repos.inbox.stage_preferences(uow, repos.ctx, "usr_1", muted, NOW))
    assert repos.inbox.preferences(repos.ctx, ["usr_1", "usr_2", "usr_1"]) == {"usr_1": muted}
    assert repos.inbox.preferences(repos.ctx, []) == {}
    other = TenantContext(new_id("tnt"), repos.ctx.principal)
    assert repos.inbox.preferences(other, ["usr_1"]) == {}


# --- claims ---------------------------------------------------------------------------------------------------
def claim(sent_at: str = STAMP) -> Claim:
    return Claim(f"evt_{new_id('x')}", "res_1", "sms", sent_at=sent_at)


def test_a_claim_is_taken_once_and_released_for_the_retry(repos):
    taken = claim()
    assert repos.claims.claim(repos.ctx, taken) is True
    assert repos.claims.claim(repos.ctx, taken) is False
    assert repos.claims.claim(repos.ctx, replace(taken, channel="wechat")) is True  # another channel
    repos.claims.release(repos.ctx, taken)
    assert repos.claims.claim(repos.ctx, taken) is True


def test_only_a_stale_claim_without_outcome_is_taken_over(repos):
    stale, recent, done = claim("2026-11-27T03:50:00.000Z"), claim("2026-11-27T03:59:00.000Z"), claim(
        "2026-11-27T03:00:00.000Z")
    for held in (stale, recent, done):
        assert repos.claims.claim(repos.ctx, held)
    repos.claims.record_outcome(repos.ctx, replace(done, message_id="msg_1", outcome="sent"))
    cutoff = "2026-11-27T03:55:00.000Z"
    assert repos.claims.take_over(repos.ctx, replace(stale, sent_at=STAMP), stale_before=cutoff) is True
    assert repos.claims.take_over(repos.ctx, replace(stale, sent_at=STAMP), stale_before=cutoff) is False  # ours now
    assert repos.claims.take_over(repos.ctx, replace(recent, sent_at=STAMP), stale_before=cutoff) is False
    assert repos.claims.take_over(repos.ctx, replace(done, sent_at=STAMP), stale_before=cutoff) is False


# --- quiet-hours holds ------------------------------------------------------------------------------------------
@pytest.fixture
def holds(backend: Backend) -> HoldStore:
    if backend.store is not None:
        return InMemoryHoldStore(backend.store)
    from chalicelib.notifications.repository import HoldRepository

    return HoldRepository()


def test_an_event_is_held_once_found_in_its_minute_until_due_and_let_go(holds):
    tenant_id = new_id("tnt")
    release = datetime(2031, 3, 2, 0, 0, tzinfo=timezone.utc)  # a minute no other test holds anything in
    event = {"id": new_id("evt"), "type": "ticket.acknowledged", "tenant_id": tenant_id, "data": {"note": "夜间"}}
    hold = Hold(tenant_id, event["id"], "2031-03-02T00:00:00.000Z", event)
    assert holds.hold(hold) is True
    assert holds.hold(hold) is False  # delivered twice: held once
    later = Hold(tenant_id, new_id("evt"), "2031-03-02T00:00:40.000Z", {"id": "x", "type": "ticket.closed"})
    holds.hold(later)

    bucket = hold_bucket(release)
    found, read = holds.due(bucket, "2031-03-02T00:00:30.000Z")
    assert found == [hold] and read >= 1  # due up to the given moment only, the event as it was held
    assert holds.due(bucket, "2031-03-02T00:15:00.000Z")[0] == [hold, later]
    assert holds.due(hold_bucket(datetime(2031, 3, 2, 0, 1, tzinfo=timezone.utc)), "2031-03-02T01:00:00.000Z")[0] == []

    holds.release(hold)
    assert holds.due(bucket, "2031-03-02T00:15:00.000Z")[0] == [later]
    assert holds.hold(hold) is True  # let go: the same event can be held again
