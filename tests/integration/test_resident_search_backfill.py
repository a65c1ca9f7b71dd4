"""Residents written before the search index (phone in clear in their keys, no name, tail or unit entries) become
searchable, and their phone keys digests, by the one-off backfill (DynamoDB, moto)."""
from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.errors import ConflictError
from chalicelib.core.ids import new_id
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.residents.domain import Resident
from chalicelib.residents.repository import (
    ResidentItem,
    ResidentRepository,
    legacy_phone_pk,
    phone_pk,
    resident_sk,
)
from chalicelib.storage import keys
from chalicelib.storage.table import LinliModel, UniqueItem
from chalicelib.storage.unit_of_work import UnitOfWork

NOW = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)


def written_before_the_search(tenant_id: str, resident: Resident) -> None:
    """The items as the code before the search wrote them: the claim and GSI3 with the phone in clear."""
    UniqueItem(legacy_phone_pk(tenant_id, resident.phone), keys.UNIQUE_SK, owner_id=resident.resident_id).save()
    ResidentItem(keys.tenant_pk(tenant_id), resident_sk(resident.resident_id),
                 GSI3PK=legacy_phone_pk(tenant_id, resident.phone), GSI3SK=resident_sk(resident.resident_id),
                 unit_ids={u["unit_id"] for u in resident.units} or None,
                 community_ids={u["community_id"] for u in resident.units} or None,
                 **asdict(resident)).save()


def stored_keys(pk: str) -> list[str]:
    return [item.SK for item in LinliModel.query(pk)]


def test_the_backfill_makes_old_residents_searchable_and_takes_their_phones_out_of_keys(stack):
    tenant_id = new_id("tnt")
    ctx = TenantContext(tenant_id, Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
    repo = ResidentRepository(CursorCodec(b"backfill-test-cursor-key-0123456"))
    chen = Resident("res_1", "陈阿姨", "13800000001", [{"unit_id": "unt_1", "community_id": "com_1",
                                                    "relation": "owner", "label": "1栋1单元101",
                                                    "building_id": "bld_1"}], "2026-01-01T00:00:00Z",
                    "2026-01-01T00:00:00Z", 3)
    written_before_the_search(tenant_id, chen)
    assert repo.find_resident_by_phone(tenant_id, chen.phone) is None  # the sign-in lookup reads digests now
    assert repo.search_residents(ctx, "name", "陈", 10, None) == ([], None)

    assert repo.backfill_search_index(tenant_id, NOW) == 1

    assert repo.find_resident_by_phone(tenant_id, chen.phone) == chen
    for by, key in (("phone", "13800000001"), ("phone_tail", "0001"), ("name", "陈"), ("unit", "1-1-101")):
        assert repo.search_residents(ctx, by, key, 10, None) == ([chen], None)
    assert UniqueItem.get(phone_pk(tenant_id, chen.phone), keys.UNIQUE_SK).owner_id == "res_1"
    with pytest.raises(DoesNotExist):  # the claim with the phone in clear is gone
        UniqueItem.get(legacy_phone_pk(tenant_id, chen.phone), keys.UNIQUE_SK)
    stored = ResidentItem.get(keys.tenant_pk(tenant_id), resident_sk("res_1"))
    assert chen.phone not in stored.GSI3PK and stored.version == 3  # a backfill is not a change of the resident
    assert repo.backfill_search_index(tenant_id, NOW) == 0  # idempotent: nothing left to do


def test_a_backfilled_phone_is_taken_again(stack):
    tenant_id = new_id("tnt")
    ctx = TenantContext(tenant_id, Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
    repo = ResidentRepository(CursorCodec(b"backfill-test-cursor-key-0123456"))
    written_before_the_search(tenant_id, Resident("res_1", "陈阿姨", "13800000001", [], "t", "t", 1))
    repo.backfill_search_index(tenant_id, NOW)

    uow = UnitOfWork(tenant_id, ctx.actor, NOW)
    repo.stage_new_resident(uow, ctx, Resident("res_2", "冒名", "13800000001", [], "t", "t", 1),
                            on_phone_taken=ConflictError(code="phone_taken"))
    with pytest.raises(ConflictError) as refused:
        uow.commit()
    assert refused.value.code == "phone_taken"
    assert not any(sk.startswith("RES#res_2") for sk in stored_keys(keys.tenant_pk(tenant_id)))
