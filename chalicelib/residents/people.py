"""Use cases for residents: registering them with their units, changing, removing, importing and exporting CSV."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.core.changes import field_changes
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import (
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    ValidationFailedError,
)
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import Role
from chalicelib.core.privacy import may_see_phones
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.residents import csv_files, domain
from chalicelib.residents.domain import Community, Resident
from chalicelib.residents.places import PlaceService
from chalicelib.residents.ports import AccessControl, ResidentStore, Sessions
from chalicelib.residents.roster import Roster, RowInput, phone_taken
from chalicelib.residents.schemas import (
    ImportErrorOut,
    ImportOut,
    ResidentIn,
    ResidentOut,
    ResidentPatch,
    ResidentUnitIn,
    ResidentUnitOut,
)


def resident_out(resident: Resident, *, reveal_phone: bool = False) -> ResidentOut:
    return ResidentOut(id=resident.resident_id, name=resident.name,
                       phone=resident.phone if reveal_phone else domain.mask_phone(resident.phone),
                       units=[ResidentUnitOut(**u) for u in resident.units], created_at=resident.created_at,
                       updated_at=resident.updated_at, version=resident.version)


def in_buildings(resident: Resident, building_ids: frozenset[str]) -> bool:
    """Whether any of the resident's units is in one of ``building_ids``.

    Example
    -------
    >>> r = Resident("res_1", "王", "13812345678", [{"unit_id": "u", "building_id": "bld_1"}], "t", "t")
    >>> in_buildings(r, frozenset({"bld_1"})), in_buildings(r, frozenset({"bld_2"}))
    (True, False)
    """
    return any(u.get("building_id") in building_ids for u in resident.units)


class ResidentService:
    """Owns a tenant's residents: their phones (unique per tenant, masked for most readers), the units they
    live in, and the idempotent CSV import that creates missing buildings, units and residents.

    The place use cases that callers seed together with residents (``create_community``,
    ``list_communities``, ``create_building``, ``create_unit``) are :class:`PlaceService`'s, forwarded.
    """

    def __init__(self, repo: ResidentStore, new_uow: UnitOfWorkFactory, places: PlaceService,
                 access: AccessControl, sessions: Sessions) -> None:
        self.repo = repo
        self.new_uow = new_uow
        self.places = places
        self.access = access
        self.sessions = sessions
        self.roster = Roster(repo, new_uow)

    # --- residents --------------------------------------------------------------------------------------
    def create_resident(self, ctx: TenantContext, cmd: ResidentIn, now: datetime) -> ResidentOut:
        units = self._resident_units(ctx, cmd.units)
        resident_id, stamp = new_id("res"), to_rfc3339(now)
        resident = Resident(resident_id=resident_id, name=cmd.name, phone=cmd.phone, units=units, created_at=stamp,
                            updated_at=stamp, version=1)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.repo.stage_new_resident(uow, ctx, resident, on_phone_taken=phone_taken())
        uow.record("resident.registered", subject=("resident", resident_id), subject_version=1,
                   data={"units": [u["unit_id"] for u in units]})
        uow.commit()
        return resident_out(resident, reveal_phone=self._may_see_phones(ctx))

    def me(self, ctx: TenantContext) -> ResidentOut:
        return resident_out(self._resident(ctx, ctx.principal.id), reveal_phone=True)

    def get_resident(self, ctx: TenantContext, resident_id: str) -> ResidentOut:
        resident = self._resident(ctx, resident_id)
        scope = self._building_scope(ctx)
        if scope is not None and not in_buildings(resident, scope):
            raise NotFoundError()  # outside a butler's buildings: identical to missing
        return resident_out(resident, reveal_phone=self._may_see_phones(ctx))

    def list_residents(self, ctx: TenantContext, limit: int, cursor: str | None,
                       q: str | None = None) -> tuple[list[ResidentOut], str | None]:
        """A page of residents, or of those ``q`` finds (:meth:`search_residents`); a butler's pages hold only the
        residents of their own buildings (a page may then be shorter than ``limit`` while a next cursor remains)."""
        if q:
            return self.search_residents(ctx, q, limit, cursor)
        residents, next_cursor = self.repo.list_residents(ctx, limit, cursor)
        scope = self._building_scope(ctx)
        if scope is not None:
            residents = [r for r in residents if in_buildings(r, scope)]
        return [resident_out(r) for r in residents], next_cursor

    def search_residents(self, ctx: TenantContext, q: str, limit: int,
                         cursor: str | None) -> tuple[list[ResidentOut], str | None]:
        """A page of the residents ``q`` finds (phone intake, 来电登记): a full mobile number by the phone index, four
        digits by the phone's last four, a unit label (``1栋2单元202``, ``1-2-202``, optionally after the community's
        name) by the units, anything else as a prefix of names — one Query a page (:func:`domain.classify_search`).
        Phones masked as in every list; a butler finds only the residents of their own buildings."""
        search = domain.classify_search(q)
        community_ids = None
        if search.community:  # a community's name typed before the unit: one more read, of the communities
            community_ids = frozenset(c.community_id for c in self._all_communities(ctx)
                                      if domain.search_text(c.name).startswith(search.community))
            if not community_ids:
                return [], None
        residents, next_cursor = self.repo.search_residents(ctx, search.by, search.key, limit, cursor,
                                                            community_ids=community_ids)
        scope = self._building_scope(ctx)
        if scope is not None:
            residents = [r for r in residents if in_buildings(r, scope)]
        return [resident_out(r) for r in residents], next_cursor

    def update_resident(self, ctx: TenantContext, resident_id: str, patch: ResidentPatch, if_match: int | None,
                        now: datetime) -> ResidentOut:
        resident = self._resident(ctx, resident_id, consistent=True)
        if if_match is not None and if_match != resident.version:
            raise PreconditionFailedError()
        fields = patch.model_dump(exclude_unset=True, exclude_none=True)
        units = self._resident_units(ctx, patch.units) if patch.units is not None else resident.units
        saved = self._save_resident(ctx, resident, fields.get("name", resident.name),
                                    fields.get("phone", resident.phone), units, now)
        return resident_out(saved, reveal_phone=self._may_see_phones(ctx))

    def delete_resident(self, ctx: TenantContext, resident_id: str, now: datetime) -> None:
        resident = self._resident(ctx, resident_id, consistent=True)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.repo.stage_resident_delete(uow, ctx, resident, on_conflict=PreconditionFailedError())
        self.access.stage_revoke(uow, ctx, resident_id, now)  # their tokens stop at once, not at expiry
        uow.record("resident.deleted", subject=("resident", resident_id))
        uow.commit()
        self.access.committed(ctx.tenant_id)
        self.sessions.end_all(ctx, resident_id)

    # --- CSV import and export --------------------------------------------------------------------------
    def import_csv(self, ctx: TenantContext, raw: bytes, now: datetime) -> ImportOut:
        """Residents from a small CSV (UTF-8 or GBK, at most ``csv_files.MAX_IMPORT_ROWS`` rows), applied while the
        caller waits: missing buildings and units are created, a known phone is updated, an unchanged row counted.
        Every field is checked as the API checks it and formula cells are neutralised (``csv_files``); a bad row is
        reported by line and field and changes nothing, the other rows still import. The rows are written as an
        import job's chunk is (``roster.Roster``), each building, unit and resident with its own event. Larger
        files, and XLSX, go through an import job (``residents.imports``)."""
        try:
            rows, row_errors = csv_files.parse_residents_csv(csv_files.decode_csv(raw))
        except csv_files.TooManyRowsError as exc:
            raise PayloadTooLargeError(str(exc), code="too_many_rows") from exc
        except csv_files.CsvFileError as exc:
            raise ValidationFailedError(str(exc), code="unreadable_file") from exc
        file_errors = [e for e in row_errors if e.code in ("missing_columns", "empty_file")]
        errors_by_line: dict[int, list[csv_files.RowError]] = {}
        for error in row_errors:
            if error not in file_errors:
                errors_by_line.setdefault(error.line, []).append(error)
        inputs = sorted([*(RowInput(row.line, row) for row in rows),
                         *(RowInput(line, None, tuple(errors)) for line, errors in errors_by_line.items())],
                        key=lambda entry: entry.line)
        tally = self.roster.apply(ctx, inputs, now, record_events=True)
        errors = [ImportErrorOut(line=e.line, field=e.field, message=e.message)
                  for e in (*file_errors, *(e for failure in tally.failures for e in failure.errors))]
        return ImportOut(created=tally.created, updated=tally.updated, unchanged=tally.unchanged,
                         errors=sorted(errors, key=lambda e: e.line))

    def export_csv(self, ctx: TenantContext) -> str:
        """Every resident, one line per unit they live in (one line with empty places for a resident with none),
        in the import's columns; cells neutralised against formulas; phones as :meth:`get_resident` shows them."""
        places: dict[str, tuple[str, str, str | None, str]] = {}
        for community in self._all_communities(ctx):
            names = {b.building_id: b.name for b in self.repo.all_buildings(ctx, community.community_id)}
            for unit in self.repo.all_units(ctx, community.community_id):
                places[unit.unit_id] = (community.name, names.get(unit.building_id, ""), unit.entrance, unit.number)
        reveal = self._may_see_phones(ctx)
        lines = []
        for resident in sorted(self.repo.all_residents(ctx), key=lambda r: (r.created_at, r.resident_id)):
            phone = resident.phone if reveal else domain.mask_phone(resident.phone) or ""
            for link in resident.units or [{}]:
                community, building, entrance, number = places.get(link.get("unit_id", ""), ("", "", None, ""))
                lines.append(csv_files.ExportRow(community, building, entrance, number, resident.name, phone,
                                                 link.get("relation")))
        return csv_files.residents_csv(lines)

    # --- helpers ----------------------------------------------------------------------------------------
    def _save_resident(self, ctx: TenantContext, resident: Resident, name: str, phone: str,
                       units: list[dict[str, Any]], now: datetime) -> Resident:
        """The resident with this name, phone and units, saved if anything changed."""
        before = {"name": resident.name, "phone": resident.phone, "units": resident.units}
        changes = field_changes(before, {"name": name, "phone": phone, "units": units})
        if not changes:
            return resident
        if "phone" in changes:
            changes["phone"] = {"before": "[redacted]", "after": "[redacted]"}
        saved = replace(resident, name=name, phone=phone, units=units, updated_at=to_rfc3339(now),
                        version=resident.version + 1)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.repo.stage_resident_update(uow, ctx, resident, saved, on_conflict=PreconditionFailedError(),
                                        on_phone_taken=phone_taken())
        # a unit taken away: the tokens naming it stop now (refreshing gives the units as they are now)
        cut = bool({u["unit_id"] for u in resident.units} - {u["unit_id"] for u in units})
        if cut:
            self.access.stage_revoke(uow, ctx, resident.resident_id, now)
        uow.record("resident.updated", subject=("resident", resident.resident_id), subject_version=saved.version,
                   changes=changes)
        uow.commit()
        if cut:
            self.access.committed(ctx.tenant_id)
        return saved

    def _resident_units(self, ctx: TenantContext, links: list[ResidentUnitIn]) -> list[dict[str, Any]]:
        found = self.repo.get_units(ctx, [(u.community_id, u.unit_id) for u in links])
        result, problems = [], []
        for index, link in enumerate(links):
            unit = found.get(link.unit_id)
            if unit is None or unit.community_id != link.community_id:
                problems.append({"field": f"units.{index}.unit_id", "type": "unknown_unit",
                                 "message": "No such unit in this community."})
                continue
            result.append({"unit_id": unit.unit_id, "community_id": unit.community_id, "relation": link.relation,
                           "label": unit.label, "building_id": unit.building_id})
        if problems:
            raise ValidationFailedError(details=problems)
        return result

    def _all_communities(self, ctx: TenantContext) -> list[Community]:
        communities, cursor = [], None
        while True:
            page, cursor = self.repo.list_communities(ctx, 100, cursor)
            communities.extend(page)
            if not cursor:
                return communities

    def _resident(self, ctx: TenantContext, resident_id: str, *, consistent: bool = False) -> Resident:
        resident = self.repo.get_resident(ctx, resident_id, consistent=consistent)
        if resident is None:
            raise NotFoundError()
        return resident

    def _building_scope(self, ctx: TenantContext) -> frozenset[str] | None:
        """The buildings a butler looks after (``None``: everyone else reads the whole tenant)."""
        if ctx.principal.kind != "staff" or ctx.principal.role != Role.BUTLER:
            return None
        return frozenset(b.building_id for c in self._all_communities(ctx)
                         for b in self.repo.all_buildings(ctx, c.community_id) if b.butler_id == ctx.principal.id)

    @staticmethod
    def _may_see_phones(ctx: TenantContext) -> bool:
        return may_see_phones(ctx.principal)
