"""The stops riders may name instead of a point: the region's named stops that lie in the service area
and near a road (:func:`routing.stops.read_places`), searchable by name."""

from __future__ import annotations

from api.errors import NotFound
from api.schemas import Point, StopRef
from routing.errors import OutsideServiceAreaError, SnapError
from routing.network import RoadNetwork
from routing.stops import NamedStop, name_key, read_places


class StopDirectory:
    """The service's stops by id, in name order."""

    def __init__(self, stops: tuple[NamedStop, ...]) -> None:
        self.stops = stops
        self._by_id = {stop.id: stop for stop in stops}

    @classmethod
    def for_network(cls, network: RoadNetwork) -> StopDirectory:
        """The named stops of the network's extract that a quote would accept (in the area, near a road)."""
        usable = []
        for stop in read_places(network.settings.osm_file).stops:
            try:
                network.snap_to_curb([stop.lat], [stop.lon])
            except (OutsideServiceAreaError, SnapError):
                continue
            usable.append(stop)
        return cls(tuple(usable))

    def search(self, query: str | None = None, limit: int = 50) -> list[NamedStop]:
        """Stops whose name contains every word of ``query`` (all stops without one), at most ``limit``."""
        words = name_key(query or "").split()
        found = [s for s in self.stops if all(word in name_key(s.name) for word in words)]
        return found[:limit]

    def point(self, place: Point | StopRef) -> Point:
        """Where ``place`` is: a point as given, a stop at its position (404 ``unknown_stop``)."""
        if isinstance(place, Point):
            return place
        stop = self._by_id.get(place.stop_id)
        if stop is None:
            raise NotFound("unknown_stop", f"no stop with id {place.stop_id!r}; GET /v1/stops lists them")
        return Point(lat=stop.lat, lon=stop.lon)
