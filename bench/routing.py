"""Road-network benchmark: prints figures per OSM extract (not a test).

    python bench/routing.py [--json FILE]

Measures every extract in ``data/`` and any other in ``../shared/osm/`` (one subprocess each, so
peak memory is per extract): cold build into a fresh temporary cache, warm load, snapping
throughput, one-to-all Dijkstra, 100×100 and 1000×1000 matrices (empty row cache; 1000×1000 also
with ``matrix_workers=1``), route query time and peak RSS. Seeds are fixed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_REGION = REPO / "data" / "liechtenstein-latest.osm.pbf"
SEARCH = [REPO / "data", REPO.parent / "shared" / "osm"]
SUFFIXES = (".osm.pbf", ".osm.gz", ".osm.bz2", ".osm")


def _extracts() -> list[Path]:
    """Shipped extracts first, then shared ones that are not copies of them."""
    seen, found = set(), []
    for folder in SEARCH:
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.name.endswith(SUFFIXES):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if digest not in seen:
                    seen.add(digest)
                    found.append(path)
    return found


def _timed(func: Callable[[], object], repeat: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        func()
    return (time.perf_counter() - started) / repeat


def measure(path: Path) -> dict[str, float | int | str]:
    """Measure one extract in this process."""
    from routing.network import RoadNetwork
    from routing.settings import RoutingSettings

    with tempfile.TemporaryDirectory(prefix="rufbus-bench-") as cache:
        settings = RoutingSettings(osm_file=path, cache_dir=Path(cache))
        started = time.perf_counter()
        cold = RoadNetwork.load(path, settings)
        build_s = time.perf_counter() - started
        assert cold.report is not None and cold.report.built
        warm_s = min(_timed(lambda: RoadNetwork.load(path, settings)) for _ in range(5))
    network = RoadNetwork(cold.graph, settings)
    n = network.node_count
    rng = np.random.default_rng(2024)
    snapper_s = _timed(lambda: network.snapper)
    lat = rng.uniform(network.graph.node_lat.min(), network.graph.node_lat.max(), 200_000)
    lon = rng.uniform(network.graph.node_lon.min(), network.graph.node_lon.max(), 200_000)
    snap_s = min(_timed(lambda: network.snapper.snap(lat, lon)) for _ in range(3))

    serial = RoadNetwork(cold.graph, replace(settings, matrix_workers=1))

    def fresh_matrix(size: int, on: RoadNetwork = network) -> float:
        on.rows.clear()
        origins, destinations = (rng.choice(n, size, replace=size > n) for _ in range(2))
        return _timed(lambda: on.matrix(origins, destinations))

    sources = rng.choice(n, 20)
    network.rows.clear()
    one_to_all_s = _timed(lambda: [network.matrix([s], [0]) for s in sources]) / len(sources)
    matrix_100_s, matrix_1000_s = fresh_matrix(100), fresh_matrix(1000)
    matrix_1000_serial_s = fresh_matrix(1000, serial)
    pairs = rng.choice(n, (20, 2))
    route_s = _timed(lambda: [network.route(int(a), int(b)) for a, b in pairs]) / len(pairs)
    return {
        "extract": path.name,
        "nodes": n,
        "edges": network.graph.edge_count,
        "road_km": round(network.graph.meta["road_km"], 1),
        "build_s": round(build_s, 2),
        "warm_load_s": round(warm_s, 4),
        "snapper_build_s": round(snapper_s, 3),
        "snap_points_per_s": int(len(lat) / snap_s),
        "one_to_all_ms": round(one_to_all_s * 1000, 2),
        "matrix_100_s": round(matrix_100_s, 3),
        "matrix_1000_s": round(matrix_1000_s, 3),
        "matrix_1000_serial_s": round(matrix_1000_serial_s, 3),
        "route_ms": round(route_s * 1000, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _fresh_process_load_s(path: Path) -> float:
    """Wall time of a new interpreter that imports routing and loads a cached graph."""
    code = (
        "import time; t = time.perf_counter(); from routing.network import RoadNetwork;"
        f"RoadNetwork.load({str(path)!r}); print(time.perf_counter() - t)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True)  # fill the cache
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> None:
    """Measure every extract in its own process and print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    rows = []
    for path in _extracts():
        print(f"measuring {path.name} ...", file=sys.stderr, flush=True)
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(path)], check=True, capture_output=True, text=True
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))
    default = next(r for r in rows if r["extract"] == DEFAULT_REGION.name)
    largest = max(rows, key=lambda r: r["nodes"])
    summary = {
        "warm_load_s": default["warm_load_s"],
        "warm_load_fresh_process_s": round(_fresh_process_load_s(DEFAULT_REGION), 3),
        "snap_points_per_s": default["snap_points_per_s"],
        "matrix_1000_s": largest["matrix_1000_s"],
        "largest_graph": largest["extract"],
        "largest_graph_nodes": largest["nodes"],
        "extracts": rows,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "extracts"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
