"""Riders' address and place search (:mod:`routing.geocode`) against the service area in force: each hit
says whether it lies inside the area and, when the bus can serve it, where the bus would stop — the
point snapped to the curb exactly as a quote snaps it (:meth:`routing.network.RoadNetwork.snap_to_curb`:
the nearest node of the nearest road buses may stop on, within ``snap_max_m``)."""

from __future__ import annotations

import numpy as np

from api.errors import InvalidRequest
from api.schemas import PlaceHitPublic, StopPoint
from api.services.stop_points import at_node
from routing.geocode import PlaceEntry, PlaceIndex, load_or_build, words
from routing.network import RoadNetwork
from routing.service_area import ServiceArea


class PlaceSearch:
    """The region's place index, answering for one road network and whatever service area it has."""

    def __init__(self, network: RoadNetwork, index: PlaceIndex) -> None:
        self.network = network
        self.index = index
        self._area: ServiceArea | None = None
        self._inside = np.zeros(len(index), dtype=bool)
        self._centre = (0.0, 0.0)

    @classmethod
    def load(cls, network: RoadNetwork) -> PlaceSearch:
        """The search over the network's extract: its index from the cache, or read and cached."""
        index, _ = load_or_build(network.settings.osm_file, network.settings)
        return cls(network, index)

    def _area_in_force(self) -> tuple[np.ndarray, tuple[float, float]]:
        """Which entries lie in the area in force and its centre, computed again when the area changes."""
        area = self.network.service_area
        if area is not self._area:
            centre = area.polygon.centroid
            self._inside, self._centre = self.index.inside(area.contains), (float(centre.y), float(centre.x))
            self._area = area
        return self._inside, self._centre

    def search(self, query: str, limit: int) -> list[PlaceHitPublic]:
        """The best ``limit`` places matching ``query``, best first; 422 ``invalid_request`` for a query
        without a letter or digit."""
        if not words(query):
            raise InvalidRequest("invalid_request", "q needs at least one letter or digit")
        inside, centre = self._area_in_force()
        matches = self.index.search(query, limit, inside, centre)
        if not matches:
            return []
        lat = np.array([m.entry.lat for m in matches])
        lon = np.array([m.entry.lon for m in matches])
        snapped = self.network.curb_snapper.snap(lat, lon)
        servable = snapped.distance_m <= self.network.settings.snap_max_m
        return [_hit(m.entry, m.inside,
                     at_node(self.network, int(snapped.node[i]), round(float(snapped.walk_m[i])))
                     if m.inside and servable[i] else None)
                for i, m in enumerate(matches)]


def _hit(entry: PlaceEntry, inside: bool, stop_point: StopPoint | None) -> PlaceHitPublic:
    return PlaceHitPublic(id=f"osm-{entry.osm}", kind=entry.kind, name=entry.name, detail=entry.detail,
                          label=entry.label, lat=entry.lat, lon=entry.lon, in_area=inside,
                          stop_point=stop_point)
