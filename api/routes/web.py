"""The web apps' side of the service: the three pages (riders ``/app``, drivers ``/driver``, operators
``/operator``), the riders' app's manifest and service worker (``/app.webmanifest``, ``/app-sw.js``), their
base map and who a key belongs to.

The pages are static files built from ``web/`` (``make web``) into ``api/static/web/`` and committed, so
running the service needs no Node. The map data is public and the same on every worker, so it lives
outside ``/v1/`` (which a follower worker forwards to the dispatcher): ``GET /map/roads`` (the road
network as GeoJSON, the base layer, as there are no tiles offline), ``GET /map/area`` (the service area's
outline) and ``GET /map/places`` (named places riders can pick). ``GET /v1/me`` tells a page whose key it
holds (role, bus).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from api.db.models import UserRole
from api.deps import CurrentUser, DispatchDep
from api.schemas import ErrorPublic
from api.services.map_data import MapData

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
PAGES_DIR = STATIC_DIR / "web"
MAP_CACHE = "public, max-age=3600"

router = APIRouter(tags=["web"])


class MePublic(BaseModel):
    """The holder of an API key: their id, name, role and, for drivers, the bus they drive; and the
    service's clock (``now``, local time with its offset) and time zone, which pages use for "today",
    default times and the offset of a time the user picks."""

    id: int
    name: str
    role: UserRole
    vehicle_id: str | None
    now: datetime
    timezone: str


def static_files() -> StaticFiles:
    """The built bundles, styles and images, to mount at ``/static``."""
    return StaticFiles(directory=STATIC_DIR)


def _page(name: str) -> FileResponse:
    return FileResponse(PAGES_DIR / f"{name}.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/app", include_in_schema=False)
def rider_page() -> FileResponse:
    """The riders' page (phone-sized): ask for a trip, book it, watch the bus come."""
    return _page("rider")


@router.get("/app.webmanifest", include_in_schema=False)
def rider_manifest() -> FileResponse:
    """The riders' app's web app manifest (name, icons, ``start_url`` and ``scope`` /app, standalone)."""
    return FileResponse(PAGES_DIR / "rider.webmanifest", media_type="application/manifest+json",
                        headers={"Cache-Control": "no-cache"})


@router.get("/app-sw.js", include_in_schema=False)
def rider_service_worker() -> FileResponse:
    """The riders' app's service worker, served from the root so that it may control ``/app`` (it registers
    with scope /app); never cached by the browser's HTTP cache, so a new version is found at once."""
    return FileResponse(PAGES_DIR / "sw.js", media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/driver", include_in_schema=False)
def driver_page() -> FileResponse:
    """The drivers' page (tablet): the manifest, the road to drive, the stop buttons."""
    return _page("driver")


@router.get("/operator", include_in_schema=False)
def operator_page() -> FileResponse:
    """The operators' page: the live fleet map, open requests, KPIs, rules, fleet, simulations."""
    return _page("operator")


def _map_data(request: Request) -> MapData:
    state = request.app.state
    if getattr(state, "map_data", None) is None:
        state.map_data = MapData(state.network)
    return state.map_data


@router.get("/map/roads")
def read_roads(request: Request) -> JSONResponse:
    """The road network as a GeoJSON FeatureCollection (one MultiLineString per road class: ``main``,
    ``local``, ``street``), simplified; map data © OpenStreetMap contributors."""
    return JSONResponse(_map_data(request).roads, headers={"Cache-Control": MAP_CACHE})


@router.get("/map/area")
def read_area(request: Request) -> JSONResponse:
    """The service area in force as a GeoJSON Feature with its ``bbox`` (west, south, east, north);
    not cached by browsers, as operators may change it."""
    return JSONResponse(_map_data(request).area, headers={"Cache-Control": "no-cache"})


@router.get("/map/places")
def read_places(request: Request) -> list[dict[str, Any]]:
    """Named places in the service area, largest first: ``name``, ``kind``, ``lat``, ``lon``."""
    return _map_data(request).places


@router.get("/v1/me", responses={401: {"model": ErrorPublic, "description": "no valid API key"}})
def read_me(user: CurrentUser, live: DispatchDep) -> MePublic:
    """Who holds this key (the pages check a key with it and find the driver's bus), and the service's
    time now."""
    assert user.id is not None, "users come from the database"
    return MePublic(id=user.id, name=user.name, role=user.role, vehicle_id=user.vehicle_id,
                    now=live.clock.now_datetime(), timezone=str(live.clock.zone))
