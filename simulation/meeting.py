"""Meeting points in the simulator: the pickup and drop-off options of each request, by the area's mode.

As the API quotes them (:func:`dispatch.meeting.place_options`): in ``hybrid`` the door (no walk) and the
meeting points within ``max_walk_m``; in ``stops_only`` those meeting points only (none: the request is
refused, cause ``no_meeting_point``); in ``door_to_door`` no options at all. Meeting points are the area's
seeded ones (:func:`routing.meeting_points.seed_points`), walks those of the walk graph
(:mod:`routing.walking`); both are loaded once per extract.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dispatch.meeting import place_options
from dispatch.model import MeetingMode, PlaceOption, ServiceRules
from routing.meeting_points import MeetingPointSeed, seed_points
from routing.network import RoadNetwork
from routing.walking import WalkNetwork, candidates


@dataclass(frozen=True)
class MeetingPlaces:
    """An area's meeting points and walk graph."""

    points: tuple[MeetingPointSeed, ...]
    walk: WalkNetwork
    nodes: dict[str, int]  # meeting point id -> the drive node a bus stops at

    def options(self, point: tuple[float, float], door: int, rules: ServiceRules) -> tuple[PlaceOption, ...]:
        """The options of one side of a trip at ``point`` (``(lat, lon)``, snapped to drive node ``door``)
        under the rules' mode and walking limit (:func:`dispatch.meeting.place_options`)."""
        if rules.mode is MeetingMode.DOOR_TO_DOOR:
            return ()
        reachable = candidates(self.walk, point, self.points, rules.max_walk_m)
        return place_options(rules.mode, door, ((self.nodes[c.point.id], c.metres, c.point.id)
                                                for c in reachable))


@cache
def meeting_places(network: RoadNetwork) -> MeetingPlaces:
    """The meeting points and walk graph of ``network``'s extract (loaded once per network)."""
    osm_file = Path(network.settings.osm_file)
    points = tuple(seed_points(network, osm_file))
    return MeetingPlaces(points, WalkNetwork.load(osm_file, network.settings), {p.id: p.node for p in points})
