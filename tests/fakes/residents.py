"""In-memory stand-ins for ``residents.repository``: the same records, claims, conditions and pages, no I/O.

``tests/contract/test_residents_repository.py`` runs the same tests on these and on DynamoDB.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.residents.domain import Building, Community, Otp, Resident, SearchBy, Unit, UnitPlace
from chalicelib.residents.people import ResidentService
from chalicelib.residents.places import PlaceService
from chalicelib.residents.repository import name_sk, resident_sk, unit_link_sk
from tests.fakes.storage import InMemoryUnitOfWork, MemoryStore
from tests.fakes.tenants import access_and_sessions

Row = TypeVar("Row")


class InMemoryResidentRepository:
    """Communities, buildings, units, residents and their uniqueness claims in ``store.tables``."""

    def __init__(self, store: MemoryStore, cursors: CursorCodec | None = None) -> None:
        self.store = store
        self.cursors = cursors or CursorCodec(b"fake-cursor-key-" * 2)
        self.communities: dict[tuple[str, str], Community] = store.table("residents.communities")
        self.buildings: dict[tuple[str, str, str], Building] = store.table("residents.buildings")
        self.units: dict[tuple[str, str, str], Unit] = store.table("residents.units")
        self.residents: dict[tuple[str, str], Resident] = store.table("residents.residents")
        self.claims: dict[tuple[str, str, str], str] = store.table("residents.claims")  # (tenant, kind, value)
        self.reveals: dict[tuple[str, str, str], int] = store.table("residents.reveals")  # (tenant, window, staff)

    def _page(self, ctx: TenantContext, rows: Iterable[tuple[str, Row]], limit: int, cursor: str | None,
              keep: Callable[[Row], bool] | None = None) -> tuple[list[Row], str | None]:
        """What PynamoDB's ``query(limit=…)`` gives: DynamoDB pages of ``limit`` rows read in key order, then
        filtered, until ``limit`` rows matched; the cursor resumes after the last row returned."""
        after = (self.cursors.decode(ctx.tenant_id, cursor) or {}).get("after", {}).get("S", "")  # a key's shape
        remaining = [(key, row) for key, row in sorted(rows, key=lambda pair: pair[0]) if key > after]
        returned: list[tuple[str, Row]] = []
        while True:
            read, remaining = remaining[:limit], remaining[limit:]
            last_read = read[-1][0] if len(read) == limit else None  # DynamoDB stops at Limit rows read
            matches = [(key, row) for key, row in read if keep is None or keep(row)]
            wanted = limit - len(returned)
            returned += matches[:wanted]
            if len(matches) > wanted:  # the limit is reached in the middle of this page
                last_key: str | None = returned[-1][0]
                break
            if len(matches) == wanted or last_read is None:
                last_key = last_read
                break
        next_cursor = self.cursors.encode(ctx.tenant_id, {"after": {"S": last_key}}) if last_key else None
        return [copy.deepcopy(row) for _, row in returned], next_cursor

    # --- communities --------------------------------------------------------------------------------
    def get_community(self, ctx: TenantContext, community_id: str, *, consistent: bool = False) -> Community | None:
        return self.communities.get((ctx.tenant_id, community_id))

    def list_communities(self, ctx: TenantContext, limit: int,
                         cursor: str | None) -> tuple[list[Community], str | None]:
        rows = ((c.community_id, c) for (t, _), c in self.communities.items() if t == ctx.tenant_id)
        return self._page(ctx, rows, limit, cursor)

    def has_children(self, ctx: TenantContext, community_id: str) -> bool:
        return any((t, c) == (ctx.tenant_id, community_id) for t, c, _ in self.buildings)

    def stage_new_community(self, uow: InMemoryUnitOfWork, ctx: TenantContext, community: Community) -> None:
        key = (ctx.tenant_id, community.community_id)
        uow.stage(lambda: self.communities.__setitem__(key, community), check=lambda: key not in self.communities)

    def stage_community_update(self, uow: InMemoryUnitOfWork, ctx: TenantContext, before: Community,
                               after: Community, *, on_conflict: LinliError) -> None:
        key = (ctx.tenant_id, before.community_id)

        def apply() -> None:
            self.communities[key] = replace(self.communities[key], name=after.name, address=after.address,
                                            city=after.city, updated_at=after.updated_at, version=after.version)

        uow.stage(apply, check=lambda: self._version_of(self.communities, key) == before.version,
                  on_conflict=on_conflict)

    def stage_community_delete(self, uow: InMemoryUnitOfWork, ctx: TenantContext, community: Community) -> None:
        uow.stage(lambda: self.communities.pop((ctx.tenant_id, community.community_id), None))

    # --- buildings and units ------------------------------------------------------------------------
    def get_building(self, ctx: TenantContext, community_id: str, building_id: str) -> Building | None:
        return self.buildings.get((ctx.tenant_id, community_id, building_id))

    def list_buildings(self, ctx: TenantContext, community_id: str, limit: int,
                       cursor: str | None) -> tuple[list[Building], str | None]:
        return self._page(ctx, self._of_community(self.buildings, ctx, community_id), limit, cursor)

    def all_buildings(self, ctx: TenantContext, community_id: str) -> list[Building]:
        return [b for _, b in sorted(self._of_community(self.buildings, ctx, community_id), key=lambda r: r[0])]

    def stage_new_building(self, uow: InMemoryUnitOfWork, ctx: TenantContext, building: Building) -> None:
        key = (ctx.tenant_id, building.community_id, building.building_id)
        uow.stage(lambda: self.buildings.__setitem__(key, building), check=lambda: key not in self.buildings)

    def get_units(self, ctx: TenantContext, refs: list[tuple[str, str]]) -> dict[str, Unit]:
        found = (self.units.get((ctx.tenant_id, community_id, unit_id)) for community_id, unit_id in refs)
        return {unit.unit_id: unit for unit in found if unit is not None}

    def list_units(self, ctx: TenantContext, community_id: str, limit: int, cursor: str | None,
                   building_id: str | None = None) -> tuple[list[Unit], str | None]:
        keep = (lambda unit: unit.building_id == building_id) if building_id else None
        return self._page(ctx, self._of_community(self.units, ctx, community_id), limit, cursor, keep)

    def unit_count(self, ctx: TenantContext, community_id: str) -> int:
        return len(self.all_units(ctx, community_id))

    def all_units(self, ctx: TenantContext, community_id: str) -> list[Unit]:
        return [u for _, u in sorted(self._of_community(self.units, ctx, community_id), key=lambda r: r[0])]

    def stage_new_unit(self, uow: InMemoryUnitOfWork, ctx: TenantContext, unit: Unit, *,
                       on_duplicate: LinliError) -> None:
        claim = (ctx.tenant_id, "unit", f"{unit.community_id}/{unit.building_id}/{unit.entrance or '-'}/{unit.number}")
        self._stage_claim(uow, claim, unit.unit_id, on_duplicate)
        key = (ctx.tenant_id, unit.community_id, unit.unit_id)
        uow.stage(lambda: self.units.__setitem__(key, unit), check=lambda: key not in self.units)

    # --- residents ----------------------------------------------------------------------------------
    def get_resident(self, ctx: TenantContext, resident_id: str, *, consistent: bool = False) -> Resident | None:
        return copy.deepcopy(self.residents.get((ctx.tenant_id, resident_id)))

    def find_resident_by_phone(self, tenant_id: str, phone: str) -> Resident | None:
        found = sorted((r for (t, _), r in self.residents.items() if t == tenant_id and r.phone == phone),
                       key=lambda r: r.resident_id)
        return copy.deepcopy(found[0]) if found else None

    def resident_for_openid(self, tenant_id: str, openid: str) -> Resident | None:
        owner = self.claims.get((tenant_id, "openid", openid))
        return copy.deepcopy(self.residents.get((tenant_id, owner))) if owner else None

    def list_residents(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[Resident], str | None]:
        rows = ((r.resident_id, r) for (t, _), r in self.residents.items() if t == ctx.tenant_id)
        return self._page(ctx, rows, limit, cursor)

    def all_residents(self, ctx: TenantContext) -> list[Resident]:
        return [copy.deepcopy(r) for (t, _), r in sorted(self.residents.items()) if t == ctx.tenant_id]

    def units_at(self, ctx: TenantContext, places: list[UnitPlace]) -> dict[UnitPlace, Unit]:
        found = {}
        for place in places:
            claim = f"{place.community_id}/{place.building_id}/{place.entrance or '-'}/{place.number}"
            unit_id = self.claims.get((ctx.tenant_id, "unit", claim))
            if unit_id is not None and (ctx.tenant_id, place.community_id, unit_id) in self.units:
                found[place] = self.units[(ctx.tenant_id, place.community_id, unit_id)]
        return found

    def residents_with_phones(self, ctx: TenantContext, phones: list[str]) -> dict[str, Resident]:
        owners = [self.claims.get((ctx.tenant_id, "phone", phone)) for phone in phones]
        found = (self.residents.get((ctx.tenant_id, owner)) for owner in owners if owner)
        return {r.phone: copy.deepcopy(r) for r in found if r is not None}

    def search_residents(self, ctx: TenantContext, by: SearchBy, key: str, limit: int, cursor: str | None, *,
                         community_ids: frozenset[str] | None = None) -> tuple[list[Resident], str | None]:
        """Each index as its keys sort (the repository's own sort keys): names by ``NAME#<name>#<id>``, phone and
        phone-tail entries by resident id, unit links by ``<unit key>#<community>#<unit>#<resident>``."""
        mine = [r for (t, _), r in self.residents.items() if t == ctx.tenant_id]
        if by == "unit":
            links = [(unit_link_sk(u, r.resident_id), (u["community_id"], r)) for r in mine for u in r.units
                     if unit_link_sk(u, r.resident_id).startswith(key + "#")]
            found, cursor = self._page(ctx, links, limit, cursor,
                                       (lambda row: row[0] in community_ids) if community_ids else None)
            return list({r.resident_id: r for _, r in found}.values()), cursor
        if by == "phone":
            rows = [(resident_sk(r.resident_id), r) for r in mine if r.phone == key]
        elif by == "phone_tail":
            rows = [(resident_sk(r.resident_id), r) for r in mine if r.phone[-4:] == key]
        else:
            rows = [(name_sk(r), r) for r in mine if name_sk(r).startswith(f"NAME#{key}")]
        return self._page(ctx, rows, limit, cursor)

    def place_for_ticket(self, ctx: TenantContext, *, resident_id: str, community_id: str,
                         unit_id: str | None) -> tuple[Resident | None, Unit | None, bool]:
        resident = self.get_resident(ctx, resident_id)
        if unit_id:
            return resident, self.units.get((ctx.tenant_id, community_id, unit_id)), False
        return resident, None, (ctx.tenant_id, community_id) in self.communities

    def place_names(self, ctx: TenantContext, *, resident_id: str | None,
                    community_id: str | None) -> tuple[str | None, str | None]:
        resident = self.residents.get((ctx.tenant_id, resident_id or ""))
        community = self.communities.get((ctx.tenant_id, community_id or ""))
        return resident.name if resident else None, community.name if community else None

    def stage_resident_link_check(self, uow: InMemoryUnitOfWork, ctx: TenantContext, *, resident_id: str,
                                  community_id: str, unit_id: str | None, on_conflict: LinliError) -> None:
        def lives_there() -> bool:
            resident = self.residents.get((ctx.tenant_id, resident_id))
            return resident is not None and any(
                (u["unit_id"] == unit_id) if unit_id else (u["community_id"] == community_id) for u in resident.units)

        uow.check(lives_there, on_conflict=on_conflict)

    def stage_new_resident(self, uow: InMemoryUnitOfWork, ctx: TenantContext, resident: Resident, *,
                           on_phone_taken: LinliError) -> None:
        self._stage_claim(uow, (ctx.tenant_id, "phone", resident.phone), resident.resident_id, on_phone_taken)
        key, stored = (ctx.tenant_id, resident.resident_id), copy.deepcopy(resident)
        uow.stage(lambda: self.residents.__setitem__(key, stored), check=lambda: key not in self.residents)

    def stage_resident_update(self, uow: InMemoryUnitOfWork, ctx: TenantContext, before: Resident, after: Resident,
                              *, on_conflict: LinliError, on_phone_taken: LinliError) -> None:
        key, units = (ctx.tenant_id, before.resident_id), copy.deepcopy(after.units)

        def apply() -> None:
            self.residents[key] = replace(self.residents[key], name=after.name, phone=after.phone, units=units,
                                          updated_at=after.updated_at, version=after.version)

        if after.phone != before.phone:  # staged first: DynamoDB evaluates deletes, puts, then updates
            uow.stage(lambda: self.claims.pop((ctx.tenant_id, "phone", before.phone), None))
            self._stage_claim(uow, (ctx.tenant_id, "phone", after.phone), before.resident_id, on_phone_taken)
        uow.stage(apply, check=lambda: self._version_of(self.residents, key) == before.version,
                  on_conflict=on_conflict)

    def stage_resident_delete(self, uow: InMemoryUnitOfWork, ctx: TenantContext, resident: Resident, *,
                              on_conflict: LinliError) -> None:
        key = (ctx.tenant_id, resident.resident_id)
        uow.stage(lambda: self.residents.pop(key, None),
                  check=lambda: self._version_of(self.residents, key) == resident.version, on_conflict=on_conflict)
        uow.stage(lambda: self.claims.pop((ctx.tenant_id, "phone", resident.phone), None))

    def stage_wechat_binding(self, uow: InMemoryUnitOfWork, ctx: TenantContext, resident: Resident, openid: str, *,
                             on_conflict: LinliError) -> None:
        claim, key = (ctx.tenant_id, "openid", openid), (ctx.tenant_id, resident.resident_id)

        def apply() -> None:
            self.claims[claim] = resident.resident_id
            if key in self.residents:
                self.residents[key] = replace(self.residents[key], wechat_openid=openid)

        uow.stage(apply, check=lambda: self.claims.get(claim, resident.resident_id) == resident.resident_id,
                  on_conflict=on_conflict)

    def stage_phone_reveal_count(self, uow: InMemoryUnitOfWork, ctx: TenantContext, staff_id: str, window: str, *,
                                 cap: int, expires_at: int, on_conflict: LinliError) -> None:
        key = (ctx.tenant_id, window, staff_id)
        uow.stage(lambda: self.reveals.__setitem__(key, self.reveals.get(key, 0) + 1),
                  check=lambda: self.reveals.get(key, 0) < cap, on_conflict=on_conflict, kind="update")

    # --- helpers ------------------------------------------------------------------------------------
    def _stage_claim(self, uow: InMemoryUnitOfWork, claim: tuple[str, str, str], owner_id: str,
                     on_conflict: LinliError) -> None:
        uow.stage(lambda: self.claims.__setitem__(claim, owner_id), check=lambda: claim not in self.claims,
                  on_conflict=on_conflict)

    @staticmethod
    def _of_community(table: dict[tuple[str, str, str], Row], ctx: TenantContext,
                      community_id: str) -> list[tuple[str, Row]]:
        return [(row_id, row) for (t, c, row_id), row in table.items() if (t, c) == (ctx.tenant_id, community_id)]

    @staticmethod
    def _version_of(table: dict[Any, Any], key: Any) -> int | None:
        stored = table.get(key)
        return stored.version if stored is not None else None


class InMemoryOtpRepository:
    """Sign-in codes by (tenant, phone) and the counters by (tenant, window or day, counter) in ``store.tables``."""

    def __init__(self, store: MemoryStore) -> None:
        self.codes: dict[tuple[str, str], Otp] = store.table("residents.otps")
        self.counters: dict[tuple[str, str, str], int] = store.table("residents.otp_counters")

    def stage_phone_count(self, uow: InMemoryUnitOfWork, tenant_id: str, phone: str, window: str, *, cap: int,
                          expires_at: int, on_conflict: LinliError) -> None:
        self._count(uow, (tenant_id, window, f"phone:{phone}"), cap, on_conflict)

    def stage_source_count(self, uow: InMemoryUnitOfWork, tenant_id: str, source_key: str, window: str, *,
                           cap: int, expires_at: int, on_conflict: LinliError) -> None:
        self._count(uow, (tenant_id, window, f"source:{source_key}"), cap, on_conflict)

    def stage_tenant_count(self, uow: InMemoryUnitOfWork, tenant_id: str, day: str, *, cap: int, expires_at: int,
                           on_conflict: LinliError) -> None:
        self._count(uow, (tenant_id, day, "tenant"), cap, on_conflict)

    def _count(self, uow: InMemoryUnitOfWork, key: tuple[str, str, str], cap: int, on_conflict: LinliError) -> None:
        uow.stage(lambda: self.counters.__setitem__(key, self.counters.get(key, 0) + 1),
                  check=lambda: self.counters.get(key, 0) < cap, on_conflict=on_conflict, kind="update")

    def stage_code(self, uow: InMemoryUnitOfWork, tenant_id: str, phone: str, otp: Otp, *, resend_after: str,
                   on_conflict: LinliError) -> None:
        key = (tenant_id, phone)
        uow.stage(lambda: self.codes.__setitem__(key, otp),
                  check=lambda: key not in self.codes or self.codes[key].sent_at < resend_after,
                  on_conflict=on_conflict)

    def get_code(self, tenant_id: str, phone: str) -> Otp | None:
        return self.codes.get((tenant_id, phone))

    def count_wrong_attempt(self, tenant_id: str, phone: str, *, max_attempts: int) -> None:
        otp = self.codes.get((tenant_id, phone))
        if otp is not None and otp.attempts < max_attempts:
            self.codes[(tenant_id, phone)] = replace(otp, attempts=otp.attempts + 1)

    def consume_code(self, tenant_id: str, phone: str, code_digest: str, *, max_attempts: int) -> bool:
        otp = self.codes.get((tenant_id, phone))
        if otp is None or otp.attempts >= max_attempts or otp.code_digest != code_digest:
            return False
        del self.codes[(tenant_id, phone)]
        return True


@dataclass
class ResidentDesk:
    """The residents' services on one in-memory store: what service tests are given."""

    store: MemoryStore
    repo: InMemoryResidentRepository
    places: PlaceService
    residents: ResidentService

    @classmethod
    def empty(cls) -> ResidentDesk:
        store = MemoryStore()
        repo = InMemoryResidentRepository(store)
        places = PlaceService(repo, store.unit_of_work)
        return cls(store, repo, places, ResidentService(repo, store.unit_of_work, places,
                                                        *access_and_sessions(store)))
