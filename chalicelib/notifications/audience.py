"""Who an event reaches and what its messages say: recipients → people, the template values, addresses.

Other contexts are read only through the lookups of ``chalicelib.notifications.ports``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core.tenancy import TenantContext
from chalicelib.notifications import rules
from chalicelib.notifications.domain import Person, Preferences
from chalicelib.notifications.ports import (
    Building,
    PreferenceReader,
    Resident,
    Residents,
    Staff,
    StaffDirectory,
    TenantSettings,
    Ticket,
    Tickets,
    Unit,
)

STAFF_GROUPS = frozenset({"supervisors", "on_duty_supervisors", "admins"})


class Audience:
    """Resolves a rule's recipient kinds to people (staff from the tenant, residents from their records)."""

    def __init__(self, staff: StaffDirectory, residents: Residents) -> None:
        self.staff, self.residents = staff, residents

    def people(self, ctx: TenantContext, ticket: Ticket | None, event: dict[str, Any], wanted: set[str]
               ) -> dict[str, list[Person]]:
        """The people behind each wanted recipient kind (an ``escalation`` is the role its step pages)."""
        escalated = rules.ESCALATION_ROLES.get(str((event.get("data") or {}).get("notify", "")))
        kinds = set(wanted) | ({escalated} if "escalation" in wanted and escalated else set())
        people: dict[str, list[Person]] = {}
        if "resident" in kinds and ticket is not None and ticket.resident_id:
            resident = self.residents.get_resident(ctx, ticket.resident_id)
            if resident is not None:
                people["resident"] = [Person("resident", resident.resident_id, phone=resident.phone,
                                             openid=resident.wechat_openid)]
        if "assignee" in kinds and ticket is not None and ticket.assignee_id:
            people["assignee"] = self._staff_by_id(ctx, [ticket.assignee_id])
        if "butler" in kinds and ticket is not None:
            butler = self._butler_of(ctx, ticket)
            people["butler"] = self._staff_by_id(ctx, [butler]) if butler else []
        if kinds & STAFF_GROUPS:
            staff = self.staff.active_staff(ctx)
            supervisors = [s for s in staff if s.role == "supervisor"]
            admins = [s for s in staff if s.role == "admin"]
            on_duty = [s for s in supervisors if getattr(s, "on_duty", True) is not False]
            people["supervisors"] = [staff_person(s) for s in supervisors]
            people["admins"] = [staff_person(s) for s in admins]
            # An emergency is never left unpaged: nobody on duty → every supervisor → the admins.
            people["on_duty_supervisors"] = [staff_person(s) for s in (on_duty or supervisors or admins)]
        if "escalation" in wanted:
            people["escalation"] = list(people.get(escalated, [])) if escalated else []
        return people

    def _staff_by_id(self, ctx: TenantContext, user_ids: list[str]) -> list[Person]:
        found = []
        for user_id in user_ids:
            staff = self.staff.get_staff(ctx, user_id)
            if staff is not None and staff.status == "active":
                found.append(staff_person(staff))
        return found

    def _butler_of(self, ctx: TenantContext, ticket: Ticket) -> str | None:
        location = ticket.location or {}
        building_id = location.get("building_id")
        if not building_id and location.get("unit_id"):
            units = self.residents.get_units(ctx, [(location["community_id"], location["unit_id"])])
            unit = units.get(location["unit_id"])
            building_id = unit.building_id if unit is not None else None
        if not building_id:
            return None
        building = self.residents.get_building(ctx, location["community_id"], building_id)
        return building.butler_id if building is not None else None


class BatchReads:
    """The reads of one queue batch, each made once: the tickets, staff, residents, units, buildings and people's
    preferences its events name, looked up through the ports they wrap. Answers are as of the first read in the
    batch — what they would have been had the batch run a moment earlier — and the object is dropped with the batch,
    so a change made since is seen by the next one."""

    def __init__(self, tickets: Tickets, staff: StaffDirectory, residents: Residents, preferences: PreferenceReader
                 ) -> None:
        self._tickets, self._staff, self._residents, self._preferences = tickets, staff, residents, preferences
        self._seen: dict[tuple[Any, ...], Any] = {}

    def _once(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        if key not in self._seen:
            self._seen[key] = read()
        return self._seen[key]

    def _many(self, ctx: TenantContext, kind: str, ids: list[str], read: Callable[[list[str]], dict[str, Any]]
              ) -> dict[str, Any]:
        unread = list(dict.fromkeys(i for i in ids if (ctx.tenant_id, kind, i) not in self._seen))
        if unread:
            found = read(unread)
            self._seen.update({(ctx.tenant_id, kind, i): found.get(i) for i in unread})  # (absent: None, kept)
        return {i: value for i in ids if (value := self._seen[(ctx.tenant_id, kind, i)]) is not None}

    def get(self, ctx: TenantContext, ticket_id: str) -> Ticket | None:
        return self._once((ctx.tenant_id, "ticket", ticket_id), lambda: self._tickets.get(ctx, ticket_id))

    def get_many(self, ctx: TenantContext, ticket_ids: list[str]) -> dict[str, Ticket]:
        """Several tickets, one read for those not asked about yet (``for_batch`` asks for a batch's at once)."""
        return self._many(ctx, "ticket", ticket_ids, lambda unread: self._tickets.get_many(ctx, unread))

    def active_staff(self, ctx: TenantContext) -> list[Staff]:
        return self._once((ctx.tenant_id, "active_staff"), lambda: self._staff.active_staff(ctx))

    def get_staff(self, ctx: TenantContext, user_id: str) -> Staff | None:
        return self._once((ctx.tenant_id, "staff", user_id), lambda: self._staff.get_staff(ctx, user_id))

    def get_resident(self, ctx: TenantContext, resident_id: str) -> Resident | None:
        return self._once((ctx.tenant_id, "resident", resident_id),
                          lambda: self._residents.get_resident(ctx, resident_id))

    def get_residents(self, ctx: TenantContext, resident_ids: list[str]) -> dict[str, Resident]:
        return self._many(ctx, "resident", resident_ids, lambda unread: self._residents.get_residents(ctx, unread))

    def get_units(self, ctx: TenantContext, refs: list[tuple[str, str]]) -> dict[str, Unit]:
        return self._once((ctx.tenant_id, "units", tuple(refs)), lambda: self._residents.get_units(ctx, refs))

    def get_building(self, ctx: TenantContext, community_id: str, building_id: str) -> Building | None:
        return self._once((ctx.tenant_id, "building", community_id, building_id),
                          lambda: self._residents.get_building(ctx, community_id, building_id))

    def preferences(self, ctx: TenantContext, person_ids: list[str]) -> dict[str, Preferences]:
        """Several people's preferences, one read for those not asked about yet (absent = nothing muted)."""
        return self._many(ctx, "preferences", sorted(set(person_ids)),
                          lambda unread: self._preferences.preferences(ctx, unread))


def staff_person(staff: Staff) -> Person:
    """A staff member as someone notifications reach (by phone and e-mail).

    Example
    -------
    >>> from types import SimpleNamespace as Staff
    >>> staff_person(Staff(user_id="usr_1", phone="13800000001", email="a@wy.cn"))
    Person(kind='staff', id='usr_1', phone='13800000001', email='a@wy.cn', openid=None)
    """
    return Person("staff", staff.user_id, phone=staff.phone, email=staff.email)


def template_values(config: TenantSettings, ticket: Ticket | None, event: dict[str, Any],
                    fallback_kinds: Iterable[rules.KindNames] = ()) -> dict[str, str]:
    """The ``{variables}`` of an event's messages, in the tenant's locale (kind names from its catalogue, else
    from ``fallback_kinds``: the default catalogue, for kinds a tenant has since removed).

    Example
    -------
    >>> from types import SimpleNamespace as Ticket
    >>> from chalicelib.tenants.domain import TenantConfig
    >>> ticket = Ticket(number="26112700001", kind="service", category=None, status="new", location={"label": "1-101"})
    >>> values = template_values(TenantConfig(), ticket, {"data": {"clock": "first_response"}})
    >>> values["brand"], values["kind"], values["clock"], values["unit"]
    ('物业', '便民服务', '首次响应', '1-101')
    """
    data = event.get("data") or {}
    values = {"brand": config.branding.display_name or "物业", "url": str(data.get("url", "")),
              "reason": str(data.get("reason", "")), "clock": rules.clock_name(str(data.get("clock", "")),
                                                                             config.locale)}
    if ticket is not None:
        location = ticket.location or {}
        values.update(number=ticket.number, kind=rules.kind_name(ticket.kind, config.locale, config.ticket_kinds,
                                                                 fallback_kinds),
                      category=ticket.category or "", status=ticket.status,
                      unit=location.get("label") or location.get("common_area") or "")
    return values


def address(config: TenantSettings, event: dict[str, Any], person: Person, channel: str, values: dict[str, str],
            now: datetime) -> tuple[str | None, dict[str, str]]:
    """Where one message to a person goes on a channel (None: they can't be reached there), and its parameters.

    Example
    -------
    >>> from chalicelib.tenants.domain import TenantConfig
    >>> resident = Person("resident", "res_1", phone="13512345678")
    >>> address(TenantConfig(), {"type": "ticket.resolved"}, resident, "sms", {"number": "1", "unit": "101"}, None)
    ('13512345678', {'number': '1'})
    >>> address(TenantConfig(), {"type": "ticket.resolved"}, resident, "wechat", {"number": "1"}, None)[0] is None
    True
    """
    params = {k: v for k, v in values.items() if k in ("number", "kind", "clock", "status") and v}
    if event.get("type") == "sla.escalated":
        params["step"] = str((event.get("data") or {}).get("step", 1))
    if channel == "sms":
        return person.phone, params
    if channel == "email":
        return person.email, params
    if channel == "wechat":
        template_id = config.notifications.wechat_templates.get(event["type"])
        if not (person.openid and template_id and config.wechat_app_id):
            return None, params
        subject = event.get("subject") or {}
        local_time = now.astimezone(ZoneInfo(config.timezone)).strftime("%Y-%m-%d %H:%M")
        return person.openid, {**params, "template_id": template_id, "app_id": config.wechat_app_id,
                               "ticket_id": subject.get("id", ""), "summary": values.get("status", ""),
                               "time": local_time}
    return None, params
