"""The data behind the report's figures, JSON-ready: served share against fleet size, the wait
distribution, occupancy through the day and the roads the buses drove (with how often)."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence

from routing.network import RoadNetwork
from simulation.engine import SimulationResult
from simulation.kpis import Kpis, waits_min


def route_map(result: SimulationResult, network: RoadNetwork, path: Callable[[int, int], Sequence[int]]
              ) -> dict:
    """Every road edge the buses drove, as a [lon, lat] polyline with the number of times it was driven,
    plus the depots."""
    graph = network.graph
    used: Counter[int] = Counter()
    for leg in result.legs:
        nodes = path(leg.origin, leg.destination)
        used.update(graph.edge_index(a, b) for a, b in itertools.pairwise(nodes))
    edges = []
    for edge, count in sorted(used.items()):
        shape = slice(int(graph.geom_ptr[edge]), int(graph.geom_ptr[edge + 1]))
        points = zip(graph.geom_lat[shape], graph.geom_lon[shape], strict=True)
        edges.append({"count": count,
                      "coordinates": [[round(float(lon), 6), round(float(lat), 6)] for lat, lon in points]})
    depots = sorted({v.depot for v in result.vehicles})
    return {"edges": edges,
            "depots": [[round(float(graph.node_lon[d]), 6), round(float(graph.node_lat[d]), 6)]
                       for d in depots]}


def figure_data(result: SimulationResult, kpis: Kpis, network: RoadNetwork | None = None,
                path: Callable[[int, int], Sequence[int]] | None = None,
                sweep: Sequence[dict] = ()) -> dict:
    """Everything the report plots. ``sweep``: rows with ``buses``, ``label`` and ``served_pct``."""
    data: dict = {
        "served_vs_buses": list(sweep) or [{"buses": len(result.vehicles), "label": "this run",
                                            "served_pct": kpis.served_pct}],
        "wait_min": [round(w, 2) for w in waits_min(result)],
        "occupancy": {"start_h": kpis.occupancy_start_h, "bin_min": kpis.occupancy_bin_min,
                      "people_per_bus": kpis.occupancy},
    }
    if network is not None and path is not None:
        data["route_map"] = route_map(result, network, path)
    return data
