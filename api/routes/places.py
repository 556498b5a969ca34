"""The riders' address and place search (public, like the map and the named stops): type a few letters of
a street and house number, a village, a stop or a shop, and pick where to go from what comes back
(:mod:`api.services.place_search`). Every worker answers it alone (it is not forwarded to the dispatcher).
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.schemas import ErrorPublic, PlaceHitPublic
from api.services.place_search import PlaceSearch

router = APIRouter(prefix="/v1/places", tags=["rider"])
MAX_QUERY = 100
MAX_LIMIT = 20
_loading = threading.Lock()


def get_place_search(request: Request) -> PlaceSearch:
    """The app's place search (``app.state.place_search``), loaded on first use from its cache or built
    from the extract; a sync dependency, so loading happens on a worker thread."""
    state = request.app.state
    with _loading:
        if getattr(state, "place_search", None) is None:
            state.place_search = PlaceSearch.load(state.network)
    return state.place_search


PlaceSearchDep = Annotated[PlaceSearch, Depends(get_place_search)]


@router.get("/search", responses={422: {"model": ErrorPublic,
                                        "description": "q empty, too long, with a control character or no "
                                                       "letter or digit; limit out of range"}})
def search_places(
    search: PlaceSearchDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY,
                            description="words the place's name, street, house number or town start with; "
                                        "case and accents ignored")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most this many places")] = 8,
) -> list[PlaceHitPublic]:
    """Addresses, places, stops, streets and points of interest of the region matching ``q``, best first;
    those outside the service area last, with ``in_area: false`` and no ``stop_point``."""
    return search.search(q, limit)
