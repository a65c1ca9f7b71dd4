"""Satisfaction ↔ renewal on in-memory fakes: CSAT per community and month beside the fee rates, the correlation
across community-months, and the renewal risks (CSAT down 10 % or more over the last quarter)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.core.errors import ForbiddenError, ValidationFailedError
from chalicelib.core.permissions import Permission, Role, permissions_for
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.reports.facts import group_key
from chalicelib.reports.fees import FeeRate
from chalicelib.reports.service import ReportService

ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
TECH = TenantContext("tnt_1", Principal("staff", "usr_tech", Role.TECHNICIAN, permissions_for(Role.TECHNICIAN)))


@dataclass
class Community:
    id: str
    name: str


class Store:
    def __init__(self) -> None:
        self.groups: dict[str, dict[str, int]] = {}
        self.rates: list[FeeRate] = []
        self.items_read = 0

    def rate(self, community: str, month: str, satisfied: int, ratings: int) -> None:
        self.groups[group_key(f"{month}-15", community, "repair")] = {
            "ratings": ratings, "satisfied": satisfied, "rating_sum": satisfied * 5 + (ratings - satisfied) * 2}

    def rollups(self, tenant_id: str, family: str, start: date, end: date) -> list[tuple[str, dict[str, int]]]:
        assert family == "G" and tenant_id == "tnt_1"
        return [(k, c) for k, c in self.groups.items() if start.isoformat() <= k.split("#")[1] <= end.isoformat()]

    def fee_rates(self, tenant_id: str, first: str, last: str) -> list[FeeRate]:
        return [r for r in self.rates if first <= r.month <= last]


class Places:
    def list_communities(self, ctx: TenantContext, limit: int, cursor: str | None) -> tuple[list[Any], None]:
        return [Community("cmt_a", "翠苑"), Community("cmt_b", "荷塘月色")], None


@pytest.fixture
def store() -> Store:
    store = Store()
    months = ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    for i, month in enumerate(months):
        store.rate("cmt_a", month, 18, 20)  # steady 90 %
        falling = 18 if i < 3 else 14  # 90 % → 70 %: down 22 %
        store.rate("cmt_b", month, falling, 20)
        store.rates.append(FeeRate("cmt_a", month, 0.95, None))
        store.rates.append(FeeRate("cmt_b", month, 0.92 if i < 3 else 0.80, 0.9))
    return store


def service(store: Store) -> ReportService:
    return ReportService(store, SimpleNamespace(config=lambda t: SimpleNamespace(timezone="Asia/Shanghai")),
                         Places(), SimpleNamespace(open_load=lambda ctx, ids: {}))


def test_each_community_month_has_its_csat_beside_its_rates_and_the_falling_one_is_a_risk(store):
    report = service(store).satisfaction_renewal(ADMIN, "2026-09", "2026-11")
    assert [(r["name"], r["month"], r["csat"], r["collection_rate"]) for r in report["rows"][:2]] == [
        ("翠苑", "2026-09", 0.9, 0.95), ("荷塘月色", "2026-09", 0.7, 0.8)]
    assert [(r["name"], r["previous_csat"], r["last_csat"], r["change"]) for r in report["risks"]] == [
        ("荷塘月色", 0.9, 0.7, -0.2222)]  # the quarters before the range are read for it
    assert report["risk_quarters"] == {"previous": ["2026-06", "2026-07", "2026-08"],
                                       "last": ["2026-09", "2026-10", "2026-11"]}
    collection = report["correlation"]["collection_rate"]
    assert collection["pairs"] == 6 and collection["r"] > 0.9 and collection["slope"] > 0
    assert report["correlation"]["renewal_rate"]["pairs"] == 3 and report["correlation"]["renewal_rate"]["r"] is None


def test_a_steady_tenant_has_no_risks_and_a_month_without_ratings_or_rates_is_left_out(store):
    store.groups = {k: v for k, v in store.groups.items() if "cmt_b" not in k}
    store.rates = [r for r in store.rates if r.community_id == "cmt_a"]
    report = service(store).satisfaction_renewal(ADMIN, "2026-10", "2026-11")
    assert report["risks"] == [] and {r["name"] for r in report["rows"]} == {"翠苑"}


def test_ranges_are_checked_and_reading_needs_reports_read(store):
    with pytest.raises(ValidationFailedError):
        service(store).satisfaction_renewal(ADMIN, "2025-01", "2026-11")
    with pytest.raises(ValidationFailedError):
        service(store).satisfaction_renewal(ADMIN, "2026-11", "2026-10")
    with pytest.raises(ForbiddenError):
        service(store).satisfaction_renewal(TECH, "2026-10", "2026-11")
