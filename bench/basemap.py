"""Basemap benchmark: prints figures for one OSM extract (not a test).

    python bench/basemap.py [--osm FILE] [--zooms 8-16] [--json]

Reads the extract's map features (seconds, features per layer), then makes every tile over the service
area at each zoom of ``--zooms`` into a fresh temporary cache, as the first visitors would (tiles, seconds,
ms per tile p50/p99, bytes per tile mean/max, bytes in all), and reads them all back from the cache (ms per
tile). The service area is the default one: the road graph's hull grown by the buffer. Deterministic.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_OSM = REPO / "data" / "liechtenstein-latest.osm.pbf"  # the service's extract (routing.settings)


def zoom_range(text: str) -> list[int]:
    """``"8-16"`` or ``"14"`` as a list of zooms."""
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def measure(osm: Path, zooms: list[int]) -> dict[str, object]:
    """The figures of one extract."""
    from routing.basemap import Basemap, TileCache, tiles_covering
    from routing.network import RoadNetwork
    from routing.settings import RoutingSettings

    figures: dict[str, object] = {"osm": osm.name}
    started = time.perf_counter()
    basemap = Basemap.read(osm)
    figures["read_s"] = round(time.perf_counter() - started, 2)
    figures["features"] = {name: len(layer) for name, layer in basemap.layers.items()}
    bounds = RoadNetwork.load(osm).service_area.polygon.bounds
    per_zoom: dict[int, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="rufbus-bench-tiles-") as cache:
        tiles = TileCache(osm, RoutingSettings(osm_file=osm, cache_dir=Path(cache)), basemap)
        total_s, total_bytes = 0.0, 0
        for z in zooms:
            made = [tiles.tile(z, x, y)[1] for x, y in tiles_covering(bounds, z)]
            ms = np.array([r.seconds * 1000 for r in made])
            size = np.array([r.size for r in made])
            started = time.perf_counter()
            for x, y in tiles_covering(bounds, z):
                tiles.tile(z, x, y)
            cached_ms = (time.perf_counter() - started) * 1000 / len(made)
            per_zoom[z] = {"tiles": len(made), "make_s": round(float(ms.sum()) / 1000, 2),
                           "make_ms_p50": round(float(np.percentile(ms, 50)), 1),
                           "make_ms_p99": round(float(np.percentile(ms, 99)), 1),
                           "bytes_mean": int(size.mean()), "bytes_max": int(size.max()),
                           "cached_ms_mean": round(cached_ms, 3)}
            total_s += float(ms.sum()) / 1000
            total_bytes += int(size.sum())
    figures["zooms"] = per_zoom
    figures["all_tiles"] = sum(int(z["tiles"]) for z in per_zoom.values())  # type: ignore[call-overload]
    figures["all_make_s"] = round(total_s, 1)
    figures["all_bytes"] = total_bytes
    figures["load_avg_1m"] = round(os.getloadavg()[0], 1)
    return figures


def main() -> None:
    """Parse the arguments, measure, print (a table, or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM)
    parser.add_argument("--zooms", type=zoom_range, default=zoom_range("8-16"))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(args.osm, args.zooms)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:<12} {value}")


if __name__ == "__main__":
    main()
