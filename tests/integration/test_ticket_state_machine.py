"""Property-based: random actions by random roles through the real service and DynamoDB (moto).

Only legal transitions take effect (the pure domain model is the oracle), every committed change
writes exactly one event item, the version strictly rises with each change, and each staff member's open-load
counter always equals the open tickets their queue index holds.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chalicelib import bootstrap
from chalicelib.core.clock import utcnow
from chalicelib.core.errors import LinliError
from chalicelib.core.permissions import Permission, Role, permissions_for
from chalicelib.core.tenancy import Principal, TenantContext, UnitClaim
from chalicelib.residents.schemas import BuildingIn, CommunityIn, ResidentIn, ResidentUnitIn, UnitIn
from chalicelib.tenants.schemas import SignupIn, StaffIn
from chalicelib.tickets import domain
from chalicelib.tickets.domain import Action
from chalicelib.tickets.records import QueueFilter, actor_of
from chalicelib.tickets.schemas import ActionIn, StaffTicketIn

PASSWORD = "Correct-horse-42"


@pytest.fixture(scope="module")
def world(stack):
    import uuid

    places, people = bootstrap.place_service(), bootstrap.resident_service()
    now = utcnow()
    signup = bootstrap.staff_auth().signup(SignupIn(company_name="属性物业", slug=f"p-{uuid.uuid4().hex[:8]}",
                                                    admin_email="a@prop.test", admin_password=PASSWORD), now)
    tid = signup.tenant.id
    admin = TenantContext(tid, Principal("staff", signup.user.id, Role.ADMIN, frozenset(Permission)))
    staff = {}
    for role in (Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN, Role.BUTLER):
        member = bootstrap.staff_service().create_staff(admin, StaffIn(
            email=f"{role.value}@prop.test", name=role.value, role=role, password=PASSWORD), now)
        staff[role] = TenantContext(tid, Principal("staff", member.id, role, permissions_for(role)))
    community = places.create_community(admin, CommunityIn(name="翠苑"), now)
    building = places.create_building(admin, community.id, BuildingIn(name="1栋"), now)
    unit = places.create_unit(admin, community.id, UnitIn(building_id=building.id, number="101"), now)
    resident = people.create_resident(admin, ResidentIn(name="陈", phone="13512345678", units=[
        ResidentUnitIn(unit_id=unit.id, community_id=community.id)]), now)
    resident_ctx = TenantContext(tid, Principal("resident", resident.id,
                                                units=(UnitClaim(community.id, unit.id, unit.label, building.id),)))
    stranger = TenantContext(tid, Principal("resident", "res_stranger", units=()))
    actors = [admin, *staff.values(), resident_ctx, stranger]
    return {"actors": actors, "resident": resident_ctx, "resident_id": resident.id, "community": community,
            "unit": unit,
            "tech": staff[Role.TECHNICIAN].principal.id, "agent": staff[Role.AGENT].principal.id}


def test_random_actions_by_random_roles(world):
    intake, transitions, repository = bootstrap.ticket_intake(), bootstrap.ticket_transitions(), \
        bootstrap.ticket_repository()

    class TicketMachine(RuleBasedStateMachine):
        @initialize()
        def report(self):
            body = StaffTicketIn(kind="service", description="property test", resident_id=world["resident_id"],
                                 location={"community_id": world["community"].id, "unit_id": world["unit"].id})
            self.ticket = intake.create(world["actors"][0], body, None, utcnow())
            self.other = intake.create(world["actors"][0], body, None, utcnow())
            self.version = self.ticket.version
            self.events = 1

        def _item(self):
            return repository.get(world["resident"], self.ticket.id, consistent=True)

        @rule(action=st.sampled_from([a for a in Action if a != Action.AUTO_CLOSE]),
              who=st.integers(min_value=0, max_value=len(world["actors"]) - 1),
              assignee=st.sampled_from(["tech", "agent", "nobody"]), score=st.integers(min_value=0, max_value=6),
              reason=st.sampled_from([None, "原因"]), note=st.sampled_from([None, "处理说明"]),
              merge_self=st.booleans())
        def act(self, action, who, assignee, score, reason, note, merge_self):
            ctx = world["actors"][who]
            params = ActionIn(assignee_id=world.get(assignee, "usr_nobody"), score=score, reason=reason, note=note,
                              price="99.00" if action == Action.QUOTE else None,
                              into_ticket_id=self.ticket.id if merge_self else self.other.id)
            before = self._item()
            now = utcnow()
            try:
                expected = domain.decide(before.state(), action, actor_of(ctx), params.model_dump(mode="json"),
                                         now + timedelta(seconds=1), domain.KindRules(paid=True))
            except LinliError:
                expected = None
            try:
                result = transitions.act(ctx, self.ticket.id, action, params, None, now)
            except LinliError:
                result = None
            after = self._item()
            if result is None:
                assert after.version == before.version and after.status == before.status
                return
            assert expected is not None, (action, before.status, ctx.principal)
            assert result.status == expected.status
            assert after.version == before.version + 1
            self.version, self.events = after.version, self.events + 1

        @invariant()
        def events_match_commits(self):
            if hasattr(self, "ticket"):
                item = self._item()
                assert item.version == self.version
                timeline = repository.timeline(world["resident"], self.ticket.id)
                assert len([e for e in timeline if e["type"].startswith("ticket.")]) == self.events

        @invariant()
        def open_load_is_what_the_queues_hold(self):
            ctx = world["actors"][0]
            counted = repository.open_load(ctx, [world["tech"], world["agent"]])
            for user_id in (world["tech"], world["agent"]):
                held, _ = repository.queue(ctx, QueueFilter(assignee_id=user_id), 100, None)
                assert counted[user_id] == len(held), (user_id, counted, [t.status for t in held])

    TicketMachine.TestCase.settings = settings(max_examples=8, stateful_step_count=10, deadline=None,
                                               suppress_health_check=list(HealthCheck))
    TicketMachine.TestCase().runTest()
