"""The inbox service on in-memory fakes: filing once, the first page with its count, marking read (one, all,
what was read meanwhile), preferences."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.core.errors import NotFoundError
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.notifications.domain import Preferences, notification_for
from chalicelib.notifications.inbox import InboxService
from tests.fakes.notifications import InMemoryInboxRepository
from tests.fakes.storage import MemoryStore

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
STAMP = "2026-11-27T04:00:00.000Z"
RESIDENT = TenantContext("tnt_1", Principal("resident", "res_1"))
SYSTEM = TenantContext("tnt_1", Principal("system", "notifications"))


@pytest.fixture
def world():
    store = MemoryStore()
    repo = InMemoryInboxRepository(store)
    return store, repo, InboxService(repo, store.unit_of_work)


def filed(inbox: InboxService, *numbers: int) -> list[str]:
    ids = []
    for n in numbers:
        event = {"id": f"evt_00000{n}", "type": "ticket.resolved", "subject": {"type": "ticket", "id": "tkt_1"}}
        assert inbox.file(SYSTEM, "res_1", notification_for(event, "26112700001", f"通知{n}", STAMP), NOW)
        ids.append(f"ntf_00000{n}")
    return ids


def test_an_event_is_filed_once_and_counted_unread(world):
    store, _, inbox = world
    [note_id] = filed(inbox, 1)
    event = {"id": "evt_000001", "type": "ticket.resolved", "subject": {"type": "ticket", "id": "tkt_1"}}
    assert inbox.file(SYSTEM, "res_1", notification_for(event, "x", "again", STAMP), NOW) is False
    page = inbox.page(RESIDENT, "res_1", 25, None, False)
    assert [n.notification_id for n in page.items] == [note_id] and page.unread_count == 1
    assert page.items[0].body == "通知1" and inbox.unread_count(RESIDENT, "res_1") == 1
    assert store.events == [] and store.commits == 1  # the inbox records no audit events


def test_marking_one_read_counts_it_off_and_again_changes_nothing(world):
    _, repo, inbox = world
    first, _ = filed(inbox, 1, 2)
    read = inbox.mark_read(RESIDENT, "res_1", first, NOW)
    assert read.read_at == STAMP and inbox.unread_count(RESIDENT, "res_1") == 1
    assert repo.get(RESIDENT, "res_1", first).expires_at == int(NOW.timestamp()) + 90 * 86400
    assert inbox.mark_read(RESIDENT, "res_1", first, NOW).read_at == STAMP
    assert inbox.unread_count(RESIDENT, "res_1") == 1
    with pytest.raises(NotFoundError):
        inbox.mark_read(RESIDENT, "res_1", "ntf_nope", NOW)
    with pytest.raises(NotFoundError):
        inbox.mark_read(RESIDENT, "res_2", first, NOW)  # someone else's


def test_mark_all_read_marks_what_is_unread(world):
    _, _, inbox = world
    first, *_ = filed(inbox, 1, 2, 3)
    inbox.mark_read(RESIDENT, "res_1", first, NOW)
    assert inbox.mark_all_read(RESIDENT, "res_1", NOW) == 2
    assert inbox.unread_count(RESIDENT, "res_1") == 0
    assert inbox.page(RESIDENT, "res_1", 25, None, True).items == []
    assert inbox.mark_all_read(RESIDENT, "res_1", NOW) == 0


def test_mark_all_read_goes_one_by_one_when_one_was_read_meanwhile(world):
    _, repo, inbox = world
    first, _ = filed(inbox, 1, 2)
    stale = repo.unread

    def unread_then_read_one(ctx, person_id):  # noqa: ANN001, ANN202 - another device reads one meanwhile
        found = stale(ctx, person_id)
        inbox.mark_read(ctx, person_id, first, NOW)
        return found

    repo.unread = unread_then_read_one
    assert inbox.mark_all_read(RESIDENT, "res_1", NOW) == 1
    assert inbox.unread_count(RESIDENT, "res_1") == 0


def test_preferences_are_kept_per_person(world):
    _, _, inbox = world
    saved = inbox.set_preferences(RESIDENT, "res_1", ["sms", "sms"], ["ticket.rated"], NOW)
    assert saved == Preferences(frozenset({"sms"}), frozenset({"ticket.rated"}))
    assert inbox.get_preferences(RESIDENT, "res_1") == saved
    assert inbox.get_preferences(RESIDENT, "res_2") == Preferences()
    assert inbox.preferences(SYSTEM, ["res_1", "res_2"]) == {"res_1": saved}
