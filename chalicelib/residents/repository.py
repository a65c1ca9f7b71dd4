"""Community, building, unit and resident items and their queries."""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.storage import keys
from chalicelib.storage.table import GSI3, LinliModel, UniqueItem


class CommunityItem(LinliModel, discriminator="community"):
    community_id = UnicodeAttribute()
    name = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class BuildingItem(LinliModel, discriminator="building"):
    building_id = UnicodeAttribute()
    community_id = UnicodeAttribute()
    name = UnicodeAttribute()
    butler_id = UnicodeAttribute(null=True)


class UnitItem(LinliModel, discriminator="unit"):
    unit_id = UnicodeAttribute()
    community_id = UnicodeAttribute()
    building_id = UnicodeAttribute()
    entrance = UnicodeAttribute(null=True)
    number = UnicodeAttribute()
    label = UnicodeAttribute()


class ResidentItem(LinliModel, discriminator="resident"):
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    by_phone = GSI3()

    resident_id = UnicodeAttribute()
    name = UnicodeAttribute()
    phone = UnicodeAttribute()
    units = JSONAttribute(default=list)
    wechat_openid = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


def community_pk(tenant_id: str, community_id: str) -> str:
    return keys.tenant_pk(tenant_id, "COM", community_id)


def community_sk(community_id: str) -> str:
    return keys.sk("COM", community_id)


def building_sk(building_id: str) -> str:
    return keys.sk("BLD", building_id)


def unit_sk(unit_id: str) -> str:
    return keys.sk("UNIT", unit_id)


def resident_sk(resident_id: str) -> str:
    return keys.sk("RES", resident_id)


def phone_pk(tenant_id: str, phone: str) -> str:
    return keys.tenant_pk(tenant_id, "PHONE", phone)


def openid_pk(tenant_id: str, openid: str) -> str:
    return keys.tenant_pk(tenant_id, "WX", openid)


class ResidentRepository:
    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors


    def get_community(self, ctx: TenantContext, community_id: str, *, consistent: bool = False) -> CommunityItem | None:
        return _get(CommunityItem, keys.tenant_pk(ctx.tenant_id), community_sk(community_id), consistent)

    def list_communities(self, ctx: TenantContext, limit: int, cursor: str | None):  # noqa: ANN201
        return self._cursors.page(ctx.tenant_id, CommunityItem.query(
            keys.tenant_pk(ctx.tenant_id), CommunityItem.SK.startswith("COM#"), limit=limit,
            last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor)))

    def list_buildings(self, ctx: TenantContext, community_id: str, limit: int, cursor: str | None):  # noqa: ANN201
        return self._cursors.page(ctx.tenant_id, BuildingItem.query(
            community_pk(ctx.tenant_id, community_id), BuildingItem.SK.startswith("BLD#"), limit=limit,
            last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor)))

    def all_buildings(self, ctx: TenantContext, community_id: str) -> list[BuildingItem]:
        return list(BuildingItem.query(community_pk(ctx.tenant_id, community_id), BuildingItem.SK.startswith("BLD#")))

    def get_building(self, ctx: TenantContext, community_id: str, building_id: str) -> BuildingItem | None:
        return _get(BuildingItem, community_pk(ctx.tenant_id, community_id), building_sk(building_id), False)

    def list_units(self, ctx: TenantContext, community_id: str, limit: int, cursor: str | None,
                   building_id: str | None = None):  # noqa: ANN201
        condition = UnitItem.building_id == building_id if building_id else None
        return self._cursors.page(ctx.tenant_id, UnitItem.query(
            community_pk(ctx.tenant_id, community_id), UnitItem.SK.startswith("UNIT#"), filter_condition=condition,
            limit=limit, last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor)))

    def all_units(self, ctx: TenantContext, community_id: str) -> list[UnitItem]:
        return list(UnitItem.query(community_pk(ctx.tenant_id, community_id), UnitItem.SK.startswith("UNIT#")))

    def get_units(self, ctx: TenantContext, refs: list[tuple[str, str]]) -> dict[str, UnitItem]:
        """Units by (community_id, unit_id), in one BatchGetItem."""
        if not refs:
            return {}
        keys_ = [(community_pk(ctx.tenant_id, c), unit_sk(u)) for c, u in refs]
        return {i.unit_id: i for i in UnitItem.batch_get(keys_) if isinstance(i, UnitItem)}

    def has_children(self, ctx: TenantContext, community_id: str) -> bool:
        for _ in BuildingItem.query(community_pk(ctx.tenant_id, community_id), BuildingItem.SK.startswith("BLD#"),
                                    limit=1):
            return True
        return False

    def get_resident(self, ctx: TenantContext, resident_id: str, *, consistent: bool = False) -> ResidentItem | None:
        return _get(ResidentItem, keys.tenant_pk(ctx.tenant_id), resident_sk(resident_id), consistent)

    def find_resident_by_phone(self, tenant_id: str, phone: str) -> ResidentItem | None:
        for item in ResidentItem.by_phone.query(phone_pk(tenant_id, phone), limit=1):
            return item
        return None

    def resident_for_openid(self, tenant_id: str, openid: str) -> ResidentItem | None:
        try:
            owner = UniqueItem.get(openid_pk(tenant_id, openid), keys.UNIQUE_SK).owner_id
        except DoesNotExist:
            return None
        return _get(ResidentItem, keys.tenant_pk(tenant_id), resident_sk(owner), False)

    def list_residents(self, ctx: TenantContext, limit: int, cursor: str | None):  # noqa: ANN201
        return self._cursors.page(ctx.tenant_id, ResidentItem.query(
            keys.tenant_pk(ctx.tenant_id), ResidentItem.SK.startswith("RES#"), limit=limit,
            last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor)))

    def all_residents(self, ctx: TenantContext) -> list[ResidentItem]:
        return list(ResidentItem.query(keys.tenant_pk(ctx.tenant_id), ResidentItem.SK.startswith("RES#")))


def _get(model: type[LinliModel], pk: str, sk: str, consistent: bool) -> Any:
    try:
        item = LinliModel.get(pk, sk, consistent_read=consistent)
    except DoesNotExist:
        return None
    return item if isinstance(item, model) else None
