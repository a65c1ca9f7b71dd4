"""Community, building, unit and resident items, residents' sign-in codes, and their queries.

Items map to the records of :mod:`chalicelib.residents.domain`; writes are staged on the DynamoDB
unit of work, so a use case's items, claims and events commit in one TransactWriteItems.

Over ~350 lines because it holds every item type of the context (places, residents, their claims, sign-in codes
and counters), whose key shapes must stay consistent with each other.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, fields
from typing import Any, TypeVar

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.residents.domain import Building, Community, Otp, Resident, Unit
from chalicelib.storage import keys
from chalicelib.storage.table import GSI3, CounterItem, LinliModel, UniqueItem
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
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
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


def phone_pk(tenant_id: str, phone: str) -> str:
    return keys.tenant_pk(tenant_id, "PHONE", phone)


def openid_pk(tenant_id: str, openid: str) -> str:
    return keys.tenant_pk(tenant_id, "WX", openid)


def unit_claim_pk(tenant_id: str, unit: Unit) -> str:
    """The claim that keeps a building's entrance + number unique.

    Example
    -------
    >>> unit_claim_pk("tnt_1", Unit("unt_1", "com_1", "bld_1", None, "101", "1栋101"))
    'T#tnt_1#COM#com_1#UNITNO#bld_1#-#101'
    """
    return keys.tenant_pk(tenant_id, "COM", unit.community_id, "UNITNO", unit.building_id, unit.entrance or "-",
                          unit.number)


def otp_phone_key(tenant_id: str, phone: str) -> str:
    """The phone as OTP keys carry it: a digest, so no number sits in a key.

    Example
    -------
    >>> len(otp_phone_key("tnt_1", "13812345678"))
    32
    """
    return hashlib.sha256(f"{tenant_id}:{phone}".encode()).hexdigest()[:32]


OTP_SK = "OTP"


def otp_pk(tenant_id: str, phone: str) -> str:
    return keys.tenant_pk(tenant_id, "OTP", otp_phone_key(tenant_id, phone))


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
                             GSI3PK=phone_pk(ctx.tenant_id, resident.phone), GSI3SK=resident_sk(resident.resident_id),
                             **asdict(resident), **_links(resident)),
                condition=ResidentItem.PK.does_not_exist())

    def stage_resident_update(self, uow: UnitOfWork, ctx: TenantContext, before: Resident, after: Resident, *,
                              on_conflict: LinliError, on_phone_taken: LinliError) -> None:
        """Write ``after``'s name, phone, units, stamp and version if the stored version is still ``before``'s;
        a new phone moves the phone claim."""
        item = ResidentItem(keys.tenant_pk(ctx.tenant_id), resident_sk(before.resident_id))
        linked = _links(after)
        uow.update(item, [ResidentItem.name.set(after.name), ResidentItem.phone.set(after.phone),
                          ResidentItem.units.set(after.units),
                          *(getattr(ResidentItem, name).set(value) if value else getattr(ResidentItem, name).remove()
                            for name, value in linked.items()),
                          ResidentItem.GSI3PK.set(phone_pk(ctx.tenant_id, after.phone)),
                          ResidentItem.updated_at.set(after.updated_at), ResidentItem.version.set(after.version)],
                   condition=ResidentItem.version == before.version, on_conflict=on_conflict)
        if after.phone != before.phone:
            uow.put(UniqueItem(phone_pk(ctx.tenant_id, after.phone), keys.UNIQUE_SK, owner_id=before.resident_id),
                    condition=UniqueItem.PK.does_not_exist(), on_conflict=on_phone_taken)
            uow.delete(UniqueItem(phone_pk(ctx.tenant_id, before.phone), keys.UNIQUE_SK))

    def stage_resident_delete(self, uow: UnitOfWork, ctx: TenantContext, resident: Resident, *,
                              on_conflict: LinliError) -> None:
        """The resident (if still at ``resident.version``) and the claim on their phone."""
        uow.delete(ResidentItem(keys.tenant_pk(ctx.tenant_id), resident_sk(resident.resident_id)),
                   condition=ResidentItem.version == resident.version, on_conflict=on_conflict)
        uow.delete(UniqueItem(phone_pk(ctx.tenant_id, resident.phone), keys.UNIQUE_SK))

    def stage_wechat_binding(self, uow: UnitOfWork, ctx: TenantContext, resident: Resident, openid: str, *,
                             on_conflict: LinliError) -> None:
        """Claim ``openid`` for the resident (``on_conflict`` when another resident holds it) and store it."""
        uow.put(UniqueItem(openid_pk(ctx.tenant_id, openid), keys.UNIQUE_SK, owner_id=resident.resident_id),
                condition=UniqueItem.PK.does_not_exist() | (UniqueItem.owner_id == resident.resident_id),
                on_conflict=on_conflict)
        uow.update(ResidentItem(keys.tenant_pk(ctx.tenant_id), resident_sk(resident.resident_id)),
                   [ResidentItem.wechat_openid.set(openid)])


class OtpRepository:
    """Residents' sign-in codes (one per phone, digest only) and the counters that limit them.

    Sign-in happens before there is a principal, so these take the tenant id the public route resolved
    from the tenant's slug.
    """

    def stage_phone_count(self, uow: UnitOfWork, tenant_id: str, phone: str, window: str, *, cap: int,
                          expires_at: int, on_conflict: LinliError) -> None:
        """Count one code for the phone in ``window``; ``on_conflict`` when it is at ``cap``."""
        self._count(uow, tenant_id, window, f"P#{otp_phone_key(tenant_id, phone)}", cap, expires_at, on_conflict)

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
