"""Community, building, unit and resident items, residents' sign-in codes, and their queries.

Items map to the records of :mod:`chalicelib.residents.domain`; writes are staged on the DynamoDB
unit of work, so a use case's items, claims and events commit in one TransactWriteItems.

No phone number sits in a key: the phone claim and the phone index hold :func:`phone_digest`. A resident item is
also indexed for the staff's search (``?q=``): by name (GSI1, ``T#<tenant>#RES`` / ``NAME#<name>#<id>``), by the
last four digits of the phone (GSI2) and by phone (GSI3); and each unit they live in has a small link item keyed
by the unit label (``T#<tenant>#RESUNIT`` / ``<unit key>#<community>#<unit>#<resident>``), written in the same
transaction as the resident. :meth:`ResidentRepository.backfill_search_index` brings items written before that up
to date.

Over ~350 lines because it holds every item type of the context (places, residents, their claims, sign-in codes
and counters), whose key shapes must stay consistent with each other.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.residents.domain import (
    Building,
    Community,
    Otp,
    Resident,
    SearchBy,
    Unit,
    UnitPlace,
    search_text,
    unit_search_key,
)
from chalicelib.storage import keys
from chalicelib.storage.table import GSI1, GSI2, GSI3, CounterItem, LinliModel, UniqueItem
from chalicelib.storage.unit_of_work import UnitOfWork

Record = TypeVar("Record", Community, Building, Unit, Resident, Otp)


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
    GSI1PK = UnicodeAttribute(null=True)  # T#<tenant>#RES: the staff's search by name (GSI1SK NAME#<name>#<id>)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)  # T#<tenant>#RES#TAIL#<last 4 digits>: the search by the phone's end
    GSI2SK = UnicodeAttribute(null=True)
    GSI3PK = UnicodeAttribute(null=True)  # T#<tenant>#PHONE#<digest>: sign-in and the search by phone
    GSI3SK = UnicodeAttribute(null=True)
    search_index = NumberAttribute(null=True)  # SEARCH_INDEX_VERSION once every search entry above is in place
    by_name = GSI1()
    by_phone_tail = GSI2()
    by_phone = GSI3()

    resident_id = UnicodeAttribute()
    name = UnicodeAttribute()
    phone = UnicodeAttribute()
    units = JSONAttribute(default=list)
    # what intake's condition check reads: the resident still lives in the unit / the community filed for
    unit_ids = UnicodeSetAttribute(null=True)
    community_ids = UnicodeSetAttribute(null=True)
    wechat_openid = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class UnitLinkItem(LinliModel, discriminator="resident_unit"):
    """That a resident lives in a unit, keyed by the unit's label: the staff's search by unit (one Query)."""

    resident_id = UnicodeAttribute()
    community_id = UnicodeAttribute()
    unit_id = UnicodeAttribute()


class OtpItem(LinliModel, discriminator="otp"):
    code_digest = UnicodeAttribute()
    sent_at = UnicodeAttribute()
    valid_until = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    resident_id = UnicodeAttribute(null=True)


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


def phone_digest(tenant_id: str, phone: str) -> str:
    """A phone as keys carry it (the phone claim, the phone index, sign-in codes): a digest, so no number sits in
    a key.

    Example
    -------
    >>> len(phone_digest("tnt_1", "13812345678"))
    32
    """
    return hashlib.sha256(f"{tenant_id}:{phone}".encode()).hexdigest()[:32]


def phone_pk(tenant_id: str, phone: str) -> str:
    """The phone's claim (uniqueness per tenant) and its entry in the phone index."""
    return keys.tenant_pk(tenant_id, "PHONE", phone_digest(tenant_id, phone))


def legacy_phone_pk(tenant_id: str, phone: str) -> str:
    """Where the phone claim and index entry were before they held a digest (read by the backfill only)."""
    return keys.tenant_pk(tenant_id, "PHONE", phone)


SEARCH_INDEX_VERSION = 1


def names_pk(tenant_id: str) -> str:
    return keys.tenant_pk(tenant_id, "RES")


def name_sk(resident: Resident) -> str:
    """Example
    -------
    >>> name_sk(Resident("res_1", "陈 阿姨", "13812345678", [], "t", "t"))
    'NAME#陈阿姨#res_1'
    """
    return keys.sk("NAME", search_text(resident.name), resident.resident_id)


def phone_tail_pk(tenant_id: str, tail: str) -> str:
    return keys.tenant_pk(tenant_id, "RES", "TAIL", tail)


def unit_links_pk(tenant_id: str) -> str:
    return keys.tenant_pk(tenant_id, "RESUNIT")


def unit_link_sk(link: dict[str, Any], resident_id: str) -> str:
    """Example
    -------
    >>> unit_link_sk({"unit_id": "unt_1", "community_id": "com_1", "label": "1栋2单元202"}, "res_1")
    '1-2-202#com_1#unt_1#res_1'
    """
    return keys.sk(unit_search_key(link.get("label") or ""), link["community_id"], link["unit_id"], resident_id)


def search_attributes(tenant_id: str, resident: Resident) -> dict[str, str]:
    """The resident item's index keys: by name, by the phone's last four digits, by phone (a digest)."""
    return {"GSI1PK": names_pk(tenant_id), "GSI1SK": name_sk(resident),
            "GSI2PK": phone_tail_pk(tenant_id, resident.phone[-4:]), "GSI2SK": resident_sk(resident.resident_id),
            "GSI3PK": phone_pk(tenant_id, resident.phone), "GSI3SK": resident_sk(resident.resident_id)}


def openid_pk(tenant_id: str, openid: str) -> str:
    return keys.tenant_pk(tenant_id, "WX", openid)


def unit_claim_pk(tenant_id: str, unit: Unit) -> str:
    """The claim that keeps a building's entrance + number unique.

    Example
    -------
    >>> unit_claim_pk("tnt_1", Unit("unt_1", "com_1", "bld_1", None, "101", "1栋101"))
    'T#tnt_1#COM#com_1#UNITNO#bld_1#-#101'
    """
    return unit_place_pk(tenant_id, UnitPlace(unit.community_id, unit.building_id, unit.entrance, unit.number))


def unit_place_pk(tenant_id: str, place: UnitPlace) -> str:
    """The unit claim's key from where the unit is (what an import row names)."""
    return keys.tenant_pk(tenant_id, "COM", place.community_id, "UNITNO", place.building_id, place.entrance or "-",
                          place.number)


OTP_SK = "OTP"


def otp_pk(tenant_id: str, phone: str) -> str:
    return keys.tenant_pk(tenant_id, "OTP", phone_digest(tenant_id, phone))


def _links(resident: Resident) -> dict[str, set[str] | None]:
    """The unit and community ids a resident lives in, as the sets intake's condition check reads."""
    return {"unit_ids": {u["unit_id"] for u in resident.units} or None,
            "community_ids": {u["community_id"] for u in resident.units} or None}


def _record(kind: type[Record], item: LinliModel) -> Record:
    return kind(**{f.name: getattr(item, f.name) for f in fields(kind)})


def _get(kind: type[Record], model: type[LinliModel], pk: str, sk: str, consistent: bool = False) -> Record | None:
    try:
        item = LinliModel.get(pk, sk, consistent_read=consistent)
    except DoesNotExist:
        return None
    return _record(kind, item) if isinstance(item, model) else None


class ResidentRepository:
    """Communities, buildings, units and residents of a tenant, with the claims that keep phones,
    unit numbers and WeChat openids unique."""

    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    def _page(self, ctx: TenantContext, kind: type[Record], results: Any) -> tuple[list[Record], str | None]:
        items, cursor = self._cursors.page(ctx.tenant_id, results)
        return [_record(kind, i) for i in items], cursor

    # --- communities --------------------------------------------------------------------------------
    def get_community(self, ctx: TenantContext, community_id: str, *, consistent: bool = False) -> Community | None:
        return _get(Community, CommunityItem, keys.tenant_pk(ctx.tenant_id), community_sk(community_id), consistent)

    def list_communities(self, ctx: TenantContext, limit: int,
                         cursor: str | None) -> tuple[list[Community], str | None]:
        return self._page(ctx, Community, CommunityItem.query(
            keys.tenant_pk(ctx.tenant_id), CommunityItem.SK.startswith("COM#"), limit=limit,
            last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor)))

    def has_children(self, ctx: TenantContext, community_id: str) -> bool:
        buildings = BuildingItem.query(community_pk(ctx.tenant_id, community_id), BuildingItem.SK.startswith("BLD#"),
                                       limit=1)
        return next(iter(buildings), None) is not None

    def stage_new_community(self, uow: UnitOfWork, ctx: TenantContext, community: Community) -> None:
        uow.put(CommunityItem(keys.tenant_pk(ctx.tenant_id), community_sk(community.community_id), **asdict(community)),
                condition=CommunityItem.PK.does_not_exist())

    def stage_community_update(self, uow: UnitOfWork, ctx: TenantContext, before: Community, after: Community, *,
                               on_conflict: LinliError) -> None:
        """Write ``after``'s name, address, city, stamp and version if the stored version is still ``before``'s."""
        item = CommunityItem(keys.tenant_pk(ctx.tenant_id), community_sk(before.community_id))
        uow.update(item, [CommunityItem.name.set(after.name), CommunityItem.address.set(after.address),
                          CommunityItem.city.set(after.city), CommunityItem.updated_at.set(after.updated_at),
                          CommunityItem.version.set(after.version)],
                   condition=CommunityItem.version == before.version, on_conflict=on_conflict)

    def stage_community_delete(self, uow: UnitOfWork, ctx: TenantContext, community: Community) -> None:
        uow.delete(CommunityItem(keys.tenant_pk(ctx.tenant_id), community_sk(community.community_id)))

    # --- buildings and units ------------------------------------------------------------------------
    def get_building(self, ctx: TenantContext, community_id: str, building_id: str) -> Building | None:
        return _get(Building, BuildingItem, community_pk(ctx.tenant_id, community_id), building_sk(building_id))

    def list_buildings(self, ctx: TenantContext, community_id: str, limit: int,
                       cursor: str | None) -> tuple[list[Building], str | None]:
        return self._page(ctx, Building, BuildingItem.query(
            community_pk(ctx.tenant_id, community_id), BuildingItem.SK.startswith("BLD#"), limit=limit,
            last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor)))

    def all_buildings(self, ctx: TenantContext, community_id: str) -> list[Building]:
        return [_record(Building, i) for i in BuildingItem.query(community_pk(ctx.tenant_id, community_id),
                                                                 BuildingItem.SK.startswith("BLD#"))]

    def stage_new_building(self, uow: UnitOfWork, ctx: TenantContext, building: Building) -> None:
        uow.put(BuildingItem(community_pk(ctx.tenant_id, building.community_id), building_sk(building.building_id),
                             **asdict(building)), condition=BuildingItem.PK.does_not_exist())

    def get_units(self, ctx: TenantContext, refs: list[tuple[str, str]]) -> dict[str, Unit]:
        """Units by (community_id, unit_id), in one BatchGetItem."""
        if not refs:
            return {}
        wanted = [(community_pk(ctx.tenant_id, c), unit_sk(u)) for c, u in refs]
        return {i.unit_id: _record(Unit, i) for i in UnitItem.batch_get(wanted) if isinstance(i, UnitItem)}

    def list_units(self, ctx: TenantContext, community_id: str, limit: int, cursor: str | None,
                   building_id: str | None = None) -> tuple[list[Unit], str | None]:
        """A page of a community's units (of one building: filtered, and read on until ``limit`` match)."""
        condition = UnitItem.building_id == building_id if building_id else None
        return self._page(ctx, Unit, UnitItem.query(
            community_pk(ctx.tenant_id, community_id), UnitItem.SK.startswith("UNIT#"), filter_condition=condition,
            limit=limit, last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor)))

    def unit_count(self, ctx: TenantContext, community_id: str) -> int:
        """How many units the community has (a counting Query: no item comes back)."""
        return UnitItem.count(community_pk(ctx.tenant_id, community_id), UnitItem.SK.startswith("UNIT#"))

    def all_units(self, ctx: TenantContext, community_id: str) -> list[Unit]:
        return [_record(Unit, i) for i in UnitItem.query(community_pk(ctx.tenant_id, community_id),
                                                         UnitItem.SK.startswith("UNIT#"))]

    def stage_new_unit(self, uow: UnitOfWork, ctx: TenantContext, unit: Unit, *, on_duplicate: LinliError) -> None:
        """The unit and the claim on its building + entrance + number (``on_duplicate`` when taken)."""
        uow.put(UniqueItem(unit_claim_pk(ctx.tenant_id, unit), keys.UNIQUE_SK, owner_id=unit.unit_id),
                condition=UniqueItem.PK.does_not_exist(), on_conflict=on_duplicate)
        uow.put(UnitItem(community_pk(ctx.tenant_id, unit.community_id), unit_sk(unit.unit_id), **asdict(unit)),
                condition=UnitItem.PK.does_not_exist())

    # --- residents ----------------------------------------------------------------------------------
    def get_resident(self, ctx: TenantContext, resident_id: str, *, consistent: bool = False) -> Resident | None:
        return _get(Resident, ResidentItem, keys.tenant_pk(ctx.tenant_id), resident_sk(resident_id), consistent)

    def get_residents(self, ctx: TenantContext, resident_ids: list[str]) -> dict[str, Resident]:
        """The residents of ``resident_ids`` that exist, by id: BatchGetItem (PynamoDB splits it by 100 keys)."""
        wanted = [(keys.tenant_pk(ctx.tenant_id), resident_sk(r)) for r in dict.fromkeys(resident_ids)]
        return {item.resident_id: _record(Resident, item) for item in ResidentItem.batch_get(wanted)} if wanted else {}

    def find_resident_by_phone(self, tenant_id: str, phone: str) -> Resident | None:
        """Sign-in lookup (before there is a principal, hence the bare tenant id)."""
        item = next(iter(ResidentItem.by_phone.query(phone_pk(tenant_id, phone), limit=1)), None)
        return _record(Resident, item) if item else None

    def resident_for_openid(self, tenant_id: str, openid: str) -> Resident | None:
        """Sign-in lookup: the resident a WeChat openid is bound to."""
        try:
            owner = UniqueItem.get(openid_pk(tenant_id, openid), keys.UNIQUE_SK).owner_id
        except DoesNotExist:
            return None
        return _get(Resident, ResidentItem, keys.tenant_pk(tenant_id), resident_sk(owner))

    def list_residents(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[Resident], str | None]:
        return self._page(ctx, Resident, ResidentItem.query(
            keys.tenant_pk(ctx.tenant_id), ResidentItem.SK.startswith("RES#"), limit=limit,
            last_evaluated_key=self._cursors.decode(ctx.tenant_id, cursor)))

    def all_residents(self, ctx: TenantContext) -> list[Resident]:
        return [_record(Resident, i) for i in ResidentItem.query(keys.tenant_pk(ctx.tenant_id),
                                                                 ResidentItem.SK.startswith("RES#"))]

    def units_at(self, ctx: TenantContext, places: list[UnitPlace]) -> dict[UnitPlace, Unit]:
        """The units at these places (an import's rows): their claims, then the units, each a BatchGetItem per
        100 keys, never a read of a whole community."""
        wanted = {unit_place_pk(ctx.tenant_id, place): place for place in dict.fromkeys(places)}
        owners = {claim.PK: claim.owner_id for claim in UniqueItem.batch_get([(pk, keys.UNIQUE_SK) for pk in wanted])
                  } if wanted else {}
        units = self.get_units(ctx, [(wanted[pk].community_id, unit_id) for pk, unit_id in owners.items()])
        return {wanted[pk]: units[unit_id] for pk, unit_id in owners.items() if unit_id in units}

    def residents_with_phones(self, ctx: TenantContext, phones: list[str]) -> dict[str, Resident]:
        """The residents holding these phones, by their phone claims then the residents (BatchGetItem each)."""
        claims = [(phone_pk(ctx.tenant_id, phone), keys.UNIQUE_SK) for phone in dict.fromkeys(phones)]
        owners = [claim.owner_id for claim in UniqueItem.batch_get(claims)] if claims else []
        found = ResidentItem.batch_get([(keys.tenant_pk(ctx.tenant_id), resident_sk(r)) for r in owners]) if owners \
            else []
        return {resident.phone: resident for resident in (_record(Resident, item) for item in found)}

    def search_residents(self, ctx: TenantContext, by: SearchBy, key: str, limit: int, cursor: str | None, *,
                         community_ids: frozenset[str] | None = None) -> tuple[list[Resident], str | None]:
        """A page of the residents a search finds, one Query per page: by ``phone`` (11 digits), ``phone_tail``
        (the last 4), ``name`` (a prefix of the name as :func:`search_text` writes it) or ``unit`` (a key of
        :func:`unit_search_key`, optionally within ``community_ids``; the page's residents are then read in one
        BatchGetItem). Name matches come in name order, the others in resident id order."""
        start = self._cursors.decode(ctx.tenant_id, cursor)
        if by == "unit":
            return self._residents_in_units(ctx, key, limit, start, community_ids)
        if by == "phone":
            results = ResidentItem.by_phone.query(phone_pk(ctx.tenant_id, key), limit=limit, last_evaluated_key=start)
        elif by == "phone_tail":
            results = ResidentItem.by_phone_tail.query(phone_tail_pk(ctx.tenant_id, key), limit=limit,
                                                       last_evaluated_key=start)
        else:
            results = ResidentItem.by_name.query(names_pk(ctx.tenant_id), ResidentItem.GSI1SK.startswith(
                keys.sk("NAME", key)), limit=limit, last_evaluated_key=start)
        return self._page(ctx, Resident, results)

    def _residents_in_units(self, ctx: TenantContext, key: str, limit: int, start: dict[str, Any] | None,
                            community_ids: frozenset[str] | None) -> tuple[list[Resident], str | None]:
        condition = UnitLinkItem.community_id.is_in(*sorted(community_ids)) if community_ids else None
        links, cursor = self._cursors.page(ctx.tenant_id, UnitLinkItem.query(
            unit_links_pk(ctx.tenant_id), UnitLinkItem.SK.startswith(key + "#"), filter_condition=condition,
            limit=limit, last_evaluated_key=start))
        wanted = list(dict.fromkeys(link.resident_id for link in links))
        found = {i.resident_id: _record(Resident, i) for i in ResidentItem.batch_get(
            [(keys.tenant_pk(ctx.tenant_id), resident_sk(r)) for r in wanted])} if wanted else {}
        return [found[r] for r in wanted if r in found], cursor

    def phones_of(self, ctx: TenantContext, resident_ids: list[str]) -> dict[str, str]:
        """Residents' phones by id, 100 a BatchGetItem (an export for someone who may see them)."""
        return {resident_id: resident.phone for resident_id, resident in self.get_residents(ctx, resident_ids).items()}

    def place_for_ticket(self, ctx: TenantContext, *, resident_id: str, community_id: str,
                         unit_id: str | None) -> tuple[Resident | None, Unit | None, bool]:
        """The resident, the unit (when ``unit_id``) and whether the community exists (read only when no
        ``unit_id``: ``False`` otherwise), in one BatchGetItem."""
        tenant_pk = keys.tenant_pk(ctx.tenant_id)
        wanted = [(tenant_pk, resident_sk(resident_id)),
                  (community_pk(ctx.tenant_id, community_id), unit_sk(unit_id)) if unit_id
                  else (tenant_pk, community_sk(community_id))]
        found = list(LinliModel.batch_get(wanted))
        resident = next((_record(Resident, i) for i in found if isinstance(i, ResidentItem)), None)
        unit = next((_record(Unit, i) for i in found if isinstance(i, UnitItem)), None) if unit_id else None
        return resident, unit, not unit_id and any(isinstance(i, CommunityItem) for i in found)

    def place_names(self, ctx: TenantContext, *, resident_id: str | None,
                    community_id: str | None) -> tuple[str | None, str | None]:
        """The resident's and the community's names (each only when asked for; ``None`` when missing), in one
        BatchGetItem (a canned reply's ``{resident_name}`` and ``{community_name}``)."""
        tenant_pk = keys.tenant_pk(ctx.tenant_id)
        wanted = [key for key, needed in (((tenant_pk, resident_sk(resident_id or "")), resident_id),
                                          ((tenant_pk, community_sk(community_id or "")), community_id)) if needed]
        found = list(LinliModel.batch_get(wanted)) if wanted else []
        resident = next((i.name for i in found if isinstance(i, ResidentItem)), None)
        return resident, next((i.name for i in found if isinstance(i, CommunityItem)), None)

    def stage_resident_link_check(self, uow: UnitOfWork, ctx: TenantContext, *, resident_id: str,
                                  community_id: str, unit_id: str | None, on_conflict: LinliError) -> None:
        """Commit only if the resident (still there) lives in ``unit_id``, or without one in ``community_id``."""
        condition = (ResidentItem.unit_ids.contains(unit_id) if unit_id
                     else ResidentItem.community_ids.contains(community_id))
        uow.check(ResidentItem, keys.tenant_pk(ctx.tenant_id), resident_sk(resident_id), condition,
                  on_conflict=on_conflict)

    def stage_new_resident(self, uow: UnitOfWork, ctx: TenantContext, resident: Resident, *,
                           on_phone_taken: LinliError) -> None:
        """The resident and the claim on their phone (``on_phone_taken`` when another resident has it)."""
        uow.put(UniqueItem(phone_pk(ctx.tenant_id, resident.phone), keys.UNIQUE_SK, owner_id=resident.resident_id),
                condition=UniqueItem.PK.does_not_exist(), on_conflict=on_phone_taken)
        uow.put(ResidentItem(keys.tenant_pk(ctx.tenant_id), resident_sk(resident.resident_id),
                             **search_attributes(ctx.tenant_id, resident), search_index=SEARCH_INDEX_VERSION,
                             **asdict(resident), **_links(resident)),
                condition=ResidentItem.PK.does_not_exist())
        self._stage_unit_links(uow, ctx.tenant_id, resident.resident_id, [], resident.units)

    def stage_resident_update(self, uow: UnitOfWork, ctx: TenantContext, before: Resident, after: Resident, *,
                              on_conflict: LinliError, on_phone_taken: LinliError) -> None:
        """Write ``after``'s name, phone, units, stamp and version if the stored version is still ``before``'s;
        a new phone moves the phone claim; the search entries follow."""
        item = ResidentItem(keys.tenant_pk(ctx.tenant_id), resident_sk(before.resident_id))
        linked = _links(after)
        uow.update(item, [ResidentItem.name.set(after.name), ResidentItem.phone.set(after.phone),
                          ResidentItem.units.set(after.units),
                          *(getattr(ResidentItem, name).set(value) if value else getattr(ResidentItem, name).remove()
                            for name, value in linked.items()),
                          *(getattr(ResidentItem, name).set(value)
                            for name, value in search_attributes(ctx.tenant_id, after).items()),
                          ResidentItem.updated_at.set(after.updated_at), ResidentItem.version.set(after.version)],
                   condition=ResidentItem.version == before.version, on_conflict=on_conflict)
        self._stage_unit_links(uow, ctx.tenant_id, before.resident_id, before.units, after.units)
        if after.phone != before.phone:
            uow.put(UniqueItem(phone_pk(ctx.tenant_id, after.phone), keys.UNIQUE_SK, owner_id=before.resident_id),
                    condition=UniqueItem.PK.does_not_exist(), on_conflict=on_phone_taken)
            uow.delete(UniqueItem(phone_pk(ctx.tenant_id, before.phone), keys.UNIQUE_SK))
            uow.delete(UniqueItem(legacy_phone_pk(ctx.tenant_id, before.phone), keys.UNIQUE_SK))  # until backfilled

    def stage_resident_delete(self, uow: UnitOfWork, ctx: TenantContext, resident: Resident, *,
                              on_conflict: LinliError) -> None:
        """The resident (if still at ``resident.version``) and the claim on their phone."""
        uow.delete(ResidentItem(keys.tenant_pk(ctx.tenant_id), resident_sk(resident.resident_id)),
                   condition=ResidentItem.version == resident.version, on_conflict=on_conflict)
        uow.delete(UniqueItem(phone_pk(ctx.tenant_id, resident.phone), keys.UNIQUE_SK))
        uow.delete(UniqueItem(legacy_phone_pk(ctx.tenant_id, resident.phone), keys.UNIQUE_SK))  # until backfilled
        self._stage_unit_links(uow, ctx.tenant_id, resident.resident_id, resident.units, [])

    def stage_wechat_binding(self, uow: UnitOfWork, ctx: TenantContext, resident: Resident, openid: str, *,
                             on_conflict: LinliError) -> None:
        """Claim ``openid`` for the resident (``on_conflict`` when another resident holds it) and store it."""
        uow.put(UniqueItem(openid_pk(ctx.tenant_id, openid), keys.UNIQUE_SK, owner_id=resident.resident_id),
                condition=UniqueItem.PK.does_not_exist() | (UniqueItem.owner_id == resident.resident_id),
                on_conflict=on_conflict)
        uow.update(ResidentItem(keys.tenant_pk(ctx.tenant_id), resident_sk(resident.resident_id)),
                   [ResidentItem.wechat_openid.set(openid)])

    def stage_phone_reveal_count(self, uow: UnitOfWork, ctx: TenantContext, staff_id: str, window: str, *, cap: int,
                                 expires_at: int, on_conflict: LinliError) -> None:
        """Count one full phone number shown to ``staff_id`` in ``window``; ``on_conflict`` when they are at ``cap``
        (a counter item that expires by TTL, in the same transaction as the reveal's audit event)."""
        uow.update(CounterItem(keys.tenant_pk(ctx.tenant_id, "REVEALS", window), staff_id),
                   [CounterItem.count.add(1), CounterItem.expires_at.set(expires_at)],
                   condition=CounterItem.count.does_not_exist() | (CounterItem.count < cap), on_conflict=on_conflict)

    @staticmethod
    def _stage_unit_links(uow: UnitOfWork, tenant_id: str, resident_id: str, before: list[dict[str, Any]],
                          after: list[dict[str, Any]]) -> None:
        """The unit index follows the units: a link for each unit of ``after`` (written again: an item indexed
        before the links existed gets them), none for a unit only ``before`` had."""
        kept = {unit_link_sk(u, resident_id) for u in after}
        for sk in sorted({unit_link_sk(u, resident_id) for u in before} - kept):
            uow.delete(UnitLinkItem(unit_links_pk(tenant_id), sk))
        for link in after:
            uow.put(UnitLinkItem(unit_links_pk(tenant_id), unit_link_sk(link, resident_id), resident_id=resident_id,
                                 community_id=link["community_id"], unit_id=link["unit_id"]))

    # --- maintenance --------------------------------------------------------------------------------
    def backfill_search_index(self, tenant_id: str, now: datetime) -> int:
        """Bring residents written before the search index up to date: their index keys, unit links and the phone
        claim as a digest (the claim in clear removed). Idempotent; returns how many residents it changed.

        Maintenance, not a request: it reads every resident of the tenant (one Query a page) and commits one
        transaction per resident that needs it. Run it once per tenant when deploying the search
        (the local stack does it for the data it finds on start)."""
        ctx = TenantContext(tenant_id, Principal("system", "search-backfill"))
        changed = 0
        for item in ResidentItem.query(keys.tenant_pk(tenant_id), ResidentItem.SK.startswith("RES#"),
                                       filter_condition=ResidentItem.search_index.does_not_exist()
                                       | (ResidentItem.search_index < SEARCH_INDEX_VERSION)):
            resident = _record(Resident, item)
            uow = UnitOfWork(tenant_id, ctx.actor, now)
            uow.delete(UniqueItem(legacy_phone_pk(tenant_id, resident.phone), keys.UNIQUE_SK))
            uow.put(UniqueItem(phone_pk(tenant_id, resident.phone), keys.UNIQUE_SK, owner_id=resident.resident_id),
                    condition=UniqueItem.PK.does_not_exist() | (UniqueItem.owner_id == resident.resident_id))
            uow.update(ResidentItem(keys.tenant_pk(tenant_id), resident_sk(resident.resident_id)),
                       [*(getattr(ResidentItem, name).set(value)
                          for name, value in search_attributes(tenant_id, resident).items()),
                        ResidentItem.search_index.set(SEARCH_INDEX_VERSION)],
                       condition=ResidentItem.version == resident.version)
            self._stage_unit_links(uow, tenant_id, resident.resident_id, [], resident.units)
            uow.commit()
            changed += 1
        return changed


class OtpRepository:
    """Residents' sign-in codes (one per phone, digest only) and the counters that limit them.

    Sign-in happens before there is a principal, so these take the tenant id the public route resolved
    from the tenant's slug.
    """

    def stage_phone_count(self, uow: UnitOfWork, tenant_id: str, phone: str, window: str, *, cap: int,
                          expires_at: int, on_conflict: LinliError) -> None:
        """Count one code for the phone in ``window``; ``on_conflict`` when it is at ``cap``."""
        self._count(uow, tenant_id, window, f"P#{phone_digest(tenant_id, phone)}", cap, expires_at, on_conflict)

    def stage_source_count(self, uow: UnitOfWork, tenant_id: str, source_key: str, window: str, *, cap: int,
                           expires_at: int, on_conflict: LinliError) -> None:
        """Count one code asked for from a source (a digest of the address) in ``window``."""
        self._count(uow, tenant_id, window, f"S#{source_key}", cap, expires_at, on_conflict)

    def stage_tenant_count(self, uow: UnitOfWork, tenant_id: str, day: str, *, cap: int, expires_at: int,
                           on_conflict: LinliError) -> None:
        """Count one code sent for the tenant on ``day`` (the SMS bill's guard)."""
        self._count(uow, tenant_id, day, "TENANT", cap, expires_at, on_conflict)

    @staticmethod
    def _count(uow: UnitOfWork, tenant_id: str, bucket: str, counter: str, cap: int, expires_at: int,
               on_conflict: LinliError) -> None:
        uow.update(CounterItem(keys.tenant_pk(tenant_id, "OTPCOUNT", bucket), counter),
                   [CounterItem.count.add(1), CounterItem.expires_at.set(expires_at)],
                   condition=CounterItem.count.does_not_exist() | (CounterItem.count < cap), on_conflict=on_conflict)

    def stage_code(self, uow: UnitOfWork, tenant_id: str, phone: str, otp: Otp, *, resend_after: str,
                   on_conflict: LinliError) -> None:
        """Replace the phone's code unless the last one was sent at ``resend_after`` or later (the cooldown)."""
        uow.put(OtpItem(otp_pk(tenant_id, phone), OTP_SK, **asdict(otp)),
                condition=OtpItem.PK.does_not_exist() | (OtpItem.sent_at < resend_after), on_conflict=on_conflict)

    def get_code(self, tenant_id: str, phone: str) -> Otp | None:
        return _get(Otp, OtpItem, otp_pk(tenant_id, phone), OTP_SK, consistent=True)

    def count_wrong_attempt(self, tenant_id: str, phone: str, *, max_attempts: int) -> None:
        """One more wrong attempt, unless the code is gone or already locked."""
        try:
            OtpItem(otp_pk(tenant_id, phone), OTP_SK).update(actions=[OtpItem.attempts.add(1)],
                                                             condition=OtpItem.attempts < max_attempts)
        except UpdateError:
            pass

    def consume_code(self, tenant_id: str, phone: str, code_digest: str, *, max_attempts: int) -> bool:
        """Delete the code if it is still this one and not locked; ``False`` when another sign-in used it."""
        try:
            OtpItem(otp_pk(tenant_id, phone), OTP_SK).delete(
                condition=(OtpItem.attempts < max_attempts) & (OtpItem.code_digest == code_digest))
        except DeleteError:
            return False
        return True
