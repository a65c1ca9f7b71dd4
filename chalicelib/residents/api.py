"""Routes for communities, buildings, units and residents."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.core.clock import utcnow
from chalicelib.core.http import LIST_QUERY, Call, ModelRefs, api
from chalicelib.core.permissions import Permission
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # services and models load on first use, keeping cold starts small
    from chalicelib.residents.people import ResidentService
    from chalicelib.residents.places import PlaceService
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
schemas = ModelRefs("chalicelib.residents.schemas")
PLACES, PEOPLE = ("communities",), ("residents",)
READ_PLACES, WRITE_PLACES = Permission.COMMUNITIES_READ, Permission.COMMUNITIES_WRITE
READ_PEOPLE, WRITE_PEOPLE = Permission.RESIDENTS_READ, Permission.RESIDENTS_WRITE

places: Provided[PlaceService] = Provided("places")
residents: Provided[ResidentService] = Provided("residents")


@api.route(bp, "POST", "/v1/communities", permission=WRITE_PLACES, body=schemas.CommunityIn,
           response=schemas.CommunityOut, status=201, tags=PLACES, summary="Add a residential community (小区)")
def create_community(call: Call) -> CommunityOut:
    return places().create_community(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/communities", permission=READ_PLACES, query=LIST_QUERY, response=schemas.CommunityPage,
           tags=PLACES, summary="List communities")
def list_communities(call: Call) -> CommunityPage:
    from chalicelib.residents.schemas import CommunityPage

    items, cursor = places().list_communities(call.tenant, call.query.limit, call.query.cursor)
    return CommunityPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/communities/{community_id}", permission=READ_PLACES, response=schemas.CommunityOut,
           tags=PLACES, summary="One community")
def get_community(call: Call) -> CommunityOut:
    return places().get_community(call.tenant, call.path["community_id"])


@api.route(bp, "PATCH", "/v1/communities/{community_id}", permission=WRITE_PLACES, body=schemas.CommunityPatch,
           response=schemas.CommunityOut, tags=PLACES, summary="Rename or re-address a community (If-Match)")
def patch_community(call: Call) -> CommunityOut:
    return places().update_community(call.tenant, call.path["community_id"], call.body, call.if_match, utcnow())


@api.route(bp, "DELETE", "/v1/communities/{community_id}", permission=WRITE_PLACES, status=204,
           tags=PLACES, summary="Remove an empty community")
def delete_community(call: Call) -> None:
    places().delete_community(call.tenant, call.path["community_id"], utcnow())


@api.route(bp, "POST", "/v1/communities/{community_id}/buildings", permission=WRITE_PLACES, body=schemas.BuildingIn,
           response=schemas.BuildingOut, status=201, tags=PLACES,
           summary="Add a building (楼栋), optionally with its butler")
def create_building(call: Call) -> BuildingOut:
    return places().create_building(call.tenant, call.path["community_id"], call.body, utcnow())


@api.route(bp, "GET", "/v1/communities/{community_id}/buildings", permission=READ_PLACES, query=LIST_QUERY,
           response=schemas.BuildingPage, tags=PLACES, summary="List a community's buildings")
def list_buildings(call: Call) -> BuildingPage:
    from chalicelib.residents.schemas import BuildingPage

    items, cursor = places().list_buildings(call.tenant, call.path["community_id"], call.query.limit,
                                            call.query.cursor)
    return BuildingPage(items=items, next_cursor=cursor)


@api.route(bp, "POST", "/v1/communities/{community_id}/units", permission=WRITE_PLACES, body=schemas.UnitIn,
           response=schemas.UnitOut, status=201, tags=PLACES, summary="Add a unit (单元/房号) to a building")
def create_unit(call: Call) -> UnitOut:
    return places().create_unit(call.tenant, call.path["community_id"], call.body, utcnow())


@api.route(bp, "GET", "/v1/communities/{community_id}/units", permission=READ_PLACES, query=schemas.UnitQuery,
           response=schemas.UnitPage, tags=PLACES, summary="List a community's units (optionally of one building)")
def list_units(call: Call) -> UnitPage:
    from chalicelib.residents.schemas import UnitPage

    items, cursor = places().list_units(call.tenant, call.path["community_id"], call.query.limit, call.query.cursor,
                                        call.query.building_id)
    return UnitPage(items=items, next_cursor=cursor)


@api.route(bp, "POST", "/v1/residents", permission=WRITE_PEOPLE, body=schemas.ResidentIn,
           response=schemas.ResidentOut, status=201, tags=PEOPLE,
           summary="Register a resident (业主/住户) and their units")
def create_resident(call: Call) -> ResidentOut:
    return residents().create_resident(call.tenant, call.body, utcnow())


@api.route(bp, "GET", "/v1/residents", permission=READ_PEOPLE, query=schemas.ResidentQuery,
           response=schemas.ResidentPage, tags=PEOPLE,
           summary="List residents, or find them with ?q= (phone intake): a mobile number, its last 4 digits, a unit "
                   "label (1栋2单元202, 1-2-202) or the beginning of a name; one query per page; phones masked")
def list_residents(call: Call) -> ResidentPage:
    from chalicelib.residents.schemas import ResidentPage

    items, cursor = residents().list_residents(call.tenant, call.query.limit, call.query.cursor, call.query.q)
    return ResidentPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/residents/{resident_id}", permission=READ_PEOPLE, response=schemas.ResidentOut,
           tags=PEOPLE, summary="One resident (full phone only for staff who manage residents)")
def get_resident(call: Call) -> ResidentOut:
    return residents().get_resident(call.tenant, call.path["resident_id"])


@api.route(bp, "PATCH", "/v1/residents/{resident_id}", permission=WRITE_PEOPLE, body=schemas.ResidentPatch,
           response=schemas.ResidentOut, tags=PEOPLE, summary="Change a resident's name, phone or units (If-Match)")
def patch_resident(call: Call) -> ResidentOut:
    return residents().update_resident(call.tenant, call.path["resident_id"], call.body, call.if_match, utcnow())


@api.route(bp, "DELETE", "/v1/residents/{resident_id}", permission=WRITE_PEOPLE, status=204, tags=PEOPLE,
           summary="Remove a resident")
def delete_resident(call: Call) -> None:
    residents().delete_resident(call.tenant, call.path["resident_id"], utcnow())


@api.route(bp, "POST", "/v1/residents/import", permission=WRITE_PEOPLE, response=schemas.ImportOut, tags=PEOPLE,
           content_types=("text/csv", "application/octet-stream"),
           summary="Import residents from CSV (UTF-8 with or without BOM, or GBK; at most 500 rows); idempotent, "
                   "fields checked as the API checks them, errors per row and field, formula cells neutralised")
def import_residents(call: Call) -> ImportOut:
    return residents().import_csv(call.tenant, call.raw_body, utcnow())


@api.route(bp, "GET", "/v1/residents/export", permission=WRITE_PEOPLE, tags=PEOPLE,
           summary="Export residents as CSV (text/csv, UTF-8 with BOM) in the import's columns, one line per unit; "
                   "formula cells neutralised")
def export_residents(call: Call) -> Response:
    return Response(body=residents().export_csv(call.tenant), status_code=200,
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": 'attachment; filename="residents.csv"'})
