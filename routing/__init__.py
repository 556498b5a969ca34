"""The road network: build, cache and query the drivable graph of an OSM extract.

Load the default region with ``RoadNetwork.load()``; it satisfies ``dispatch.travel.TravelTimes``.
"""

from routing.errors import OsmFileError, OutsideServiceAreaError, RoutingError, SnapError, UnknownNodeError
from routing.network import RoadNetwork, RoadPath
from routing.settings import RoutingSettings

__all__ = [
    "OsmFileError",
    "OutsideServiceAreaError",
    "RoadNetwork",
    "RoadPath",
    "RoutingError",
    "RoutingSettings",
    "SnapError",
    "UnknownNodeError",
]
