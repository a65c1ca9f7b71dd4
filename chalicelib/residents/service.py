"""Use cases for places (communities, buildings, units) and the people living there."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, NotFoundError, PreconditionFailedError, ValidationFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.permissions import Permission
from chalicelib.core.tenancy import TenantContext
from chalicelib.residents import domain
from chalicelib.residents.repository import (
    BuildingItem,
    CommunityItem,
    ResidentItem,
    ResidentRepository,
    UnitItem,
    building_sk,
    community_pk,
    community_sk,
    phone_pk,
    resident_sk,
    unit_sk,
)
from chalicelib.residents.schemas import (
    BuildingIn,
    BuildingOut,
    CommunityIn,
    CommunityOut,
    CommunityPatch,
    ImportErrorOut,
    ImportOut,
    ResidentIn,
    ResidentOut,
    ResidentPatch,
    ResidentUnitIn,
    ResidentUnitOut,
    UnitIn,
    UnitOut,
)
from chalicelib.storage import keys
from chalicelib.storage.table import UniqueItem
from chalicelib.storage.unit_of_work import UnitOfWork, diff


def community_out(item: CommunityItem) -> CommunityOut:
    return CommunityOut(id=item.community_id, name=item.name, address=item.address, city=item.city,
                        created_at=item.created_at, updated_at=item.updated_at, version=item.version)


def building_out(item: BuildingItem) -> BuildingOut:
    return BuildingOut(id=item.building_id, community_id=item.community_id, name=item.name, butler_id=item.butler_id)


def unit_out(item: UnitItem) -> UnitOut:
    return UnitOut(id=item.unit_id, community_id=item.community_id, building_id=item.building_id,
                   entrance=item.entrance, number=item.number, label=item.label)


def resident_out(item: ResidentItem, *, reveal_phone: bool = False) -> ResidentOut:
    return ResidentOut(id=item.resident_id, name=item.name,
                       phone=item.phone if reveal_phone else domain.mask_phone(item.phone),
                       units=[ResidentUnitOut(**u) for u in item.units], created_at=item.created_at,
                       updated_at=item.updated_at, version=item.version)


def unit_claim_pk(tenant_id: str, community_id: str, building_id: str, entrance: str | None, number: str) -> str:
    return keys.tenant_pk(tenant_id, "COM", community_id, "UNITNO", building_id, entrance or "-", number)


class ResidentService:
    def __init__(self, repo: ResidentRepository) -> None:
        self.repo = repo

    # --- communities --------------------------------------------------------------------------
    def create_community(self, ctx: TenantContext, cmd: CommunityIn, now: datetime) -> CommunityOut:
        community_id, stamp = new_id("com"), to_rfc3339(now)
        item = CommunityItem(keys.tenant_pk(ctx.tenant_id), community_sk(community_id), community_id=community_id,
                             name=cmd.name, address=cmd.address, city=cmd.city, created_at=stamp, updated_at=stamp)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.put(item, condition=CommunityItem.PK.does_not_exist())
        uow.record("community.created", pk=community_pk(ctx.tenant_id, community_id),
                   subject=("community", community_id), subject_version=1, data={"name": cmd.name})
        uow.commit()
        return community_out(item)

    def get_community(self, ctx: TenantContext, community_id: str) -> CommunityOut:
        return community_out(self._community(ctx, community_id))

    def list_communities(self, ctx: TenantContext, limit: int, cursor: str | None):  # noqa: ANN201
        items, next_cursor = self.repo.list_communities(ctx, limit, cursor)
        return [community_out(i) for i in items], next_cursor

    def update_community(self, ctx: TenantContext, community_id: str, patch: CommunityPatch, if_match: int | None,
                         now: datetime) -> CommunityOut:
        item = self._community(ctx, community_id, consistent=True)
        if if_match is not None and if_match != item.version:
            raise PreconditionFailedError()
        before = {"name": item.name, "address": item.address, "city": item.city}
        after = {**before, **patch.model_dump(exclude_unset=True, exclude_none=True)}
        changes = diff(before, after)
        if not changes:
            return community_out(item)
        version, stamp = item.version, to_rfc3339(now)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.update(item, [CommunityItem.name.set(after["name"]), CommunityItem.address.set(after["address"]),
                          CommunityItem.city.set(after["city"]), CommunityItem.updated_at.set(stamp),
                          CommunityItem.version.set(version + 1)],
                   condition=CommunityItem.version == version, on_conflict=PreconditionFailedError())
        uow.record("community.updated", pk=community_pk(ctx.tenant_id, community_id),
                   subject=("community", community_id), subject_version=version + 1, changes=changes)
        uow.commit()
        item.name, item.address, item.city = after["name"], after["address"], after["city"]
        item.updated_at, item.version = stamp, version + 1
        return community_out(item)

    def delete_community(self, ctx: TenantContext, community_id: str, now: datetime) -> None:
        item = self._community(ctx, community_id, consistent=True)
        if self.repo.has_children(ctx, community_id):
            raise ConflictError("Remove the community's buildings and units first.", code="community_not_empty")
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.delete(item)
        uow.record("community.deleted", pk=keys.tenant_pk(ctx.tenant_id), subject=("community", community_id))
        uow.commit()

    # --- buildings and units --------------------------------------------------------------------
    def create_building(self, ctx: TenantContext, community_id: str, cmd: BuildingIn, now: datetime) -> BuildingOut:
        self._community(ctx, community_id)
        building_id = new_id("bld")
        item = BuildingItem(community_pk(ctx.tenant_id, community_id), building_sk(building_id),
                            building_id=building_id, community_id=community_id, name=cmd.name,
                            butler_id=cmd.butler_id)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.put(item, condition=BuildingItem.PK.does_not_exist())
        uow.record("building.created", pk=community_pk(ctx.tenant_id, community_id),
                   subject=("building", building_id), data={"community_id": community_id, "name": cmd.name})
        uow.commit()
        return building_out(item)

    def list_buildings(self, ctx: TenantContext, community_id: str, limit: int, cursor: str | None):  # noqa: ANN201
        self._community(ctx, community_id)
        items, next_cursor = self.repo.list_buildings(ctx, community_id, limit, cursor)
        return [building_out(i) for i in items], next_cursor

    def create_unit(self, ctx: TenantContext, community_id: str, cmd: UnitIn, now: datetime) -> UnitOut:
        self._community(ctx, community_id)
        building = self.repo.get_building(ctx, community_id, cmd.building_id)
        if building is None:
            raise ValidationFailedError(details=[{"field": "building_id", "type": "unknown_building",
                                                  "message": "No such building in this community."}])
        return unit_out(self._add_unit(ctx, building, cmd.entrance, cmd.number, now))

    def list_units(self, ctx: TenantContext, community_id: str, limit: int, cursor: str | None,
                   building_id: str | None):  # noqa: ANN201
        self._community(ctx, community_id)
        items, next_cursor = self.repo.list_units(ctx, community_id, limit, cursor, building_id)
        return [unit_out(i) for i in items], next_cursor

    def _add_unit(self, ctx: TenantContext, building: BuildingItem, entrance: str | None, number: str,
                  now: datetime) -> UnitItem:
        unit_id = new_id("unt")
        item = UnitItem(community_pk(ctx.tenant_id, building.community_id), unit_sk(unit_id), unit_id=unit_id,
                        community_id=building.community_id, building_id=building.building_id, entrance=entrance,
                        number=number, label=domain.unit_label(building.name, entrance, number))
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        claim = unit_claim_pk(ctx.tenant_id, building.community_id, building.building_id, entrance, number)
        uow.put(UniqueItem(claim, keys.UNIQUE_SK, owner_id=unit_id), condition=UniqueItem.PK.does_not_exist(),
                on_conflict=ConflictError("This unit already exists.", code="unit_exists"))
        uow.put(item, condition=UnitItem.PK.does_not_exist())
        uow.record("unit.created", pk=community_pk(ctx.tenant_id, building.community_id), subject=("unit", unit_id),
                   data={"community_id": building.community_id, "building_id": building.building_id,
                         "label": item.label})
        uow.commit()
        return item

    # --- residents ------------------------------------------------------------------------------
    def create_resident(self, ctx: TenantContext, cmd: ResidentIn, now: datetime) -> ResidentOut:
        units = self._resident_units(ctx, cmd.units)
        resident_id, stamp = new_id("res"), to_rfc3339(now)
        item = ResidentItem(keys.tenant_pk(ctx.tenant_id), resident_sk(resident_id),
                            GSI3PK=phone_pk(ctx.tenant_id, cmd.phone), GSI3SK=resident_sk(resident_id),
                            resident_id=resident_id, name=cmd.name, phone=cmd.phone, units=units,
                            created_at=stamp, updated_at=stamp, version=1)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.put(UniqueItem(phone_pk(ctx.tenant_id, cmd.phone), keys.UNIQUE_SK, owner_id=resident_id),
                condition=UniqueItem.PK.does_not_exist(),
                on_conflict=ConflictError("A resident with this phone already exists.", code="phone_taken"))
        uow.put(item, condition=ResidentItem.PK.does_not_exist())
        uow.record("resident.registered", pk=keys.tenant_pk(ctx.tenant_id), subject=("resident", resident_id),
                   subject_version=1, data={"units": [u["unit_id"] for u in units]})
        uow.commit()
        return resident_out(item, reveal_phone=self._may_see_phones(ctx))

    def me(self, ctx: TenantContext) -> ResidentOut:
        return resident_out(self._resident(ctx, ctx.principal.id), reveal_phone=True)

    def get_resident(self, ctx: TenantContext, resident_id: str) -> ResidentOut:
        return resident_out(self._resident(ctx, resident_id), reveal_phone=self._may_see_phones(ctx))

    def list_residents(self, ctx: TenantContext, limit: int, cursor: str | None):  # noqa: ANN201
        items, next_cursor = self.repo.list_residents(ctx, limit, cursor)
        return [resident_out(i) for i in items], next_cursor

    def update_resident(self, ctx: TenantContext, resident_id: str, patch: ResidentPatch, if_match: int | None,
                        now: datetime) -> ResidentOut:
        item = self._resident(ctx, resident_id, consistent=True)
        if if_match is not None and if_match != item.version:
            raise PreconditionFailedError()
        fields = patch.model_dump(exclude_unset=True, exclude_none=True)
        units = self._resident_units(ctx, patch.units) if patch.units is not None else item.units
        self._save_resident(ctx, item, fields.get("name", item.name), fields.get("phone", item.phone), units, now)
        return resident_out(item, reveal_phone=self._may_see_phones(ctx))

    def delete_resident(self, ctx: TenantContext, resident_id: str, now: datetime) -> None:
        item = self._resident(ctx, resident_id, consistent=True)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.delete(item, condition=ResidentItem.version == item.version, on_conflict=PreconditionFailedError())
        uow.delete(UniqueItem(phone_pk(ctx.tenant_id, item.phone), keys.UNIQUE_SK))
        uow.record("resident.deleted", pk=keys.tenant_pk(ctx.tenant_id), subject=("resident", resident_id))
        uow.commit()

    def import_csv(self, ctx: TenantContext, raw: bytes, now: datetime) -> ImportOut:
        try:
            text = domain.decode_csv(raw)
        except ValueError as exc:
            raise ValidationFailedError(str(exc), code="unreadable_file") from exc
        rows, row_errors = domain.parse_residents_csv(text)
        errors = [ImportErrorOut(line=e.line, message=e.message) for e in row_errors]
        communities = {c.name: c for c in self._all_communities(ctx)}
        buildings: dict[str, dict[str, BuildingItem]] = {}
        units: dict[str, dict[tuple[str, str | None, str], UnitItem]] = {}
        residents = {r.phone: r for r in self.repo.all_residents(ctx)}
        created = updated = unchanged = 0
        for row in rows:
            community = communities.get(row.community)
            if community is None:
                errors.append(ImportErrorOut(line=row.line, message=f"community: no community named {row.community}"))
                continue
            cid = community.community_id
            if cid not in buildings:
                buildings[cid] = {b.name: b for b in self.repo.all_buildings(ctx, cid)}
                units[cid] = {(u.building_id, u.entrance, u.number): u for u in self.repo.all_units(ctx, cid)}
            building = buildings[cid].get(row.building)
            if building is None:
                out = self.create_building(ctx, cid, BuildingIn(name=row.building), now)
                building = self.repo.get_building(ctx, cid, out.id)
                buildings[cid][row.building] = building
            unit = units[cid].get((building.building_id, row.entrance, row.number))
            if unit is None:
                unit = self._add_unit(ctx, building, row.entrance, row.number, now)
                units[cid][(building.building_id, row.entrance, row.number)] = unit
            link = {"unit_id": unit.unit_id, "community_id": cid, "relation": row.relation, "label": unit.label,
                    "building_id": unit.building_id}
            resident = residents.get(row.phone)
            if resident is None:
                out = self.create_resident(ctx, ResidentIn(name=row.name, phone=row.phone, units=[ResidentUnitIn(
                    unit_id=unit.unit_id, community_id=cid, relation=row.relation)]), now)
                residents[row.phone] = self.repo.get_resident(ctx, out.id, consistent=True)
                created += 1
                continue
            others = [u for u in resident.units if u["unit_id"] != unit.unit_id]
            new_units = others + [link]
            if resident.name == row.name and sorted(resident.units, key=str) == sorted(new_units, key=str):
                unchanged += 1
                continue
            self._save_resident(ctx, resident, row.name, resident.phone, new_units, now)
            updated += 1
        return ImportOut(created=created, updated=updated, unchanged=unchanged,
                         errors=sorted(errors, key=lambda e: e.line))

    # --- helpers --------------------------------------------------------------------------------
    def _save_resident(self, ctx: TenantContext, item: ResidentItem, name: str, phone: str, units: list[dict],
                       now: datetime) -> None:
        before = {"name": item.name, "phone": item.phone, "units": item.units}
        after = {"name": name, "phone": phone, "units": units}
        changes = diff(before, after)
        if not changes:
            return
        if "phone" in changes:
            changes["phone"] = {"before": "[redacted]", "after": "[redacted]"}
        version, stamp = item.version, to_rfc3339(now)
        uow = UnitOfWork(ctx.tenant_id, ctx.actor, now)
        uow.update(item, [ResidentItem.name.set(name), ResidentItem.phone.set(phone), ResidentItem.units.set(units),
                          ResidentItem.GSI3PK.set(phone_pk(ctx.tenant_id, phone)),
                          ResidentItem.updated_at.set(stamp), ResidentItem.version.set(version + 1)],
                   condition=ResidentItem.version == version, on_conflict=PreconditionFailedError())
        if phone != item.phone:
            uow.put(UniqueItem(phone_pk(ctx.tenant_id, phone), keys.UNIQUE_SK, owner_id=item.resident_id),
                    condition=UniqueItem.PK.does_not_exist(),
                    on_conflict=ConflictError("A resident with this phone already exists.", code="phone_taken"))
            uow.delete(UniqueItem(phone_pk(ctx.tenant_id, item.phone), keys.UNIQUE_SK))
        uow.record("resident.updated", pk=keys.tenant_pk(ctx.tenant_id), subject=("resident", item.resident_id),
                   subject_version=version + 1, changes=changes)
        uow.commit()
        item.name, item.phone, item.units, item.updated_at, item.version = name, phone, units, stamp, version + 1

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

    def _all_communities(self, ctx: TenantContext) -> list[CommunityItem]:
        items, cursor = [], None
        while True:
            page, cursor = self.repo.list_communities(ctx, 100, cursor)
            items.extend(page)
            if not cursor:
                return items

    def _community(self, ctx: TenantContext, community_id: str, *, consistent: bool = False) -> CommunityItem:
        item = self.repo.get_community(ctx, community_id, consistent=consistent)
        if item is None:
            raise NotFoundError()
        return item

    def _resident(self, ctx: TenantContext, resident_id: str, *, consistent: bool = False) -> ResidentItem:
        item = self.repo.get_resident(ctx, resident_id, consistent=consistent)
        if item is None:
            raise NotFoundError()
        return item

    @staticmethod
    def _may_see_phones(ctx: TenantContext) -> bool:
        return Permission.RESIDENTS_WRITE in ctx.principal.permissions and ctx.principal.kind == "staff"
