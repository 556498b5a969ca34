"""Curbside points benchmark: the road graph with long edges cut, against the graph as OSM has it
(not a test).

    python bench/curbside.py [--osm FILE] [--limits 0,60,...] [--demand CSV] [--json FILE]

For each ``max_edge_m`` (0: edges never cut, the graph before curbside points): nodes, edges, edge
length median/p99/max, cold build time and cache file size (fresh temporary cache), the rider's walk
to the stop (point → road → along the road to the node a bus drives to), its part along the road and
the straight line from the point to that node, median/p95/max, for random points in the service area
(within the snapping limit of a road), random points on the roads (riders standing at a road) and the
origins and destinations of the shared demand example, and query times (best of 3, empty caches, one
process): one-to-all Dijkstra, a 100 × 100 matrix, a fastest path. Seeds are fixed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing.network import RoadNetwork
from routing.settings import DEFAULT_OSM, REPO_ROOT, RoutingSettings

DEMAND = REPO_ROOT.parent / "shared" / "demand" / "example-liechtenstein.csv"
RANDOM_POINTS = 20_000


def _spread(values: np.ndarray) -> dict[str, float]:
    return {"median": round(float(np.median(values)), 1), "p95": round(float(np.percentile(values, 95)), 1),
            "max": round(float(values.max()), 1)}


def _walks(network: RoadNetwork, lat: np.ndarray, lon: np.ndarray) -> dict[str, object]:
    """How far riders at these points are from their stop (points farther than the snapping limit from a
    road left out): the walk (to the road, then along it), its part along the road, the straight line."""
    snapped = network.curb_snapper.snap(lat, lon)
    near = snapped.distance_m <= network.settings.snap_max_m
    graph, projection = network.graph, network.projection
    x, y = projection.forward(lat[near], lon[near])
    sx, sy = projection.forward(graph.node_lat[snapped.node[near]], graph.node_lon[snapped.node[near]])
    walk, to_road = snapped.walk_m[near], snapped.distance_m[near]
    return {"points": int(near.sum()), "walk_m": _spread(walk), "along_road_m": _spread(walk - to_road),
            "straight_m": _spread(np.hypot(x - sx, y - sy))}


def _best_ms(func: Callable[[], object], repeat: int = 3) -> float:
    """The best of ``repeat`` runs of ``func``, in milliseconds (the machine is shared)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def build(osm: Path, max_edge_m: float | None) -> tuple[RoadNetwork, float, float]:
    """The network of ``osm`` cut at ``max_edge_m``, built into a fresh cache: (network, seconds,
    cache kB)."""
    with tempfile.TemporaryDirectory(prefix="rufbus-curb-") as cache:
        settings = RoutingSettings(osm_file=osm, cache_dir=Path(cache), max_edge_m=max_edge_m,
                                   matrix_workers=1)
        started = time.perf_counter()
        network = RoadNetwork.load(osm, settings)
        build_s = time.perf_counter() - started
        assert network.report is not None and network.report.built
        return network, build_s, network.report.cache_file.stat().st_size / 1024


def points_on_roads(network: RoadNetwork, count: int, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points spread uniformly along the roads buses may stop on: riders standing at a road."""
    graph, projection = network.graph, network.projection
    x, y = projection.forward(graph.geom_lat, graph.geom_lon)
    edge_of_point = np.searchsorted(graph.geom_ptr, np.arange(x.size), side="right") - 1
    inner = (edge_of_point[:-1] == edge_of_point[1:]) & graph.edge_stoppable[edge_of_point[:-1]]
    start = np.flatnonzero(inner)
    lengths = np.hypot(x[start + 1] - x[start], y[start + 1] - y[start])
    pick = rng.choice(start, count, p=lengths / lengths.sum())
    t = rng.uniform(0, 1, count)
    return projection.inverse(x[pick] + t * (x[pick + 1] - x[pick]), y[pick] + t * (y[pick + 1] - y[pick]))


def measure(network: RoadNetwork, build_s: float, cache_kb: float,
            places: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, object]:
    """The figures of one network (``places``: named sets of rider points, the same for every network)."""
    graph = network.graph
    lengths = graph.length_dm / 10
    rng = np.random.default_rng(2026)
    n = network.node_count
    sources, pairs = rng.choice(n, 20), rng.choice(n, (20, 2))
    origins, destinations = rng.choice(n, 100), rng.choice(n, 100)

    def one_to_all() -> None:
        network.rows.clear()
        for source in sources:
            network.matrix([source], [0])

    def matrix_100() -> None:
        network.rows.clear()
        network.matrix(origins, destinations)

    def routes() -> None:
        fresh = RoadNetwork(graph, network.settings)
        for a, b in pairs:
            fresh.route(int(a), int(b))

    return {
        "max_edge_m": graph.meta.get("max_edge_m", 0),
        "nodes": n,
        "edges": graph.edge_count,
        "edge_m": {"median": round(float(np.median(lengths)), 1),
                   "p99": round(float(np.percentile(lengths, 99)), 1), "max": round(float(lengths.max()), 1)},
        "build_s": round(build_s, 2),
        "cache_kb": round(cache_kb),
        **{name: _walks(network, lat, lon) for name, (lat, lon) in places.items()},
        "one_to_all_ms": round(_best_ms(one_to_all) / len(sources), 2),
        "matrix_100_ms": round(_best_ms(matrix_100), 1),
        "route_ms": round(_best_ms(routes) / len(pairs), 2),
    }


def _demand_points(path: Path) -> list[tuple[float, float]]:
    if not path.is_file():
        return []
    from simulation.demand_csv import read_demand

    return [point for trip in read_demand(path) for point in (trip.origin, trip.destination)]


def main() -> None:
    """Measure each limit and print one JSON object per limit (and all of them with --json)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM)
    parser.add_argument("--limits", default="0,60", help="max_edge_m values, comma-separated (0: never cut)")
    parser.add_argument("--demand", type=Path, default=DEMAND, help="demand CSV whose points are measured")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    demand = _demand_points(args.demand)
    rows: list[dict[str, object]] = []
    places: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for limit in (float(v) for v in args.limits.split(",")):
        network, build_s, cache_kb = build(args.osm, limit or None)
        if not places:  # the same rider points for every network, drawn on the first
            rng = np.random.default_rng(2024)
            graph = network.graph
            lat = rng.uniform(graph.node_lat.min(), graph.node_lat.max(), RANDOM_POINTS)
            lon = rng.uniform(graph.node_lon.min(), graph.node_lon.max(), RANDOM_POINTS)
            inside = network.in_service_area(lat, lon)
            places["area_points"] = lat[inside], lon[inside]
            places["road_points"] = points_on_roads(network, RANDOM_POINTS, rng)
            if demand:
                places["demand_points"] = np.array([p[0] for p in demand]), np.array([p[1] for p in demand])
        row = measure(network, build_s, cache_kb, places)
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"extract": args.osm.name, "demand": str(args.demand), "rows": rows},
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()
