"""The notifications consumer against moto with a fixed clock: the tenant's rules and templates, every
recipient kind (resident, assignee, supervisors, the on-duty supervisor, the building's butler, admins),
every channel (SMS, WeChat, e-mail through the local recorder; the inbox), preferences, quiet hours,
redelivery and provider failures, and the SLA escalation page."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.core.permissions import Permission, Role, permissions_for
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.notifications.audience import Audience
from chalicelib.notifications.channels import DeliveryError, LocalOutbox
from chalicelib.notifications.consumer import NotificationConsumer
from chalicelib.notifications.holds import HoldSweep, hold_bucket
from chalicelib.notifications.repository import ClaimRepository, HoldRepository, SentItem
from chalicelib.residents.repository import ResidentItem
from chalicelib.residents.schemas import BuildingIn, CommunityIn, ResidentIn, ResidentUnitIn, UnitIn
from chalicelib.sla.repository import SweepStateRepository
from chalicelib.storage import keys
from chalicelib.tenants.domain import default_ticket_kinds
from chalicelib.tenants.schemas import SignupIn, StaffIn, StaffPatch, TenantPatch
from chalicelib.tickets.domain import Action
from chalicelib.tickets.schemas import ActionIn, StaffTicketIn

NOON_SHANGHAI = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
MIDNIGHT_SHANGHAI = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)
PASSWORD = "Correct-horse-42"


@pytest.fixture
def estate(stack):
    staff, places = bootstrap.staff_service(), bootstrap.place_service()
    now = NOON_SHANGHAI
    signup = bootstrap.staff_auth().signup(SignupIn(company_name="通知物业", slug=f"n-{uuid.uuid4().hex[:8]}",
                                     admin_email="boss@notify.test", admin_password=PASSWORD), now)
    tid = signup.tenant.id
    admin = TenantContext(tid, Principal("staff", signup.user.id, Role.ADMIN, frozenset(Permission)))
    people = {}
    for name, role, phone, on_duty in (("duty", Role.SUPERVISOR, "13800000001", True),
                                       ("resting", Role.SUPERVISOR, "13800000002", False),
                                       ("agent", Role.AGENT, "13800000003", True),
                                       ("tech", Role.TECHNICIAN, "13800000004", True),
                                       ("butler", Role.BUTLER, "13800000005", True)):
        member = staff.create_staff(admin, StaffIn(email=f"{name}@notify.test", name=name, role=role,
                                                     password=PASSWORD, phone=phone, on_duty=on_duty), now)
        people[name] = TenantContext(tid, Principal("staff", member.id, role, permissions_for(role)))
    community = places.create_community(admin, CommunityIn(name="翠苑"), now)
    building = places.create_building(admin, community.id, BuildingIn(name="1栋",
                                                                      butler_id=people["butler"].principal.id), now)
    unit = places.create_unit(admin, community.id, UnitIn(building_id=building.id, number="101"), now)
    resident = bootstrap.resident_service().create_resident(admin, ResidentIn(name="陈", phone="13512345678", units=[
        ResidentUnitIn(unit_id=unit.id, community_id=community.id)]), now)
    return {"tenant_id": tid, "admin": admin, "people": people, "community": community, "unit": unit,
            "resident_id": resident.id, "resident": TenantContext(tid, Principal(
                "resident", resident.id, units=((community.id, unit.id, unit.label, building.id),)))}


class FlakySms(LocalOutbox):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send(self, message):  # noqa: ANN001, ANN201
        if self.failures:
            self.failures -= 1
            raise DeliveryError("provider down")
        return super().send(message)


def consumer(outbox, held, **channels):  # noqa: ANN001
    return NotificationConsumer(bootstrap.ticket_repository(), bootstrap.tenant_configs(),
                                Audience(bootstrap.tenant_repository(), bootstrap.resident_repository()),
                                {"sms": outbox, "wechat": outbox, "email": outbox, **channels},
                                bootstrap.inbox_service(), ClaimRepository(),
                                lambda body, delay: held.append((body, delay)), HoldRepository(),
                                fallback_kinds=default_ticket_kinds())


def ticket(estate, kind="repair", now=NOON_SHANGHAI):
    body = StaffTicketIn(kind=kind, description="通知测试", resident_id=estate["resident_id"],
                         location={"community_id": estate["community"].id, "unit_id": estate["unit"].id})
    return bootstrap.ticket_intake().create(estate["people"]["agent"], body, None, now)


def event(estate, item, event_type, actor=None, **data):  # noqa: ANN001
    return {"id": f"evt_{uuid.uuid4().hex}", "type": event_type, "tenant_id": estate["tenant_id"],
            "subject": {"type": "ticket", "id": item.id}, "actor": actor or {"type": "staff", "id": "usr_someone"},
            "data": data}


def inbox(estate, person_id, *events):  # noqa: ANN001
    """The person's notifications about these events (the stack's own consumer also files the real
    events of these tickets, concurrently), and how many of those are unread."""
    wanted = {e["id"] for e in events}
    ctx = TenantContext(estate["tenant_id"], Principal("system", "test"))
    mine = [i for i in bootstrap.inbox_service().page(ctx, person_id, 100, None, False).items if i.event_id in wanted]
    return mine, sum(1 for i in mine if i.read_at is None)


def texts(outbox, to):  # noqa: ANN001
    return [m["body"] for m in outbox.messages(to=to)]


def test_a_record_delivered_twice_sends_one_message_per_channel(estate):
    outbox, held = LocalOutbox(), []
    item = ticket(estate)
    acknowledged = event(estate, item, "ticket.acknowledged")
    assert consumer(outbox, held).handle(acknowledged, NOON_SHANGHAI) == 2  # SMS + inbox (no WeChat bound)
    assert consumer(outbox, held).handle(acknowledged, NOON_SHANGHAI) == 0
    assert len(outbox.messages(to="13512345678")) == 1 and "已受理" in texts(outbox, "13512345678")[0]
    items, unread = inbox(estate, estate["resident_id"], acknowledged)
    assert unread == 1 and len(items) == 1 and item.number in items[0].body


def test_the_technician_hears_of_the_assignment_and_the_butler_of_tickets_in_the_building(estate):
    outbox, held = LocalOutbox(), []
    item = ticket(estate)
    tech = estate["people"]["tech"].principal.id
    bootstrap.ticket_transitions().act(estate["people"]["agent"], item.id, Action.ASSIGN, ActionIn(assignee_id=tech),
                                   None, NOON_SHANGHAI)
    assigned, created = event(estate, item, "ticket.assigned"), event(estate, item, "ticket.created")
    consumer(outbox, held).handle(assigned, NOON_SHANGHAI)
    assert "派给您" in texts(outbox, "13800000004")[0]
    assert inbox(estate, tech, assigned)[1] == 1
    consumer(outbox, held).handle(created, NOON_SHANGHAI)
    butler_items, _ = inbox(estate, estate["people"]["butler"].principal.id, created)
    assert len(butler_items) == 1 and item.number in butler_items[0].body
    assert outbox.messages(to="13800000005") == []  # inbox only by default


def test_an_emergency_pages_the_on_duty_supervisor_at_once_even_at_night_and_muted(estate):
    outbox, held = LocalOutbox(), []
    duty = estate["people"]["duty"]
    bootstrap.inbox_service().set_preferences(duty, duty.principal.id, ["sms"], [], NOON_SHANGHAI)
    item = ticket(estate, kind="emergency", now=MIDNIGHT_SHANGHAI)
    created = event(estate, item, "ticket.created")
    consumer(outbox, held).handle(created, MIDNIGHT_SHANGHAI)
    page = texts(outbox, "13800000001")
    assert len(page) == 1 and "紧急工单" in page[0] and "值班主管" in page[0]
    assert outbox.messages(to="13800000002") == []  # off duty
    items, _ = inbox(estate, duty.principal.id, created)
    assert items[0].urgent == "true" and held == []


def test_nobody_on_duty_pages_every_supervisor(estate):
    outbox, held = LocalOutbox(), []
    bootstrap.staff_service().update_staff(estate["admin"], estate["people"]["duty"].principal.id,
                                           StaffPatch(on_duty=False), None, NOON_SHANGHAI)
    item = ticket(estate, kind="emergency")
    consumer(outbox, held).handle(event(estate, item, "ticket.created"), NOON_SHANGHAI)
    assert len(texts(outbox, "13800000001")) == 1 and len(texts(outbox, "13800000002")) == 1


def test_quiet_hours_hold_sms_once_in_the_due_index_until_the_window_ends(estate):
    outbox, held = LocalOutbox(), []
    item = ticket(estate)
    acknowledged = event(estate, item, "ticket.acknowledged")
    assert consumer(outbox, held).handle(acknowledged, MIDNIGHT_SHANGHAI) == 1  # the inbox
    assert consumer(outbox, held).handle(acknowledged, MIDNIGHT_SHANGHAI) == 0  # delivered twice: one hold
    assert outbox.messages() == [] and held == []  # nothing back on the queue meanwhile

    released: list[tuple[dict, int]] = []
    state = SweepStateRepository(f"SWEEP#TEST#{acknowledged['id']}")
    sweep = HoldSweep(HoldRepository(), state, lambda body, delay: released.append((body, delay)))
    before_eight = datetime(2026, 11, 27, 23, 59, 40, tzinfo=timezone.utc)
    report = sweep.run(before_eight)
    mine = [(body, delay) for body, delay in released if body["id"] == acknowledged["id"]]
    assert mine == [(acknowledged, 20)] and report.items_read >= 1  # read from the DueIndex, due at 08:00:00
    assert HoldRepository().due(hold_bucket(datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc)),
                                "2026-11-28T00:15:00.000Z")[0] == []  # let go once released
    sweep.run(before_eight)
    assert len([b for b, _ in released if b["id"] == acknowledged["id"]]) == 1

    at_eight = datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc)
    assert consumer(outbox, held).handle(acknowledged, at_eight) == 1
    assert consumer(outbox, held).handle(acknowledged, at_eight) == 0  # the released event again: claimed
    assert len(outbox.messages(to="13512345678")) == 1 and inbox(estate, estate["resident_id"], acknowledged)[1] == 1


def test_tenant_rules_and_templates_replace_the_defaults(estate):
    outbox, held = LocalOutbox(), []
    bootstrap.tenant_configs().update_tenant(estate["admin"], TenantPatch(notifications={
        "rules": [{"event": "ticket.acknowledged", "recipients": ["resident"], "channels": ["sms"]},
                  {"event": "ticket.closed", "recipients": ["supervisors"], "channels": ["inbox", "email"]}],
        "templates": {"ticket.acknowledged": {"sms": {"zh-CN": "{brand}收到{number}，师傅马上到"}}},
        "quiet_hours": {"start": "23:00", "end": "07:00"}}), None, NOON_SHANGHAI)
    bootstrap.tenant_configs().clear_cache()
    item = ticket(estate)
    acknowledged = event(estate, item, "ticket.acknowledged")
    consumer(outbox, held).handle(acknowledged, NOON_SHANGHAI)
    assert texts(outbox, "13512345678") == [f"通知物业收到{item.number}，师傅马上到"]
    assert inbox(estate, estate["resident_id"], acknowledged)[0] == []  # the tenant dropped the inbox here
    consumer(outbox, held).handle(event(estate, item, "ticket.closed"), NOON_SHANGHAI)
    assert len(outbox.messages(to="duty@notify.test")) == 1 and len(outbox.messages(to="resting@notify.test")) == 1
    consumer(outbox, held).handle(event(estate, item, "ticket.resolved"), NOON_SHANGHAI)
    assert len(outbox.messages(to="13512345678")) == 1  # no rule for it any more


def test_preferences_mute_channels_but_never_the_inbox(estate):
    outbox, held = LocalOutbox(), []
    bootstrap.inbox_service().set_preferences(estate["resident"], estate["resident_id"], ["sms"], [], NOON_SHANGHAI)
    item = ticket(estate)
    resolved = event(estate, item, "ticket.resolved")
    consumer(outbox, held).handle(resolved, NOON_SHANGHAI)
    assert outbox.messages(to="13512345678") == [] and inbox(estate, estate["resident_id"], resolved)[1] == 1


def test_people_are_not_told_what_they_did_and_residents_never_hear_internal_notes(estate):
    outbox, held = LocalOutbox(), []
    item = ticket(estate)
    tech = estate["people"]["tech"]
    bootstrap.ticket_transitions().act(estate["people"]["agent"], item.id, Action.ASSIGN,
                                   ActionIn(assignee_id=tech.principal.id), None, NOON_SHANGHAI)
    by_tech = {"type": "staff", "id": tech.principal.id, "role": "technician"}
    public = event(estate, item, "ticket.commented", by_tech, visibility="public")
    consumer(outbox, held).handle(public, NOON_SHANGHAI)
    assert inbox(estate, estate["resident_id"], public)[1] == 1 and inbox(estate, tech.principal.id, public)[1] == 0
    internal = event(estate, item, "ticket.commented", visibility="internal")
    consumer(outbox, held).handle(internal, NOON_SHANGHAI)
    assert inbox(estate, estate["resident_id"], internal)[1] == 0 and inbox(estate, tech.principal.id, internal)[1] == 1


def test_a_provider_failure_is_retried_with_backoff_and_sends_once(estate):
    flaky, held = FlakySms(failures=1), []
    item = ticket(estate)
    resolved = event(estate, item, "ticket.resolved")
    assert consumer(flaky, held).handle(resolved, NOON_SHANGHAI) == 1  # the inbox went; the SMS failed
    retry, delay = held[0]
    assert delay == 10 and retry["notify_attempt"] == 1
    assert consumer(flaky, held).handle(retry, NOON_SHANGHAI) == 1  # the SMS, and the inbox not twice
    assert len(flaky.messages(to="13512345678")) == 1 and inbox(estate, estate["resident_id"], resolved)[1] == 1


def test_wechat_subscribe_messages_need_a_bound_resident_and_a_template(estate):
    outbox, held = LocalOutbox(), []
    bootstrap.tenant_configs().update_tenant(estate["admin"], TenantPatch(
        wechat_app_id="wx0123456789abcdef", notifications={"wechat_templates": {"ticket.resolved": "TPL-RESOLVED"}}),
        None, NOON_SHANGHAI)
    bootstrap.tenant_configs().clear_cache()
    resident = ResidentItem.get(*_resident_key(estate))
    resident.update(actions=[ResidentItem.wechat_openid.set("oOpenId123")])
    item = ticket(estate)
    consumer(outbox, held).handle(event(estate, item, "ticket.resolved"), NOON_SHANGHAI)
    [wechat] = outbox.messages(to="oOpenId123")
    assert wechat["channel"] == "wechat" and wechat["params"]["template_id"] == "TPL-RESOLVED"
    assert wechat["params"]["app_id"] == "wx0123456789abcdef" and wechat["params"]["number"] == item.number


def test_a_disabled_webhook_tells_the_admins_by_email_and_inbox(estate):
    outbox, held = LocalOutbox(), []
    notice = {"id": f"evt_{uuid.uuid4().hex}", "type": "webhook.disabled", "tenant_id": estate["tenant_id"],
              "subject": {"type": "webhook", "id": "whk_1"}, "actor": {"type": "system", "id": "webhooks"},
              "data": {"url": "https://erp.example.com/hook", "reason": "410 Gone"}}
    consumer(outbox, held).handle(notice, MIDNIGHT_SHANGHAI)
    assert outbox.messages() == []  # not urgent: e-mail waits for the morning
    consumer(outbox, held).handle(notice, NOON_SHANGHAI)
    [mail] = outbox.messages(to="boss@notify.test")
    assert mail["channel"] == "email" and "https://erp.example.com/hook" in mail["body"]
    assert "410 Gone" in inbox(estate, estate["admin"].principal.id, notice)[0][0].body


def _resident_key(estate):  # noqa: ANN001
    from chalicelib.residents.repository import resident_sk
    from chalicelib.storage import keys

    return keys.tenant_pk(estate["tenant_id"]), resident_sk(estate["resident_id"])


def test_an_unexpected_failure_releases_the_claim_so_the_redelivery_sends(estate):
    class Broken(LocalOutbox):
        def send(self, message):  # noqa: ANN001, ANN201
            raise RuntimeError("bug in an adapter")

    outbox, held = LocalOutbox(), []
    item = ticket(estate)
    resolved = event(estate, item, "ticket.resolved")
    with pytest.raises(RuntimeError):
        consumer(Broken(), held).handle(resolved, NOON_SHANGHAI)
    consumer(outbox, held).handle(resolved, NOON_SHANGHAI)  # the queue redelivers the record
    assert len(outbox.messages(to="13512345678")) == 1


def test_a_claim_left_by_a_sender_that_died_is_taken_over_after_five_minutes(estate):
    from datetime import timedelta

    from chalicelib.core.clock import to_rfc3339
    from chalicelib.notifications.repository import SentItem
    from chalicelib.storage import keys

    outbox, held = LocalOutbox(), []
    item = ticket(estate)
    recent, stale = event(estate, item, "ticket.resolved"), event(estate, item, "ticket.resolved")
    for evt, age in ((recent, 60), (stale, 600)):  # a Lambda timed out mid-send, leaving a claim without outcome
        SentItem(keys.tenant_pk(estate["tenant_id"], "NOTIFY", evt["id"]), f"{estate['resident_id']}#sms",
                 sent_at=to_rfc3339(NOON_SHANGHAI - timedelta(seconds=age))).save()
    consumer(outbox, held).handle(recent, NOON_SHANGHAI)
    assert outbox.messages(to="13512345678") == []  # maybe still sending: leave it
    consumer(outbox, held).handle(stale, NOON_SHANGHAI)
    assert len(outbox.messages(to="13512345678")) == 1


def test_unread_notifications_never_expire_and_read_ones_do(estate):
    outbox, held = LocalOutbox(), []
    item = ticket(estate)
    resolved = event(estate, item, "ticket.resolved")
    consumer(outbox, held).handle(resolved, NOON_SHANGHAI)
    [unread], _ = inbox(estate, estate["resident_id"], resolved)
    assert unread.expires_at is None
    read = bootstrap.inbox_service().mark_read(estate["resident"], estate["resident_id"], unread.notification_id,
                                               NOON_SHANGHAI)
    [after], count = inbox(estate, estate["resident_id"], resolved)
    assert read.read_at and count == 0 and after.expires_at == int(NOON_SHANGHAI.timestamp()) + 90 * 86400


def test_an_sla_escalation_pages_the_role_its_step_names_by_sms_and_inbox_at_night(estate):
    outbox, held = LocalOutbox(), []
    item = ticket(estate, now=MIDNIGHT_SHANGHAI)
    escalated = {**event(estate, item, "sla.escalated", {"type": "system", "id": "sla"}, clock="first_response",
                         notify="supervisor", step=1, visibility="internal")}
    consumer(outbox, held).handle(escalated, MIDNIGHT_SHANGHAI)
    expected = f"【通知物业】工单{item.number}（报修）首次响应已超时，请立即处理。"
    assert texts(outbox, "13800000001") == [expected] and texts(outbox, "13800000002") == [expected]
    assert outbox.messages(to="13800000003") == [] and held == []  # supervisors only; urgent, not held
    [page], _ = inbox(estate, estate["people"]["duty"].principal.id, escalated)
    assert page.urgent == "true" and page.body == expected


def test_a_batch_reads_its_tickets_and_residents_in_bulk_and_never_another_tenants(estate):
    other = bootstrap.staff_auth().signup(SignupIn(company_name="别家物业", slug=f"o-{uuid.uuid4().hex[:8]}",
                                                   admin_email="boss@other.test", admin_password=PASSWORD),
                                          NOON_SHANGHAI).tenant.id
    items = [ticket(estate, kind) for kind in ("repair", "complaint", "inquiry")]
    mine, theirs = (TenantContext(t, Principal("system", "notifications")) for t in (estate["tenant_id"], other))
    tickets, residents = bootstrap.ticket_repository(), bootstrap.resident_repository()
    found = tickets.get_many(mine, [i.id for i in items] + ["tkt_nothing"])
    assert sorted(found) == sorted(i.id for i in items)
    assert found[items[1].id].number == items[1].number and found[items[1].id].kind == "complaint"
    assert tickets.get_many(theirs, [i.id for i in items]) == {}  # the same ids asked as another tenant
    assert list(residents.get_residents(mine, [estate["resident_id"], "res_nothing"])) == [estate["resident_id"]]
    assert residents.get_residents(theirs, [estate["resident_id"]]) == {}

    outbox, held = LocalOutbox(), []
    events = [event(estate, i, "ticket.acknowledged") for i in items]
    batch = consumer(outbox, held).for_batch(events)
    assert sum(batch.handle(e, NOON_SHANGHAI) for e in events) == 6  # an SMS and an inbox note each
    sms = texts(outbox, "13512345678")
    assert len(sms) == 3 and all("已受理" in t for t in sms)

    def outcomes() -> list[str | None]:
        return [SentItem.get(keys.tenant_pk(estate["tenant_id"], "NOTIFY", e["id"]),
                             f"{estate['resident_id']}#sms").outcome for e in events]

    assert outcomes() == [None] * 3  # claimed, sent; their outcomes kept with the batch's, in one write
    batch.flush()
    assert outcomes() == ["sent"] * 3
