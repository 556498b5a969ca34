"""Meeting points in the simulator: the pickup and drop-off options of each request, by the area's mode.

As the API quotes them: in ``hybrid`` the door (no walk) and the meeting points within ``max_walk_m``; in
``stops_only`` those meeting points only (none: the request is refused, cause ``no_meeting_point``); in
``door_to_door`` no options at all. At most :data:`~dispatch.model.MAX_OPTIONS` places per side, nearest walk
first, one per drive node (the shortest walk to it). Meeting points are the area's seeded ones
(:func:`routing.meeting_points.seed_points`), walks those of the walk graph (:mod:`routing.walking`);
both are loaded once per extract.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dispatch.model import MAX_OPTIONS, MeetingMode, PlaceOption, ServiceRules
from routing.meeting_points import MeetingPointSeed, seed_points
from routing.network import RoadNetwork
from routing.walking import WalkNetwork, candidates


@dataclass(frozen=True)
class MeetingPlaces:
    """An area's meeting points and walk graph."""

    points: tuple[MeetingPointSeed, ...]
    walk: WalkNetwork

    def options(self, point: tuple[float, float], door: int, rules: ServiceRules) -> tuple[PlaceOption, ...]:
        """The options of one side of a trip at ``point`` (``(lat, lon)``, snapped to drive node ``door``):
        empty in door-to-door mode, and in stops-only mode when no meeting point is within reach."""
        if rules.mode is MeetingMode.DOOR_TO_DOOR:
            return ()
        hybrid = rules.mode is MeetingMode.HYBRID
        found = [PlaceOption(door)] if hybrid else []
        nodes = {door} if hybrid else set()
        for candidate in candidates(self.walk, point, self.points, rules.max_walk_m):
            seed = candidate.point
            assert isinstance(seed, MeetingPointSeed)
            if len(found) == MAX_OPTIONS:
                break
            if seed.node not in nodes:
                nodes.add(seed.node)
                found.append(PlaceOption(seed.node, candidate.metres, seed.id))
        return tuple(found)


@cache
def meeting_places(network: RoadNetwork) -> MeetingPlaces:
    """The meeting points and walk graph of ``network``'s extract (loaded once per network)."""
    osm_file = Path(network.settings.osm_file)
    return MeetingPlaces(tuple(seed_points(network, osm_file)), WalkNetwork.load(osm_file, network.settings))
