"""The named stops riders may pick instead of a point on the map (public, like the map itself)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import StopsDep
from api.schemas import StopPublic

router = APIRouter(prefix="/v1", tags=["rider"])


@router.get("/stops")
def list_stops(
    stops: StopsDep,
    q: Annotated[str | None, Query(max_length=100, description="words the name contains")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[StopPublic]:
    """Named stops of the service area in name order; ``q`` filters by name (case and accents
    ignored). Quote with ``{"stop_id": id}`` as origin or destination."""
    return [
        StopPublic(id=s.id, name=s.name, kind=s.kind, lat=s.lat, lon=s.lon) for s in stops.search(q, limit)
    ]
