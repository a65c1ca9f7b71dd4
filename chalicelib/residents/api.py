"""Routes for communities, buildings, units and residents."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import bootstrap
from chalicelib.core.clock import utcnow
from chalicelib.core.http import LIST_QUERY, Call, ModelRefs, api
from chalicelib.core.permissions import Permission as P

if TYPE_CHECKING:  # models load on first use, keeping cold starts small
    from chalicelib.residents.schemas import (
        BuildingOut,
        BuildingPage,
        CommunityOut,
        CommunityPage,
        ImportOut,
        ResidentOut,
        ResidentPage,
        UnitOut,
        UnitPage,
    )


bp = api.blueprint(__name__)
S = ModelRefs("chalicelib.residents.schemas")
PLACES, PEOPLE = ("communities",), ("residents",)


def service():  # noqa: ANN201
    return bootstrap.resident_service()


@api.route(bp, "POST", "/v1/communities", permission=P.COMMUNITIES_WRITE, body=S.CommunityIn, response=S.CommunityOut,
           status=201, tags=PLACES, summary="Add a residential community (小区)")
def create_community(call: Call) -> CommunityOut:
    return service().create_community(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/communities", permission=P.COMMUNITIES_READ, query=LIST_QUERY, response=S.CommunityPage,
           tags=PLACES, summary="List communities")
def list_communities(call: Call) -> CommunityPage:
    from chalicelib.residents.schemas import CommunityPage

    items, cursor = service().list_communities(call.tenant, call.query.limit, call.query.cursor)
    return CommunityPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/communities/{community_id}", permission=P.COMMUNITIES_READ, response=S.CommunityOut,
           tags=PLACES, summary="One community")
def get_community(call: Call) -> CommunityOut:
    return service().get_community(call.tenant, call.path["community_id"])


@api.route(bp, "PATCH", "/v1/communities/{community_id}", permission=P.COMMUNITIES_WRITE, body=S.CommunityPatch,
           response=S.CommunityOut, tags=PLACES, summary="Rename or re-address a community (If-Match)")
def patch_community(call: Call) -> CommunityOut:
    return service().update_community(call.tenant, call.path["community_id"], call.body, call.if_match, utcnow())


@api.route(bp, "DELETE", "/v1/communities/{community_id}", permission=P.COMMUNITIES_WRITE, status=204,
           tags=PLACES, summary="Remove an empty community")
def delete_community(call: Call) -> None:
    service().delete_community(call.tenant, call.path["community_id"], utcnow())


@api.route(bp, "POST", "/v1/communities/{community_id}/buildings", permission=P.COMMUNITIES_WRITE, body=S.BuildingIn,
           response=S.BuildingOut, status=201, tags=PLACES, summary="Add a building (楼栋), optionally with its butler")
def create_building(call: Call) -> BuildingOut:
    return service().create_building(call.tenant, call.path["community_id"], call.body, utcnow())


@api.route(bp, "GET", "/v1/communities/{community_id}/buildings", permission=P.COMMUNITIES_READ, query=LIST_QUERY,
           response=S.BuildingPage, tags=PLACES, summary="List a community's buildings")
def list_buildings(call: Call) -> BuildingPage:
    from chalicelib.residents.schemas import BuildingPage

    items, cursor = service().list_buildings(call.tenant, call.path["community_id"], call.query.limit,
                                             call.query.cursor)
    return BuildingPage(items=items, next_cursor=cursor)


@api.route(bp, "POST", "/v1/communities/{community_id}/units", permission=P.COMMUNITIES_WRITE, body=S.UnitIn,
           response=S.UnitOut, status=201, tags=PLACES, summary="Add a unit (单元/房号) to a building")
def create_unit(call: Call) -> UnitOut:
    return service().create_unit(call.tenant, call.path["community_id"], call.body, utcnow())


@api.route(bp, "GET", "/v1/communities/{community_id}/units", permission=P.COMMUNITIES_READ, query=S.UnitQuery,
           response=S.UnitPage, tags=PLACES, summary="List a community's units (optionally of one building)")
def list_units(call: Call) -> UnitPage:
    from chalicelib.residents.schemas import UnitPage

    items, cursor = service().list_units(call.tenant, call.path["community_id"], call.query.limit, call.query.cursor,
                                         call.query.building_id)
    return UnitPage(items=items, next_cursor=cursor)


@api.route(bp, "POST", "/v1/residents", permission=P.RESIDENTS_WRITE, body=S.ResidentIn, response=S.ResidentOut,
           status=201, tags=PEOPLE, summary="Register a resident (业主/住户) and their units")
def create_resident(call: Call) -> ResidentOut:
    return service().create_resident(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/residents", permission=P.RESIDENTS_READ, query=LIST_QUERY, response=S.ResidentPage,
           tags=PEOPLE, summary="List residents (phones masked)")
def list_residents(call: Call) -> ResidentPage:
    from chalicelib.residents.schemas import ResidentPage

    items, cursor = service().list_residents(call.tenant, call.query.limit, call.query.cursor)
    return ResidentPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/residents/{resident_id}", permission=P.RESIDENTS_READ, response=S.ResidentOut,
           tags=PEOPLE, summary="One resident (full phone only for staff who manage residents)")
def get_resident(call: Call) -> ResidentOut:
    return service().get_resident(call.tenant, call.path["resident_id"])


@api.route(bp, "PATCH", "/v1/residents/{resident_id}", permission=P.RESIDENTS_WRITE, body=S.ResidentPatch,
           response=S.ResidentOut, tags=PEOPLE, summary="Change a resident's name, phone or units (If-Match)")
def patch_resident(call: Call) -> ResidentOut:
    return service().update_resident(call.tenant, call.path["resident_id"], call.body, call.if_match, utcnow())


@api.route(bp, "DELETE", "/v1/residents/{resident_id}", permission=P.RESIDENTS_WRITE, status=204, tags=PEOPLE,
           summary="Remove a resident")
def delete_resident(call: Call) -> None:
    service().delete_resident(call.tenant, call.path["resident_id"], utcnow())


@api.route(bp, "POST", "/v1/residents/import", permission=P.RESIDENTS_WRITE, response=S.ImportOut, tags=PEOPLE,
           content_types=("text/csv", "application/octet-stream"),
           summary="Import residents from CSV (UTF-8 with or without BOM, or GBK); idempotent, per-row errors")
def import_residents(call: Call) -> ImportOut:
    return service().import_csv(call.tenant, call.raw_body, utcnow())
