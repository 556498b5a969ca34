"""Meeting points (virtual stops): operators list, import, export, add, move and deactivate them; riders
ask which are within walking reach and how to walk there. Handlers parse, authorise, call
:mod:`api.services.meeting_points` and serialise; errors become answers in :mod:`api.errors`.

The operators' endpoints are the operator's alone (riders and drivers 403); the riders' are for riders
and operators acting for a caller (drivers 403). A missing or invalid key is 401.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, status
from fastapi.responses import JSONResponse

from api.deps import DispatchDep, Operator, RiderOrOperator, SessionDep, WalkDep
from api.errors import InvalidRequest
from api.schemas import (
    MEETING_POINT_ID,
    ErrorPublic,
    MeetingPointCandidatesPublic,
    MeetingPointCreate,
    MeetingPointImportPublic,
    MeetingPointPublic,
    MeetingPointUpdate,
    Responses,
    WalkPublic,
)
from api.services import meeting_points as service

operator_router = APIRouter(prefix="/v1/operator/meeting-points", tags=["operator"])
rider_router = APIRouter(prefix="/v1/rider", tags=["rider"])

ERRORS: Responses = {401: {"model": ErrorPublic, "description": "no valid API key"},
                     403: {"model": ErrorPublic, "description": "a role that may not"},
                     404: {"model": ErrorPublic, "description": "unknown_meeting_point"},
                     422: {"model": ErrorPublic, "description":
                           "invalid_meeting_points (detail: the problems), outside_area, off_road"}}
MEETING_POINT_PATH = Path(pattern=MEETING_POINT_ID, description="a meeting point id")
LAT_LON = r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$"
LatLon = Annotated[str, Query(pattern=LAT_LON, description="a place as 'lat,lon' (WGS 84)")]


def _lat_lon(text: str) -> tuple[float, float]:
    """``"lat,lon"`` as numbers; 422 ``invalid_request`` outside WGS 84."""
    lat, lon = (float(part) for part in text.split(","))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidRequest("invalid_request", "a place is 'lat,lon' in WGS 84 degrees")
    return lat, lon


@operator_router.get("", responses=ERRORS)
def list_meeting_points(user: Operator, live: DispatchDep, session: SessionDep) -> dict[str, Any]:
    """Every meeting point, active or not, as a GeoJSON FeatureCollection (properties ``id``, ``name``,
    ``source``: osm, generated or operator, ``active``)."""
    return service.feature_collection(session, live.network)


@operator_router.get("/export", responses=ERRORS)
def export_meeting_points(user: Operator, live: DispatchDep, session: SessionDep) -> JSONResponse:
    """The same FeatureCollection as a file to keep (``meeting-points.geojson``); importing it again
    changes nothing."""
    return JSONResponse(service.feature_collection(session, live.network), media_type="application/geo+json",
                        headers={"Content-Disposition": 'attachment; filename="meeting-points.geojson"'})


@operator_router.post("/import", responses=ERRORS)
def import_meeting_points(user: Operator, live: DispatchDep, session: SessionDep,
                          geojson: Annotated[Any, Body(description="a GeoJSON FeatureCollection of Points")]
                          ) -> MeetingPointImportPublic:
    """Add or replace (by id) the Point features of a FeatureCollection, all or none: each needs a
    ``name`` and may carry ``id`` and ``active``; every point must lie in the service area near a road."""
    return service.import_points(session, live.network, geojson)


@operator_router.post("", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def add_meeting_point(body: MeetingPointCreate, user: Operator, live: DispatchDep, session: SessionDep
                      ) -> MeetingPointPublic:
    """Add a meeting point (in the service area, near a road)."""
    return service.add_point(session, live.network, body)


@operator_router.patch("/{point_id}", responses=ERRORS)
def change_meeting_point(point_id: Annotated[str, MEETING_POINT_PATH],
                         body: MeetingPointUpdate, user: Operator,
                         live: DispatchDep, session: SessionDep) -> MeetingPointPublic:
    """Rename, move (``lat`` and ``lon``) or deactivate (``active: false``) a meeting point."""
    return service.update_point(session, live.network, point_id, body)


@rider_router.get("/meeting-points", responses=ERRORS)
def nearby_meeting_points(near: LatLon, user: RiderOrOperator, live: DispatchDep, session: SessionDep,
                          walk: WalkDep) -> MeetingPointCandidatesPublic:
    """The area's meeting mode and walking limit, and the active meeting points within walking reach of
    ``near``, nearest walk first (none when the area serves door to door)."""
    lat, lon = _lat_lon(near)
    with live.lock:
        rules = live.dispatcher.rules
    return service.candidates_near(session, live.network, walk, rules, lat, lon)


@rider_router.get("/walk", responses=ERRORS)
def walk_to_meeting_point(user: RiderOrOperator, live: DispatchDep, session: SessionDep, walk: WalkDep,
                          origin: Annotated[str, Query(alias="from", pattern=LAT_LON, description="lat,lon")],
                          to: Annotated[str, Query(pattern=MEETING_POINT_ID, description="meeting point id")]
                          ) -> WalkPublic:
    """The walk from ``from`` (``lat,lon``) to the active meeting point ``to`` over footways and streets:
    its metres and its path as a GeoJSON LineString."""
    lat, lon = _lat_lon(origin)
    return service.walk_to(session, live.network, walk, lat, lon, to)
