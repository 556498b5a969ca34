"""Place search benchmark: prints figures for one OSM extract (not a test).

    python bench/search.py [--osm FILE] [--queries 2000] [--seed 1] [--json]

Builds the place index cold from the extract into a fresh temporary cache (seconds, entries by kind,
cache size) and loads it warm; then answers ``--queries`` queries typed as riders type them — the first
2 to 12 letters of a random entry's name, for addresses also with the house number — through the
service's search (:class:`api.services.place_search.PlaceSearch`: ranking, area flags and snapping to
the curb for the 8 hits), timing each (p50, p99, max). Seeded: the same queries every run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_OSM = REPO / "data" / "liechtenstein-latest.osm.pbf"  # the service's extract (routing.settings)


def typed_queries(entries: list, count: int, seed: int) -> list[str]:
    """``count`` queries as a rider types them, from random entries."""
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        entry = rng.choice(entries)
        if entry.kind == "address" and rng.random() < 0.5:
            street = entry.name[: -len(entry.housenumber)].strip()
            queries.append(f"{street[: rng.randint(3, 12)]} {entry.housenumber}")
        else:
            queries.append(entry.name[: rng.randint(2, 12)])
    return queries


def measure(osm: Path, count: int, seed: int) -> dict[str, object]:
    """The figures of one extract."""
    from api.services.place_search import PlaceSearch
    from routing.geocode import load_or_build
    from routing.network import RoadNetwork
    from routing.settings import RoutingSettings

    figures: dict[str, object] = {"osm": osm.name, "queries": count, "seed": seed}
    with tempfile.TemporaryDirectory(prefix="rufbus-bench-places-") as cache:
        settings = RoutingSettings(osm_file=osm, cache_dir=Path(cache))
        index, report = load_or_build(osm, settings)
        assert report.built
        figures["index_build_s"] = round(report.seconds, 2)
        figures["index_cache_bytes"] = report.cache_file.stat().st_size
        warm, again = load_or_build(osm, settings)
        assert not again.built
        figures["index_load_s"] = round(again.seconds, 3)
    figures["entries"] = len(index)
    figures["entries_by_kind"] = dict(sorted(Counter(e.kind for e in index.entries).items()))
    network = RoadNetwork.load(osm)  # the road graph from its usual cache
    search = PlaceSearch(network, warm)
    network.curb_snapper  # noqa: B018 (built on first use: not part of a query's time)
    queries = typed_queries(index.entries, count, seed)
    times, empty = [], 0
    for query in queries:
        started = time.perf_counter()
        hits = search.search(query, 8)
        times.append((time.perf_counter() - started) * 1000)
        empty += not hits
    array = np.array(times)
    figures["search_ms"] = {"p50": round(float(np.percentile(array, 50)), 3),
                            "p99": round(float(np.percentile(array, 99)), 3),
                            "max": round(float(array.max()), 3)}
    figures["queries_without_hits"] = empty
    figures["load_avg_1m"] = round(os.getloadavg()[0], 1)  # a shared machine's load shows in the tail
    return figures


def main() -> None:
    """Parse the arguments, measure, print (a table, or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(args.osm, args.queries, args.seed)
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        for key, value in figures.items():
            print(f"{key:<22} {value}")


if __name__ == "__main__":
    main()
