"""The notifications consumer on in-memory fakes: rules → people → channels, once per (event, person, channel);
quiet hours, pages (emergencies, SLA escalations), preferences, claims, provider failures, kind names."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.notifications.audience import Audience
from chalicelib.notifications.channels import DeliveryError, LocalOutbox, PermanentDeliveryError
from chalicelib.notifications.consumer import NotificationConsumer
from chalicelib.notifications.domain import Claim, Preferences
from chalicelib.notifications.holds import Hold, HoldSweep
from chalicelib.notifications.inbox import InboxService
from chalicelib.tenants.domain import TenantConfig, default_ticket_kinds
from tests.fakes.notifications import (
    BuildingRecord,
    Directory,
    InMemoryClaimRepository,
    InMemoryHoldStore,
    InMemoryInboxRepository,
    ResidentRecord,
    StaffRecord,
    TicketRecord,
    UnitRecord,
)
from tests.fakes.storage import MemoryStore

TENANT = "tnt_1"
NOON_SHANGHAI = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
MIDNIGHT_SHANGHAI = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)
CTX = TenantContext(TENANT, Principal("system", "notifications"))


class World:
    """A tenant with a supervisor on duty, one resting, an admin, a technician, a butler and a resident."""

    def __init__(self, **config: object) -> None:
        self.store, self.directory, self.outbox, self.requeued = MemoryStore(), Directory(), LocalOutbox(), []
        self.directory.configs[TENANT] = TenantConfig.model_validate({"branding": {"display_name": "翠苑物业"},
                                                                      **config})
        for user_id, role, phone, on_duty in (("usr_duty", "supervisor", "13800000001", True),
                                              ("usr_resting", "supervisor", "13800000002", False),
                                              ("usr_admin", "admin", "13800000009", True),
                                              ("usr_tech", "technician", "13800000004", True),
                                              ("usr_butler", "butler", "13800000005", True)):
            self.directory.staff[(TENANT, user_id)] = StaffRecord(user_id, role, phone, f"{user_id}@wy.test",
                                                                  on_duty=on_duty)
        self.directory.residents[(TENANT, "res_1")] = ResidentRecord("res_1", "13512345678")
        self.directory.units[(TENANT, "unt_1")] = UnitRecord("bld_1")
        self.directory.buildings[(TENANT, "cmt_1", "bld_1")] = BuildingRecord("usr_butler")
        self.inbox_repo, self.claims = InMemoryInboxRepository(self.store), InMemoryClaimRepository(self.store)
        self.holds = InMemoryHoldStore(self.store)
        self.inbox = InboxService(self.inbox_repo, self.store.unit_of_work)

    def ticket(self, kind: str = "repair", assignee_id: str | None = "usr_tech") -> TicketRecord:
        ticket = TicketRecord("tkt_1", "26112700001", kind=kind, status="acknowledged", resident_id="res_1",
                              assignee_id=assignee_id,
                              location={"community_id": "cmt_1", "unit_id": "unt_1", "label": "1栋101"})
        self.directory.tickets[(TENANT, ticket.ticket_id)] = ticket
        return ticket

    def consumer(self, outbox: object | None = None) -> NotificationConsumer:
        channel = outbox or self.outbox
        return NotificationConsumer(self.directory, self.directory, Audience(self.directory, self.directory),
                                    {"sms": channel, "wechat": channel, "email": channel}, self.inbox, self.claims,
                                    lambda body, delay: self.requeued.append((body, delay)), self.holds,
                                    fallback_kinds=default_ticket_kinds())

    def texts(self, to: str) -> list[str]:
        return [m["body"] for m in self.outbox.messages(to=to)]

    def inbox_of(self, person_id: str) -> list:
        return self.inbox.page(CTX, person_id, 50, None, False).items


def event(event_type: str, actor_id: str = "usr_agent", subject: tuple[str, str] = ("ticket", "tkt_1"),
          **data: object) -> dict:
    return {"id": f"evt_{event_type.replace('.', '')}01", "type": event_type, "tenant_id": TENANT,
            "subject": {"type": subject[0], "id": subject[1]}, "actor": {"type": "staff", "id": actor_id},
            "data": data}


def escalation(notify: str) -> dict:
    return {**event("sla.escalated", clock="first_response", notify=notify, step=1, visibility="internal"),
            "actor": {"type": "system", "id": "sla"}}


def test_a_redelivered_event_sends_one_message_per_person_and_channel():
    world = World()
    world.ticket()
    acknowledged = event("ticket.acknowledged")
    assert world.consumer().handle(acknowledged, NOON_SHANGHAI) == 2  # SMS + inbox (no WeChat bound)
    assert world.consumer().handle(acknowledged, NOON_SHANGHAI) == 0
    assert world.texts("13512345678") == ["【翠苑物业】您的工单26112700001已受理，我们会尽快为您处理。"]
    [note] = world.inbox_of("res_1")
    assert note.event_id == acknowledged["id"] and note.title == "26112700001" and note.ticket_id == "tkt_1"
    assert world.inbox.unread_count(CTX, "res_1") == 1
    assert world.claims.claims[(TENANT, acknowledged["id"], "res_1", "sms")].outcome == "sent"


@pytest.mark.parametrize(("notify", "paged"), [("supervisor", {"13800000001", "13800000002"}),
                                               ("admin", {"13800000009"}), ("assignee", {"13800000004"})])
def test_an_sla_escalation_pages_the_role_its_step_names_at_night_and_muted(notify, paged):
    world = World()
    world.ticket()
    for person in ("usr_duty", "usr_admin", "usr_tech"):
        world.inbox.set_preferences(CTX, person, ["sms"], ["sla.escalated"], NOON_SHANGHAI)
    escalated = escalation(notify)
    world.consumer().handle(escalated, MIDNIGHT_SHANGHAI)
    messages = world.outbox.messages()
    assert {m["to"] for m in messages} == paged and world.requeued == []  # urgent: nothing held
    assert {m["body"] for m in messages} == {"【翠苑物业】工单26112700001（报修）首次响应已超时，请立即处理。"}
    assert {m["template"] for m in messages} == {"sla_escalation"} and messages[0]["params"]["step"] == "1"
    for m in messages:
        person = next(s.user_id for s in world.directory.staff.values() if s.phone == m["to"])
        [note] = world.inbox_of(person)
        assert note.urgent == "true" and note.event_type == "sla.escalated"
    assert world.inbox_of("res_1") == []  # residents never hear of escalations


def test_escalations_page_even_when_the_tenants_own_rules_leave_them_out_unless_it_has_one():
    own = {"rules": [{"event": "ticket.resolved", "recipients": ["resident"], "channels": ["sms"]}]}
    world = World(notifications=own)
    world.ticket()
    world.consumer().handle(escalation("admin"), NOON_SHANGHAI)
    assert len(world.texts("13800000009")) == 1 and len(world.inbox_of("usr_admin")) == 1
    inbox_only = {"rules": [{"event": "sla.escalated", "recipients": ["escalation"], "channels": ["inbox"]}]}
    world = World(notifications=inbox_only)
    world.ticket()
    world.consumer().handle(escalation("admin"), NOON_SHANGHAI)
    assert world.outbox.messages() == [] and len(world.inbox_of("usr_admin")) == 1


def test_only_escalation_rules_may_page_the_escalation_role():
    with pytest.raises(ValueError, match="only follows sla.escalated"):
        World(notifications={"rules": [{"event": "ticket.created", "recipients": ["escalation"],
                                        "channels": ["sms"]}]})


def test_an_escalation_to_the_assignee_of_an_unassigned_ticket_reaches_nobody():
    world = World()
    world.ticket(assignee_id=None)
    assert world.consumer().handle(escalation("assignee"), NOON_SHANGHAI) == 0
    assert world.outbox.messages() == []


def test_an_emergency_pages_the_on_duty_supervisor_at_once_even_at_night_and_muted():
    world = World()
    world.inbox.set_preferences(CTX, "usr_duty", ["sms"], [], NOON_SHANGHAI)
    world.ticket(kind="emergency")
    world.consumer().handle(event("ticket.created"), MIDNIGHT_SHANGHAI)
    [page] = world.outbox.messages(to="13800000001")
    assert "紧急工单" in page["body"] and "值班主管" in page["body"] and page["template"] == "emergency_page"
    assert world.outbox.messages(to="13800000002") == []  # off duty
    assert world.inbox_of("usr_duty")[0].urgent == "true" and world.requeued == []


def test_quiet_hours_hold_sms_once_until_the_window_ends_but_not_the_inbox():
    world = World()
    world.ticket()
    acknowledged = event("ticket.acknowledged")
    assert world.consumer().handle(acknowledged, MIDNIGHT_SHANGHAI) == 1  # the inbox
    assert world.consumer().handle(acknowledged, MIDNIGHT_SHANGHAI) == 0  # delivered twice: held once
    assert world.outbox.messages() == [] and world.requeued == []  # nothing goes back on the queue meanwhile
    assert list(world.holds.holds.values()) == [Hold(TENANT, acknowledged["id"], "2026-11-28T00:00:00.000Z",
                                                     acknowledged)]  # 08:00 in Shanghai

    sent: list[tuple[dict, int]] = []
    sweep = HoldSweep(world.holds, MemorySweepState(), lambda body, delay: sent.append((body, delay)))
    assert sweep.run(datetime(2026, 11, 27, 23, 50, tzinfo=timezone.utc)).released == 0  # not yet within a minute
    report = sweep.run(datetime(2026, 11, 27, 23, 59, 30, tzinfo=timezone.utc))
    assert report.released == 1 and sent == [(acknowledged, 30)] and world.holds.holds == {}  # to arrive at 08:00
    assert sweep.run(datetime(2026, 11, 28, 0, 0, 30, tzinfo=timezone.utc)).released == 0  # let go: once

    at_eight = datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc)
    assert world.consumer().handle(sent[0][0], at_eight) == 1  # the SMS, now
    assert world.consumer().handle(sent[0][0], at_eight) == 0  # the released event delivered twice: claimed
    assert len(world.texts("13512345678")) == 1 and len(world.inbox_of("res_1")) == 1


class MemorySweepState:
    def __init__(self) -> None:
        self.minute: datetime | None = None

    def last_minute(self) -> datetime | None:
        return self.minute

    def save_last_minute(self, minute: datetime) -> None:
        self.minute = minute


def test_messages_name_the_kind_from_the_tenants_catalogue_in_its_locale():
    kinds = [{"key": "service", "name": "上门服务", "name_en": "Home service", "default_priority": "P3"},
             {"key": "repair", "name": "维修", "name_en": "Fix", "default_priority": "P3"}]
    world = World(locale="en", ticket_kinds=kinds)
    world.ticket(kind="service")
    world.consumer().handle(event("ticket.assigned"), NOON_SHANGHAI)
    assert world.texts("13800000004") == ["[翠苑物业] Ticket 26112700001 (Home service) is assigned to you."]


def test_a_kind_the_tenant_dropped_falls_back_to_the_default_catalogue():
    kinds = [{"key": "repair", "name": "维修", "name_en": "Fix", "default_priority": "P3"}]
    world = World(ticket_kinds=kinds)
    world.ticket(kind="suggestion")
    world.consumer().handle(event("ticket.assigned"), NOON_SHANGHAI)
    assert world.texts("13800000004") == ["【翠苑物业】新工单26112700001（建议）已派给您，请及时处理。"]


def test_the_butler_of_the_units_building_hears_of_new_tickets_in_the_inbox():
    world = World()
    world.ticket()
    world.consumer().handle(event("ticket.created", actor_id="res_1"), NOON_SHANGHAI)
    [note] = world.inbox_of("usr_butler")
    assert note.body == "【翠苑物业】新报修工单26112700001（1栋101），请及时处理。"
    assert world.outbox.messages(to="13800000005") == []


def test_people_are_not_told_what_they_did_and_residents_never_hear_internal_notes():
    world = World()
    world.ticket()
    world.consumer().handle(event("ticket.commented", actor_id="usr_tech", visibility="public"), NOON_SHANGHAI)
    assert len(world.inbox_of("res_1")) == 1 and world.inbox_of("usr_tech") == []
    internal = {**event("ticket.commented", visibility="internal"), "id": "evt_internal01"}
    world.consumer().handle(internal, NOON_SHANGHAI)
    assert len(world.inbox_of("res_1")) == 1 and len(world.inbox_of("usr_tech")) == 1


def test_preferences_mute_channels_but_never_the_inbox():
    world = World()
    world.ticket()
    world.inbox.set_preferences(CTX, "res_1", ["sms"], [], NOON_SHANGHAI)
    world.consumer().handle(event("ticket.resolved"), NOON_SHANGHAI)
    assert world.outbox.messages() == [] and len(world.inbox_of("res_1")) == 1


class FlakySms(LocalOutbox):
    def __init__(self, error: Exception | None, failures: int = 1) -> None:
        super().__init__()
        self.error, self.failures = error, failures

    def send(self, message):  # noqa: ANN001, ANN201
        if self.failures:
            self.failures -= 1
            raise self.error
        return super().send(message)


def test_a_provider_failure_releases_the_claim_and_retries_with_backoff():
    world = World()
    world.ticket()
    flaky, resolved = FlakySms(DeliveryError("provider down")), event("ticket.resolved")
    assert world.consumer(flaky).handle(resolved, NOON_SHANGHAI) == 1  # the inbox went; the SMS failed
    [(retry, delay)] = world.requeued
    assert delay == 10 and retry["notify_attempt"] == 1 and world.claims.claims == {}
    assert world.consumer(flaky).handle(retry, NOON_SHANGHAI) == 1  # the SMS, and the inbox not twice
    assert len(flaky.messages(to="13512345678")) == 1 and len(world.inbox_of("res_1")) == 1


def test_a_refused_message_keeps_its_claim_and_says_why():
    world = World()
    world.ticket()
    refused, resolved = FlakySms(PermanentDeliveryError("unsubscribed")), event("ticket.resolved")
    world.consumer(refused).handle(resolved, NOON_SHANGHAI)
    assert world.claims.claims[(TENANT, resolved["id"], "res_1", "sms")].outcome == "refused: unsubscribed"
    assert world.requeued == []
    world.consumer(refused).handle(resolved, NOON_SHANGHAI)
    assert refused.messages() == []  # never again


def test_an_unexpected_failure_releases_the_claim_so_the_redelivery_sends():
    world = World()
    world.ticket()
    resolved = event("ticket.resolved")
    with pytest.raises(RuntimeError):
        world.consumer(FlakySms(RuntimeError("bug in an adapter"))).handle(resolved, NOON_SHANGHAI)
    world.consumer().handle(resolved, NOON_SHANGHAI)
    assert len(world.texts("13512345678")) == 1


def _claims_one_by_one(world: World) -> list[str]:
    """The channels of the claims taken one write each (``ClaimStore.claim``), not with the event's inbox notes."""
    taken: list[str] = []
    real = world.claims.claim
    world.claims.claim = lambda ctx, claim: taken.append(claim.channel) or real(ctx, claim)
    return taken


WECHAT = {"wechat_app_id": "wx0123456789abcdef", "notifications": {"wechat_templates": {
    "ticket.acknowledged": "TPL-ACK", "ticket.resolved": "TPL-RESOLVED"}}}


def test_an_events_first_delivery_files_its_notes_and_takes_its_claims_in_one_write_and_a_redelivery_one_by_one():
    world = World(**WECHAT)
    world.ticket()
    world.directory.residents[(TENANT, "res_1")].wechat_openid = "o_res_1"
    taken, acknowledged = _claims_one_by_one(world), event("ticket.acknowledged")
    assert world.consumer().handle(acknowledged, NOON_SHANGHAI) == 3  # SMS, WeChat and the inbox
    assert world.store.commits == 1 and taken == []  # the note, its counter and both claims: one write
    assert {k[3]: c.outcome for k, c in world.claims.claims.items()} == {"sms": "sent", "wechat": "sent"}
    assert world.consumer().handle(acknowledged, NOON_SHANGHAI) == 0  # redelivered: that write meets the note
    assert sorted(taken) == ["sms", "wechat"] and len(world.outbox.messages()) == 2
    assert world.store.commits == 1 and len(world.inbox_of("res_1")) == 1


def test_an_event_to_more_people_than_one_transaction_takes_goes_one_write_per_message():
    world = World()
    world.ticket()
    for n in range(40):  # 42 supervisors paged by SMS and inbox: 42 notes, 42 counters and 42 claims
        world.directory.staff[(TENANT, f"usr_sup{n}")] = StaffRecord(f"usr_sup{n}", "supervisor", f"1390000{n:04d}",
                                                                     f"sup{n}@wy.test")
    taken = _claims_one_by_one(world)
    assert world.consumer().handle(escalation("supervisor"), MIDNIGHT_SHANGHAI) == 84
    assert len(taken) == 42 and world.store.commits == 42  # each note its own write, each claim its own
    assert len({m["to"] for m in world.outbox.messages()}) == 42


def test_a_crash_while_sending_gives_back_every_claim_not_yet_sent_so_the_redelivery_sends_them():
    world = World(**WECHAT)
    world.ticket()
    world.directory.residents[(TENANT, "res_1")].wechat_openid = "o_res_1"
    resolved = event("ticket.resolved")
    with pytest.raises(RuntimeError):
        world.consumer(FlakySms(RuntimeError("bug in an adapter"))).handle(resolved, NOON_SHANGHAI)
    assert world.claims.claims == {}  # the SMS's claim and the WeChat message's, never tried
    assert world.consumer().handle(resolved, NOON_SHANGHAI) == 2  # both, and the inbox note not twice
    assert len(world.texts("13512345678")) == 1 and len(world.outbox.messages(to="o_res_1")) == 1
    assert len(world.inbox_of("res_1")) == 1


def test_a_batch_keeps_its_messages_outcomes_in_one_write_when_flushed_and_its_claims_stand_until_then():
    world = World(**WECHAT)
    world.ticket()
    world.directory.residents[(TENANT, "res_1")].wechat_openid = "o_res_1"
    writes: list[int] = []
    real = world.claims.record_outcomes
    world.claims.record_outcomes = lambda outcomes: writes.append(len(outcomes)) or real(outcomes)
    acknowledged, resolved = event("ticket.acknowledged"), event("ticket.resolved")
    batch = world.consumer().for_batch([acknowledged, resolved])
    assert batch.handle(acknowledged, NOON_SHANGHAI) == 3 and batch.handle(resolved, NOON_SHANGHAI) == 3
    assert {c.outcome for c in world.claims.claims.values()} == {None} and len(world.claims.claims) == 4
    assert batch.handle(acknowledged, NOON_SHANGHAI) == 0  # delivered twice in one batch: the claims stand
    batch.flush()
    assert writes == [4] and {c.outcome for c in world.claims.claims.values()} == {"sent"}
    assert all(c.message_id for c in world.claims.claims.values())
    batch.flush()
    assert writes == [4]  # nothing left to keep
    world.consumer().handle({**resolved, "id": "evt_alone"}, NOON_SHANGHAI)  # not a batch: kept at once
    assert world.claims.claims[(TENANT, "evt_alone", "res_1", "sms")].outcome == "sent" and writes == [4]


def test_a_claim_left_by_a_sender_that_died_is_taken_over_after_five_minutes():
    world = World()
    world.ticket()
    recent, stale = event("ticket.resolved"), {**event("ticket.resolved"), "id": "evt_stale01"}
    for evt, sent_at in ((recent, "2026-11-27T03:59:00.000Z"), (stale, "2026-11-27T03:50:00.000Z")):
        world.claims.claim(CTX, Claim(evt["id"], "res_1", "sms", sent_at=sent_at))
    world.consumer().handle(recent, NOON_SHANGHAI)
    assert world.outbox.messages(to="13512345678") == []  # maybe still sending: leave it
    world.consumer().handle(stale, NOON_SHANGHAI)
    assert len(world.texts("13512345678")) == 1


def test_a_disabled_webhook_tells_the_admins_by_email_and_inbox_in_the_morning():
    world = World()
    notice = {**event("webhook.disabled", subject=("webhook", "whk_1"), url="https://erp.example.com/hook",
                      reason="410 Gone"), "actor": {"type": "system", "id": "webhooks"}}
    world.consumer().handle(notice, MIDNIGHT_SHANGHAI)
    assert world.outbox.messages() == []  # not urgent: e-mail waits for the morning
    world.consumer().handle(notice, NOON_SHANGHAI)
    [mail] = world.outbox.messages(to="usr_admin@wy.test")
    assert mail["channel"] == "email" and "https://erp.example.com/hook" in mail["body"]
    assert "410 Gone" in world.inbox_of("usr_admin")[0].body


def _counting(world: World) -> list[tuple[str, ...]]:
    """Every read the consumer makes through its ports, by kind and key."""
    reads: list[tuple[str, ...]] = []
    directory = world.directory
    for name in ("get", "get_many", "get_resident", "get_residents", "get_staff", "active_staff", "get_units",
                 "get_building"):
        real = getattr(directory, name)
        setattr(directory, name, lambda ctx, *args, _real=real, _name=name: reads.append(
            (_name, ctx.tenant_id, repr(args))) or _real(ctx, *args))
    real_prefs = world.inbox_repo.preferences
    world.inbox_repo.preferences = lambda ctx, ids: reads.append(
        ("preferences", ctx.tenant_id, repr(sorted(ids)))) or real_prefs(ctx, ids)
    return reads


def test_an_event_no_rule_follows_does_not_read_its_ticket():
    world = World()
    world.ticket()
    reads = _counting(world)
    assert world.consumer().handle(event("ticket.closed"), NOON_SHANGHAI) == 0  # no rule names it
    assert reads == []
    assert world.consumer().handle(event("ticket.resolved"), NOON_SHANGHAI) > 0
    assert [r for r in reads if r[0] == "get"] == [("get", TENANT, "('tkt_1',)")]


def test_a_batch_reads_each_ticket_person_and_place_once_and_sends_what_one_event_at_a_time_sends():
    """``for_batch``: three events about one ticket, and one of another tenant's ticket of the same id whose resident
    has the same id — each read once per tenant, and the messages are those of the events handled one by one."""
    events = [{**event(t), "id": f"evt_{n}"} for n, t in enumerate(
        ("ticket.acknowledged", "ticket.assigned", "ticket.resolved"))]
    other = {**event("ticket.resolved"), "id": "evt_other", "tenant_id": "tnt_2"}

    def world_of_two() -> World:
        world = World()
        world.ticket()
        world.directory.configs["tnt_2"] = TenantConfig.model_validate({"branding": {"display_name": "东苑物业"}})
        world.directory.tickets[("tnt_2", "tkt_1")] = TicketRecord("tkt_1", "26112700009", resident_id="res_1",
                                                                   status="resolved")
        world.directory.residents[("tnt_2", "res_1")] = ResidentRecord("res_1", "13599999999")
        return world

    alone = world_of_two()
    for one in [*events, other]:
        alone.consumer().handle(one, NOON_SHANGHAI)
    batched = world_of_two()
    reads = _counting(batched)
    batch = batched.consumer().for_batch()
    for one in [*events, other]:
        batch.handle(one, NOON_SHANGHAI)

    def sent(world: World) -> list[dict]:
        return [{k: v for k, v in m.items() if k not in ("id", "sent_at")} for m in world.outbox.messages()]

    assert sent(batched) == sent(alone) and len(sent(alone)) >= 4
    assert batched.texts("13599999999") == ["【东苑物业】您的工单26112700009已处理完成，请在小程序确认并评价。"]
    assert sorted(reads) == sorted(set(reads))  # nothing read twice
    assert ("get", TENANT, "('tkt_1',)") in reads and ("get", "tnt_2", "('tkt_1',)") in reads
    assert ("get_resident", TENANT, "('res_1',)") in reads and ("get_resident", "tnt_2", "('res_1',)") in reads
    assert [r for r in reads if r[0] == "preferences"] == [("preferences", TENANT, "['res_1']"),
                                                           ("preferences", TENANT, "['usr_tech']"),
                                                           ("preferences", "tnt_2", "['res_1']")]
    reads.clear()
    batched.consumer().for_batch().handle({**events[2], "id": "evt_again"}, NOON_SHANGHAI)
    assert ("get", TENANT, "('tkt_1',)") in reads  # the next batch reads again: a change made since is seen


def test_a_batch_reads_its_tickets_residents_and_their_preferences_ahead_in_one_read_of_each_per_tenant():
    """``for_batch(events)``: the tickets of the events a rule follows, their residents, and the residents' and
    assignees' preferences, each kind in one read per tenant before the first event is handled — none of another
    tenant's, none for an event no rule follows — and the same messages as the events handled one by one."""
    def world_of_two() -> World:
        world = World()
        world.ticket()
        world.directory.tickets[(TENANT, "tkt_2")] = TicketRecord("tkt_2", "26112700002", resident_id="res_2",
                                                                  status="resolved")
        world.directory.residents[(TENANT, "res_2")] = ResidentRecord("res_2", "13522222222")
        world.directory.tickets[(TENANT, "tkt_3")] = TicketRecord("tkt_3", "26112700003", resident_id="res_1",
                                                                  status="closed")
        world.directory.configs["tnt_2"] = TenantConfig.model_validate({"branding": {"display_name": "东苑物业"}})
        world.directory.tickets[("tnt_2", "tkt_1")] = TicketRecord("tkt_1", "26112700009", resident_id="res_1",
                                                                   status="resolved")
        world.directory.residents[("tnt_2", "res_1")] = ResidentRecord("res_1", "13599999999")
        return world

    events = [{**event(t, subject=("ticket", ticket)), "id": f"evt_{n}"} for n, (t, ticket) in enumerate(
        (("ticket.acknowledged", "tkt_1"), ("ticket.assigned", "tkt_1"), ("ticket.resolved", "tkt_2"),
         ("ticket.closed", "tkt_3"), ("ticket.resolved", "tkt_gone")))]  # no rule follows ticket.closed
    events.append({**event("ticket.resolved"), "id": "evt_other", "tenant_id": "tnt_2"})
    alone = world_of_two()
    for one in events:
        alone.consumer().handle(one, NOON_SHANGHAI)
    batched = world_of_two()
    reads = _counting(batched)
    batch = batched.consumer().for_batch(events)
    ahead = list(reads)
    for one in events:
        batch.handle(one, NOON_SHANGHAI)

    def sent(world: World) -> list[dict]:
        return [{k: v for k, v in m.items() if k not in ("id", "sent_at")} for m in world.outbox.messages()]

    assert sent(batched) == sent(alone) and len(sent(alone)) >= 4
    assert batched.texts("13522222222") and batched.texts("13599999999")
    assert ahead == [("get_many", TENANT, "(['tkt_1', 'tkt_2', 'tkt_gone'],)"),
                     ("get_residents", TENANT, "(['res_1', 'res_2'],)"),
                     ("preferences", TENANT, "['res_1', 'res_2', 'usr_tech']"),
                     ("get_many", "tnt_2", "(['tkt_1'],)"),
                     ("get_residents", "tnt_2", "(['res_1'],)"),
                     ("preferences", "tnt_2", "['res_1']")], ahead
    handled = reads[len(ahead):]
    assert not [r for r in handled if r[0] in ("get", "get_many", "get_resident", "get_residents")], handled
    assert not [r for r in handled if r[0] == "preferences" and ("res_1" in r[2] or "usr_tech" in r[2])], handled


def test_a_batch_of_events_no_rule_follows_reads_nothing_ahead():
    world = World()
    world.ticket()
    reads = _counting(world)
    world.consumer().for_batch([event("ticket.closed"), event("staff.created", subject=("staff", "usr_1")),
                                {**event("ticket.resolved"), "tenant_id": "tnt_unknown"}, {"type": "otp"}])
    assert reads == []


def test_events_nobody_follows_and_tickets_that_are_gone_send_nothing():
    world = World()
    assert world.consumer().handle(event("staff.created", subject=("staff", "usr_1")), NOON_SHANGHAI) == 0
    assert world.consumer().handle(event("ticket.resolved"), NOON_SHANGHAI) == 0  # no such ticket
    assert world.outbox.messages() == [] and world.store.commits == 0
    assert world.inbox.preferences(CTX, ["res_1"]) == {} and Preferences().mutes("x", "sms") is False
