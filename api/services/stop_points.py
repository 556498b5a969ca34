"""Where the bus stops for a rider (:class:`~api.schemas.StopPoint`): made from a point snapped to the
curb, kept with the booking, read back from it.

A rider's point is snapped to the nearest node of the nearest road buses may stop on
(:meth:`routing.network.RoadNetwork.snap_to_curb`); long roads are cut into short pieces when the graph
is compiled, so that node is at the curb near the rider. The point carries the node's position, the
street it lies on and the rider's walk there, and is stored with the booking so that the booking shows
it whatever becomes of the road graph.
"""

from __future__ import annotations

from api.db.models import Booking
from api.schemas import StopPoint
from routing.network import RoadNetwork
from routing.snapping import SnapResult


def snapped_point(network: RoadNetwork, snapped: SnapResult, index: int) -> StopPoint:
    """The stop point of the ``index``-th point of ``snapped``: its node, that node's street, the walk."""
    return at_node(network, int(snapped.node[index]), walk_m=round(float(snapped.walk_m[index])))


def at_node(network: RoadNetwork, node: int, walk_m: int = 0) -> StopPoint:
    """The stop point at road node ``node``, reached on foot in ``walk_m`` metres."""
    graph = network.graph
    return StopPoint(lat=float(graph.node_lat[node]), lon=float(graph.node_lon[node]),
                     street=graph.street(node), walk_m=walk_m)


def keep_pickup(row: Booking, point: StopPoint) -> None:
    """Store ``point`` as the booking's pickup point."""
    row.pickup_lat, row.pickup_lon = point.lat, point.lon
    row.pickup_street, row.pickup_walk_m = point.street, point.walk_m


def keep_dropoff(row: Booking, point: StopPoint) -> None:
    """Store ``point`` as the booking's drop-off point."""
    row.dropoff_lat, row.dropoff_lon = point.lat, point.lon
    row.dropoff_street, row.dropoff_walk_m = point.street, point.walk_m


def kept_points(row: Booking) -> tuple[StopPoint | None, StopPoint | None]:
    """The booking's stored (pickup, drop-off) points; None for one not stored (older bookings)."""
    pickup = dropoff = None
    if row.pickup_lat is not None and row.pickup_lon is not None:
        pickup = StopPoint(lat=row.pickup_lat, lon=row.pickup_lon, street=row.pickup_street or "",
                           walk_m=row.pickup_walk_m or 0)
    if row.dropoff_lat is not None and row.dropoff_lon is not None:
        dropoff = StopPoint(lat=row.dropoff_lat, lon=row.dropoff_lon, street=row.dropoff_street or "",
                            walk_m=row.dropoff_walk_m or 0)
    return pickup, dropoff
