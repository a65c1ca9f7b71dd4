"""In-memory stand-ins for ``notifications.repository`` (the inbox, the delivery claims and the quiet-hours holds),
and for the
lookups the notifications consumer makes of other contexts (``notifications.ports``).

``tests/contract/test_notifications_repository.py`` runs the same tests on these and on DynamoDB.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import LinliError, NotFoundError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.notifications.domain import RETENTION_DAYS, Claim, InboxNotification, InboxPage, Preferences
from chalicelib.notifications.holds import Hold, hold_bucket
from tests.fakes.storage import InMemoryUnitOfWork, MemoryStore

UNREAD_SK, PREFS_SK, PREFIX = "UNREAD", "PREFS", "N#"


class InMemoryInboxRepository:
    """Inbox entries, unread counters and preferences in ``store.tables`` (keyed by tenant and person)."""

    def __init__(self, store: MemoryStore, cursors: CursorCodec | None = None) -> None:
        self.cursors = cursors or CursorCodec(b"fake-cursor-key-" * 2)
        self.notes: dict[tuple[str, str, str], InboxNotification] = store.table("notifications.inbox")
        self.counters: dict[tuple[str, str], int] = store.table("notifications.unread")
        self.prefs: dict[tuple[str, str], tuple[Preferences, str]] = store.table("notifications.preferences")

    def stage_file(self, uow: InMemoryUnitOfWork, ctx: TenantContext, person_id: str,
                   notification: InboxNotification, *, on_conflict: LinliError) -> None:
        key = (ctx.tenant_id, person_id, notification.token)

        def apply() -> None:
            self.notes[key] = copy.deepcopy(notification)

        uow.stage(apply, check=lambda: key not in self.notes, on_conflict=on_conflict)
        uow.stage(lambda: self._count(ctx, person_id, 1), kind="update")  # the counter: its own write, as in DynamoDB

    def _count(self, ctx: TenantContext, person_id: str, change: int) -> None:
        self.counters[(ctx.tenant_id, person_id)] = self.counters.get((ctx.tenant_id, person_id), 0) + change

    def _rows(self, ctx: TenantContext, person_id: str) -> list[tuple[str, Any]]:
        """The partition as a newest-first Query up to ``UNREAD`` reads it: counter, preferences, entries."""
        rows: list[tuple[str, Any]] = []
        if (ctx.tenant_id, person_id) in self.counters:
            rows.append((UNREAD_SK, self.counters[(ctx.tenant_id, person_id)]))
        if (ctx.tenant_id, person_id) in self.prefs:
            rows.append((PREFS_SK, self.prefs[(ctx.tenant_id, person_id)]))
        mine = sorted(((token, note) for (tenant, person, token), note in self.notes.items()
                       if tenant == ctx.tenant_id and person == person_id), reverse=True)
        return rows + [(PREFIX + token, note) for token, note in mine]

    def page(self, ctx: TenantContext, person_id: str, limit: int, cursor: str | None, unread_only: bool
             ) -> InboxPage:
        start = self.cursors.decode(ctx.tenant_id, cursor)
        rows = self._rows(ctx, person_id)
        if start:
            rows = [(sk, row) for sk, row in rows if sk < start["SK"]["S"]]
        wanted = limit + (0 if start else 2)
        taken = [(sk, row) for sk, row in rows
                 if not (unread_only and isinstance(row, InboxNotification) and row.read_at is not None)][:wanted]
        next_cursor = self.cursors.encode(ctx.tenant_id, {"SK": {"S": taken[-1][0]}}) if len(taken) == wanted else None
        unread = None if start else 0
        notes = []
        for sk, row in taken:
            if sk == UNREAD_SK:
                unread = max(0, row)
            elif isinstance(row, InboxNotification):
                notes.append(copy.deepcopy(row))
        return InboxPage(notes, unread, next_cursor)

    def unread_count(self, ctx: TenantContext, person_id: str) -> int:
        return max(0, self.counters.get((ctx.tenant_id, person_id), 0))

    def get(self, ctx: TenantContext, person_id: str, notification_id: str) -> InboxNotification | None:
        note = self.notes.get((ctx.tenant_id, person_id, notification_id.removeprefix("ntf_")))
        return copy.deepcopy(note)

    def unread(self, ctx: TenantContext, person_id: str) -> list[InboxNotification]:
        return [copy.deepcopy(note) for (tenant, person, _), note in sorted(self.notes.items())
                if tenant == ctx.tenant_id and person == person_id and note.read_at is None]

    def stage_mark_read(self, uow: InMemoryUnitOfWork, ctx: TenantContext, person_id: str,
                        notifications: list[InboxNotification], now: datetime, *, on_conflict: LinliError) -> None:
        keys = [(ctx.tenant_id, person_id, note.token) for note in notifications]
        expires = int((now + timedelta(days=RETENTION_DAYS)).timestamp())

        def unread() -> bool:
            return all(key not in self.notes or self.notes[key].read_at is None for key in keys)

        def apply() -> None:
            for key in keys:
                if key in self.notes:
                    self.notes[key] = replace(self.notes[key], read_at=to_rfc3339(now), expires_at=expires)
            self._count(ctx, person_id, -len(keys))

        uow.stage(apply, check=unread, on_conflict=on_conflict)

    def preferences(self, ctx: TenantContext, person_ids: list[str]) -> dict[str, Preferences]:
        return {person: self.prefs[(ctx.tenant_id, person)][0] for person in dict.fromkeys(person_ids)
                if (ctx.tenant_id, person) in self.prefs}

    def stage_preferences(self, uow: InMemoryUnitOfWork, ctx: TenantContext, person_id: str,
                          preferences: Preferences, now: datetime) -> None:
        def apply() -> None:
            self.prefs[(ctx.tenant_id, person_id)] = (preferences, to_rfc3339(now))

        uow.stage(apply)


class InMemoryClaimRepository:
    """Claims on (event, person, channel) messages in ``store.tables``."""

    def __init__(self, store: MemoryStore) -> None:
        self.claims: dict[tuple[str, str, str, str], Claim] = store.table("notifications.claims")

    @staticmethod
    def _key(ctx: TenantContext, claim: Claim) -> tuple[str, str, str, str]:
        return ctx.tenant_id, claim.event_id, claim.person_id, claim.channel

    def claim(self, ctx: TenantContext, claim: Claim) -> bool:
        if self._key(ctx, claim) in self.claims:
            return False
        self.claims[self._key(ctx, claim)] = claim
        return True

    def stage_claim(self, uow: InMemoryUnitOfWork, ctx: TenantContext, claim: Claim, *,
                    on_conflict: LinliError) -> None:
        key = self._key(ctx, claim)
        uow.stage(lambda: self.claims.__setitem__(key, claim), check=lambda: key not in self.claims,
                  on_conflict=on_conflict)

    def take_over(self, ctx: TenantContext, claim: Claim, *, stale_before: str) -> bool:
        held = self.claims.get(self._key(ctx, claim))
        if held is None or held.outcome is not None or not held.sent_at < stale_before:
            return False
        self.claims[self._key(ctx, claim)] = replace(held, sent_at=claim.sent_at)
        return True

    def record_outcome(self, ctx: TenantContext, claim: Claim) -> None:
        self.claims[self._key(ctx, claim)] = claim

    def record_outcomes(self, outcomes: list[tuple[TenantContext, Claim]]) -> None:
        for ctx, claim in outcomes:
            self.record_outcome(ctx, claim)

    def release(self, ctx: TenantContext, claim: Claim) -> None:
        self.claims.pop(self._key(ctx, claim), None)


class InMemoryHoldStore:
    """Quiet-hours holds in ``store.tables``, keyed by tenant and event, found by their minute bucket."""

    def __init__(self, store: MemoryStore) -> None:
        self.holds: dict[tuple[str, str], Hold] = store.table("notifications.holds")

    def hold(self, hold: Hold) -> bool:
        if (hold.tenant_id, hold.event_id) in self.holds:
            return False
        self.holds[(hold.tenant_id, hold.event_id)] = copy.deepcopy(hold)
        return True

    def due(self, bucket: str, until: str) -> tuple[list[Hold], int]:
        from chalicelib.core.clock import from_rfc3339

        found = sorted((h for h in self.holds.values() if hold_bucket(from_rfc3339(h.release_at)) == bucket
                        and h.release_at <= until + "~"), key=lambda h: (h.release_at, h.event_id))
        return [copy.deepcopy(h) for h in found], len(found)

    def release(self, hold: Hold) -> None:
        self.holds.pop((hold.tenant_id, hold.event_id), None)


# --- what the consumer reads of other contexts -----------------------------------------------------------
@dataclass
class TicketRecord:
    ticket_id: str
    number: str
    kind: str = "repair"
    status: str = "new"
    category: str | None = None
    location: dict[str, Any] = field(default_factory=dict)
    resident_id: str | None = None
    assignee_id: str | None = None


@dataclass
class StaffRecord:
    user_id: str
    role: str
    phone: str | None = None
    email: str = ""
    name: str = ""
    status: str = "active"
    on_duty: bool = True


@dataclass
class ResidentRecord:
    resident_id: str
    phone: str | None = None
    wechat_openid: str | None = None
    name: str = ""


@dataclass
class UnitRecord:
    building_id: str | None


@dataclass
class BuildingRecord:
    butler_id: str | None


@dataclass
class Directory:
    """Tickets, staff, residents, places and tenant configurations, as the consumer's ports see them."""

    configs: dict[str, Any] = field(default_factory=dict)
    tickets: dict[tuple[str, str], TicketRecord] = field(default_factory=dict)
    staff: dict[tuple[str, str], StaffRecord] = field(default_factory=dict)
    residents: dict[tuple[str, str], ResidentRecord] = field(default_factory=dict)
    units: dict[tuple[str, str], UnitRecord] = field(default_factory=dict)
    buildings: dict[tuple[str, str, str], BuildingRecord] = field(default_factory=dict)

    def config(self, tenant_id: str) -> Any:
        if tenant_id not in self.configs:
            raise NotFoundError()
        return self.configs[tenant_id]

    def get(self, ctx: TenantContext, ticket_id: str) -> TicketRecord | None:
        return self.tickets.get((ctx.tenant_id, ticket_id))

    def get_many(self, ctx: TenantContext, ticket_ids: list[str]) -> dict[str, TicketRecord]:
        return {t: self.tickets[(ctx.tenant_id, t)] for t in ticket_ids if (ctx.tenant_id, t) in self.tickets}

    def active_staff(self, ctx: TenantContext) -> list[StaffRecord]:
        return [s for (tenant, _), s in self.staff.items() if tenant == ctx.tenant_id and s.status == "active"]

    def get_staff(self, ctx: TenantContext, user_id: str) -> StaffRecord | None:
        return self.staff.get((ctx.tenant_id, user_id))

    def get_resident(self, ctx: TenantContext, resident_id: str) -> ResidentRecord | None:
        return self.residents.get((ctx.tenant_id, resident_id))

    def get_residents(self, ctx: TenantContext, resident_ids: list[str]) -> dict[str, ResidentRecord]:
        return {r: self.residents[(ctx.tenant_id, r)] for r in resident_ids if (ctx.tenant_id, r) in self.residents}

    def get_units(self, ctx: TenantContext, refs: list[tuple[str, str]]) -> dict[str, UnitRecord]:
        return {unit_id: self.units[(ctx.tenant_id, unit_id)] for _, unit_id in refs
                if (ctx.tenant_id, unit_id) in self.units}

    def get_building(self, ctx: TenantContext, community_id: str, building_id: str) -> BuildingRecord | None:
        return self.buildings.get((ctx.tenant_id, community_id, building_id))
