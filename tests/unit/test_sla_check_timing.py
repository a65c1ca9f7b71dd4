"""When SLA checks arrive: on the second their mark falls due, never before it is recorded."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.sla.sweep import SlaSweep, handle_check

NOW = datetime(2026, 11, 27, 8, 0, 10, 400000, tzinfo=timezone.utc)


class DueIndex:
    def __init__(self, due: list[tuple[str, str, str]]) -> None:
        self.due = due

    def sla_due(self, due_bucket: str, until: str) -> tuple[list[tuple[str, str, str]], int]:
        found = [d for d in self.due if f"SLA#{d[2][:16].replace('-', '').replace('T', '').replace(':', '')}"
                 == due_bucket and d[2] <= until]
        return found, len(found)


class Bookmark:
    def __init__(self) -> None:
        self.saved: datetime | None = None

    def last_minute(self) -> datetime | None:
        return None

    def save_last_minute(self, minute: datetime) -> None:
        self.saved = minute


def test_a_check_is_delayed_to_the_whole_second_its_mark_falls_due_with_no_slack():
    due_at = to_rfc3339(NOW + timedelta(seconds=19.2))  # 19.2 s away: 20 s is the first whole second at or after
    sent: list[tuple[dict, int]] = []
    SlaSweep(DueIndex([("tnt_a", "tkt_1", due_at)]), Bookmark(), lambda body, delay: sent.append((body, delay))
             ).run(NOW)
    assert sent == [({"type": "sla_check", "tenant_id": "tnt_a", "ticket_id": "tkt_1", "due_at": due_at}, 20)]


def test_a_check_already_due_is_sent_at_once():
    due_at = to_rfc3339(NOW - timedelta(minutes=2))
    sent: list[tuple[dict, int]] = []
    SlaSweep(DueIndex([("tnt_a", "tkt_1", due_at)]), Bookmark(), lambda body, delay: sent.append((body, delay))
             ).run(NOW)
    assert [delay for _, delay in sent] == [0]


def test_a_check_that_arrives_early_waits_again_for_the_rest_and_checks_nothing_yet():
    body = {"type": "sla_check", "tenant_id": "tnt_a", "ticket_id": "tkt_1",
            "due_at": to_rfc3339(NOW + timedelta(seconds=0.3))}
    checked: list[tuple] = []
    again: list[tuple[dict, int]] = []
    result = handle_check(body, lambda *args: checked.append(args) or [{"type": "sla.breached"}], NOW,
                          lambda b, delay: again.append((b, delay)))
    assert result == [] and checked == [] and again == [(body, 1)]


def _never_again(body: dict, delay: int) -> None:
    raise AssertionError("re-queued")


@pytest.mark.parametrize("late", [0, 3])
def test_a_check_on_time_or_late_is_handed_to_the_ticket_context(late):
    body = {"type": "sla_check", "tenant_id": "tnt_a", "ticket_id": "tkt_1",
            "due_at": to_rfc3339(NOW - timedelta(seconds=late))}
    checked: list[tuple] = []
    result = handle_check(body, lambda *args: checked.append(args) or [{"type": "sla.breached"}], NOW, _never_again)
    assert result == [{"type": "sla.breached"}] and checked == [("tnt_a", "tkt_1", NOW)]


def test_other_messages_on_the_sla_queue_are_dropped():
    assert handle_check({"type": "something"}, lambda *a: [{"x": 1}], NOW, lambda b, d: None) == []
