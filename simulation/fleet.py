"""Simulated fleets: identical minibuses at one depot working one day's shift with a lunch break."""

from __future__ import annotations

import numpy as np

from dispatch.model import DAY_S, Break, Vehicle
from routing.network import RoadNetwork

HOUR = 3600


def central_depot(network: RoadNetwork) -> int:
    """The road node nearest the middle of the graph's nodes."""
    g = network.graph
    return int(np.argmin((g.node_lat - g.node_lat.mean()) ** 2 + (g.node_lon - g.node_lon.mean()) ** 2))


def make_fleet(depot: int, buses: int, seats: int, wheelchair_spaces: int = 1, day: int = 1) -> list[Vehicle]:
    """``buses`` minibuses at ``depot`` on service day ``day``: 5:30–23:00, a 30-min break starting
    between 11 and 14 h."""
    base = day * DAY_S
    lunch = Break(base + 11 * HOUR, base + 14 * HOUR, 30 * 60)
    return [Vehicle(f"bus{b:02d}", seats, wheelchair_spaces, depot, base + 5 * HOUR + 1800, base + 23 * HOUR,
                    (lunch,)) for b in range(buses)]
