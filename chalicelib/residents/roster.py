"""Residents' rows applied in bulk: what both imports share (the small synchronous CSV route and every chunk of an
import job).

A row names a community (which must exist), a building and a unit (created when missing) and a resident by phone
(created when the phone is new; a known phone is renamed and gains the row's unit, at most
:data:`~chalicelib.residents.domain.MAX_RESIDENT_UNITS`). What the rows need is read up front by natural key — the
communities, their buildings, the units at the rows' places and the residents with the rows' phones, a few
BatchGetItems for hundreds of rows — then the rows are written in row order, as many per transaction as fit in
:data:`~chalicelib.core.uow.MAX_TRANSACTION_ITEMS`, a resident at most once per transaction. A row that changes
nothing writes nothing.

A job passes a :class:`Progress`: it stages the job's own counters (and the failed rows) in each of those
transactions, conditioned on where the job stood, so a redelivered chunk counts nothing twice and goes on after the
last row it committed. When a transaction meets a conflict (a phone or unit claimed meanwhile by someone else, a
resident changed meanwhile), what it held is read again and retried row by row; a row that still conflicts fails
alone (``conflict``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from chalicelib.core.changes import field_changes
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, LinliError, PreconditionFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import MAX_TRANSACTION_ITEMS, UnitOfWork, UnitOfWorkFactory
from chalicelib.residents import csv_files, domain
from chalicelib.residents.csv_files import ImportRow, RowError
from chalicelib.residents.domain import Building, Community, Resident, Unit, UnitPlace
from chalicelib.residents.ports import ResidentStore

Outcome = Literal["created", "updated", "unchanged"]


def phone_taken() -> ConflictError:
    return ConflictError("A resident with this phone already exists.", code="phone_taken")


class ProgressMovedError(ConflictError):
    """The job moved past this point meanwhile (a duplicate delivery of the same chunk is at work): stop here."""

    code, default_message = "import_progress_moved", "Another worker applied these rows."


@dataclass(frozen=True)
class RowInput:
    """One non-blank row of a file: its number, the row when it is valid (else the errors that keep it out) and
    its cells as the file had them (for the error file)."""

    line: int
    row: ImportRow | None
    errors: tuple[RowError, ...] = ()
    cells: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowFailure:
    line: int
    errors: tuple[RowError, ...]
    cells: tuple[str, ...]


@dataclass
class Tally:
    """What a run of rows came to; ``through`` is the number of the last row counted."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failures: list[RowFailure] = field(default_factory=list)
    through: int = 0

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    def add(self, other: Tally) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failures.extend(other.failures)
        self.through = max(self.through, other.through)


class Progress(Protocol):
    """A job's bookkeeping, staged in every transaction of its rows."""

    items_per_failure: int  # what one failed row adds to the transaction

    def stage(self, uow: UnitOfWork, tally: Tally) -> None:
        """Stage the job's counters (and failed rows) for ``tally``, conditioned on where the job stands."""

    def committed(self, tally: Tally) -> None:
        """``tally``'s transaction committed: the job now stands after its last row."""


@dataclass
class _Known:
    """What the rows refer to, as read and as written so far: communities by name, buildings by name per
    community, units by place, residents by phone."""

    communities: dict[str, Community]
    buildings: dict[str, dict[str, Building]]
    units: dict[UnitPlace, Unit]
    residents: dict[str, Resident]

    def community(self, name: str) -> Community | None:
        return self.communities.get(name) or self.communities.get(csv_files.without_neutralising(name))


@dataclass(frozen=True)
class _Change:
    """What one valid row writes (nothing when ``outcome`` is unchanged)."""

    outcome: Outcome
    phone: str
    building: Building | None = None  # new
    unit: Unit | None = None  # new
    before: Resident | None = None  # the stored resident a change updates
    after: Resident | None = None


@dataclass
class _Group:
    uow: UnitOfWork
    tally: Tally
    first: int  # index of its first input
    residents: set[str] = field(default_factory=set)
    rows: int = 0
    pending: int = 0  # items the job's bookkeeping will add for the failed rows so far


class Roster:
    """Applies residents' rows to a tenant (see the module's description)."""

    def __init__(self, repo: ResidentStore, new_uow: UnitOfWorkFactory) -> None:
        self.repo = repo
        self.new_uow = new_uow

    def apply(self, ctx: TenantContext, inputs: Sequence[RowInput], now: datetime, *, record_events: bool,
              progress: Progress | None = None) -> Tally:
        """Apply ``inputs`` (in row order) and count them. With ``record_events`` each building, unit and resident
        written gets its own event, as when staff add them one by one; a job records itself instead."""
        total, retried = Tally(), set[int]()
        known = self._load(ctx, [i.row for i in inputs if i.row is not None])
        index, single_through = 0, -1
        group = self._group(ctx, now, 0)
        while index < len(inputs):
            entry = inputs[index]
            change, errors = self._change(known, entry, now) if entry.row is not None else (None, entry.errors)
            cost = 0
            if change is None:
                cost = progress.items_per_failure if progress else 0
            elif change.outcome != "unchanged":
                if change.phone in group.residents:
                    cost = MAX_TRANSACTION_ITEMS  # a resident is written once per transaction: start another
                else:
                    scratch = self.new_uow(ctx.tenant_id, ctx.actor, now)
                    self._stage(scratch, ctx, change, record_events)
                    cost = scratch.size()
            if group.rows and group.uow.size() + group.pending + cost + 2 > MAX_TRANSACTION_ITEMS:  # 2: the job
                moved = self._commit(inputs, group, progress, total, retried)
                if moved is not None:
                    known, index, single_through = self._reload(ctx, inputs, moved, known, single_through)
                group = self._group(ctx, now, index)
                continue
            if change is None:
                group.tally.failures.append(RowFailure(entry.line, tuple(errors), entry.cells))
                group.pending += cost
            elif change.outcome == "unchanged":
                group.tally.unchanged += 1
            else:
                self._stage(group.uow, ctx, change, record_events)
                self._remember(known, change)
                group.residents.add(change.phone)
                setattr(group.tally, change.outcome, getattr(group.tally, change.outcome) + 1)
            group.tally.through, group.rows = entry.line, group.rows + 1
            index += 1
            if index - 1 <= single_through or index == len(inputs):
                moved = self._commit(inputs, group, progress, total, retried)
                if moved is not None:
                    known, index, single_through = self._reload(ctx, inputs, moved, known, single_through)
                group = self._group(ctx, now, index)
        return total

    # --- transactions -------------------------------------------------------------------------------
    def _group(self, ctx: TenantContext, now: datetime, first: int) -> _Group:
        return _Group(self.new_uow(ctx.tenant_id, ctx.actor, now), Tally(), first)

    def _commit(self, inputs: Sequence[RowInput], group: _Group, progress: Progress | None, total: Tally,
                retried: set[int]) -> _Group | None:
        """Commit a group (with the job's bookkeeping); the group back when it met a conflict and must be
        retried row by row. A single row that conflicts a second time fails alone."""
        if progress is not None:
            progress.stage(group.uow, group.tally)
        try:
            group.uow.commit()
        except ProgressMovedError:
            raise
        except (ConflictError, PreconditionFailedError) as exc:
            if group.rows > 1 or group.first not in retried:
                retried.add(group.first)
                return group
            self._fail_alone(inputs[group.first], group.uow, progress, total, exc)
            return None
        if progress is not None:
            progress.committed(group.tally)
        total.add(group.tally)
        return None

    def _fail_alone(self, entry: RowInput, failed: UnitOfWork, progress: Progress | None, total: Tally,
                    exc: LinliError) -> None:
        tally = Tally(through=entry.line)
        tally.failures.append(RowFailure(entry.line, (RowError(entry.line, None, exc.message, "conflict"),),
                                         entry.cells))
        if progress is not None:
            uow = self.new_uow(failed.tenant_id, failed.actor, failed.now)
            progress.stage(uow, tally)
            uow.commit()
            progress.committed(tally)
        total.add(tally)

    def _reload(self, ctx: TenantContext, inputs: Sequence[RowInput], failed: _Group, known: _Known,
                single_through: int) -> tuple[_Known, int, int]:
        """After a conflict: read again what the rows from the failed group on refer to, and go on from that
        group one row per transaction until its last row."""
        rest = [i.row for i in inputs[failed.first:] if i.row is not None]
        last = failed.first + failed.rows - 1
        return self._load(ctx, rest), failed.first, max(single_through, last)

    # --- rows ---------------------------------------------------------------------------------------
    def _load(self, ctx: TenantContext, rows: list[ImportRow]) -> _Known:
        communities, cursor = {}, None
        while True:
            page, cursor = self.repo.list_communities(ctx, 100, cursor)
            communities.update((c.name, c) for c in page)
            if not cursor:
                break
        known = _Known(communities, {}, {}, {})
        wanted = {c.community_id for row in rows if (c := known.community(row.community)) is not None}
        known.buildings = {cid: {b.name: b for b in self.repo.all_buildings(ctx, cid)} for cid in sorted(wanted)}
        places = []
        for row in rows:
            community = known.community(row.community)
            building = known.buildings[community.community_id].get(row.building) if community else None
            if building is not None:
                places.append(UnitPlace(community.community_id, building.building_id, row.entrance, row.number))
        known.units = self.repo.units_at(ctx, places) if places else {}
        known.residents = self.repo.residents_with_phones(ctx, [row.phone for row in rows]) if rows else {}
        return known

    def _change(self, known: _Known, entry: RowInput, now: datetime) -> tuple[_Change | None, list[RowError]]:
        """What a valid row comes to against what is known, or the errors that keep it out."""
        row = entry.row
        assert row is not None
        community = known.community(row.community)
        if community is None:
            return None, [RowError(entry.line, "community", f"community: no community named {row.community}",
                                   "unknown_community")]
        cid = community.community_id
        building = known.buildings.setdefault(cid, {}).get(row.building)
        new_building = None
        if building is None:
            building = new_building = Building(building_id=new_id("bld"), community_id=cid, name=row.building)
        place = UnitPlace(cid, building.building_id, row.entrance, row.number)
        unit = known.units.get(place)
        new_unit = None
        if unit is None:
            unit = new_unit = Unit(unit_id=new_id("unt"), community_id=cid, building_id=building.building_id,
                                   entrance=row.entrance, number=row.number,
                                   label=domain.unit_label(building.name, row.entrance, row.number))
        resident = known.residents.get(row.phone)
        link = {"unit_id": unit.unit_id, "community_id": cid, "relation": row.relation, "label": unit.label,
                "building_id": unit.building_id}
        stamp = to_rfc3339(now)
        if resident is None:
            after = Resident(resident_id=new_id("res"), name=row.name, phone=row.phone, units=[link],
                             created_at=stamp, updated_at=stamp, version=1)
            return _Change("created", row.phone, new_building, new_unit, None, after), []
        if len(resident.units) >= domain.MAX_RESIDENT_UNITS and all(u["unit_id"] != unit.unit_id
                                                                    for u in resident.units):
            return None, [RowError(entry.line, None,
                                   f"units: a resident lives in at most {domain.MAX_RESIDENT_UNITS} units",
                                   "too_many_units")]
        units = [u for u in resident.units if u["unit_id"] != unit.unit_id] + [link]
        if resident.name == row.name and sorted(resident.units, key=str) == sorted(units, key=str):
            return _Change("unchanged", row.phone), []
        after = replace(resident, name=row.name, units=units, updated_at=stamp, version=resident.version + 1)
        return _Change("updated", row.phone, new_building, new_unit, resident, after), []

    def _stage(self, uow: UnitOfWork, ctx: TenantContext, change: _Change, record_events: bool) -> None:
        if change.building is not None:
            building = change.building
            self.repo.stage_new_building(uow, ctx, building)
            if record_events:
                uow.record("building.created", subject=("building", building.building_id),
                           data={"community_id": building.community_id, "name": building.name})
        if change.unit is not None:
            unit = change.unit
            self.repo.stage_new_unit(uow, ctx, unit,
                                     on_duplicate=ConflictError("This unit already exists.", code="unit_exists"))
            if record_events:
                uow.record("unit.created", subject=("unit", unit.unit_id),
                           data={"community_id": unit.community_id, "building_id": unit.building_id,
                                 "label": unit.label})
        after = change.after
        assert after is not None
        if change.before is None:
            self.repo.stage_new_resident(uow, ctx, after, on_phone_taken=phone_taken())
            if record_events:
                uow.record("resident.registered", subject=("resident", after.resident_id), subject_version=1,
                           data={"units": [u["unit_id"] for u in after.units]})
            return
        before = change.before
        self.repo.stage_resident_update(uow, ctx, before, after, on_conflict=PreconditionFailedError(),
                                        on_phone_taken=phone_taken())
        if record_events:
            uow.record("resident.updated", subject=("resident", after.resident_id), subject_version=after.version,
                       changes=field_changes(_fields(before), _fields(after)))

    @staticmethod
    def _remember(known: _Known, change: _Change) -> None:
        if change.building is not None:
            known.buildings.setdefault(change.building.community_id, {})[change.building.name] = change.building
        if change.unit is not None:
            unit = change.unit
            known.units[UnitPlace(unit.community_id, unit.building_id, unit.entrance, unit.number)] = unit
        if change.after is not None:
            known.residents[change.phone] = change.after


def _fields(resident: Resident) -> dict[str, Any]:
    return {"name": resident.name, "units": resident.units}
