"""The basemap's vector tiles (public, like the rest of the map data): ``GET /map/tiles/{z}/{x}/{y}.pbf``,
Mapbox vector tiles made from the region's OSM extract on first request and kept on disk
(:mod:`routing.basemap`; tiles not yet on disk are made in a worker process of their own, so that the
service's other requests do not wait for them); the web apps draw them (web/src/map.js). Map data
© OpenStreetMap contributors.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from api.errors import InvalidRequest
from api.schemas import ErrorPublic
from routing.basemap import MAX_ZOOM, MIN_ZOOM, TileCache

router = APIRouter(prefix="/map", tags=["web"])
TILE_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
TILE_CACHE = "public, max-age=86400"
_opening = threading.Lock()


def get_tiles(request: Request) -> TileCache:
    """The app's tile cache (``app.state.tiles``) over the road network's extract, opened on first use."""
    state = request.app.state
    with _opening:
        if getattr(state, "tiles", None) is None:
            settings = state.network.settings
            state.tiles = TileCache(settings.osm_file, settings, separate_process=True)
    return state.tiles


def close_tiles(state: object) -> None:
    """Stop the tile cache's worker process, if the app opened the cache (at shutdown)."""
    tiles: TileCache | None = getattr(state, "tiles", None)
    if tiles is not None:
        tiles.close()


@router.get("/tiles/{z}/{x}/{y}.pbf", response_class=Response,
            responses={200: {"content": {TILE_MEDIA_TYPE: {}}, "description": "a vector tile (may be empty)"},
                       422: {"model": ErrorPublic, "description": "a zoom or tile number out of range"}})
def read_tile(tiles: Annotated[TileCache, Depends(get_tiles)],
              z: Annotated[int, Path(ge=MIN_ZOOM, le=MAX_ZOOM, description="zoom")],
              x: Annotated[int, Path(ge=0, description="column, from the west")],
              y: Annotated[int, Path(ge=0, description="row, from the north")]) -> Response:
    """The basemap's tile ``z/x/y``: layers ``landuse``, ``water``, ``waterway``, ``building``, ``road``,
    ``rail`` and ``place`` (see :mod:`routing.basemap`); empty where the region has nothing."""
    if x >= 1 << z or y >= 1 << z:
        raise InvalidRequest("invalid_request", f"at zoom {z} tiles are numbered 0..{(1 << z) - 1}")
    data, _ = tiles.tile(z, x, y)
    return Response(data, media_type=TILE_MEDIA_TYPE, headers={"Cache-Control": TILE_CACHE})
