"""Meeting-point benchmark: prints figures for one OSM extract (not a test).

    python bench/meeting_points.py [--osm FILE] [--demand CSV] [--max-walk-m 300] [--json]

Builds the walk graph cold into a fresh temporary cache (build time, cache size, nodes, edges) and
loads it warm; seeds the meeting points (OSM stops vs generated, seconds); and for every origin and
destination of the demand file counts the meeting points within the walking limit (mean, p95, share
with none) and times :func:`routing.walking.candidates`. Deterministic: no randomness.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_OSM = REPO.parent / "shared" / "osm" / "liechtenstein-latest.osm.pbf"
DEFAULT_DEMAND = REPO.parent / "shared" / "demand" / "example-liechtenstein.csv"


def _summary(counts: list[int]) -> dict[str, float]:
    array = np.array(counts, dtype=np.float64)
    return {"mean": round(float(array.mean()), 2), "p95": round(float(np.percentile(array, 95)), 2),
            "max": int(array.max()), "none_pct": round(100 * float((array == 0).mean()), 1)}


def measure(osm: Path, demand: Path, max_walk_m: float) -> dict[str, object]:
    """The figures of one extract and demand file."""
    from routing.meeting_points import seed_points
    from routing.network import RoadNetwork
    from routing.settings import RoutingSettings
    from routing.walking import WalkNetwork, candidates
    from simulation.demand_csv import read_demand

    figures: dict[str, object] = {"osm": osm.name, "demand": demand.name, "max_walk_m": max_walk_m}
    with tempfile.TemporaryDirectory(prefix="rufbus-bench-walk-") as cache:
        settings = RoutingSettings(osm_file=osm, cache_dir=Path(cache))
        started = time.perf_counter()
        walk = WalkNetwork.load(osm, settings)
        assert walk.report is not None and walk.report.built
        figures["walk_build_s"] = round(time.perf_counter() - started, 2)
        figures["walk_cache_bytes"] = walk.report.cache_file.stat().st_size
        started = time.perf_counter()
        warm = WalkNetwork.load(osm, settings)
        assert warm.report is not None and not warm.report.built
        figures["walk_load_s"] = round(time.perf_counter() - started, 3)
        figures["walk_nodes"] = walk.graph.node_count
        figures["walk_edges"] = walk.graph.edge_count
        figures["walk_km"] = round(float(walk.graph.meta["road_km"]), 1)
        network = RoadNetwork.load(osm, settings)
        started = time.perf_counter()
        points = seed_points(network)
        figures["seed_s"] = round(time.perf_counter() - started, 3)
        figures["meeting_points"] = {"osm": sum(p.source == "osm" for p in points),
                                     "generated": sum(p.source == "generated" for p in points)}
        trips = read_demand(demand)
        places = [t.origin for t in trips] + [t.destination for t in trips]
        started = time.perf_counter()
        counts = [len(candidates(walk, place, points, max_walk_m)) for place in places]
        elapsed = time.perf_counter() - started
        figures["places"] = len(places)
        figures["candidates_per_place"] = _summary(counts)
        figures["candidates_origins"] = _summary(counts[: len(trips)])
        figures["candidates_ms_per_place"] = round(1000 * elapsed / len(places), 2)
    return figures


def main() -> None:
    """Parse the arguments, measure, print (a table, or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM)
    parser.add_argument("--demand", type=Path, default=DEFAULT_DEMAND)
    parser.add_argument("--max-walk-m", type=float, default=300.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(args.osm, args.demand, args.max_walk_m)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:<26} {value}")


if __name__ == "__main__":
    main()
