"""Use cases for places: communities (小区), their buildings (楼栋) and units (房号)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.core.changes import field_changes
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, NotFoundError, PreconditionFailedError, ValidationFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.residents import domain
from chalicelib.residents.domain import Building, Community, Unit
from chalicelib.residents.ports import ResidentStore
from chalicelib.residents.schemas import (
    BuildingIn,
    BuildingOut,
    CommunityIn,
    CommunityOut,
    CommunityPatch,
    UnitIn,
    UnitOut,
)


def community_out(community: Community) -> CommunityOut:
    return CommunityOut(id=community.community_id, name=community.name, address=community.address,
                        city=community.city, created_at=community.created_at, updated_at=community.updated_at,
                        version=community.version)


def building_out(building: Building) -> BuildingOut:
    return BuildingOut(id=building.building_id, community_id=building.community_id, name=building.name,
                       butler_id=building.butler_id)


def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(id=unit.unit_id, community_id=unit.community_id, building_id=unit.building_id,
                   entrance=unit.entrance, number=unit.number, label=unit.label)


class PlaceService:
    """Owns a tenant's places: communities (add, list, rename, remove when empty), their buildings and units
    (a unit number is unique per building and entrance)."""

    def __init__(self, repo: ResidentStore, new_uow: UnitOfWorkFactory) -> None:
        self.repo = repo
        self.new_uow = new_uow

    # --- communities --------------------------------------------------------------------------------
    def create_community(self, ctx: TenantContext, cmd: CommunityIn, now: datetime) -> CommunityOut:
        community_id, stamp = new_id("com"), to_rfc3339(now)
        community = Community(community_id=community_id, name=cmd.name, address=cmd.address, city=cmd.city,
                              created_at=stamp, updated_at=stamp, version=1)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.repo.stage_new_community(uow, ctx, community)
        uow.record("community.created", subject=("community", community_id), subject_version=1,
                   data={"name": cmd.name})
        uow.commit()
        return community_out(community)

    def get_community(self, ctx: TenantContext, community_id: str) -> CommunityOut:
        return community_out(self.community(ctx, community_id))

    def unit_count(self, ctx: TenantContext, community_id: str) -> int:
        return self.repo.unit_count(ctx, community_id)

    def list_communities(self, ctx: TenantContext, limit: int,
                         cursor: str | None) -> tuple[list[CommunityOut], str | None]:
        communities, next_cursor = self.repo.list_communities(ctx, limit, cursor)
        return [community_out(c) for c in communities], next_cursor

    def update_community(self, ctx: TenantContext, community_id: str, patch: CommunityPatch, if_match: int | None,
                         now: datetime) -> CommunityOut:
        community = self.community(ctx, community_id, consistent=True)
        if if_match is not None and if_match != community.version:
            raise PreconditionFailedError()
        before = {"name": community.name, "address": community.address, "city": community.city}
        after = {**before, **patch.model_dump(exclude_unset=True, exclude_none=True)}
        changes = field_changes(before, after)
        if not changes:
            return community_out(community)
        updated = replace(community, name=after["name"], address=after["address"], city=after["city"],
                          updated_at=to_rfc3339(now), version=community.version + 1)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.repo.stage_community_update(uow, ctx, community, updated, on_conflict=PreconditionFailedError())
        uow.record("community.updated", subject=("community", community_id), subject_version=updated.version,
                   changes=changes)
        uow.commit()
        return community_out(updated)

    def delete_community(self, ctx: TenantContext, community_id: str, now: datetime) -> None:
        community = self.community(ctx, community_id, consistent=True)
        if self.repo.has_children(ctx, community_id):
            raise ConflictError("Remove the community's buildings and units first.", code="community_not_empty")
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.repo.stage_community_delete(uow, ctx, community)
        uow.record("community.deleted", subject=("community", community_id))
        uow.commit()

    def community(self, ctx: TenantContext, community_id: str, *, consistent: bool = False) -> Community:
        """The community, or :class:`NotFoundError`."""
        community = self.repo.get_community(ctx, community_id, consistent=consistent)
        if community is None:
            raise NotFoundError()
        return community

    # --- buildings and units ------------------------------------------------------------------------
    def create_building(self, ctx: TenantContext, community_id: str, cmd: BuildingIn, now: datetime) -> BuildingOut:
        self.community(ctx, community_id)
        building = Building(building_id=new_id("bld"), community_id=community_id, name=cmd.name,
                            butler_id=cmd.butler_id)
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.repo.stage_new_building(uow, ctx, building)
        uow.record("building.created", subject=("building", building.building_id),
                   data={"community_id": community_id, "name": cmd.name})
        uow.commit()
        return building_out(building)

    def list_buildings(self, ctx: TenantContext, community_id: str, limit: int,
                       cursor: str | None) -> tuple[list[BuildingOut], str | None]:
        self.community(ctx, community_id)
        buildings, next_cursor = self.repo.list_buildings(ctx, community_id, limit, cursor)
        return [building_out(b) for b in buildings], next_cursor

    def create_unit(self, ctx: TenantContext, community_id: str, cmd: UnitIn, now: datetime) -> UnitOut:
        self.community(ctx, community_id)
        building = self.repo.get_building(ctx, community_id, cmd.building_id)
        if building is None:
            raise ValidationFailedError(details=[{"field": "building_id", "type": "unknown_building",
                                                  "message": "No such building in this community."}])
        return unit_out(self.add_unit(ctx, building, cmd.entrance, cmd.number, now))

    def list_units(self, ctx: TenantContext, community_id: str, limit: int, cursor: str | None,
                   building_id: str | None) -> tuple[list[UnitOut], str | None]:
        self.community(ctx, community_id)
        units, next_cursor = self.repo.list_units(ctx, community_id, limit, cursor, building_id)
        return [unit_out(u) for u in units], next_cursor

    def add_unit(self, ctx: TenantContext, building: Building, entrance: str | None, number: str,
                 now: datetime) -> Unit:
        """A new unit of a known building (409 ``unit_exists`` when its number is taken)."""
        unit = Unit(unit_id=new_id("unt"), community_id=building.community_id, building_id=building.building_id,
                    entrance=entrance, number=number, label=domain.unit_label(building.name, entrance, number))
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.repo.stage_new_unit(uow, ctx, unit,
                                 on_duplicate=ConflictError("This unit already exists.", code="unit_exists"))
        uow.record("unit.created", subject=("unit", unit.unit_id),
                   data={"community_id": building.community_id, "building_id": building.building_id,
                         "label": unit.label})
        uow.commit()
        return unit
