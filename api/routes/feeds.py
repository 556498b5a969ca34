"""Public open-data feeds for journey planners (no key needed): the static GTFS feed with Flex and the
GTFS-Realtime vehicle positions. Handlers call :mod:`api.services.feeds` and serialise.

Outside ``/v1/``: any worker answers from the database and the shared live store, none forwards."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from api.db.session import SessionDep
from api.deps import DispatchDep, StopsDep
from api.live.layer import LiveLayer
from api.services import feeds as service

router = APIRouter(prefix="/feeds", tags=["feeds"])

GTFS_MEDIA_TYPE = "application/zip"
PROTOBUF_MEDIA_TYPE = "application/x-protobuf"


@router.get("/gtfs.zip", response_class=Response,
            responses={200: {"content": {GTFS_MEDIA_TYPE: {}}, "description": "the GTFS zip"}})
def gtfs_zip(request: Request, session: SessionDep, live: DispatchDep, stops: StopsDep) -> Response:
    """The static GTFS feed with GTFS-Flex: the on-demand route, its service area as a zone, the named
    stops as a location group, the hours from the service calendar and the booking rule, from today on."""
    content = service.gtfs_feed(
        session, settings=request.app.state.settings, clock=live.clock,
        built_in_area=live.network.service_area.polygon, stops=stops.stops,
        first_day=live.clock.now_datetime().date())
    return Response(content, media_type=GTFS_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="gtfs.zip"',
                             "Cache-Control": "public, max-age=300"})


@router.get("/gtfs-rt/vehicle-positions", response_class=Response,
            responses={200: {"content": {PROTOBUF_MEDIA_TYPE: {}},
                             "description": "a GTFS-Realtime FeedMessage (full dataset)"}})
async def vehicle_positions(request: Request, live: DispatchDep) -> Response:
    """GTFS-Realtime vehicle positions: the last position of every bus that reported one."""
    layer: LiveLayer = request.app.state.live
    content = await asyncio.to_thread(service.vehicle_positions_feed, layer.store,
                                      now=live.clock.now_datetime())
    return Response(content, media_type=PROTOBUF_MEDIA_TYPE, headers={"Cache-Control": "no-cache"})
